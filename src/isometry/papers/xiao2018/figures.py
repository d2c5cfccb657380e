"""Figures of the xiao2018 pipeline, each drawn from its CSV only, laid out as the paper draws them (verified.md
sec. 1). Captions state what the CSV contains (depths, steps, data, recipe as recorded in its columns) and everything
reduced from the paper. A CSV whose runs all diverged (NaN metrics) still draws, with a note on the panel."""

from __future__ import annotations

import numpy as np
import pandas as pd

from isometry.plotting import colorbar_right, new_figure, save_figure
from isometry.papers.common import read_input as _read
from isometry.papers.common import scale_of as _scale

INIT_LABEL = {"delta_orthogonal": "delta-orthogonal (Alg. 2)", "conv_orthogonal": "orthogonal, Alg. 1 (non-delta)",
              "gaussian": "Gaussian (uniform variance vector)", "orthogonal": "orthogonal"}
# the paper's Fig. 1 colours for its four depths (blue, green, orange, red); more depths continue the cycle
DEPTH_COLORS = ["#1f77b4", "#2ca02c", "#ff7f0e", "#d62728", "#9467bd", "#8c564b", "#17becf", "#7f7f7f"]
CHANCE = 0.1


def _first(df: pd.DataFrame, col: str, default="?"):
    """The column's first non-NaN value (integral floats as int: CSV columns with NaN read as float)."""
    if col not in df.columns:
        return default
    v = df[col].dropna()
    if not len(v):
        return default
    x = v.iloc[0]
    return int(x) if isinstance(x, (float, np.floating)) and float(x).is_integer() else x


def _recipe(df: pd.DataFrame) -> str:
    """The training recipe as recorded in the run CSV's columns."""
    opt = _first(df, "optimizer")
    if opt == "momentum":
        opt = f"SGD with momentum {_first(df, 'momentum'):g}"
    ro = _first(df, "readout")
    ro = ("a dense readout on the flattened last feature map (the paper's demo: global average pooling)"
          if ro == "flatten" else "global average pooling and a dense readout")
    n_down = _first(df, "n_down")
    elr = _first(df, "edge_lr", None)
    lrs = ", ".join(f"L={int(L)}: {lr:.3g}" for L, lr in df.groupby("depth")["lr"].first().items()) \
        if "depth" in df.columns else "?"
    edge = f"; stem and readout at a fixed {elr:g}" if elr is not None and np.isfinite(float(elr)) else ""
    return (f"tanh CNN: {n_down} Gaussian stride-2 3x3 stem convs to a "
            f"{_hw(df)} map, L stride-1 3x3 convs with {_first(df, 'channels')} channels (circular padding), "
            f"{ro}; {opt}, stride-1 learning rate ({lrs}){edge}; batch {_first(df, 'batch_size')}, "
            f"{_first(df, 'n_train')} training examples, accuracies on {_first(df, 'n_eval')} training and "
            f"{_first(df, 'n_eval')} test examples")


def _hw(df) -> str:
    n = _first(df, "n_down", None)
    ds = str(_first(df, "dataset", ""))
    if n is None:
        return "?"
    h = 32 if ds.startswith("cifar") else 28
    for _ in range(int(n)):
        h = (h + 1) // 2
    return f"{h}x{h}"


def _logx(a, x) -> None:
    """Log x axis with explicit limits from the logged x values (NaN-only curves give matplotlib no limits)."""
    x = np.asarray(pd.Series(x).dropna(), float)
    x = x[x > 0]
    a.set_xscale("log")
    if len(x):
        lo, hi = float(x.min()), float(x.max())
        a.set_xlim(lo / 1.3, hi * 1.3 if hi > lo else lo * 10)


def _no_data(a, what="no finite accuracies (every run diverged or none ran)"):
    a.text(0.5, 0.5, what, transform=a.transAxes, ha="center", va="center", fontsize=7, color="C3", wrap=True)


def _diverged_note(d: pd.DataFrame) -> str:
    if "diverged" not in d.columns:
        return ""
    fin = d[d["step"] == d.groupby("run_id")["step"].transform("max")]
    n = int(fin["diverged"].astype(bool).sum())
    return f" {n} run(s) diverged (drawn until they did)." if n else ""


