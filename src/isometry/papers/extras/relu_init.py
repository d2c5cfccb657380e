"""Deep ReLU MLPs on MNIST under five initializations: Xavier (Glorot & Bengio 2010), He (He et al. 2015),
orthogonal x sqrt 2 (Saxe et al. 2014 scaled to the ReLU critical point), the random-walk gain (Sussillo & Abbott 2014)
and Looks-Linear CReLU (Balduzzi et al. 2017), the last parameter-matched (pre-activation width round(N/sqrt 2), so a
hidden weight (N/sqrt2, 2 N/sqrt2) has about N^2 entries).

At init we measure, per layer l and per network, the forward signal q^l = mean_i (h_i^l)^2 over a batch of real MNIST
images and the backward weight-gradient norm |dL/dW^l|_F of the cross-entropy loss. Mean-field theory (papers.md
section 1; ``isometry.theory.meanfield.chi_1``) predicts q^{l+1}/q^l = chi_1 = sigma_w^2/2 for ReLU with zero biases:
Xavier (sigma_w^2 = 1 on square layers) halves the signal every layer, He / orthogonal x sqrt2 keep it, the random
walk gain g*^2 = 2 exp(~2.4/N) compensates the finite-width drift of ln|delta|^2 (SA eq. 12). Then the members are
trained with the batched engine (one ensemble per nonlinearity: ReLU members, CReLU members).
"""

from __future__ import annotations


import numpy as np
import pandas as pd
import torch

from isometry.engine import cross_entropy, member_generators, train
from isometry.io import write_csv
from isometry.models import EnsembleMLP
from isometry.papers.extras.common import PAPER, device, load, scale
from isometry.plotting import new_figure, save_figure
from isometry.spec import Member
from isometry.theory.meanfield import chi_1

EXPERIMENT = "relu_init_comparison"


def _members(p, specs, seeds) -> list[Member]:
    out = []
    for spec in specs:
        for s in seeds:
            out.append(Member(run_id=f"{spec['label']}-s{s}", init=spec["init"], sigma_w2=spec.get("sigma_w2"),
                              sigma_b2=0.0, lr=float(p["lr"]), optimizer=p["optimizer"], seed=int(s),
                              extra={"label": spec["label"]}))
    return out


def measure_at_init(model: EnsembleMLP, members, x: torch.Tensor, y: torch.Tensor) -> list[dict]:
    """Per member and layer: q^l = mean (h^l)^2 and |dL/dW^l|_F at the members' initial weights (rows)."""
    model.reset_parameters(members, [member_generators(m.seed)[0] for m in members])
    model.zero_grad(set_to_none=True)
    h = x.flatten(1).T                                             # (in, B)
    qs = []
    last = len(model.weights) - 1
    for l, w in enumerate(model.weights):
        h = (torch.matmul(w, h) if l == 0 else torch.bmm(w, h)) + model.biases[l].unsqueeze(2)
        qs.append(h.detach().pow(2).mean(dim=(1, 2)))
        if l < last:
            h = model._phi(h)
    loss = cross_entropy(h.transpose(1, 2), y)
    loss.sum().backward()
    rows = []
    for l, w in enumerate(model.weights):
        gn = w.grad.flatten(1).norm(dim=1)
        for e, m in enumerate(members):
            rows.append({"kind": "layer", "run_id": m.run_id, "label": m.extra["label"], "init": m.init,
                         "seed": m.seed, "layer": l + 1, "q": float(qs[l][e]), "grad_norm": float(gn[e]),
                         "readout": l == last})
    model.zero_grad(set_to_none=True)
    return rows


def experiment(params, inputs, output):
    p = params["relu_init"]
    data = load(p["dataset"], params, int(p["n_train"]), int(p["n_test"]))
    seeds = [int(s) for s in p["seeds"]]
    groups = {}
    for spec in p["inits"]:
        nl = "crelu" if spec["init"] == "looks_linear" else "relu"
        groups.setdefault(nl, []).append(spec)
    xb = data.standardize(data.train_x[: int(p["measure_batch"])])
    yb = data.train_y[: int(p["measure_batch"])]
    frames, layer_rows = [], []
    for nl, specs in groups.items():
        members = _members(p, specs, seeds)
        model = EnsembleMLP(len(members), data.input_shape, data.num_classes, depth=int(p["depth"]),
                            width=int(p["width"]), nonlinearity=nl, crelu_matched=(nl == "crelu"))
        layer_rows += measure_at_init(model, members, xb, yb)
        df = train(model, members, data, steps=int(p["steps"]), batch_size=int(p["batch_size"]), n_log=int(p["n_log"]),
                   eval_examples=int(p["eval_examples"]), device=device(params), paper=PAPER, experiment=EXPERIMENT,
                   progress=False, desc=f"{EXPERIMENT}-{nl}")
        df["kind"] = "train"
        df["n_params"] = sum(int(t[0].numel()) for t in model.parameters())
        frames.append(df)
    lay = pd.DataFrame(layer_rows)
    lay["paper"], lay["experiment"] = PAPER, EXPERIMENT
    lay["depth"], lay["width"], lay["dataset"] = int(p["depth"]), int(p["width"]), data.label
    write_csv(pd.concat(frames + [lay], ignore_index=True), output)


