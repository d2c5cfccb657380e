"""Figure ``orthogonality_regularizers_cnn``: Bansal et al. 2018's regularizers on a deep plain CNN, from
``orthogonality_regularizers_cnn.csv``: test accuracy per epoch (BCW's validation curves), training loss, the
lambda schedule, and the final accuracy difference to no regularization per regularizer (paired by seed) next to
BCW's CIFAR-10 differences.
"""

from __future__ import annotations

import numpy as np

from isometry.papers.common import read_input, scale_of
from isometry.papers.extras.common import paired_difference
from isometry.papers.extras.figures._axes import set_log
from isometry.plotting import new_figure, save_figure

#: BCW CIFAR-10 validation accuracy at epochs 190-200 (verified.md section 5, VERIFIED-FIG)
PAPER_ACC = {"none": 0.928, "DSO": 0.929, "MC": 0.9295, "SO": 0.932, "SRIP": 0.934}


def draw(params, inputs, output):
    df = read_input(inputs, "orthogonality_regularizers_cnn")
    fig, ax = new_figure(1, 4, width=3.3, height=2.8)
    labels = list(dict.fromkeys(df.label)) if "label" in df.columns else []
    if not labels:
        for a in ax[0]:
            a.text(0.5, 0.5, "no runs in the CSV", ha="center", va="center", transform=a.transAxes)
        save_figure(fig, output, f"BCW regularizers: no runs in the CSV (scale: {scale_of(params)}).")
        return
    kinds = df.groupby("label").regularizer.first()
    colors = {lab: ("k" if kinds[lab] == "none" else f"C{i}") for i, lab in enumerate(labels)}
    for lab in labels:
        d = df[df.label == lab]
        g = d.groupby("epoch")
        for a, metric in ((ax[0, 0], "test_acc"), (ax[0, 1], "train_loss")):
            mu, se = g[metric].mean(), g[metric].sem().fillna(0)
            a.plot(mu.index, mu.values, "o-", ms=2.5, color=colors[lab], label=lab)
            a.fill_between(mu.index, (mu - se).values, (mu + se).values, color=colors[lab], alpha=0.15, lw=0)
        if kinds[lab] != "none":
            lam = d.groupby("epoch").lam.first()
            lam = lam[lam.index > 0]
            ax[0, 2].step(lam.index, lam.clip(lower=1e-12).values, where="post", color=colors[lab], label=lab)
    ax[0, 0].axhline(0.1, color="0.5", ls=":", lw=0.8)
    ax[0, 0].set_ylabel("test accuracy")
    ax[0, 1].set_ylabel("training loss")
    set_log(ax[0, 1], "y")
    set_log(ax[0, 2], "y")
    ax[0, 2].set_ylabel(r"$\lambda$ during the epoch (0 drawn at 1e-12)")
    for a in ax[0, :3]:
        a.set_xlabel("epoch")
    ax[0, 0].legend(fontsize=6)
    a = ax[0, 3]
    fin = df[df.epoch == df.epoch.max()].copy()
    fin["acc"] = fin.test_acc.fillna(0.1)
    base = fin[fin.regularizer == "none"].groupby("seed").acc.mean()
    xs, names = [], []
    for i, lab in enumerate([lab for lab in labels if kinds[lab] != "none"]):
        v = fin[fin.label == lab].groupby("seed").acc.mean()
        common = v.index.intersection(base.index)
        diff = v.loc[common] - base.loc[common]
        mu, se, n = paired_difference(v.loc[common], base.loc[common])
        a.scatter(np.full(len(diff), i), diff.values, s=9, color=colors[lab], alpha=0.6)
        a.errorbar([i], [mu], yerr=[se if np.isfinite(se) else 0], fmt="o", color=colors[lab], capsize=3)
        k = kinds[lab]
        if k in PAPER_ACC:
            a.scatter([i + 0.25], [PAPER_ACC[k] - PAPER_ACC["none"]], marker="*", s=40, color="0.3",
                      label="BCW CIFAR-10 (ResNet, 200 ep.)" if i == 0 else None)
        xs.append(i)
        names.append(lab)
    a.axhline(0, color="0.5", lw=0.8)
    a.set_xticks(xs, names, rotation=30, ha="right", fontsize=6)
    a.set_ylabel("final test acc. minus none (paired)")
    a.legend(fontsize=6)
    r = df.iloc[0]
    n_seeds = int(df.seed.nunique())
    n_div = int(df.groupby("run_id").diverged.max().sum())
    gains = sorted(set(float(g) for g in df.gain2))
    cap = (f"Bansal et al. 2018 orthogonality regularizers on a deep plain CNN (scale: {scale_of(params)}; data: "
           f"{r.dataset}, first {int(r.n_train)} training images, test accuracy on the first {int(r.eval_examples)} "
           f"test images). {int(r.n_down)} stride-2 and {int(r.depth)} stride-1 3x3 conv layers ({int(r.channels)} "
           f"channels, {r.padding} padding, {r.nonlinearity}, {r.init} init, no residuals, no normalization), global "
           f"average pooling, linear readout; {r.optimizer} (lr {r.lr:g}), batch {int(r.batch_size)}, "
           f"{int(r.epochs)} epochs, {n_seeds} seeds (mean +- s.e.); {n_div} run(s) diverged. Penalties on every conv "
           "kernel W (C_out x C_in k^2): SO ||G||_F^2, DSO + ||W^T W/g - I||_F^2, MC max|G_ij|, SRIP sigma_max(G) "
           "(2 power iterations), G = W W^T/g - I with target scale g in "
           f"{gains} (g = 2: orthonormal x sqrt 2, the He scale of a plain ReLU net; g = 1: BCW's orthonormal target, "
           "meant for batch-normalized nets). lambda follows the authors' code schedule (lambda_0 to epoch 20 of 200, "
           "x1e-3 to 50, x1e-4 to 70, x1e-6 to 120, then 0) compressed onto our epochs (third panel). Right: final "
           "accuracy minus no regularization, paired by seed (dots), mean +- s.e.; stars: BCW's CIFAR-10 "
           "differences (0.928 -> 0.929-0.934 at 200 epochs on a deep residual net). Deviations: small plain net, "
           "short training on a subset, no augmentation, no weight decay.")
    save_figure(fig, output, cap)