# ============================================================================================= 1. deep_cnn_curves
def fig_deep_cnn_curves(params, inputs, output):
    """Paper Fig. 1: two stacked panels (MNIST top, CIFAR-10 bottom), accuracy 0.1-1.0 vs steps on a log axis, one
    colour per depth, solid = test, faded dashed = training; here also the Gaussian-kernel contrast run (grey)."""
    df = _read(inputs, "deep_cnn_curves")
    df = df[df["init"].isin(["delta_orthogonal", "gaussian"])]
    datasets = list(dict.fromkeys(df["dataset"])) or ["(no runs)"]
    fig, ax = new_figure(len(datasets), 1, width=5.0, height=2.7, sharex=True)
    depths = sorted(df.loc[df["init"] == "delta_orthogonal", "depth"].unique())
    for j, ds in enumerate(datasets):
        a = ax[j, 0]
        d = df[(df["dataset"] == ds) & (df["step"] > 0)]
        drawn = False
        for i, L in enumerate(depths):
            s = d[(d["depth"] == L) & (d["init"] == "delta_orthogonal")].groupby("step", as_index=False)[
                ["train_acc", "test_acc"]].mean()
            c = DEPTH_COLORS[i % len(DEPTH_COLORS)]
            a.plot(s["step"], s["test_acc"], color=c, lw=1.6, label=f"depth = {int(L):,}")
            a.plot(s["step"], s["train_acc"], color=c, lw=1.0, ls="--", alpha=0.5)
            drawn = drawn or bool(np.isfinite(s["test_acc"]).any())
        g = d[d["init"] == "gaussian"]
        for L in sorted(g["depth"].unique()):
            s = g[g["depth"] == L].groupby("step", as_index=False)[["train_acc", "test_acc"]].mean()
            a.plot(s["step"], s["test_acc"], color="0.45", lw=1.3, label=f"Gaussian kernels, depth = {int(L):,}")
            a.plot(s["step"], s["train_acc"], color="0.45", lw=0.9, ls="--", alpha=0.5)
        if not drawn:
            _no_data(a)
        a.axhline(CHANCE, color="k", lw=0.5, ls=":")
        _logx(a, d["step"])
        a.set_ylim(0.0, 1.02)
        a.set_ylabel("Accuracy")
        a.set_title(str(ds), fontsize=9)
        a.legend(fontsize=6.5, loc="upper left", ncol=2)
    ax[-1, 0].set_xlabel("Steps")
    step = int(df["step"].max()) if len(df) else 0
    sw2, sb2 = _first(df, "sigma_w2", float("nan")), _first(df, "sigma_b2", float("nan"))
    gd = sorted(int(L) for L in df.loc[df["init"] == "gaussian", "depth"].unique())
    cap = (f"Xiao et al. 2018 Fig. 1 ({_scale(params)} scale): test (solid) and training (dashed) accuracy versus "
           f"step of critical tanh CNNs, (sigma_w^2, sigma_b^2) = ({sw2:g}, {sb2:g}), delta-orthogonal kernels "
           f"(Alg. 2), depths {', '.join(f'{int(L):,}' for L in depths)}, {step} steps, on "
           f"{' and '.join(map(str, dict.fromkeys(df['dataset'])))}"
           + (f"; grey: the same network with Gaussian kernels at depth {', '.join(map(str, gd))}" if gd else "")
           + f". {_recipe(df)}.{_diverged_note(df)} Reduced from the paper: depths 1,250-10,000 and ~1.5e6 steps "
           f"there (MNIST ~0.99, CIFAR-10 ~0.82 at the end); channel width, optimizer and readout of the paper's "
           f"runs are not recorded. Dotted: chance.")
    save_figure(fig, output, cap)


# ======================================================================================== 2. trainability_heatmap
def _edges(v):
    v = np.asarray(sorted(v), float)
    if len(v) == 1:
        return np.array([v[0] * 0.9, v[0] * 1.1])
    mids = (v[1:] + v[:-1]) / 2
    return np.concatenate([[v[0] - (mids[0] - v[0])], mids, [v[-1] + (v[-1] - mids[-1])]])