STYLE = {"xavier": ("C1", "-"), "he": ("C3", "-"), "orthogonal": ("C0", "-"), "random_walk": ("C4", "--"),
         "looks_linear": ("C2", "-")}


def figure(params, inputs, output):
    from isometry.papers.extras.common import read

    df = read(inputs, EXPERIMENT)
    lay, tr = df[df.kind == "layer"], df[df.kind == "train"]
    labels = list(dict.fromkeys(lay.label))
    inits = lay.groupby("label").init.first()
    fig, ax = new_figure(1, 4, width=3.1, height=2.7)
    for lab in labels:
        col, ls = STYLE.get(inits[lab], ("k", "-"))
        d = lay[(lay.label == lab) & (~lay.readout.astype(bool))]
        for k, (col_name, a) in enumerate((("q", ax[0, 0]), ("grad_norm", ax[0, 1]))):
            g = d.groupby("layer")[col_name]
            m, lo, hi = g.median(), g.min(), g.max()
            a.plot(m.index, m.values, color=col, ls=ls, label=lab)
            a.fill_between(m.index, lo.values, hi.values, color=col, alpha=0.15, lw=0)
    # theory: q^l = q^1 chi_1^(l-1) for the Gaussian schemes with a known sigma_w^2 (ReLU, zero bias)
    for lab in labels:
        if inits[lab] not in ("xavier", "he"):
            continue
        d = tr[tr.label == lab]
        s2 = float(d.sigma_w2.iloc[0])
        q1 = lay[(lay.label == lab) & (lay.layer == 1)].q.median()
        ls_ = np.arange(1, int(lay.depth.iloc[0]) + 1)
        ax[0, 0].plot(ls_, q1 * float(chi_1("relu", s2, 0.0)) ** (ls_ - 1), ":", color="k", lw=1)
    ax[0, 0].plot([], [], ":", color="k", label=r"theory $q^1\chi_1^{l-1}$")
    for a, t, yl in ((ax[0, 0], "forward signal at init", r"$q^l$ = mean $(h^l)^2$"),
                     (ax[0, 1], "backward gradient at init", r"$|\partial L/\partial W^l|_F$")):
        a.set_yscale("log")
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
            ax[0, 2 + k].plot(np.maximum(m.index, 0.5), m.values, color=col, ls=ls, marker="o", ms=2, label=lab)
            ax[0, 2 + k].fill_between(np.maximum(m.index, 0.5), g.min().values, g.max().values, color=col,
                                      alpha=0.15, lw=0)
    ax[0, 2].set_yscale("log")
    for a, yl in ((ax[0, 2], "training loss"), (ax[0, 3], "test accuracy")):
        a.set_xscale("log")
        a.set_xlabel("SGD step")
        a.set_ylabel(yl)
    ax[0, 2].set_title("training", fontsize=9)
    ax[0, 3].set_title("held-out accuracy", fontsize=9)
    fig.tight_layout()
    L, N = int(lay.depth.iloc[0]), int(lay.width.iloc[0])
    n_seeds = tr.groupby("label").seed.nunique().min()
    d0 = tr.iloc[0]
    npar = tr.groupby("label").n_params.first()
    cap = (f"Deep ReLU MLPs at init and in training (scale: {scale(params)}; data: {d0.dataset}). Depth {L} "
           f"(hidden layers), width {N}; Looks-Linear CReLU nets have pre-activation width round(N/sqrt 2) "
           f"(parameters: ReLU {int(npar.drop(labels=[l for l in npar.index if inits[l] == 'looks_linear']).max())}, "
           f"CReLU {int(npar[[l for l in npar.index if inits[l] == 'looks_linear']].max()) if (inits == 'looks_linear').any() else 0}). "
           "Left: forward signal q^l (median, band min-max over "
           f"{n_seeds} seeds) on a batch of training images, "
           "with the mean-field prediction q^1 chi_1^(l-1), chi_1 = sigma_w^2/2 (dotted; Xavier: 1/2 per layer, He: "
           "1); second: Frobenius norm of the loss gradient per weight layer. Right: training loss and test accuracy "
           f"(mean, band min-max) with {d0.optimizer} (lr {d0.lr:g}), batched engine, zero biases. Deviation: reduced "
           "depth, width and training budget at quick scale.")
    save_figure(fig, output, cap)
