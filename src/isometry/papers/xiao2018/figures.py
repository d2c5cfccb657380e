"""Figures of the xiao2018 pipeline, each drawn from its CSV only (captions state scale, data set and deviations)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from isometry.plotting import new_figure, save_figure
from isometry.papers.common import read_input as _read
from isometry.papers.common import scale_of as _scale

INIT_LABEL = {"delta_orthogonal": "delta-orthogonal (Alg. 2)", "conv_orthogonal": "block-orthogonal (Alg. 1)",
              "gaussian": "Gaussian (uniform variance vector)", "orthogonal": "orthogonal"}
INIT_COLOR = {"delta_orthogonal": "C3", "conv_orthogonal": "C0", "gaussian": "C7"}


def _arch(params, df=None) -> str:
    m = params.get("model", {})
    t = params.get("train", {})
    lr = (f"lr = {t.get('lr')}/L" if t.get("lr_depth_scaling") == "inverse" else f"lr = {t.get('lr')}")
    if t.get("lr_depth_scaling") == "inverse" and t.get("depth_scaled") == "hidden":
        lr += f" for the stride-1 stack, {t.get('lr')} for stem and readout"
    opt = t.get("optimizer")
    opt = f"SGD with momentum {t.get('momentum')}" if opt == "momentum" else opt
    stem = "Gaussian-initialized stem" if m.get("stem_init", "gaussian") == "gaussian" else "stem as the run's init"
    return (f"vanilla tanh CNN: {m.get('n_down')} stride-2 3x3 convs ({stem}), then L stride-1 3x3 "
            f"convs with {m.get('channels')} channels ({m.get('padding', 'circular')} padding), global average "
            f"pooling, linear readout; {opt}, {lr}, batch "
            f"{t.get('batch_size')}, {t.get('n_train') or 'all'} training / {t.get('n_test') or 'all'} test examples "
            f"(accuracies on {t.get('eval_examples') or 'all'} of each)")


def _final(df: pd.DataFrame, keys) -> pd.DataFrame:
    last = df[df["step"] == df["step"].max()]
    return last.groupby(keys, as_index=False)[["train_acc", "test_acc"]].mean()


# ============================================================================================= 1. deep_cnn_curves
def fig_deep_cnn_curves(params, inputs, output):
    df = _read(inputs, "deep_cnn_curves")
    datasets = list(dict.fromkeys(df["dataset"]))
    fig, ax = new_figure(1, len(datasets), width=3.6, height=3.0)
    depths = sorted(df["depth"].unique())
    cmap = __import__("matplotlib").colormaps["viridis"]
    for j, ds in enumerate(datasets):
        a = ax[0, j]
        d = df[(df["dataset"] == ds) & (df["step"] > 0)]
        for i, L in enumerate(depths):
            s = d[d["depth"] == L].groupby("step", as_index=False)[["train_acc", "test_acc"]].mean()
            c = cmap(i / max(len(depths) - 1, 1) * 0.9)
            a.plot(s["step"], s["test_acc"], color=c, label=f"L = {L:,} test")
            a.plot(s["step"], s["train_acc"], color=c, ls="--", lw=1.0, label=f"L = {L:,} train")
        a.axhline(0.1, color="k", lw=0.6, ls=":", label="chance")
        a.set_xscale("log")
        a.set_ylim(0, 1)
        a.set_xlabel("training step")
        a.set_ylabel("accuracy")
        a.set_title(f"{ds}")
        a.legend(fontsize=6, ncol=2, loc="upper left")
    sw2, sb2 = df["sigma_w2"].iloc[0], df["sigma_b2"].iloc[0]
    cap = (f"Xiao et al. 2018 Fig. 1 ({_scale(params)} scale): training (dashed) and test (solid) accuracy versus "
           f"step of critical tanh CNNs, (sigma_w^2, sigma_b^2) = ({sw2:g}, {sb2:g}), delta-orthogonal kernels "
           f"(Alg. 2), depths L = {', '.join(f'{L:,}' for L in depths)}, on {' and '.join(datasets)}. "
           f"{_arch(params)}. Paper: L = 1,250-10,000, full data, many more steps; the curves should hardly depend "
           f"on L.")
    save_figure(fig, output, cap)


# ======================================================================================== 2. trainability_heatmap
def _edges(v, log=False):
    v = np.asarray(sorted(v), float)
    if log:
        lv = np.log(v)
        mids = (lv[1:] + lv[:-1]) / 2
        return np.exp(np.concatenate([[lv[0] - (mids[0] - lv[0])], mids, [lv[-1] + (lv[-1] - mids[-1])]]))
    mids = (v[1:] + v[:-1]) / 2
    return np.concatenate([[v[0] - (mids[0] - v[0])], mids, [v[-1] + (v[-1] - mids[-1])]])


def fig_trainability_heatmap(params, inputs, output):
    df = _read(inputs, "trainability_heatmap")
    cfg = params.get("trainability_heatmap", {})
    metric = cfg.get("metric", "test_acc")
    runs, th = df[df["row_kind"] == "run"], df[df["row_kind"] == "theory"].sort_values("sigma_w2")
    inits = list(dict.fromkeys(runs["init"]))
    fin = runs[runs["step"] == runs["step"].max()].copy()
    fin[metric] = fin[metric].fillna(0.0)                  # diverged runs: NaN metrics -> untrained
    fig, ax = new_figure(1, len(inits), width=3.5, height=3.0)
    sws = np.sort(fin["sigma_w2"].unique())
    Ls = np.sort(fin["depth"].unique())
    xe, ye = _edges(sws), _edges(Ls, log=True)
    crit = float(df["critical_sigma_w2"].dropna().iloc[0])
    for j, init in enumerate(inits):
        a = ax[0, j]
        g = fin[fin["init"] == init].groupby(["depth", "sigma_w2"])[metric].mean().unstack("sigma_w2")
        Z = g.reindex(index=Ls, columns=sws).to_numpy()
        m = a.pcolormesh(xe, ye, Z, vmin=0.0, vmax=1.0, cmap="magma", shading="flat")
        a.plot(th["sigma_w2"], th["six_xi_c"], color="w", lw=1.6, ls="--", label=r"$6\,\xi_c$ (mean field)")
        a.axvline(crit, color="c", lw=0.9, ls=":", label=fr"critical $\sigma_w^2$ = {crit:.3g}")
        a.set_yscale("log")
        a.set_ylim(ye[0], ye[-1])
        a.set_xlim(xe[0], xe[-1])
        a.set_yticks(Ls)
        a.set_yticklabels([str(int(L)) for L in Ls])
        a.minorticks_off()
        a.grid(False)
        a.set_xlabel(r"$\sigma_w^2$")
        a.set_ylabel("depth L")
        a.set_title(INIT_LABEL.get(init, init), fontsize=9)
        a.legend(fontsize=6, loc="upper right", labelcolor="w")
    fig.colorbar(m, ax=ax[0, -1], label=metric.replace("_", " ").replace("acc", "accuracy"), fraction=0.08, pad=0.03)
    sb2 = fin["sigma_b2"].iloc[0]
    steps = int(runs["step"].max())
    cap = (f"Xiao et al. 2018 Fig. 2 ({_scale(params)} scale): {metric.replace('_', ' ')} after {steps} steps on "
           f"{fin['dataset'].iloc[0]} over depth L and sigma_w^2 at sigma_b^2 = {sb2:g} (tanh), mean over "
           f"{fin['seed'].nunique()} seed(s); diverged runs count as 0. Dashed: 6 xi_c from mean-field theory "
           f"(xi_c = -1/ln chi_c). {_arch(params)}. Paper: deeper networks and many more steps.")
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


# ===================================================================================== 4. orthogonal_vs_gaussian
def fig_orthogonal_vs_gaussian(params, inputs, output):
    df = _read(inputs, "orthogonal_vs_gaussian")
    fig, ax = new_figure(1, 2, width=3.6, height=3.0)
    d = df[df["step"] > 0]
    for j, metric in enumerate(["train_acc", "test_acc"]):
        a = ax[0, j]
        for init in dict.fromkeys(d["init"]):
            s = d[d["init"] == init]
            sv = s[["kernel_sv_min", "kernel_sv_max"]].iloc[0]
            s = s.groupby("step", as_index=False)[metric].mean()
            a.plot(s["step"], s[metric], color=INIT_COLOR.get(init),
                   label=f"{INIT_LABEL.get(init, init)}; conv s.v./sigma_w in [{sv.iloc[0]:.2f}, {sv.iloc[1]:.2f}]")
        a.axhline(0.1, color="k", lw=0.6, ls=":")
        a.set_xscale("log")
        a.set_ylim(0, 1)
        a.set_xlabel("training step")
        a.set_ylabel(metric.replace("_", " ").replace("acc", "accuracy"))
        a.legend(fontsize=5.5, loc="upper left")
    L = int(df["depth"].iloc[0])
    ax[0, 0].set_title(f"L = {L:,}: training")
    ax[0, 1].set_title(f"L = {L:,}: test")
    cap = (f"Xiao et al. 2018 ({_scale(params)} scale): {L:,}-layer critical tanh CNNs, (sigma_w^2, sigma_b^2) = "
           f"({df['sigma_w2'].iloc[0]:g}, {df['sigma_b2'].iloc[0]:g}), on {df['dataset'].iloc[0]}: delta-orthogonal "
           f"(Alg. 2) vs block-orthogonal (Alg. 1) vs Gaussian kernels; legend: range of the singular values of the "
           f"initial circular convolutions (divided by sigma_w; 1 = norm-preserving), measured on the kernels the "
           f"runs used. {_arch(params)}. Paper: thousands of layers and full-length training.")
    save_figure(fig, output, cap)


# ======================================================================================== 5. nonuniform_variance
def fig_nonuniform_variance(params, inputs, output):
    df = _read(inputs, "nonuniform_variance")
    fig, ax = new_figure(1, 2, width=3.5, height=3.0)
    fin = _final(df, ["delta_mix", "seed"])
    mean = fin.groupby("delta_mix", as_index=False)[["train_acc", "test_acc"]].mean()
    a = ax[0, 0]
    a.plot(fin["delta_mix"], fin["test_acc"], "o", color="C3", alpha=0.35, ms=3)
    a.plot(mean["delta_mix"], mean["test_acc"], "-o", color="C3", label="test")
    a.plot(mean["delta_mix"], mean["train_acc"], "--s", color="C0", label="train")
    a.axhline(0.1, color="k", lw=0.6, ls=":", label="chance")
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
    a.set_xscale("log")
    a.set_ylim(0, 1)
    a.set_xlabel("training step")
    a.set_ylabel("test accuracy")
    a.legend(fontsize=6)
    cap = (f"Xiao et al. 2018 sec. 2.4 / Fig. 5-style ({_scale(params)} scale): {int(df['depth'].iloc[0]):,}-layer "
           f"critical tanh CNNs on {df['dataset'].iloc[0]} with Gaussian kernels whose variance vector interpolates "
           f"from delta (a = 1) to uniform (a = 0); mean over {df['seed'].nunique()} seed(s). Legend: depth scale "
           f"of the slowest non-zero Fourier mode on the {int(df['hidden_map'].iloc[0])}x"
           f"{int(df['hidden_map'].iloc[0])} hidden map (inf for delta). {_arch(params)}. Deviation: the paper "
           f"interpolates orthogonal kernels; Gaussian kernels with the variance vector here (EnsembleCNN.delta_mix).")
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
        a.set_title(f"L = {L}: var {mo['var_empirical']:.3f} (theory {mo['var_theory']:.3f})", fontsize=8)
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
    "orthogonal_vs_gaussian": fig_orthogonal_vs_gaussian,
    "nonuniform_variance": fig_nonuniform_variance,
    "cnn_jacobian_spectrum": fig_cnn_jacobian_spectrum,
}