def fig_trainability_heatmap(params, inputs, output):
    """Paper Fig. 2: panels = step budgets (here also one row per kernel type), training accuracy over (sigma_w^2,
    depth on a linear axis), black = low, red = high, white dashed 6 xi_c."""
    df = _read(inputs, "trainability_heatmap")
    runs = df[df["row_kind"] == "run"]
    th = df[df["row_kind"] == "theory"].sort_values("sigma_w2")
    inits = list(dict.fromkeys(runs["init"])) or ["(no runs)"]
    budgets = sorted(int(s) for s in runs["step"].unique() if s > 0) or [0]
    fig, ax = new_figure(len(inits), len(budgets), width=3.3, height=2.9)
    sws = np.sort(runs["sigma_w2"].unique())
    Ls = np.sort(runs["depth"].unique())
    xe, ye = (_edges(sws), _edges(Ls)) if len(sws) and len(Ls) else (np.array([0, 1]), np.array([0, 1]))
    crit = float(_first(df, "critical_sigma_w2", float("nan")))
    m = None
    for i, init in enumerate(inits):
        for j, b in enumerate(budgets):
            a = ax[i, j]
            cell = runs[(runs["init"] == init) & (runs["step"] == b)].copy()
            cell["train_acc"] = cell["train_acc"].where(~cell["diverged"].astype(bool), 0.0)
            g = cell.groupby(["depth", "sigma_w2"])["train_acc"].mean().unstack("sigma_w2")
            Z = g.reindex(index=Ls, columns=sws).to_numpy(dtype=float)
            if Z.size and np.isfinite(Z).any():
                m = a.pcolormesh(xe, ye, np.ma.masked_invalid(Z), vmin=0.0, vmax=1.0, cmap="hot", shading="flat")
            else:
                _no_data(a)
            if len(th):
                a.plot(th["sigma_w2"], th["six_xi_c"], color="w", lw=1.5, ls="--", label=r"$6\,\xi_c$")
            if np.isfinite(crit):
                a.axvline(crit, color="c", lw=0.8, ls=":", label=fr"critical $\sigma_w^2$ = {crit:.3g}")
            a.set_ylim(ye[0], ye[-1])
            a.set_xlim(xe[0], xe[-1])
            a.grid(False)
            a.set_xlabel(r"$\sigma_w^2$")
            a.set_ylabel("depth")
            a.set_title(f"{INIT_LABEL.get(init, init)}\n{b:,} steps", fontsize=8)
            if i == 0 and j == 0:
                a.legend(fontsize=6, loc="upper right", labelcolor="w", facecolor="0.2")
    if m is not None:
        colorbar_right(fig, m, "training accuracy")
    sb2 = _first(runs, "sigma_b2", float("nan"))
    cap = (f"Xiao et al. 2018 Fig. 2 ({_scale(params)} scale): training accuracy (on {_first(runs, 'n_eval')} "
           f"training examples) after {', '.join(f'{b:,}' for b in budgets)} steps on {_first(runs, 'dataset')} over "
           f"sigma_w^2 ({', '.join(f'{s:g}' for s in sws)}) and depth ({', '.join(str(int(L)) for L in Ls)}; "
           f"linear axis) at sigma_b^2 = {sb2:g}, tanh; rows: kernel type; mean over {runs['seed'].nunique()} "
           f"seed(s); diverged runs count as 0. White dashed: 6 xi_c from mean-field theory at the same sigma_b^2 "
           f"(xi_c = -1/ln chi_c; it diverges at the critical sigma_w^2). {_recipe(runs)}.{_diverged_note(runs)} "
           f"Reduced from the paper: depths to 600 and budgets 500 / 2,500 / 10,000 / 100,000 steps there; its kernel "
           f"type, width and sigma_b^2 are not recorded (6 xi_c there matches sigma_b^2 ~ 1e-5-1e-4).")
    save_figure(fig, output, cap)


