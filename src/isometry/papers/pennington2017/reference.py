"""The paper's numbers, as digitized in shared/reference/verified.md (sec. 2 and sec. 7). Every ``paper`` check row
and every "paper" marker in a figure takes its value from here, with the source string given here.

Tags (verified.md): VERIFIED-FIG = read off an image of the paper's figure (about +-0.02 in accuracy and +-20 % in
step counts on log axes); SECONDARY = a third party's caption paraphrase; INFERRED = recomputed by verified.md.
"""

from __future__ import annotations

SRC_FIG2 = "PSG Fig. 2 right edges (verified.md sec. 2 and sec. 7 PSG-F2, VERIFIED-FIG)"
SRC_FIG4 = "PSG Fig. 4 digitized steps-to-accuracy table (verified.md sec. 2, VERIFIED-FIG; L = 200, N = 400 " \
           "per the SECONDARY caption paraphrase)"
SRC_FIG4_ORDER = "PSG Fig. 4: 'the ordering of the curves is the same for all optimizers' (verified.md sec. 2, " \
                 "VERIFIED-FIG)"
SRC_FIG5 = "PSG Fig. 5(a): tau/sqrt(L) vs eta L collapses for L = 10...300, minimum at eta L ~ 1-5, hence " \
           "eta* ~ 1/L and tau(eta*) ~ sqrt(L) (verified.md sec. 2 and sec. 6a item 5, VERIFIED-FIG)"

#: s_max (largest singular value) read off PSG Fig. 2, per (nonlinearity, weights) and depth L.
FIG2_SMAX = {
    ("linear", "gaussian"): {2: 2.6, 8: 4.8, 32: 9.4, 128: 18.7},
    ("relu", "orthogonal"): {2: 2.0, 8: 4.5, 32: 9.25, 128: 18.6},
    ("hard_tanh", "orthogonal"): {8: 1.2, 32: 2.0, 128: 4.1},
}
#: hard-tanh's q* in Fig. 2 (verified.md sec. 2, INFERRED from the edges: p = erf(1/sqrt(2 q*)) = 0.9545)
FIG2_HTANH_Q_STAR = 0.25

#: PSG Fig. 4, steps t to first reach test accuracy 0.3 / 0.4, per optimizer and (colour, init); None = not read.
#: colour: blue = tanh sigma_w^2 = 1.05, red = tanh 2, black = ReLU 2 (verified.md sec. 2 table).
FIG4_T03 = {
    "sgd": {("blue", "orthogonal"): 10, ("blue", "gaussian"): 200, ("red", "orthogonal"): 840,
            ("red", "gaussian"): 4e3, ("black", "orthogonal"): (5.5e3, 1e4), ("black", "gaussian"): (5.5e3, 1e4)},
    "momentum": {("blue", "orthogonal"): 7, ("blue", "gaussian"): 135, ("red", "orthogonal"): 380,
                 ("red", "gaussian"): 2.9e3, ("black", "orthogonal"): 1.7e3, ("black", "gaussian"): 3e4},
    "adam": {("blue", "orthogonal"): 5, ("blue", "gaussian"): 120, ("red", "orthogonal"): 290,
             ("red", "gaussian"): 1.4e3, ("black", "orthogonal"): 840, ("black", "gaussian"): 3.2e3},
    "rmsprop": {("blue", "orthogonal"): 90, ("red", "orthogonal"): 800, ("black", "orthogonal"): 2e3},
}
FIG4_T04 = {
    "sgd": {("blue", "orthogonal"): 320, ("blue", "gaussian"): 2e3, ("red", "orthogonal"): 4.4e3,
            ("red", "gaussian"): 2e4, ("black", "orthogonal"): (2e4, 4e4), ("black", "gaussian"): (2e4, 4e4)},
    "momentum": {("blue", "orthogonal"): 135, ("blue", "gaussian"): 900},
    "adam": {("blue", "orthogonal"): 90},
}
#: blue orthogonal's peak test accuracy (SGD ~0.56-0.57, ADAM ~0.58-0.59; verified.md sec. 2)
FIG4_BLUE_ORTH_PEAK = {"sgd": (0.56, 0.57), "adam": (0.58, 0.59)}

#: PSG Fig. 5(a): location of the optimum and the scaling exponents it implies
FIG5_ETA_L_OPT = (1.0, 5.0)
FIG5_ETA_EXPONENT = -1.0
FIG5_TAU_EXPONENT = 0.5


def fig4_value(table: dict, optimizer: str, colour: str, init: str):
    """The digitized value, a (lo, hi) range, or None."""
    return table.get(optimizer, {}).get((colour, init))


def mid(v):
    """Geometric middle of a (lo, hi) range; a number unchanged; None -> None."""
    if v is None:
        return None
    if isinstance(v, tuple):
        return (v[0] * v[1]) ** 0.5
    return float(v)
