"""Figure ``looks_linear_depth`` (Balduzzi et al. 2017, Sec. 5: the Looks-Linear initialization trains deep plain
nets) from ``relu_init_comparison.csv``: final test accuracy of plain MLPs versus depth for He / orthogonal x sqrt2
(ReLU) and Looks-Linear (CReLU) initialization, one group of the relu_init sweep (``relu_init.figure.ll_group``).
"""

from __future__ import annotations

import numpy as np

from isometry.papers.common import read_input, scale_of
from isometry.papers.extras.figures._axes import empty_panel, set_log
from isometry.plotting import new_figure, save_figure

LL_INITS = {"he": ("He (ReLU)", "C3"), "orthogonal": (r"orthogonal $\times\sqrt{2}$ (ReLU)", "C0"),
            "looks_linear": ("Looks-Linear (CReLU)", "C2")}


def draw(params, inputs, output):
    relu = read_input(inputs, "relu_init_comparison")
    grp = params["relu_init"]["figure"]["ll_group"]
    fig, ax = new_figure(1, 2, width=3.4, height=2.8)
    tr = relu.iloc[:0]
    if {"group", "kind", "init"} <= set(relu.columns):
        tr = relu[(relu.kind == "train") & relu.init.isin(list(LL_INITS)) & (relu.group == grp)]
    if tr.empty:
        for a in ax[0]:
            empty_panel(a, f"no training rows of group {grp!r} in the CSV")
        save_figure(fig, output, f"Looks-Linear depth study: no training rows of group {grp!r} in "
                    f"relu_init_comparison.csv (scale: {scale_of(params)}).")
        return
    fin = tr[tr.step == tr.groupby("run_id").step.transform("max")]
    n_div = int(tr.groupby("run_id").diverged.max().astype(bool).sum())
    for k, (metric, ylab, fill) in enumerate((("test_acc", "final test accuracy", 0.0),
                                              ("train_loss", "final training loss", np.nan))):
        a = ax[0, k]
        for init, (label, col) in LL_INITS.items():
            d = fin[fin.init == init]
            if d.empty:
                continue
            v = d[metric].fillna(fill) if metric == "test_acc" else d[metric]
            g = v.groupby(d.depth)
            m = g.mean()
            a.errorbar(m.index, m.values, yerr=g.sem().fillna(0).values, fmt="o-", ms=3, color=col, capsize=2,
                       label=label)
            a.scatter(d.depth, v, s=5, color=col, alpha=0.4)
        set_log(a, "x")
        a.set_xlabel("depth (hidden layers)")
        a.set_ylabel(ylab)
    ax[0, 0].axhline(0.1, color="0.5", ls=":", lw=0.8, label="chance")
    ax[0, 0].set_ylim(0, 1)
    ax[0, 0].legend(fontsize=6)
    ax[0, 1].axhline(np.log(10), color="0.5", ls=":", lw=0.8, label="ln 10 (chance)")
    set_log(ax[0, 1], "y")
    r = fin.iloc[0]
    cap = (f"Balduzzi et al. 2017 Looks-Linear depth study (scale: {scale_of(params)}; data: {r.dataset}): plain MLPs "
           f"of width {int(r.width)} (Looks-Linear: CReLU with W = [W0, -W0], W0 orthogonal, parameter-matched "
           f"pre-activation width) at {fin.depth.nunique()} depths ({', '.join(str(int(x)) for x in sorted(fin.depth.unique()))}); "
           f"left: final test accuracy (first {int(r.eval_examples)} test images; diverged runs drawn as 0), right: "
           f"final training loss, after {int(fin.step.max())} steps of {r.optimizer} with lr = "
           f"{float(r.lr) * float(r.depth):g}/depth, batch {int(r.batch_size)} (mean +- s.e. over "
           f"{fin.seed.nunique()} seeds, dots: seeds); {n_div} run(s) diverged. BAL: Looks-Linear init trains deep nets "
           "without skip connections where ReLU nets with He / orthogonal init degrade with depth.")
    save_figure(fig, output, cap)