# ============================================================================================== 3. fourier_modes
def fig_fourier_modes(params, inputs, output):
    df = _read(inputs, "fourier_modes")
    modes = df[df["row_kind"] == "mode"]
    curve = df[df["row_kind"] == "theory_curve"]
    decay = df[df["row_kind"] == "decay"]
    fig, ax = new_figure(1, 2, width=3.7, height=3.0)
    a = ax[0, 0]
    style = {"delta": ("C3", "-", "o"), "uniform": ("C0", "--", "s")}
    for v, (c, ls, mk) in style.items():
        cv = curve[curve["variance"] == v].sort_values("path_coord")
        a.plot(cv["path_coord"], cv["xi_theory"], color=c, ls=ls, label=f"{v} v: theory")
        mv = modes[modes["variance"] == v]
        a.plot(mv["path_index"], mv["xi_empirical"], mk, color=c, mfc="none", ms=5,
               label=f"{v} v: random CNNs (fit)")
    n = int(df["image"].iloc[0])
    h = n // 2
    a.set_xticks([0, h, 2 * h, 3 * h])
    a.set_xticklabels([r"$\Gamma$ (0,0)", f"X ({h},0)", f"M ({h},{h})", r"$\Gamma$"])
    a.set_yscale("log")
    a.set_ylabel(r"depth scale $\xi_{c,k}$ (layers)")
    a.set_xlabel(f"Fourier mode k on the {n}x{n} torus")
    a.set_title("per-mode correlation depth scales")
    a.legend(fontsize=6)
    a = ax[0, 1]
    show = [("uniform", 0, "C0"), ("uniform", 1, "C2"), ("uniform", h, "C1"), ("delta", 2 * h, "C3")]
    for v, i, c in show:
        d = decay[(decay["variance"] == v) & (decay["path_index"] == i)].sort_values("layer")
        if d.empty:
            continue
        kx, ky = int(d["kx"].iloc[0]), int(d["ky"].iloc[0])
        a.plot(d["layer"], d["amplitude"], "o", color=c, ms=3, label=f"{v} v, k = ({kx},{ky})")
        a.plot(d["layer"], d["theory_amplitude"], color=c, lw=1)
    a.set_yscale("log")
    a.set_ylim(1e-3, 1.5)
    a.set_xlabel("layer l")
    a.set_ylabel(r"mode amplitude $|a_k^l|$")
    a.set_title(r"decay vs theory $(\chi_c |\hat v_k|)^l$ (lines)")
    a.legend(fontsize=6)
    r = modes.iloc[0]
    cap = (f"Xiao et al. 2018 sec. 2.4 ({_scale(params)} scale): depth scales of the Fourier modes of the spatial "
           f"correlations, xi_(c,k) = -1/ln(chi_c |v^_k|), for the delta and the uniform 3x3 variance vector, tanh at "
           f"(sigma_w^2, sigma_b^2) = ({r['sigma_w2']:g}, {r['sigma_b2']:g}) (ordered phase, chi_c = "
           f"{r['chi_c']:.3f}, so that xi_c is finite). Lines: theory (isometry.theory.meanfield.xi_c_fourier). "
           f"Markers: fits of the decay of 1 - c between pixel pairs, projected on each mode, in random Gaussian CNNs "
           f"({int(r['channels'])} channels, {n}x{n} circular images, average of {int(r['networks'])} networks, "
           f"float64); modes that fall below the noise floor within one layer are not fitted. Delta: every mode "
           f"keeps xi_c; uniform: all k != 0 decay within a few layers. No training data involved.")
    save_figure(fig, output, cap)


