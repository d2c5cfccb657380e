"""Figure ``trainability_heatmap_fc`` as SGGS draw it: training accuracy over (sigma_w^2, depth L on a log axis) at
sigma_b^2 = 0.05, with xi_c, 2 xi_c, 4 xi_c and 6 xi_c as white dashed curves; right: the accuracies per depth, and
which cells the check counts as well inside / well outside the 6 xi_c bound.
"""

from __future__ import annotations

import numpy as np

from isometry.papers.common import read_input, scale_of
from isometry.papers.extras.experiments.heatmap import XI_MULTIPLES
from isometry.papers.extras.figures._axes import set_log
from isometry.plotting import new_figure, save_figure


def _lin_edges(v):
    v = np.asarray(v, float)
    if len(v) == 1:
        return np.array([v[0] - 0.5, v[0] + 0.5])
    mid = (v[1:] + v[:-1]) / 2
    return np.concatenate([[v[0] - (mid[0] - v[0])], mid, [v[-1] + (v[-1] - mid[-1])]])


def _log_edges(v):
    return np.exp(_lin_edges(np.log(np.asarray(v, float))))


def draw(params, inputs, output):
    df = read_input(inputs, "trainability_heatmap_fc")
    c = params["checks"]                     # the check's cell groups, drawn as the check counts them
    kin, kout = float(c["heatmap_inside_xi"]), float(c["heatmap_outside_xi"])
    acc_min = float(c["heatmap_trained_acc"])
    fig, ax = new_figure(1, 2, width=3.9, height=3.2)
    tr = df[df.kind == "train"] if "kind" in df.columns else df.iloc[:0]
    th = df[df.kind == "theory"].sort_values("sigma_w2") if "kind" in df.columns else df.iloc[:0]
    if tr.empty:
        for a in ax[0]:
            a.text(0.5, 0.5, "no training rows in the CSV", ha="center", va="center", transform=a.transAxes)
        save_figure(fig, output, f"SGGS trainability map: no training rows (scale: {scale_of(params)}).")
        return
    fin = tr[tr.step == tr.groupby("run_id").step.transform("max")].copy()
    n_div = int(fin.diverged.astype(bool).sum())
    fin["train_acc"] = fin["train_acc"].fillna(0.0)
    cells = fin.groupby(["sigma_w2", "depth"], as_index=False).agg(train_acc=("train_acc", "mean"),
                                                                   xi_c=("xi_c", "first"))
    sws = np.sort(cells.sigma_w2.unique())
    depths = np.sort(cells.depth.unique())
    Z = cells.pivot(index="depth", columns="sigma_w2", values="train_acc").reindex(index=depths, columns=sws)
    a = ax[0, 0]
    mesh = a.pcolormesh(_lin_edges(sws), _log_edges(depths), Z.to_numpy(float), cmap="magma", vmin=0.0, vmax=1.0,
                        shading="flat")
    fig.colorbar(mesh, ax=a, label="training accuracy")
    for k in XI_MULTIPLES:
        a.plot(th.sigma_w2, k * th.xi_c, "--", color="w", lw=1.4 if k == 6 else 0.8, alpha=1.0 if k == 6 else 0.7)
        ok = (k * th.xi_c < depths.max()) & (k * th.xi_c > depths.min())
        if ok.any():
            i = int(np.flatnonzero(ok.to_numpy())[-1])
            a.text(float(th.sigma_w2.iloc[i]), float(k * th.xi_c.iloc[i]), f"{k}$\\xi_c$" if k > 1 else r"$\xi_c$",
                   color="w", fontsize=7, ha="right", va="bottom")
    crit = float(df.critical_sigma_w2.dropna().iloc[0])
    a.axvline(crit, color="c", lw=0.8, ls=":")
    set_log(a, "y")
    a.set_ylim(_log_edges(depths)[0], _log_edges(depths)[-1])
    a.set_xlim(_lin_edges(sws)[0], _lin_edges(sws)[-1])
    a.set_xlabel(r"$\sigma_w^2$")
    a.set_ylabel("depth L")
    sb2 = float(tr.sigma_b2.iloc[0])
    a.set_title(fr"tanh, $\sigma_b^2$ = {sb2:g} (cyan: critical $\sigma_w^2$ = {crit:.2f})", fontsize=8)
    a = ax[0, 1]
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    for i, L in enumerate(depths):
        c = cells[cells.depth == L].sort_values("sigma_w2")
        col = cmap(i / max(len(depths) - 1, 1))
        a.plot(c.sigma_w2, c.train_acc, "-", lw=0.8, color=col, label=f"L={int(L)}")
        ins = c[c.depth <= kin * c.xi_c]
        out = c[c.depth >= kout * c.xi_c]
        a.scatter(ins.sigma_w2, ins.train_acc, marker="o", s=14, color=col, edgecolor="k", lw=0.4, zorder=3)
        a.scatter(out.sigma_w2, out.train_acc, marker="x", s=14, color=col, zorder=3)
    a.axhline(acc_min, color="0.5", ls="--", lw=0.8)
    a.axhline(0.1, color="0.5", ls=":", lw=0.8)
    a.set_xlabel(r"$\sigma_w^2$")
    a.set_ylabel("final training accuracy")
    a.set_ylim(0, 1)
    a.scatter([], [], marker="o", color="0.6", edgecolor="k", label=fr"well inside ($L \leq {kin:g}\xi_c$)")
    a.scatter([], [], marker="x", color="0.6", label=fr"well outside ($L \geq {kout:g}\xi_c$)")
    a.legend(fontsize=5.5, ncol=2)
    r = tr.iloc[0]
    n_seeds = int(tr.seed.nunique())
    cap = (f"Schoenholz et al. 2017 trainability map (scale: {scale_of(params)}; data: {r.dataset}). Fully connected "
           f"tanh networks of width {int(r.width)}, {len(depths)} depths from {int(depths.min())} to "
           f"{int(depths.max())} (log axis) x {len(sws)} values of sigma_w^2 in [{sws.min():g}, {sws.max():g}], "
           f"Gaussian weights N(0, sigma_w^2/N), biases N(0, {sb2:g}); colour: training accuracy (mean over "
           f"{n_seeds} seed(s), on the first {int(r.eval_examples)} training images) after {int(fin.step.max())} "
           f"steps of {r.optimizer} (lr {r.lr:g}, batch {int(r.batch_size)}); {n_div} run(s) diverged (drawn as 0). "
           "White dashed: xi_c, 2 xi_c, 4 xi_c and 6 xi_c from mean-field theory (xi_c = -1/ln chi_c); SGGS find the "
           "trainable region bounded by ~6 xi_c with its tip at the critical sigma_w^2. Right: accuracy per depth; "
           f"circles: cells well inside the bound (L <= {kin:g} xi_c), crosses: well outside (L >= {kout:g} xi_c), "
           f"the two groups the check compares (dashed: the 'trained' level {acc_min:g}; dotted: chance). "
           "Deviations: smaller width and training budget than SGGS (UNVERIFIED there).")
    save_figure(fig, output, cap)
