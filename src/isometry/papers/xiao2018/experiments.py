"""Experiments of the xiao2018 pipeline: each writes one tidy CSV (results/xiao2018/<name>.csv).

Notation (Xiao et al. 2018, sec. 2): a stride-1 layer is h^{l+1}_{j,alpha} = sum_{i,beta} W^{l+1}_{j,i,beta}
x^l_{i,alpha+beta} + b_j, x = tanh(h), weights N(0, sigma_w^2 v_beta / C) with a spatial *variance vector* v
(sum_beta v_beta = 1; uniform v = the ordinary fan-in Gaussian, delta v = centre tap only), or orthogonal kernels:
delta-orthogonal (Alg. 2, ``isometry.init.delta_orthogonal_``) and block-orthogonal (Alg. 1,
``isometry.init.conv_orthogonal_``). Critical point used for the deep runs: (sigma_w^2, sigma_b^2) = (1.05, 2.01e-5)
(chi_1 = 1, q* = 0.0259; papers.md sec. 1).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from isometry.cnn import variance_profile
from isometry.init import delta_orthogonal_
from isometry.io import write_csv
from isometry.spec import RUN_COLUMNS
from isometry.theory import meanfield as mf

from isometry.cost import mlp_cost_s
from isometry.pipeline import Shard, Sweep, Theory

from .training import PAPER, plan_shards, run_row, run_shard

NL = "tanh"


def _critical(params):
    c = params["critical"]
    return float(c["sigma_w2"]), float(c["sigma_b2"])


def _seeds(cfg, params):
    base = int(params["seed"])
    return [base + int(s) for s in cfg.get("seeds", [0])]


# ============================================================================================ 1. deep_cnn_curves
def plan_deep_cnn_curves(params):
    """Xiao et al. Fig. 1 (the 10,000-layer result): critical tanh CNNs with delta-orthogonal kernels (Alg. 2),
    training / test accuracy versus step at several depths, on MNIST and CIFAR-10: one shard per dataset x depth.

    The same ensembles also train, at the same (sigma_w^2, sigma_b^2):
    * Gaussian kernels (uniform variance vector) at depth ``gaussian_depth`` (the contrast: the same deep network
      with Gaussian kernels does not train), on every dataset;
    * block-orthogonal kernels (Alg. 1, ``conv_orthogonal``) at every depth on the datasets listed in
      ``block_orthogonal`` (the paper's orthogonal-kernel depth figure: test accuracy falls with depth towards the
      fully-connected level)."""
    cfg = params["deep_cnn_curves"]
    sw2, sb2 = _critical(params)
    gdepth = cfg.get("gaussian_depth")
    shards = []
    for name in cfg["datasets"]:
        inits = ["delta_orthogonal"] + (["conv_orthogonal"] if name in (cfg.get("block_orthogonal") or []) else [])
        rows = []
        for d in cfg["depths"]:
            extra = ["gaussian"] if gdepth is not None and int(d) == int(gdepth) else []
            rows += [run_row(params, init=i, depth=d, sigma_w2=sw2, sigma_b2=sb2, seed=s)
                     for i in inits + extra for s in _seeds(cfg, params)]
        if gdepth is not None and int(gdepth) not in [int(d) for d in cfg["depths"]]:
            rows += [run_row(params, init="gaussian", depth=gdepth, sigma_w2=sw2, sigma_b2=sb2, seed=s)
                     for s in _seeds(cfg, params)]
        shards += plan_shards(rows, params, dataset=name, steps=cfg["steps"], experiment="deep_cnn_curves")
    return shards


# ======================================================================================= 2. trainability_heatmap
def six_xi_c(sigma_w2, sigma_b2) -> np.ndarray:
    """6 xi_c, xi_c = -1/ln chi_c (SGGS eq. 9; Xiao et al. sec. 2.3: the same depth scale governs CNNs, it is the
    k = 0 Fourier mode): the empirical maximal trainable depth."""
    return 6.0 * np.asarray(mf.xi_c(NL, np.asarray(sigma_w2, float), float(sigma_b2)), float)


def plan_trainability_heatmap(params):
    """Xiao et al. Fig. 2: training accuracy after several step budgets (``budgets``: the paper's four panels are
    500 / 2,500 / 10,000 / 100,000 steps) over (depth, sigma_w^2) at a tiny sigma_b^2, for Gaussian kernels with
    the uniform variance vector and for delta-orthogonal kernels; members of one ensemble = init x sigma_w^2 x seed
    at one depth; every budget is a logged step of the same runs."""
    cfg = params["trainability_heatmap"]
    sb2 = float(cfg["sigma_b2"])
    budgets = sorted({int(b) for b in cfg["budgets"]})
    if not budgets or budgets[0] < 1:
        raise KeyError("trainability_heatmap.budgets: give at least one step budget >= 1")
    rows = [run_row(params, init=init, depth=d, sigma_w2=sw2, sigma_b2=sb2, seed=s)
            for d in cfg["depths"] for init in cfg["inits"] for sw2 in cfg["sigma_w2"] for s in _seeds(cfg, params)]
    return plan_shards(rows, params, dataset=cfg["dataset"], steps=budgets[-1], experiment="trainability_heatmap",
                       log_at=[0] + budgets)


def finish_trainability_heatmap(df, params):
    """Theory rows (``row_kind = theory``): 6 xi_c(sigma_w^2) on a fine grid; 6 xi_c of every run."""
    cfg = params["trainability_heatmap"]
    sb2 = float(cfg["sigma_b2"])
    df["row_kind"] = "run"
    df["six_xi_c"] = six_xi_c(df["sigma_w2"].to_numpy(), sb2)
    lo, hi = min(cfg["sigma_w2"]), max(cfg["sigma_w2"])
    grid = np.geomspace(lo * 0.9, hi * 1.1, 400)
    grid = np.unique(np.concatenate([grid, [float(mf.critical_sigma_w2(NL, sb2))]]))
    th = pd.DataFrame({"row_kind": "theory", "sigma_w2": grid, "sigma_b2": sb2, "six_xi_c": six_xi_c(grid, sb2),
                       "paper": PAPER, "experiment": "trainability_heatmap", "nonlinearity": NL,
                       "dataset": df["dataset"].iloc[0]})
    th["critical_sigma_w2"] = float(mf.critical_sigma_w2(NL, sb2))
    df["critical_sigma_w2"] = th["critical_sigma_w2"].iloc[0]
    return pd.concat([df, th], ignore_index=True)


# ============================================================================================== 3. fourier_modes
def mode_path(n: int) -> list[tuple[int, int]]:
    """Fourier modes (kx, ky) of an n x n torus along Gamma (0,0) -> X (n/2, 0) -> M (n/2, n/2) -> Gamma."""
    h = n // 2
    path = [(k, 0) for k in range(h + 1)] + [(h, k) for k in range(1, h + 1)] + [(k, k) for k in range(h - 1, -1, -1)]
    return path


def vhat_abs(v: np.ndarray, wx, wy) -> np.ndarray:
    """|v^(omega)| = |sum_beta v_beta exp(-i omega . beta)| of a k x k variance vector at angular frequencies."""
    k = v.shape[0]
    b = np.arange(k)
    ex = np.exp(-1j * np.multiply.outer(np.asarray(wx, float), b))      # (..., k)
    ey = np.exp(-1j * np.multiply.outer(np.asarray(wy, float), b))
    return np.abs(np.einsum("...a,...b,ab->...", ey, ex, v))


def xi_fourier_continuous(chi_c: float, v: np.ndarray, wx, wy) -> np.ndarray:
    """xi_{c,k} = -1/ln(chi_c |v^_k|) (Xiao et al. sec. 2.4; ``meanfield.xi_c_fourier`` on the lattice), at any
    frequency: the theory curve between lattice modes."""
    lam = chi_c * vhat_abs(v, wx, wy)
    with np.errstate(divide="ignore"):
        return np.where(lam >= 1.0, np.inf, np.where(lam <= 0, 0.0, -1.0 / np.log(np.clip(lam, 1e-300, 1.0))))


def _circ_conv(x: torch.Tensor, K: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    p = K.shape[-1] // 2
    return F.conv2d(F.pad(x, (p, p, p, p), mode="circular"), K, b)


def correlation_modes(h: torch.Tensor) -> torch.Tensor:
    """Fourier modes of the spatial correlation deviations of one activation map h (C, n, n):

    eps(alpha, alpha') = 1 - c_{alpha alpha'},
    c_{alpha alpha'} = Sigma_{alpha alpha'} / sqrt(Sigma_{alpha alpha} Sigma_{alpha' alpha'}),
    Sigma_{alpha alpha'} = (1/C) sum_j h_{j alpha} h_{j alpha'}. Near the fixed point (c* = 1 in the ordered phase)
    the mean-field map linearises to eps^{l+1}(alpha, alpha') = chi_c sum_beta v_beta eps^l(alpha+beta, alpha'+beta)
    (Xiao et al. sec. 2.3-2.4): for each displacement d, F_d(alpha) = eps(alpha, alpha - d) is circularly convolved
    with v, so its Fourier mode k is multiplied by chi_c v^_k per layer. Returns F^_d(k), complex (n^2 [d], n, n)."""
    C, n, _ = h.shape
    H = h.reshape(C, n * n)
    S = H.T @ H / C
    d = torch.sqrt(torch.diagonal(S))
    eps = 1.0 - S / torch.outer(d, d)                                           # (n^2, n^2): alpha, alpha'
    idx = torch.arange(n)
    ay, ax = torch.meshgrid(idx, idx, indexing="ij")                              # alpha
    dy, dx = ay.reshape(-1, 1, 1), ax.reshape(-1, 1, 1)                           # displacement d
    a2 = ((ay - dy) % n) * n + (ax - dx) % n                                      # alpha - d: (n^2, n, n)
    a1 = (ay * n + ax).expand_as(a2)
    return torch.fft.fft2(eps[a1, a2])                                            # (n^2 [d], n, n [k])


def exp_fourier_modes(params, inputs, output):
    """Xiao et al. sec. 2.4: per-Fourier-mode depth scales xi_{c,k} = -1/ln(chi_c |v^_k|) for the uniform and the
    delta variance vector (theory: ``meanfield.xi_c_fourier``), against the decay of the spatial correlations of
    real random CNNs (Gaussian kernels N(0, sigma_w^2 v / C), circular padding, float64), fitted per mode.

    Protocol (mean field = average over the weights at a FIXED input): one input per variance vector,
    h^0_alpha = sqrt(q*) (sqrt(1 - eta_alpha) z_common + sqrt(eta_alpha) z_alpha), eta_alpha = eta U(0, 2) i.i.d.
    per pixel (small, spatially varying correlation deviations: every mode is excited and the linearised map
    applies from layer 1). For each of ``networks`` random CNNs and each layer l the mode k of F_d (see
    ``correlation_modes``) is projected on its layer-0 pattern, a_k^l = sum_d F^l_d(k) conj(F^0_d(k)) /
    sum_d |F^0_d(k)|^2, averaged over networks (finite-width fluctuations average out; the power would not), and
    ln|a_k^l| = -l / xi is fitted (least squares through a^0 = 1) on the layers before |a_k^l| first drops below
    ``fit_min`` (the noise floor of the average, ~ 1/sqrt(networks * channels))."""
    cfg = params["fourier_modes"]
    sw2, sb2 = float(cfg["sigma_w2"]), float(cfg["sigma_b2"])
    C, n, L, R = int(cfg["channels"]), int(cfg["image"]), int(cfg["depth"]), int(cfg["networks"])
    eta = float(cfg["input_eps"])
    q = float(mf.q_star(NL, sw2, sb2))
    chic = float(mf.chi_c(NL, sw2, sb2))
    path = mode_path(n)
    layers = np.arange(L + 1)
    rows = []
    for vname, mix in (("delta", 1.0), ("uniform", 0.0)):
        v = variance_profile(mix).numpy()
        xi_lat = mf.xi_c_fourier(NL, sw2, sb2, v, n)
        g = torch.Generator().manual_seed(int(params["seed"]) * 1000 + (0 if vname == "delta" else 500))
        z0 = torch.randn(C, 1, 1, generator=g, dtype=torch.float64)
        zp = torch.randn(C, n, n, generator=g, dtype=torch.float64)
        e = eta * 2 * torch.rand(1, n, n, generator=g, dtype=torch.float64)
        h0 = math.sqrt(q) * (torch.sqrt(1 - e) * z0 + torch.sqrt(e) * zp)
        F0 = correlation_modes(h0)
        norm0 = (F0.abs() ** 2).sum(0)
        proj = torch.zeros(L + 1, n, n, dtype=torch.complex128)
        std = torch.from_numpy(np.sqrt(sw2 * v / C))
        for r in range(R):
            h = h0
            proj[0] += 1.0
            for layer in range(1, L + 1):
                K = torch.randn(C, C, 3, 3, generator=g, dtype=torch.float64) * std
                b = torch.randn(C, generator=g, dtype=torch.float64) * math.sqrt(sb2)
                h = _circ_conv(torch.tanh(h)[None], K, b)[0]
                proj[layer] += (correlation_modes(h) * F0.conj()).sum(0) / norm0
        amp = (proj / R).abs().numpy()                                               # |a_k^l|
        w = 2 * np.pi / n
        for i, (kx, ky) in enumerate(path):
            a = amp[:, ky % n, kx % n]
            # fit from layer 0 (a = 1 by construction) up to the last layer before |a| first drops below fit_min
            # (the noise floor of the network average), through the origin of log|a|
            below = np.nonzero(a < cfg["fit_min"])[0]
            ok = layers < (below[0] if len(below) else L + 1)
            if ok.sum() >= 2:
                x, y = layers[ok], np.log(a[ok])
                slope = float((x * y).sum() / (x * x).sum())
                xi_emp = -1.0 / slope if slope < 0 else np.inf
            else:
                xi_emp = np.nan
            vh = float(vhat_abs(v, kx * w, ky * w))
            base = dict(paper=PAPER, experiment="fourier_modes", variance=vname, path_index=i, kx=kx, ky=ky,
                        vhat_abs=vh, sigma_w2=sw2, sigma_b2=sb2, q_star=q, chi_c=chic, channels=C, image=n,
                        networks=R, nonlinearity=NL)
            rows.append({**base, "row_kind": "mode", "xi_theory": float(xi_lat[ky % n, kx % n]),
                         "xi_empirical": float(xi_emp), "fit_points": int(ok.sum())})
            for layer in layers:
                rows.append({**base, "row_kind": "decay", "layer": int(layer), "amplitude": float(a[layer]),
                             "fit": bool(ok[layer]), "theory_amplitude": float((chic * vh) ** layer)})
        # continuous theory curve along the same path (path coordinate t in [0, len(path) - 1])
        t = np.linspace(0, len(path) - 1, 601)
        pk = np.array(path, float)
        kx_t = np.interp(t, np.arange(len(path)), pk[:, 0])
        ky_t = np.interp(t, np.arange(len(path)), pk[:, 1])
        xi_t = xi_fourier_continuous(chic, v, kx_t * w, ky_t * w)
        for tt, xx in zip(t, xi_t):
            rows.append(dict(paper=PAPER, experiment="fourier_modes", variance=vname, row_kind="theory_curve",
                             path_coord=float(tt), xi_theory=float(xx), sigma_w2=sw2, sigma_b2=sb2, chi_c=chic,
                             image=n, nonlinearity=NL))
    write_csv(pd.DataFrame(rows), output)


# ============================================================================================ 4. fc_reference
def plan_fc_reference(params):
    """The fully-connected reference of the paper's orthogonal-kernel depth figure ("FC Accuracy", a horizontal
    line at about 0.58 on CIFAR-10): tanh MLPs with orthogonal weights at the critical point, the same optimizer,
    batch, data and step budget as the CNNs; members = the learning rates in ``lrs`` x seeds (one ensemble). The
    figure and the checks use the best learning rate's final test accuracy (the paper's line is the best FC net)."""
    cfg = params["fc_reference"]
    sw2, sb2 = _critical(params)
    t = params["train"]
    members = []
    for lr in cfg["lrs"]:
        for s in _seeds(cfg, params):
            members.append(dict(run_id=f"fc-orthogonal-d{cfg['depth']}-w{cfg['width']}-lr{lr}-seed{s}",
                                init="orthogonal", sigma_w2=sw2, sigma_b2=sb2, lr=float(lr),
                                optimizer=t["optimizer"], momentum=float(t.get("momentum", 0.9)), seed=int(s)))
    spec = {"experiment": "fc_reference", "dataset": cfg["dataset"], "steps": int(cfg["steps"]),
            "depth": int(cfg["depth"]), "width": int(cfg["width"]), "train": dict(t), "seed": int(params["seed"]),
            "members": members}
    n_in = {"mnist": 784, "fashion_mnist": 784, "cifar10": 3072}[cfg["dataset"]]
    cost = mlp_cost_s(depth=int(cfg["depth"]), width=int(cfg["width"]), n_in=n_in, n_out=10,
                      batch=int(t["batch_size"]), steps=int(cfg["steps"]), members=len(members),
                      eval_examples=int(t.get("eval_examples") or 0), n_evals=int(t["n_log"]) + 2)
    return [Shard(key=f"{cfg['dataset']}-fc-d{cfg['depth']}-w{cfg['width']}", spec=spec, data=(cfg["dataset"],),
                  cost_s=cost, mem_mb=1000.0, gpu=False)]


def run_fc_reference(spec, ctx):
    """Train the FC reference ensemble (``isometry.models.EnsembleMLP``, tanh, every layer orthogonal)."""
    from isometry.engine import default_device, train
    from isometry.models import EnsembleMLP
    from isometry.spec import Member

    t = spec["train"]
    ds = ctx.dataset(spec["dataset"]).subset(t.get("n_train"), t.get("n_test"))
    members = [Member(**m) for m in spec["members"]]
    model = EnsembleMLP(len(members), ds.input_shape, ds.num_classes, depth=spec["depth"], width=spec["width"],
                        nonlinearity=NL)
    dev = default_device() if ctx.device == "auto" else torch.device(ctx.device)
    df = train(model, members, ds, steps=int(spec["steps"]), batch_size=int(t["batch_size"]),
               eval_examples=t.get("eval_examples"), n_log=int(t["n_log"]), device=dev,
               data_seed=int(spec["seed"]) if t.get("shared_data_order", True) else None, paper=PAPER,
               experiment="fc_reference", desc="fc_reference")
    df["model"] = "fc"
    df["batch_size"] = int(t["batch_size"])
    df["n_train"] = len(ds.train_y)
    df["n_eval"] = min(int(t.get("eval_examples") or 10**9), len(ds.test_y))
    return df


# ======================================================================================== 5. nonuniform_variance
def plan_nonuniform_variance(params):
    """Xiao et al. sec. 2.4 / Fig. 5-style: Gaussian kernels whose variance vector interpolates from delta
    (delta_mix = 1) to uniform (delta_mix = 0), v = a delta + (1 - a) uniform, at the critical point and one large
    depth; one ensemble (seeds) per a."""
    cfg = params["nonuniform_variance"]
    sw2, sb2 = _critical(params)
    rows = [run_row(params, init="gaussian", depth=cfg["depth"], sigma_w2=sw2, sigma_b2=sb2, seed=s, delta_mix=a)
            for a in cfg["delta_mix"] for s in _seeds(cfg, params)]
    return plan_shards(rows, params, dataset=cfg["dataset"], steps=cfg["steps"], experiment="nonuniform_variance")


def finish_nonuniform_variance(df, params):
    """Recorded per a: the depth scale of the slowest non-zero Fourier mode on the hidden feature map,
    xi_{c,k1} = -1/ln(chi_c |v^_k1|) (inf for the delta vector)."""
    sw2, sb2 = _critical(params)
    h = {"mnist": 28, "fashion_mnist": 28, "cifar10": 32}[params["nonuniform_variance"]["dataset"]]
    for _ in range(int(params["model"]["n_down"])):
        h = (h + 1) // 2
    chic = float(mf.chi_c(NL, sw2, sb2))
    xi = {}
    for a in params["nonuniform_variance"]["delta_mix"]:
        grid = mf.xi_c_fourier(NL, sw2, sb2, variance_profile(a).numpy(), max(h, 3))
        g = grid.copy()
        g[0, 0] = -np.inf
        xi[float(a)] = float(np.max(g))
    df["xi_slowest_nonzero_mode"] = df["delta_mix"].map(xi)
    df["hidden_map"] = h
    df["chi_c"] = chic
    return df


# ====================================================================================== 6. cnn_jacobian_spectrum
def exp_cnn_jacobian_spectrum(params, inputs, output):
    """Xiao et al. sec. 3 (dynamical isometry of delta-orthogonal CNNs): squared singular values lambda of the
    exact input-output Jacobian of random critical tanh CNNs with delta-orthogonal kernels (Alg. 2; circular
    padding, stride 1, C channels on an n x n image), against the free-probability density of an orthogonal
    fully connected tanh network of the same depth at the same q* (PSG eq. 12; ``theory.spectra``).
    Input: x^0 = tanh(h^0), h^0 ~ N(0, q*) per channel and pixel (``measure.input_at_fixed_point``)."""
    from isometry.measure import cnn_jacobian_singular_values, input_at_fixed_point
    from isometry.theory.spectra import jacobian_density, jacobian_moments

    cfg = params["cnn_jacobian_spectrum"]
    sw2, sb2 = _critical(params)
    q = float(mf.q_star(NL, sw2, sb2))
    C, n, R = int(cfg["channels"]), int(cfg["image"]), int(cfg["networks"])
    rows = []
    for L in cfg["depths"]:
        lams = []
        for r in range(R):
            g = torch.Generator().manual_seed(int(params["seed"]) * 1000 + 17 * int(L) + r)
            Ks, bs = [], []
            for _ in range(int(L)):
                K = torch.empty(C, C, 3, 3, dtype=torch.float64)
                delta_orthogonal_(K, math.sqrt(sw2), generator=g)
                Ks.append(K)
                bs.append(torch.randn(C, generator=g, dtype=torch.float64) * math.sqrt(sb2))
            x0 = input_at_fixed_point(NL, 0, q, generator=g, channels=C, image=n)
            lam = cnn_jacobian_singular_values(Ks, bs, NL, x0, padding="circular")
            lams.append(lam)
            rows += [dict(row_kind="empirical", depth=int(L), network=r, lam=float(v)) for v in lam]
        allv = np.concatenate(lams)
        lo, hi = max(allv.min() * 0.5, 1e-6), allv.max() * 1.5
        grid = np.geomspace(lo, hi, 400)
        dens, atoms = jacobian_density(NL, "orthogonal", int(L), q, grid, sigma_w2=sw2, sigma_b2=sb2)
        mean_th, var_th = jacobian_moments(NL, "orthogonal", int(L), q, sigma_w2=sw2, sigma_b2=sb2)
        rows += [dict(row_kind="theory", depth=int(L), lam=float(x), density=float(d)) for x, d in zip(grid, dens)]
        rows.append(dict(row_kind="moments", depth=int(L), mean_theory=mean_th, var_theory=var_th,
                         mean_empirical=float(allv.mean()), var_empirical=float(allv.var()),
                         atom_mass=float(sum(m for _, m in atoms))))
    df = pd.DataFrame(rows)
    df["paper"], df["experiment"], df["nonlinearity"] = PAPER, "cnn_jacobian_spectrum", NL
    df["sigma_w2"], df["sigma_b2"], df["q_star"], df["channels"], df["image"] = sw2, sb2, q, C, n
    df["init"] = "delta_orthogonal"
    write_csv(df, output)


TRAINING = ("seed", "train", "model", "critical")
def jacobian_memory(params) -> tuple[float, str]:
    """Peak MB of ``cnn_jacobian_spectrum``: a few dense (C n^2) x (C n^2) Jacobians in float64 (issue 20 item 12)."""
    p = params["cnn_jacobian_spectrum"]
    n = p["channels"] * p["image"] ** 2
    return 16.0 * n * n * 8 / 1e6, "cnn_jacobian_spectrum.channels"


EXPERIMENTS = (
    Sweep("deep_cnn_curves", plan_deep_cnn_curves, run_shard, uses=TRAINING + ("deep_cnn_curves",)),
    Sweep("trainability_heatmap", plan_trainability_heatmap, run_shard, uses=TRAINING + ("trainability_heatmap",),
          finish=finish_trainability_heatmap, finish_uses=("trainability_heatmap",)),
    Theory("fourier_modes", exp_fourier_modes, uses=("seed", "fourier_modes")),
    Sweep("fc_reference", plan_fc_reference, run_fc_reference, uses=("seed", "train", "critical", "fc_reference")),
    Sweep("nonuniform_variance", plan_nonuniform_variance, run_shard, uses=TRAINING + ("nonuniform_variance",),
          finish=finish_nonuniform_variance, finish_uses=("critical", "model", "nonuniform_variance")),
    Theory("cnn_jacobian_spectrum", exp_cnn_jacobian_spectrum, uses=("seed", "critical", "cnn_jacobian_spectrum"),
           memory=jacobian_memory),
)

__all__ = ["EXPERIMENTS", "RUN_COLUMNS"]