# ========================================================================================= 4. orthogonal_depth
def fig_orthogonal_depth(params, inputs, output):
    """The paper's orthogonal-kernel depth figure: accuracy vs epochs (log axis), one colour per depth, solid test,
    dashed training, a horizontal dashed orange 'FC Accuracy' line; left Alg. 1 (non-delta) orthogonal kernels as
    in the paper, right the delta-orthogonal runs of the same ensembles for contrast."""
    df = _read(inputs, "deep_cnn_curves")
    fc = _read(inputs, "fc_reference", required=False)
    ds = list(dict.fromkeys(df.loc[df["init"] == "conv_orthogonal", "dataset"]))
    label = ds[0] if ds else "(no Alg. 1 runs)"
    d = df[(df["dataset"] == label) & (df["step"] > 0)]
    fig, ax = new_figure(1, 2, width=3.7, height=3.0, sharey=True)
    depths = sorted(d["depth"].unique())
    fc_acc, fc_lr = float("nan"), None
    if fc is not None and len(fc):
        last = fc[fc["step"] == fc.groupby("run_id")["step"].transform("max")]
        best = last.groupby("run_id")["test_acc"].mean()
        if best.notna().any():
            fc_acc = float(best.max())
            fc_lr = float(last.loc[last["run_id"] == best.idxmax(), "lr"].iloc[0])
    for j, init in enumerate(["conv_orthogonal", "delta_orthogonal"]):
        a = ax[0, j]
        drawn = False
        for i, L in enumerate(depths):
            s = d[(d["depth"] == L) & (d["init"] == init)]
            if s.empty:
                continue
            s = s.assign(epoch=s["step"] * s["batch_size"] / s["n_train"]).groupby("epoch", as_index=False)[
                ["train_acc", "test_acc"]].mean()
            c = DEPTH_COLORS[i % len(DEPTH_COLORS)]
            a.plot(s["epoch"], s["test_acc"], color=c, lw=1.5, label=f"depth = {int(L):,}")
            a.plot(s["epoch"], s["train_acc"], color=c, lw=1.0, ls="--", alpha=0.6)
            drawn = drawn or bool(np.isfinite(s["test_acc"]).any())
        if not drawn:
            _no_data(a)
        if np.isfinite(fc_acc):
            a.axhline(fc_acc, color="#ff7f0e", ls="--", lw=1.2, label="FC Accuracy")
        _logx(a, d["step"] * d["batch_size"] / d["n_train"])
        a.set_ylim(0.0, 1.02)
        a.set_xlabel("Epochs")
        a.set_title(INIT_LABEL[init], fontsize=8)
        a.legend(fontsize=6, loc="upper left")
    ax[0, 0].set_ylabel("Accuracy")
    step = int(d["step"].max()) if len(d) else 0
    fcd = ""
    if fc is not None and len(fc):
        fcd = (f"FC Accuracy: best final test accuracy of critical orthogonal tanh MLPs ({int(_first(fc, 'depth'))} "
               f"hidden layers of width {int(_first(fc, 'width'))}, learning rates "
               f"{', '.join(f'{x:g}' for x in sorted(fc['lr'].unique()))}; best {fc_lr}) with the same optimizer, "
               f"batch, data and {int(fc['step'].max())} steps. ")
    cap = (f"Xiao et al. 2018 orthogonal-kernel depth figure ({_scale(params)} scale): test (solid) and training "
           f"(dashed) accuracy versus epochs on {label} of critical tanh CNNs at depths "
           f"{', '.join(f'{int(L):,}' for L in depths)}, {step} steps; left: orthogonal kernels from Algorithm 1 "
           f"(spread over the 3x3 taps), right: delta-orthogonal kernels (Alg. 2), same ensembles. {fcd}"
           f"{_recipe(d)}.{_diverged_note(d)} Reduced from the paper: depths 32-8,192 and ~2e3 epochs there (test "
           f"~0.81 at 32 layers falling to ~0.61 at 8,192, training ~1.0, FC ~0.58).")
    save_figure(fig, output, cap)


# ======================================================================================== 5. nonuniform_variance
def fig_nonuniform_variance(params, inputs, output):
    df = _read(inputs, "nonuniform_variance")
    fig, ax = new_figure(1, 2, width=3.5, height=3.0)
    last = df[df["step"] == df.groupby("run_id")["step"].transform("max")]
    fin = last.groupby(["delta_mix", "seed"], as_index=False)[["train_acc", "test_acc"]].mean()
    mean = fin.groupby("delta_mix", as_index=False)[["train_acc", "test_acc"]].mean()
    a = ax[0, 0]
    a.plot(fin["delta_mix"], fin["test_acc"], "o", color="C3", alpha=0.35, ms=3)
    a.plot(mean["delta_mix"], mean["test_acc"], "-o", color="C3", label="test")
    a.plot(mean["delta_mix"], mean["train_acc"], "--s", color="C0", label="train")
    if not np.isfinite(mean["test_acc"]).any():
        _no_data(a)
    a.axhline(CHANCE, color="k", lw=0.6, ls=":", label="chance")
    a.set_xlim(1.05, -0.05)
    a.set_ylim(0, 1)
    a.set_xlabel(r"delta weight $a$ in $v = a\,\delta + (1-a)\,$uniform")
    a.set_ylabel(f"accuracy at step {int(df['step'].max())}")
    a.set_title(f"L = {int(df['depth'].iloc[0]):,}: delta (left) to uniform (right)")
    a.legend(fontsize=6)
    a = ax[0, 1]
    cmap = __import__("matplotlib").colormaps["coolwarm"]
    for a_mix in sorted(df["delta_mix"].unique(), reverse=True):
        s = df[(df["delta_mix"] == a_mix) & (df["step"] > 0)].groupby("step", as_index=False)["test_acc"].mean()
        xi = df.loc[df["delta_mix"] == a_mix, "xi_slowest_nonzero_mode"].iloc[0]
        xs = r"$\infty$ ($\chi_c \approx 1$)" if not np.isfinite(xi) or xi > 1e4 else f"{xi:.3g}"
        a.plot(s["step"], s["test_acc"], color=cmap(1 - a_mix), label=fr"a = {a_mix:g} ($\xi_{{c,k_1}}$ = {xs})")
    _logx(a, df.loc[df["step"] > 0, "step"])
    a.set_ylim(0, 1)
    a.set_xlabel("training step")
    a.set_ylabel("test accuracy")
    a.legend(fontsize=6)
    cap = (f"Xiao et al. 2018 sec. 2.4 ({_scale(params)} scale): {int(df['depth'].iloc[0]):,}-layer critical tanh "
           f"CNNs on {df['dataset'].iloc[0]} with Gaussian kernels whose variance vector interpolates from delta "
           f"(a = 1) to uniform (a = 0), {int(df['step'].max())} steps; mean over {df['seed'].nunique()} seed(s). "
           f"Legend: depth scale of the slowest non-zero Fourier mode on the {int(df['hidden_map'].iloc[0])}x"
           f"{int(df['hidden_map'].iloc[0])} hidden map (inf for delta). {_recipe(df)}.{_diverged_note(df)} "
           f"The paper's figure for this claim was not found (papers.md XB-F5, from memory); its kernels may be "
           f"orthogonal, here Gaussian with the variance vector (EnsembleCNN.delta_mix).")
    save_figure(fig, output, cap)


