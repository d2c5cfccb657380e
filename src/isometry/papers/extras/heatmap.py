"""Trainability heat map of fully connected tanh networks (Schoenholz, Gilmer, Ganguli & Sohl-Dickstein 2017, "Deep
Information Propagation", tag SGGS; papers.md section 1).

Grid: weight variance sigma_w^2 x depth L at bias variance sigma_b^2 (0.05 in SGGS), Gaussian weights
W_ij ~ N(0, sigma_w^2/N), b_i ~ N(0, sigma_b^2), tanh, MNIST. Every cell is trained for the same budget with the
batched engine (one ensemble per depth; its members are the sigma_w^2 values x seeds) and coloured by its training
accuracy. Overlaid: 6 xi_c(sigma_w^2, sigma_b^2) with xi_c = -1/ln chi_c (SGGS eq. 9,
``isometry.theory.meanfield.xi_c``), SGGS's empirical rule that a network trains iff L <~ 6 xi_c.

The agreement statistic of the check is the fraction of grid cells where "trained" (mean training accuracy above
``threshold``) equals "L <= 6 xi_c".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from isometry.engine import train
from isometry.io import write_csv
from isometry.models import EnsembleMLP
from isometry.papers.extras.common import PAPER, device, load, scale
from isometry.plotting import new_figure, save_figure
from isometry.spec import Member
from isometry.theory.meanfield import critical_sigma_w2, xi_c

EXPERIMENT = "trainability_heatmap_fc"


def sigma_w2_grid(p) -> np.ndarray:
    g = p["sigma_w2"]
    return np.round(np.linspace(float(g["min"]), float(g["max"]), int(g["num"])), 6)


def experiment(params, inputs, output):
    p = params["heatmap"]
    data = load(p["dataset"], params, int(p["n_train"]), int(p["n_test"]))
    sb2 = float(p["sigma_b2"])
    sws = sigma_w2_grid(p)
    frames = []
    for L in sorted(int(d) for d in p["depths"]):
        members = [Member(run_id=f"L{L}-sw{s:g}-s{seed}", init="gaussian", sigma_w2=float(s), sigma_b2=sb2,
                          lr=float(p["lr"]), optimizer=p["optimizer"], seed=int(seed))
                   for s in sws for seed in p["seeds"]]
        model = EnsembleMLP(len(members), data.input_shape, data.num_classes, depth=L, width=int(p["width"]),
                            nonlinearity="tanh")
        df = train(model, members, data, steps=int(p["steps"]), batch_size=int(p["batch_size"]),
                   log_at=[int(p["steps"])], eval_examples=int(p["eval_examples"]), device=device(params),
                   paper=PAPER, experiment=EXPERIMENT, progress=False, desc=f"{EXPERIMENT}-L{L}")
        df["kind"] = "train"
        frames.append(df)
    # theory: 6 xi_c on a fine sigma_w^2 grid, and at every cell
    fine = np.linspace(float(sws.min()), float(sws.max()), 301)
    th = pd.DataFrame({"kind": "theory", "sigma_w2": fine, "sigma_b2": sb2,
                       "six_xi_c": 6.0 * np.asarray(xi_c("tanh", fine, sb2), float)})
    out = pd.concat(frames, ignore_index=True)
    out["six_xi_c"] = 6.0 * np.asarray(xi_c("tanh", out.sigma_w2.to_numpy(float), sb2), float)
    out["threshold"] = float(p["threshold"])
    out["critical_sigma_w2"] = float(critical_sigma_w2("tanh", sb2))
    write_csv(pd.concat([out, th], ignore_index=True), output)


def cell_table(df: pd.DataFrame) -> pd.DataFrame:
    """Mean final training accuracy per (sigma_w2, depth), with the theory prediction and the trained flag."""
    tr = df[df.kind == "train"]
    final = tr[tr.step == tr.step.max()].copy()
    final["train_acc"] = final["train_acc"].fillna(0.0)            # diverged members count as untrained
    cells = final.groupby(["sigma_w2", "depth"], as_index=False).agg(
        train_acc=("train_acc", "mean"), six_xi_c=("six_xi_c", "first"), threshold=("threshold", "first"))
    cells["trained"] = cells.train_acc > cells.threshold
    cells["predicted"] = cells.depth <= cells.six_xi_c
    cells["agree"] = cells.trained == cells.predicted
    return cells


def agreement(df: pd.DataFrame) -> float:
    return float(cell_table(df).agree.mean())


def figure(params, inputs, output):
    from isometry.papers.extras.common import read

    df = read(inputs, EXPERIMENT)
    cells = cell_table(df)
    sws = np.sort(cells.sigma_w2.unique())
    depths = np.sort(cells.depth.unique())
    Z = cells.pivot(index="depth", columns="sigma_w2", values="train_acc").loc[depths, sws].to_numpy()
    fig, ax = new_figure(1, 2, width=3.8, height=3.0)
    a = ax[0, 0]

    def edges(v):
        v = np.asarray(v, float)
        mid = (v[1:] + v[:-1]) / 2
        return np.concatenate([[v[0] - (mid[0] - v[0])], mid, [v[-1] + (v[-1] - mid[-1])]])

    mesh = a.pcolormesh(edges(sws), edges(depths), Z, cmap="magma", vmin=0.0, vmax=1.0, shading="flat")
    fig.colorbar(mesh, ax=a, label="training accuracy")
    th = df[df.kind == "theory"].sort_values("sigma_w2")
    a.plot(th.sigma_w2, th.six_xi_c, color="w", lw=1.6, label=r"$6\xi_c$")
    a.plot(th.sigma_w2, th.six_xi_c / 6, color="w", lw=1.0, ls="--", label=r"$\xi_c$")
    crit = float(df.critical_sigma_w2.dropna().iloc[0])
    a.axvline(crit, color="c", lw=0.8, ls=":", label=fr"critical $\sigma_w^2$ = {crit:.3f}")
    a.set_ylim(edges(depths)[0], edges(depths)[-1])
    a.set_xlabel(r"$\sigma_w^2$")
    a.set_ylabel("depth L")
    sb2 = float(th.sigma_b2.iloc[0])
    a.set_title(fr"tanh, $\sigma_b^2$ = {sb2:g}", fontsize=9)
    a.legend(fontsize=6, loc="upper right", facecolor="0.3", labelcolor="w", frameon=True)
    a = ax[0, 1]
    for i, L in enumerate(depths):
        c = cells[cells.depth == L].sort_values("sigma_w2")
        a.plot(c.sigma_w2, c.train_acc, "o-", ms=3, color=__import__("matplotlib").colormaps["viridis"](
            i / max(len(depths) - 1, 1)), label=f"L={int(L)}")
    a.axhline(float(cells.threshold.iloc[0]), color="0.5", ls="--", lw=0.8, label="threshold")
    a.set_xlabel(r"$\sigma_w^2$")
    a.set_ylabel("training accuracy")
    a.set_title(f"agreement with L <= 6 xi_c: {cells.agree.mean():.0%}", fontsize=9)
    a.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    tr = df[df.kind == "train"].iloc[0]
    n_seeds = df[df.kind == "train"].seed.nunique()
    cap = (f"Schoenholz et al. 2017 trainability map (scale: {scale(params)}; data: {tr.dataset}). Fully connected "
           f"tanh networks of width {int(tr.width)}, Gaussian weights N(0, sigma_w^2/N), biases N(0, {sb2:g}); "
           f"training accuracy (mean over {n_seeds} seed(s), on {int(params['heatmap']['eval_examples'])} training "
           f"images) after {int(df[df.kind == 'train'].step.max())} steps of {tr.optimizer} (lr {tr.lr:g}, batch "
           f"{int(params['heatmap']['batch_size'])}); batched engine, one ensemble per depth. White: 6 xi_c and xi_c "
           "from mean-field theory (xi_c = -1/ln chi_c); cyan: the critical line chi_1 = 1. Right: the same "
           "accuracies per depth; a cell counts as trained above the dashed threshold, and the title gives the "
           "fraction of cells where that agrees with L <= 6 xi_c. Deviations: much smaller width, depth range, "
           "training set and step budget than SGGS, and a different optimizer.")
    save_figure(fig, output, cap)
