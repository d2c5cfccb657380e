"""Figure ``relu_init_comparison``: deep ReLU MLPs under five initializations at the He-vs-Xavier depth (He et al. 2015
Fig. 3: a 30-layer ReLU net trains with He init and stalls with Xavier), from ``relu_init_comparison.csv``.

Panels: forward signal q^l and weight-gradient norm per layer at init (with the mean-field prediction
q^1 chi_1^(l-1) for Xavier and He), training loss and test accuracy versus step.
"""

from __future__ import annotations

import math

import numpy as np

from isometry.papers.common import read_input, scale_of
from isometry.papers.extras.figures._axes import set_log
from isometry.plotting import new_figure, save_figure
from isometry.theory.meanfield import chi_1

STYLE = {"xavier": ("C1", "-"), "he": ("C3", "-"), "orthogonal": ("C0", "-"), "random_walk": ("C4", "--"),
         "looks_linear": ("C2", "-")}


def draw(params, inputs, output):
    df = read_input(inputs, "relu_init_comparison")
    opts = params["relu_init"]["figure"]
    depth, group = int(opts["depth"]), str(opts["group"])
    fig, ax = new_figure(1, 4, width=3.1, height=2.7)
    d_all = df[(df.depth == depth) & (df.group == group)] if "group" in df.columns else df.iloc[:0]
    lay, tr = d_all[d_all.kind == "layer"], d_all[d_all.kind == "train"]
    if tr.empty:
        for a in ax[0]:
            a.text(0.5, 0.5, f"no runs of group {group} at depth {depth} in the CSV", ha="center", va="center",
                   transform=a.transAxes, fontsize=8)
        save_figure(fig, output, f"Deep ReLU MLPs: the CSV has no runs at depth {depth} (scale: {scale_of(params)}).")
        return
    inits = tr.groupby("label").init.first()
    labels = list(dict.fromkeys(tr.label))
    for lab in labels:
        col, ls = STYLE.get(inits[lab], ("k", "-"))
        d = lay[(lay.label == lab) & (lay.readout.astype(str).str.lower() == "false")]
        for col_name, a in (("q", ax[0, 0]), ("grad_norm", ax[0, 1])):
            g = d.groupby("layer")[col_name]
            m = g.median()
            a.plot(m.index, m.values, color=col, ls=ls, label=lab)
            a.fill_between(m.index, g.min().values, g.max().values, color=col, alpha=0.15, lw=0)
    for lab in labels:                        # theory: q^l = q^1 chi_1^(l-1) for the Gaussian schemes (zero bias)
        if inits[lab] not in ("xavier", "he"):
            continue
        s2 = float(tr[tr.label == lab].sigma_w2.iloc[0])
        q1 = lay[(lay.label == lab) & (lay.layer == 1)].q.median()
        ls_ = np.arange(1, depth + 1)
        ax[0, 0].plot(ls_, q1 * float(chi_1("relu", s2, 0.0)) ** (ls_ - 1), ":", color="k", lw=1)
    ax[0, 0].plot([], [], ":", color="k", label=r"theory $q^1\chi_1^{l-1}$")
    for a, t, yl in ((ax[0, 0], "forward signal at init", r"$q^l$ = mean $(h^l)^2$"),
                     (ax[0, 1], "backward gradient at init", r"$|\partial L/\partial W^l|_F$")):
        set_log(a, "y")
        a.set_xlabel("layer l")
        a.set_ylabel(yl)
        a.set_title(t, fontsize=9)
    ax[0, 0].legend(fontsize=6)
    for lab in labels:
        col, ls = STYLE.get(inits[lab], ("k", "-"))
        d = tr[tr.label == lab]
        for k, metric in enumerate(("train_loss", "test_acc")):
            g = d.groupby("step")[metric]
            m = g.mean()
            x = np.maximum(m.index.to_numpy(float), 0.5)
            ax[0, 2 + k].plot(x, m.values, color=col, ls=ls, marker="o", ms=2, label=lab)
            ax[0, 2 + k].fill_between(x, g.min().values, g.max().values, color=col, alpha=0.15, lw=0)
    ax[0, 2].axhline(math.log(10), color="0.5", ls=":", lw=0.8, label="ln 10 (chance)")
    set_log(ax[0, 2], "y")
    ax[0, 3].axhline(0.1, color="0.5", ls=":", lw=0.8)
    for a, yl in ((ax[0, 2], "training loss"), (ax[0, 3], "test accuracy")):
        set_log(a, "x")
        a.set_xlabel("SGD step")
        a.set_ylabel(yl)
    ax[0, 2].set_title("training", fontsize=9)
    ax[0, 3].set_title("held-out accuracy", fontsize=9)
    ax[0, 2].legend(fontsize=6)
    r = tr.iloc[0]
    N = int(r.width)
    n_seeds = int(tr.groupby("label").seed.nunique().min())
    npar = tr.groupby("init").n_params.first()
    crelu = f", CReLU {int(npar['looks_linear'])}" if "looks_linear" in npar.index else ""
    relu_par = npar.drop(labels=[i for i in npar.index if i == "looks_linear"])
    n_div = int(tr.groupby("run_id").diverged.max().sum())
    cap = (f"Deep ReLU MLPs at init and in training (scale: {scale_of(params)}; data: {r.dataset}): {depth} hidden "
           f"layers of width {N}; Looks-Linear CReLU nets have pre-activation width round(N/sqrt 2) (parameters: ReLU "
           f"{int(relu_par.max()) if len(relu_par) else 0}{crelu}). He et al. 2015 report that a 30-layer ReLU net "
           "trains with He init and stalls with Xavier. Left: forward signal q^l (median, band min-max over "
           f"{n_seeds} seeds) on a batch of training images, with the mean-field prediction q^1 chi_1^(l-1), "
           "chi_1 = sigma_w^2/2 (dotted; Xavier: 1/2 per layer, He: 1); second: Frobenius norm of the loss gradient "
           f"per weight layer. Right: training loss (on the first {int(r.eval_examples)} training images) and test "
           f"accuracy (first {int(r.eval_examples)} test images; mean, band min-max) with {r.optimizer} (lr "
           f"{r.lr:g}), batch {int(r.batch_size)}, {int(tr.step.max())} steps, zero biases, batched engine; "
           f"{n_div} run(s) diverged. Deviation: an MLP on MNIST, where He et al. "
           "trained a CNN on ImageNet.")
    save_figure(fig, output, cap)