# ====================================================================================== 6. cnn_jacobian_spectrum
def fig_cnn_jacobian_spectrum(params, inputs, output):
    df = _read(inputs, "cnn_jacobian_spectrum")
    depths = sorted(df["depth"].unique())
    fig, ax = new_figure(1, len(depths), width=3.3, height=2.9)
    for j, L in enumerate(depths):
        a = ax[0, j]
        emp = df[(df["row_kind"] == "empirical") & (df["depth"] == L)]["lam"]
        th = df[(df["row_kind"] == "theory") & (df["depth"] == L)].sort_values("lam")
        mo = df[(df["row_kind"] == "moments") & (df["depth"] == L)].iloc[0]
        a.hist(emp, bins=40, density=True, color="C3", alpha=0.45, label=f"CNN Jacobian ({len(emp)} values)")
        a.plot(th["lam"], th["density"], color="k", lw=1.3, label="free probability (orthogonal FC)")
        a.set_xlim(0, max(emp.max() * 1.1, 1e-3))
        a.set_xlabel(r"$\lambda$ (squared singular value of $J$)")
        a.set_ylabel("density")
        a.set_title(f"L = {L}: var {mo['var_empirical']:.3g} (theory {mo['var_theory']:.3g})", fontsize=8)
        a.legend(fontsize=6)
    r = df.iloc[0]
    cap = (f"Xiao et al. 2018 sec. 3 ({_scale(params)} scale): squared singular values of the exact input-output "
           f"Jacobian of random critical tanh CNNs with delta-orthogonal kernels (Alg. 2), (sigma_w^2, sigma_b^2) = "
           f"({r['sigma_w2']:g}, {r['sigma_b2']:g}), q* = {r['q_star']:.4f}, {int(r['channels'])} channels, "
           f"{int(r['image'])}x{int(r['image'])} images with circular padding, stride 1, inputs at the fixed point; "
           f"histogram over {int(df[df['row_kind'] == 'empirical']['network'].nunique())} networks. Line: density "
           f"of an orthogonal fully connected tanh network of the same depth at the same q* (PSG eq. 12, "
           f"isometry.theory.spectra), which the delta-orthogonal CNN inherits. No training data involved.")
    save_figure(fig, output, cap)


FIGURES = {
    "deep_cnn_curves": fig_deep_cnn_curves,
    "trainability_heatmap": fig_trainability_heatmap,
    "fourier_modes": fig_fourier_modes,
    "orthogonal_depth": fig_orthogonal_depth,
    "nonuniform_variance": fig_nonuniform_variance,
    "cnn_jacobian_spectrum": fig_cnn_jacobian_spectrum,
}
FIGURE_INPUTS = {"orthogonal_depth": ("deep_cnn_curves", "fc_reference")}
