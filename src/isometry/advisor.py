"""``python -m isometry advise``: what should my initial weights be?

    python -m isometry advise --nonlinearity relu --depth 100 --width 256 [--conv] [--bias-variance 0.05]
                              [--sigma-w2 S] [--json] [--plot spectrum.png]

The answer is the recommended init scheme (a name registered in ``isometry.init``, usable as ``init:`` in a config)
with its sigma_w^2 and sigma_b^2, and the numbers that justify it. Every number comes from ``isometry.theory``:

* mean field (``theory.meanfield``; Poole et al. 2016, Schoenholz et al. 2017): the fixed point q*, chi_1 (mean
  squared singular value of one layer's Jacobian; 1 = the edge of chaos), chi_c, xi_c = -1/ln chi_c and 6 xi_c, the
  depth beyond which Schoenholz et al. found networks untrainable;
* the Jacobian spectrum (``theory.spectra``; Pennington, Schoenholz & Ganguli 2017): mean and variance of the squared
  singular values lambda of the input-output Jacobian, Gaussian versus orthogonal weights, and the largest lambda;
* the random walk of ln|gradient|^2 (``theory.random_walk``; Sussillo & Abbott 2014): the unbiased gain g*(N), and
  the drift and spread of ln|grad|^2 accumulated over the given depth at the recommended gain (Gaussian weights).

The rules:

* sigma_b^2: as given; otherwise 0 for linear / ReLU (the only critical point), and 2e-5 for bounded nonlinearities
  (tanh, erf, hard-tanh): a small q*, where the critical orthogonal network is closest to isometric (PSG, Xiao et al.).
* sigma_w^2: the critical point chi_1 = 1 at that sigma_b^2 (``meanfield.critical_sigma_w2``).
* weights: orthogonal (Saxe et al. 2014; PSG: orthogonal weights never widen the spectrum more than Gaussian ones),
  delta-orthogonal for convolutions (Xiao et al. 2018). Named schemes: ``orthogonal`` / ``delta_orthogonal`` at
  sigma_w^2 (linear, ReLU), ``critical_orthogonal`` / ``critical_delta_orthogonal`` (bounded).
* warnings: when the depth exceeds 6 xi_c (at the recommended point or at ``--sigma-w2`` if you give one), when the
  Jacobian spread at the recommended point is larger than its mean (no dynamical isometry: ReLU never has it; PSG),
  when q* diverges (ReLU with sigma_b^2 > 0), and when ln|grad|^2 drifts or spreads by more than 1 over the depth.

``--json`` prints the same content as one JSON object (infinite values as the string "inf"); ``--plot`` draws the
predicted density of log10 lambda for Gaussian and orthogonal weights (``theory.spectra.jacobian_density``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np

NONLINEARITIES = ("linear", "relu", "tanh", "hard_tanh", "erf")
BOUNDED = ("tanh", "hard_tanh", "erf")
#: default bias variance for bounded nonlinearities: a small q* (tanh: sigma_w^2 ~ 1.05, q* ~ 0.026; PSG / XBSSP)
BOUNDED_SIGMA_B2 = 2.0e-5


def _f(x):
    """float, NaN for None; keeps inf."""
    return float("nan") if x is None else float(x)


def _meanfield(nl: str, sw2: float, sb2: float) -> dict:
    from isometry.theory import meanfield as mf

    q = _f(mf.q_star(nl, sw2, sb2))
    out = {"sigma_w2": sw2, "sigma_b2": sb2, "q_star": q, "chi_1": _f(mf.chi_1(nl, sw2, sb2)),
           "chi_c": _f(mf.chi_c(nl, sw2, sb2)), "c_star": _f(mf.c_star(nl, sw2, sb2)),
           "xi_c": _f(mf.xi_c(nl, sw2, sb2))}
    out["six_xi_c"] = 6.0 * out["xi_c"]
    try:
        out["xi_q"] = _f(mf.xi_q(nl, sw2, sb2))
    except Exception:  # noqa: BLE001 - optional number
        out["xi_q"] = float("nan")
    return out


def _spectrum(nl: str, depth: int, sw2: float, sb2: float) -> dict:
    from isometry.theory import spectra

    out = {}
    for w in ("gaussian", "orthogonal"):
        try:
            mean, var = spectra.jacobian_moments(nl, w, depth, sigma_w2=sw2, sigma_b2=sb2)
            edge = spectra.spectral_edge(nl, w, depth, sigma_w2=sw2, sigma_b2=sb2)
            out[w] = {"mean": float(mean), "variance": float(var), "sd": math.sqrt(max(var, 0.0)),
                      "relative_sd": math.sqrt(max(var, 0.0)) / mean if mean > 0 else float("inf"),
                      "largest": float(edge)}
        except Exception as exc:  # noqa: BLE001 - report, do not crash the advice
            out[w] = {"error": f"{type(exc).__name__}: {exc}"}
    return out


def _random_walk(nl: str, depth: int, width: int, sw2: float, sb2: float) -> dict:
    from isometry.theory import random_walk as rw

    try:
        g_star = rw.optimal_gain(width, nl, method="exact", sigma_b2=sb2)
        gain = math.sqrt(sw2)
        m, v = rw.log_norm_increment_stats(width, nl, gain, sb2)
        m_star, v_star = rw.log_norm_increment_stats(width, nl, g_star, sb2)
    except (NotImplementedError, ValueError) as exc:
        return {"available": False, "reason": str(exc)}
    fit = None
    try:
        fit = rw.optimal_gain(width, nl, method="fit")
    except ValueError:
        pass
    return {"available": True, "gain_star": g_star, "sigma_w2_star": g_star ** 2, "gain_star_fit": fit,
            "gain": gain, "drift_per_layer": m, "var_per_layer": v,
            "drift_over_depth": depth * m, "sd_over_depth": math.sqrt(depth * v),
            "drift_over_depth_at_gain_star": depth * m_star, "sd_over_depth_at_gain_star": math.sqrt(depth * v_star)}


#: below this width, or deeper than ``FINITE_WIDTH_RATIO`` x width, the infinite-width numbers get a caveat
FINITE_WIDTH_MIN = 32
FINITE_WIDTH_RATIO = 0.25


def check_inputs(nl, depth, width, sigma_b2=None, sigma_w2=None):
    """Validate the advisor's inputs; return them as (int, int, float | None, float | None) or raise ValueError
    saying which one is wrong."""
    if nl not in NONLINEARITIES:
        raise ValueError(f"--nonlinearity must be one of {', '.join(NONLINEARITIES)}, got {nl!r}")

    def integer(x, name, lo):
        if isinstance(x, bool) or not isinstance(x, (int, np.integer)) and not (
                isinstance(x, float) and math.isfinite(x) and x == int(x)):
            raise ValueError(f"--{name} must be a whole number >= {lo}, got {x!r}")
        if int(x) < lo:
            raise ValueError(f"--{name} must be >= {lo}, got {int(x)}"
                             + (" (one unit per layer has no mean-field limit; use the width of your layers)"
                                if name == "width" else ""))
        return int(x)

    def real(x, name, positive):
        if x is None:
            return None
        try:
            v = float(x)
        except (TypeError, ValueError):
            raise ValueError(f"--{name} must be a number, got {x!r}") from None
        if not math.isfinite(v) or (v <= 0 if positive else v < 0):
            raise ValueError(f"--{name} must be a finite number {'> 0' if positive else '>= 0'}, got {x!r}"
                             + (" (it is a variance: sigma_w^2 = gain^2)" if name == "sigma-w2" else ""))
        return v

    return (integer(depth, "depth", 1), integer(width, "width", 2), real(sigma_b2, "bias-variance", False),
            real(sigma_w2, "sigma-w2", True))


def finite_width_caveat(depth: int, width: int) -> str | None:
    """The caveat printed when the infinite-width theory behind the numbers is a rough guide only."""
    if width >= FINITE_WIDTH_MIN and depth <= FINITE_WIDTH_RATIO * width:
        return None
    return (f"finite width: every number above is an infinite-width limit (mean field, free probability); at width "
            f"{width} and depth {depth} (depth/width = {depth / width:.3g}) corrections of order 1/width per layer "
            "accumulate, so individual networks' Jacobian spectra and gradient norms will differ from these "
            "predictions (by more the larger depth/width is; Sussillo & Abbott 2014: Var ln|grad|^2 ~ depth/width). "
            "Measure your network, or widen it.")


def _walk_vs_meanfield(nl, depth, width, sw2, sb2, walk) -> dict:
    """Where Sussillo & Abbott's random-walk gain g* sits in mean-field terms, and which of the two the advice
    follows (one prescription: the critical point)."""
    from isometry.theory import meanfield as mf

    s2 = walk["sigma_w2_star"]
    chi = float(mf.chi_1(nl, s2, sb2))
    six = 6.0 * float(mf.xi_c(nl, s2, sb2))
    phase = "critical" if abs(chi - 1.0) < 1e-9 else ("chaotic" if chi > 1 else "ordered")
    if nl in ("linear", "relu") and chi > 1 + 1e-12:
        phase = "exploding (q* = inf)" if sb2 > 0 else "exploding"
    txt = (f"g* = {walk['gain_star']:.4f} (sigma_w^2 = {s2:.5g}) makes the mean of ln|grad|^2 zero for Gaussian "
           f"weights at width {width}; the mean-field critical sigma_w^2 = {sw2:.5g} (chi_1 = 1) is the infinite-width "
           f"edge of chaos. They differ by a finite-width correction: at g*, chi_1 = {chi:.4g} ({phase} at infinite "
           f"width" + (f"; 6 xi_c = {six:.4g}" + (f" < depth {depth}: mean field predicts it untrainable" if six < depth
                                                  else "") if math.isfinite(six) else "") + "). This advice follows "
           "the mean-field critical point with orthogonal weights; g* is the alternative for Gaussian weights at this "
           "width.")
    return {"chi_1_at_gain_star": chi, "six_xi_c_at_gain_star": six, "phase_at_gain_star": phase,
            "vs_mean_field": txt}


def advise(nonlinearity: str, depth: int, width: int, *, conv: bool = False, sigma_b2: float | None = None,
           sigma_w2: float | None = None) -> dict:
    """The recommendation and its justification as a dict (see the module docstring)."""
    from isometry.theory import meanfield as mf

    nl = nonlinearity
    depth, width, sigma_b2, sigma_w2 = check_inputs(nl, depth, width, sigma_b2, sigma_w2)
    sb2 = (0.0 if nl in ("linear", "relu") else BOUNDED_SIGMA_B2) if sigma_b2 is None else sigma_b2
    sw2 = float(mf.critical_sigma_w2(nl, sb2))
    if nl in BOUNDED:
        scheme = "critical_delta_orthogonal" if conv else "critical_orthogonal"
    else:
        scheme = "delta_orthogonal" if conv else "orthogonal"
    gaussian_scheme = {"linear": "lecun", "relu": "he"}.get(nl, "critical")
    rec = {"scheme": scheme, "sigma_w2": sw2, "sigma_b2": sb2, "gain": math.sqrt(sw2),
           "weights": "delta-orthogonal" if conv else "orthogonal"}
    alternatives = [{"scheme": gaussian_scheme, "sigma_w2": sw2, "sigma_b2": sb2,
                     "why": "Gaussian weights at the same critical point: same mean-field numbers, wider Jacobian "
                            "spectrum (table below)"}]
    if nl == "relu":
        alternatives.append({"scheme": "looks_linear", "sigma_w2": 1.0, "sigma_b2": 0.0, "nonlinearity": "crelu",
                             "why": "if you can swap ReLU for CReLU: [W0, -W0] with W0 orthogonal makes the net "
                                    "exactly linear at init, hence exactly isometric (Balduzzi et al. 2017)"})
    mean_field = _meanfield(nl, sw2, sb2)
    spectrum = _spectrum(nl, depth, sw2, sb2)
    walk = _random_walk(nl, depth, width, sw2, sb2)
    if walk.get("available"):
        walk.update(_walk_vs_meanfield(nl, depth, width, sw2, sb2, walk))
        if nl == "relu":
            alternatives.append({"scheme": "random_walk", "sigma_w2": walk["sigma_w2_star"], "sigma_b2": 0.0,
                                 "why": "Gaussian weights only: Sussillo & Abbott's g*(N) removes the finite-width "
                                        f"drift of ln|grad|^2 ({walk['drift_over_depth']:+.2f} over the depth at "
                                        f"sigma_w^2 = {sw2:g}); chi_1 = {walk['chi_1_at_gain_star']:.4f} there"})
    rec["follows"] = ("the mean-field critical point chi_1 = 1 (infinite width; Schoenholz et al. 2017, Pennington et "
                      "al. 2017) with orthogonal weights")
    warnings = []
    caveat = finite_width_caveat(depth, width)
    if caveat:
        warnings.append(caveat)
    if not math.isfinite(mean_field["q_star"]):
        warnings.append(f"q* is infinite at (sigma_w^2, sigma_b^2) = ({sw2:g}, {sb2:g}): for {nl} the pre-activation "
                        "variance grows every layer (by sigma_b^2 per layer at the critical sigma_w^2); use "
                        "sigma_b^2 = 0 for a fixed point.")
    if depth > mean_field["six_xi_c"]:
        warnings.append(f"depth {depth} > 6 xi_c = {mean_field['six_xi_c']:.1f} at the recommended point: deeper "
                        "than theory says it can train (Schoenholz et al. 2017).")
    orth = spectrum.get("orthogonal", {})
    if "relative_sd" in orth and orth["relative_sd"] > 1.0:
        warnings.append(f"no dynamical isometry: even with orthogonal weights the squared singular values of the "
                        f"Jacobian have s.d. {orth['sd']:.3g} around mean {orth['mean']:.3g} at depth {depth}"
                        + (" (ReLU networks cannot be isometric, PSG 2017; consider Looks-Linear CReLU, or tanh with "
                           "orthogonal weights near q* = 0)" if nl == "relu" else
                           "; a smaller sigma_b^2 (smaller q*) narrows it."))
    if walk.get("available"):
        if walk["sd_over_depth"] > 1.0:
            warnings.append(f"with Gaussian weights, ln|grad|^2 spreads with s.d. {walk['sd_over_depth']:.2f} over "
                            f"{depth} layers of width "
                            f"{width} (gradient norms of individual nets differ by factors ~e^{{{walk['sd_over_depth'] / 2:.2f}}}); "
                            "the variance grows like depth/width: widen the network (Sussillo & Abbott 2014).")
        if abs(walk["drift_over_depth"]) > 1.0:
            warnings.append(f"with Gaussian weights, ln|grad|^2 drifts by {walk['drift_over_depth']:+.2f} over the "
                            f"depth at the recommended sigma_w = {walk['gain']:.4f} (a finite-width effect of order "
                            f"depth/width; see 'random walk vs mean field' above). The recommended orthogonal weights "
                            f"have no Gaussian norm fluctuations; keep the critical point.")
    rep = {"nonlinearity": nl, "depth": int(depth), "width": int(width), "conv": bool(conv),
           "recommended": rec, "alternatives": alternatives, "mean_field": mean_field,
           "jacobian_spectrum": spectrum, "random_walk": walk}
    if sigma_w2 is not None:
        yours = _meanfield(nl, sigma_w2, sb2)
        yours["jacobian_spectrum"] = _spectrum(nl, depth, float(sigma_w2), sb2)
        rep["your_choice"] = yours
        if depth > yours["six_xi_c"]:
            warnings.append(f"your sigma_w^2 = {sigma_w2:g}: depth {depth} > 6 xi_c = {yours['six_xi_c']:.1f} "
                            f"(chi_1 = {yours['chi_1']:.3f}, {'ordered' if yours['chi_1'] < 1 else 'chaotic'} "
                            "phase): deeper than theory says it can train (Schoenholz et al. 2017).")
    rep["warnings"] = warnings
    rep["trainable"] = not any("deeper than theory" in w for w in warnings)
    return rep


# ------------------------------------------------------------------------------------------------------- output
def _num(x, fmt=".4g") -> str:
    if x is None:
        return "n/a"
    x = float(x)
    if math.isinf(x):
        return "inf"
    if math.isnan(x):
        return "n/a"
    return format(x, fmt)


def format_report(rep: dict) -> str:
    r, mf, sp, rw = rep["recommended"], rep["mean_field"], rep["jacobian_spectrum"], rep["random_walk"]
    kind = "convolutional (delta-orthogonal kernels; per spatial position the CNN Jacobian reduces to this one)" \
        if rep["conv"] else "fully connected"
    lines = [f"isometry advise: {rep['nonlinearity']}, depth {rep['depth']}, width {rep['width']}, {kind}", "",
             f"Recommended: {r['weights']} weights times sigma_w = {r['gain']:.4f}, biases N(0, {r['sigma_b2']:g})",
             f"  init scheme '{r['scheme']}'   sigma_w^2 = {r['sigma_w2']:.6g}   sigma_b^2 = {r['sigma_b2']:g}"]
    if r.get("follows"):
        lines.append(f"  follows {r['follows']}")
    for a in rep["alternatives"]:
        lines.append(f"  alternative '{a['scheme']}' (sigma_w^2 = {a['sigma_w2']:.6g}): {a['why']}")
    lines += ["", "Mean field at the recommended point (isometry.theory.meanfield):",
              f"  q* = {_num(mf['q_star'])}   chi_1 = {_num(mf['chi_1'])}   chi_c = {_num(mf['chi_c'])}   "
              f"c* = {_num(mf['c_star'])}",
              f"  xi_c = {_num(mf['xi_c'])}   6 xi_c = {_num(mf['six_xi_c'])}   (trainable depth ~ 6 xi_c; "
              "infinite on the critical line chi_1 = 1)",
              "", f"Jacobian spectrum, lambda = squared singular values over {rep['depth']} layers "
                  "(isometry.theory.spectra; mean chi_1^L):",
              f"  {'weights':<12}{'mean':>10}{'variance':>12}{'s.d.':>10}{'largest':>12}"]
    for w in ("gaussian", "orthogonal"):
        s = sp.get(w, {})
        if "error" in s:
            lines.append(f"  {w:<12}unavailable ({s['error']})")
        else:
            lines.append(f"  {w:<12}{_num(s['mean']):>10}{_num(s['variance']):>12}{_num(s['sd']):>10}"
                         f"{_num(s['largest']):>12}")
    lines += ["", f"Random walk of ln|grad|^2 (isometry.theory.random_walk; Gaussian weights, width {rep['width']}):"]
    if rw.get("available"):
        fit = f", paper's fit {rw['gain_star_fit']:.4f}" if rw.get("gain_star_fit") else ""
        lines += [f"  unbiased gain g* = {rw['gain_star']:.4f} (sigma_w^2 = {rw['sigma_w2_star']:.5g}{fit})",
                  f"  at sigma_w = {rw['gain']:.4f}: per layer mean {rw['drift_per_layer']:+.3g}, variance "
                  f"{rw['var_per_layer']:.3g}; over {rep['depth']} layers drift {rw['drift_over_depth']:+.3f}, "
                  f"s.d. {rw['sd_over_depth']:.3f}",
                  f"  at g*: drift {rw['drift_over_depth_at_gain_star']:+.3f}, s.d. "
                  f"{rw['sd_over_depth_at_gain_star']:.3f}"]
        if rw.get("vs_mean_field"):
            import textwrap

            lines += textwrap.wrap("random walk vs mean field: " + rw["vs_mean_field"], width=116,
                                   initial_indent="  ", subsequent_indent="    ")
    else:
        lines.append(f"  not available for {rep['nonlinearity']} ({rw.get('reason', '')})")
    if "your_choice" in rep:
        y = rep["your_choice"]
        lines += ["", f"Your choice sigma_w^2 = {y['sigma_w2']:g}, sigma_b^2 = {y['sigma_b2']:g}: q* = "
                      f"{_num(y['q_star'])}, chi_1 = {_num(y['chi_1'])}, xi_c = {_num(y['xi_c'])}, 6 xi_c = "
                      f"{_num(y['six_xi_c'])}"]
        for w in ("gaussian", "orthogonal"):
            s = y["jacobian_spectrum"].get(w, {})
            if "mean" in s:
                lines.append(f"  Jacobian ({w}): mean {_num(s['mean'])}, s.d. {_num(s['sd'])}")
    lines += ["", "Warnings:" if rep["warnings"] else "Warnings: none."]
    lines += [f"  - {w}" for w in rep["warnings"]]
    return "\n".join(lines)


def _jsonable(obj):
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return None if math.isnan(x) else x
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def plot_spectrum(rep: dict, path) -> None:
    """Predicted density of log10 lambda (Gaussian vs orthogonal) at the recommended point; atoms annotated."""
    from isometry.plotting import new_figure, save_figure
    from isometry.theory import spectra

    nl, L = rep["nonlinearity"], rep["depth"]
    sw2, sb2 = rep["recommended"]["sigma_w2"], rep["recommended"]["sigma_b2"]
    fig, ax = new_figure(1, 1, width=5.0, height=3.2)
    a = ax[0, 0]
    notes = []
    for w, col in (("gaussian", "C3"), ("orthogonal", "C0")):
        s = rep["jacobian_spectrum"].get(w, {})
        edge = s.get("largest")
        if edge is None or not np.isfinite(edge) or edge <= 0:
            continue
        lam = np.logspace(math.log10(edge) - 8, math.log10(edge) + 0.02, 500)
        dens, atoms = spectra.jacobian_density(nl, w, L, None, lam, sigma_w2=sw2, sigma_b2=sb2)
        a.plot(np.log10(lam), lam * math.log(10) * dens, color=col, label=f"{w} (s.d. {s['sd']:.3g})")
        for loc, mass in atoms:
            notes.append(f"{w}: atom at lambda = {loc:.3g} with mass {mass:.3g}")
            if loc > 0:
                a.axvline(math.log10(loc), color=col, ls="--", lw=1)
    a.axvline(0.0, color="0.5", lw=0.6)
    a.set_xlabel(r"$\log_{10}\lambda$  ($\lambda$ = squared singular value of the Jacobian)")
    a.set_ylabel(r"density of $\log_{10}\lambda$")
    a.set_title(f"{nl}, depth {L}, sigma_w^2 = {sw2:.4g}, sigma_b^2 = {sb2:g}", fontsize=9)
    a.legend(fontsize=7)
    fig.tight_layout()
    cap = ("Predicted spectrum of the input-output Jacobian at the recommended initialization (free probability, "
           "Pennington et al. 2017, isometry.theory.spectra.jacobian_density), Gaussian versus orthogonal weights. "
           + " ".join(notes) + " No data set (theory only).")
    save_figure(fig, path, cap)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m isometry advise", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nonlinearity", required=True, choices=NONLINEARITIES)
    p.add_argument("--depth", required=True, type=int, help="number of layers L")
    p.add_argument("--width", required=True, type=int, help="units per layer (channels for --conv)")
    p.add_argument("--conv", action="store_true", help="convolutional network (delta-orthogonal kernels)")
    p.add_argument("--bias-variance", type=float, default=None, dest="sigma_b2",
                   help="sigma_b^2 (default: 0 for linear/relu, 2e-5 for tanh/erf/hard_tanh)")
    p.add_argument("--sigma-w2", type=float, default=None, help="also evaluate this sigma_w^2 of your own")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("--plot", default=None, help="write the predicted Jacobian spectrum to this PNG")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--"]:                 # `python -m isometry advise -- --nonlinearity ...`
        argv = argv[1:]
    a = p.parse_args(argv)
    try:
        rep = advise(a.nonlinearity, a.depth, a.width, conv=a.conv, sigma_b2=a.sigma_b2, sigma_w2=a.sigma_w2)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if a.plot:
        plot_spectrum(rep, a.plot)
        rep["plot"] = str(a.plot)
    if a.json:
        print(json.dumps(_jsonable(rep), indent=2))
    else:
        print(format_report(rep))
        if a.plot:
            print(f"\nspectrum plot: {a.plot}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
