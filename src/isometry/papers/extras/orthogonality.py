"""Orthogonality during training: regularizers and constraints.

RNN on sequential MNIST (Vorontsov et al. 2017, "On orthogonality and learning recurrent networks with long term
dependencies", ICML; tag VOR). A tanh Elman RNN reads an image one row per step (T = 28) and classifies from its last
state (``isometry.rnn.EnsembleRNN``). Its recurrent weight starts at W = sigma_w Q, Q Haar orthogonal, sigma_w slightly
above 1 (the edge of chaos for a contractive tanh). Variants (``variant`` column):

* ``none``           free W, no regularizer;
* ``soft``           free W, lam ||W W^T - I||_F^2 (soft orthogonality; pulls the gain back to 1);
* ``gain_adjusted``  free W, lam ||W W^T / sigma_w^2 - I||_F^2 (keeps sigma_w times an orthogonal matrix);
* ``hard``           W = sigma_w Q0 expm(A - A^T): on the scaled Stiefel manifold throughout training;
* ``margin``         W = sigma_w U diag(s) V^T, s in [1 - m, 1 + m] (VOR's singular-value margin).

We log validation accuracy per epoch and the singular values of W / sigma_w at every logged step (min, quantiles,
max, mean, s.d.) and the orthogonality error max|W W^T / sigma_w^2 - I|.

CNN on CIFAR-10 (Bansal, Chen & Wang 2018, "Can we gain more from orthogonality regularizations in training deep
CNNs?", NeurIPS; tag BCW). With every conv kernel reshaped to W (C_out, C_in k^2) (BCW's W^T: rows are filters), and
G = W W^T the filters' Gram matrix:

* ``SO``   (single soft orthogonality)  lam ||G - I||_F^2                                          (BCW eq. 2)
* ``DSO``  (double soft orthogonality)  lam (||G - I||_F^2 + ||W^T W - I||_F^2)                     (BCW eq. 3)
* ``MC``   (mutual coherence)           lam ||G - I||_inf  (max-abs entry)                         (BCW eq. 4)
* ``SRIP`` (spectral restricted isometry) lam sigma_max(G - I), by two power iterations from a fixed
  random vector per layer                                                                          (BCW eq. 6)

summed over conv layers, trained with the batched engine (``regularizer=`` returns the (E,) penalty; each member has
its own kind and lam).
"""

from __future__ import annotations


import numpy as np
import pandas as pd
import torch

from isometry.cnn import EnsembleCNN
from isometry.engine import train
from isometry.io import write_csv
from isometry.papers.extras.common import PAPER, device, load, scale
from isometry.plotting import new_figure, save_figure
from isometry.rnn import EnsembleRNN, soft_orthogonality
from isometry.spec import Member

RNN_EXPERIMENT = "orthogonality_regularization"
CNN_EXPERIMENT = "orthogonality_regularizers_cnn"
RNN_VARIANTS = ("none", "soft", "gain_adjusted", "hard", "margin")
RNN_LABELS = {"none": "no regularizer", "soft": r"soft $\lambda\|WW^T-I\|^2$",
              "gain_adjusted": r"gain-adjusted $\lambda\|WW^T/\sigma_w^2-I\|^2$", "hard": "hard (Stiefel manifold)",
              "margin": "singular-value margin"}
RNN_COLORS = {"none": "k", "soft": "C1", "gain_adjusted": "C2", "hard": "C0", "margin": "C4"}
CNN_KINDS = ("none", "SO", "DSO", "MC", "SRIP")


# ------------------------------------------------------------------------------------------------------------- RNN
class SpectrumLog:
    """Engine callback: singular values of W / sigma_w at the logged steps (checkpointable via state_dict)."""

    def __init__(self, members, log_at):
        self.members, self.log_at, self.rows = members, set(int(s) for s in log_at), []

    def record(self, step, model):
        with torch.no_grad():
            W = model.recurrent_weight.detach().double()
            g = model.sigma_w.detach().double().view(-1, 1, 1)
            Wn = W / g
            sv = torch.linalg.svdvals(Wn).cpu().numpy()
            eye = torch.eye(W.shape[-1], dtype=W.dtype, device=W.device)
            err = (torch.bmm(Wn, Wn.transpose(1, 2)) - eye).abs().amax(dim=(1, 2)).cpu().numpy()
        for e, m in enumerate(self.members):
            s = np.sort(sv[e])
            q = np.quantile(s, [0.05, 0.25, 0.5, 0.75, 0.95])
            self.rows.append({"run_id": m.run_id, "step": int(step), "sv_min": s[0], "sv_q05": q[0], "sv_q25": q[1],
                              "sv_median": q[2], "sv_q75": q[3], "sv_q95": q[4], "sv_max": s[-1],
                              "sv_mean": s.mean(), "sv_std": s.std(), "orth_err": float(err[e])})

    def __call__(self, step, model, opt):
        if step in self.log_at:
            self.record(step, model)

    def init_hook(self, model, members):
        self.record(0, model)

    def state_dict(self):
        return {"rows": list(self.rows)}

    def load_state_dict(self, state):
        self.rows = list(state["rows"])


def _rnn_regularizer(lam: torch.Tensor, gain2: torch.Tensor):
    def reg(model):
        return soft_orthogonality(model.recurrent_weight, lam.to(model.bias.device), gain2.to(model.bias.device))
    return reg


def rnn_experiment(params, inputs, output):
    p = params["rnn"]
    data = load(p["dataset"], params, int(p["n_train"]), int(p["n_test"]))
    sw2 = float(p["sigma_w"]) ** 2
    steps_per_epoch = len(data.train_x) // int(p["batch_size"])
    steps = int(p["epochs"]) * steps_per_epoch
    log_at = [k * steps_per_epoch for k in range(int(p["epochs"]) + 1)]
    groups = {"free": ["none", "soft", "gain_adjusted"], "orthogonal": ["hard"], "margin": ["margin"]}
    frames = []
    for recurrent, variants in groups.items():
        variants = [v for v in variants if v in p["variants"]]
        if not variants:
            continue
        members = [Member(run_id=f"{v}-s{s}", init="orthogonal", sigma_w2=sw2, sigma_b2=0.0, lr=float(p["lr"]),
                          optimizer=p["optimizer"], seed=int(s), extra={"variant": v})
                   for v in variants for s in p["seeds"]]
        model = EnsembleRNN(len(members), data.input_shape, data.num_classes, hidden_size=int(p["hidden_size"]),
                            nonlinearity="tanh", recurrent=recurrent, margin=float(p["margin"]),
                            init_input="gaussian", init_readout="gaussian")
        lam = torch.tensor([float(p["lam"]) if m.extra["variant"] in ("soft", "gain_adjusted") else 0.0
                            for m in members])
        gain2 = torch.tensor([sw2 if m.extra["variant"] == "gain_adjusted" else 1.0 for m in members])
        reg = _rnn_regularizer(lam, gain2) if recurrent == "free" and bool((lam > 0).any()) else None
        log = SpectrumLog(members, log_at)
        df = train(model, members, data, steps=steps, batch_size=int(p["batch_size"]), log_at=log_at,
                   eval_examples=int(p["eval_examples"]), device=device(params), regularizer=reg,
                   grad_clip=float(p["grad_clip"]), callback=log, init_hook=log.init_hook, paper=PAPER,
                   experiment=RNN_EXPERIMENT, progress=False, desc=f"{RNN_EXPERIMENT}-{recurrent}")
        df = df.merge(pd.DataFrame(log.rows), on=["run_id", "step"], how="left")
        df["recurrent"], df["epoch"] = recurrent, df["step"] // steps_per_epoch
        df["lam"] = [float(p["lam"]) if v in ("soft", "gain_adjusted") else 0.0 for v in df.variant]
        df["margin"] = float(p["margin"]) if recurrent == "margin" else np.nan
        df["sigma_w"] = float(p["sigma_w"])
        frames.append(df)
    write_csv(pd.concat(frames, ignore_index=True), output)


def rnn_figure(params, inputs, output):
    from isometry.papers.extras.common import read

    df = read(inputs, RNN_EXPERIMENT)
    fig, ax = new_figure(1, 3, width=3.4, height=2.8)
    variants = [v for v in RNN_VARIANTS if v in set(df.variant)]
    for v in variants:
        d = df[df.variant == v]
        g = d.groupby("epoch")
        acc = g.test_acc
        ax[0, 0].plot(acc.mean().index, acc.mean().values, "o-", ms=3, color=RNN_COLORS[v], label=RNN_LABELS[v])
        ax[0, 0].fill_between(acc.mean().index, acc.min().values, acc.max().values, color=RNN_COLORS[v], alpha=0.15,
                              lw=0)
        m, s = g.sv_mean.mean(), g.sv_std.mean()
        ax[0, 1].plot(m.index, m.values, color=RNN_COLORS[v], label=RNN_LABELS[v])
        ax[0, 1].fill_between(m.index, (m - s).values, (m + s).values, color=RNN_COLORS[v], alpha=0.15, lw=0)
        ax[0, 1].plot(m.index, g.sv_min.min().values, ":", color=RNN_COLORS[v], lw=0.8)
        ax[0, 1].plot(m.index, g.sv_max.max().values, ":", color=RNN_COLORS[v], lw=0.8)
        fin = d[d.epoch == d.epoch.max()]
        qs = ["sv_min", "sv_q05", "sv_q25", "sv_median", "sv_q75", "sv_q95", "sv_max"]
        y = fin[qs].mean().to_numpy()
        ax[0, 2].plot([0, 5, 25, 50, 75, 95, 100], y, "o-", ms=2.5, color=RNN_COLORS[v], label=RNN_LABELS[v])
    sw = float(df.sigma_w.iloc[0])
    m = float(df.margin.dropna().iloc[0]) if df.margin.notna().any() else None
    for a in (ax[0, 1], ax[0, 2]):
        a.axhline(1.0, color="0.5", lw=0.6)
        a.axhline(1.0 / sw, color="C1", lw=0.6, ls="--")
        if m is not None:
            a.axhspan(1 - m, 1 + m, color="C4", alpha=0.07, lw=0)
    ax[0, 0].set_xlabel("epoch")
    ax[0, 0].set_ylabel("validation accuracy")
    ax[0, 0].set_title("sequential MNIST", fontsize=9)
    ax[0, 0].legend(fontsize=6)
    ax[0, 1].set_xlabel("epoch")
    ax[0, 1].set_ylabel(r"singular values of $W/\sigma_w$")
    ax[0, 1].set_title("spectrum during training (mean $\\pm$ s.d.)", fontsize=9)
    ax[0, 2].set_xlabel("percentile of the spectrum")
    ax[0, 2].set_ylabel(r"singular value of $W/\sigma_w$")
    ax[0, 2].set_title("final spectrum", fontsize=9)
    fig.tight_layout()
    r = df.iloc[0]
    n_seeds = df.seed.nunique()
    cap = (f"Orthogonality constraints and regularizers for a tanh RNN on sequential MNIST, one 28-pixel row per step "
           f"(scale: {scale(params)}; data: {r.dataset}, validation = the first {int(params['rnn']['eval_examples'])} "
           f"test images). Hidden size {int(r.width)}, recurrent weight initialized as sigma_w Q (Q Haar orthogonal, "
           f"sigma_w = {sw:g}); {r.optimizer} (lr {r.lr:g}), gradient clipping, {n_seeds} seed(s) (band: min-max). "
           f"Soft regularizers with lambda = {float(df.lam.max()):g}; hard: W = sigma_w Q0 expm(A - A^T); margin: "
           f"singular values of W/sigma_w in [1-m, 1+m] (shaded, m = {m}). Middle: mean +- s.d. of the singular values "
           "of W/sigma_w (dotted: min and max); the dashed orange line 1/sigma_w is where the plain soft penalty pulls "
           "them (it removes the gain). Right: the spectrum after the last epoch (percentiles). Deviation: short "
           "training on a subset at quick scale (Vorontsov et al. train for many epochs on all of MNIST).")
    save_figure(fig, output, cap)


# ------------------------------------------------------------------------------------------------------------- CNN
def conv_matrices(model: EnsembleCNN) -> list[torch.Tensor]:
    """Conv kernels as (E', C_out, C_in k^2) stacks: the down convs one by one, the hidden convs as one (E L, C, C k^2)."""
    mats = [w.flatten(2) for w in model.down_weights]
    if model.depth > 0:
        E, L = model.hidden_weight.shape[:2]
        mats.append(model.hidden_weight.reshape(E * L, model.channels, -1))
    return mats


def regularizer_terms(W: torch.Tensor, v0: torch.Tensor, need: set[str]) -> dict[str, torch.Tensor]:
    """BCW's penalties (without lambda) for a batch of kernels W (B, n, m) -> {kind: (B,)} (module docstring)."""
    B, n, m = W.shape
    G = torch.bmm(W, W.transpose(1, 2)) - torch.eye(n, dtype=W.dtype, device=W.device)
    out = {}
    if "SO" in need or "DSO" in need:
        so = G.pow(2).sum(dim=(1, 2))
        out["SO"] = so
        if "DSO" in need:
            H = torch.bmm(W.transpose(1, 2), W) - torch.eye(m, dtype=W.dtype, device=W.device)
            out["DSO"] = so + H.pow(2).sum(dim=(1, 2))
    if "MC" in need:
        out["MC"] = G.abs().amax(dim=(1, 2))
    if "SRIP" in need:
        v = v0.to(W.dtype).to(W.device).expand(B, n).unsqueeze(2)
        for _ in range(2):                                   # BCW: two power iterations, from a random vector
            v = torch.bmm(G, v)
            v = v / v.norm(dim=1, keepdim=True).clamp_min(1e-12)
        out["SRIP"] = torch.bmm(G, v).norm(dim=1).squeeze(1)
    return out


def make_cnn_regularizer(model: EnsembleCNN, kinds: list[str], lams: list[float], seed: int = 0):
    """callable(model) -> (E,) penalty: member e pays lams[e] * (its kind's penalty summed over conv layers)."""
    E = model.E
    gen = torch.Generator().manual_seed(seed)
    mats = conv_matrices(model)
    v0s = [torch.randn(W.shape[1], generator=gen, dtype=torch.float64) for W in mats]
    coef = {k: torch.tensor([lam if kind == k else 0.0 for kind, lam in zip(kinds, lams)], dtype=torch.float32)
            for k in ("SO", "DSO", "MC", "SRIP")}
    need = {k for k, c in coef.items() if bool((c > 0).any())}
    if not need:
        return None

    def reg(model):
        dev = model.readout_weight.device
        total = torch.zeros(E, device=dev)
        for W, v0 in zip(conv_matrices(model), v0s):
            terms = regularizer_terms(W, v0, need)
            for k in need:
                t = terms[k].view(E, -1).sum(dim=1)          # hidden stack: (E L,) -> sum over its L layers
                total = total + coef[k].to(dev) * t
        return total

    return reg


def cnn_experiment(params, inputs, output):
    p = params["cnn"]
    data = load(p["dataset"], params, int(p["n_train"]), int(p["n_test"]))
    steps_per_epoch = len(data.train_x) // int(p["batch_size"])
    steps = int(p["epochs"]) * steps_per_epoch
    log_at = [k * steps_per_epoch for k in range(int(p["epochs"]) + 1)]
    regs = dict(p["regularizers"])
    members = [Member(run_id=f"{k}-s{s}", init=p["init"], sigma_w2=p.get("sigma_w2"), sigma_b2=float(p["sigma_b2"]),
                      lr=float(p["lr"]), optimizer=p["optimizer"], seed=int(s),
                      extra={"regularizer": k, "lam": float(regs[k])})
               for k in CNN_KINDS if k in regs for s in p["seeds"]]
    model = EnsembleCNN(len(members), data.input_shape, data.num_classes, channels=int(p["channels"]),
                        depth=int(p["depth"]), n_down=int(p["n_down"]), nonlinearity=p["nonlinearity"],
                        padding=p["padding"])
    reg = make_cnn_regularizer(model, [m.extra["regularizer"] for m in members], [m.extra["lam"] for m in members],
                               seed=int(params.get("seed", 0)))
    df = train(model, members, data, steps=steps, batch_size=int(p["batch_size"]), log_at=log_at,
               eval_examples=int(p["eval_examples"]), device=device(params), regularizer=reg, paper=PAPER,
               experiment=CNN_EXPERIMENT, progress=False, desc=CNN_EXPERIMENT)
    df["epoch"] = df["step"] // steps_per_epoch
    df["n_train"], df["channels"] = len(data.train_x), int(p["channels"])
    write_csv(df, output)


def cnn_figure(params, inputs, output):
    from isometry.papers.extras.common import read

    df = read(inputs, CNN_EXPERIMENT)
    fig, ax = new_figure(1, 2, width=3.5, height=2.8)
    for i, k in enumerate(CNN_KINDS):
        d = df[df.regularizer == k]
        if d.empty:
            continue
        g = d.groupby("epoch")
        lam = float(d.lam.iloc[0])
        lab = k if k == "none" else f"{k} (lambda {lam:g})"
        for a, metric in ((ax[0, 0], "test_acc"), (ax[0, 1], "train_loss")):
            m = g[metric].mean()
            a.plot(m.index, m.values, "o-", ms=3, color="k" if k == "none" else f"C{i}", label=lab)
            a.fill_between(m.index, g[metric].min().values, g[metric].max().values, alpha=0.12, lw=0,
                           color="k" if k == "none" else f"C{i}")
    ax[0, 0].set_ylabel("test accuracy")
    ax[0, 1].set_ylabel("training loss")
    ax[0, 1].set_yscale("log")
    for a in ax[0]:
        a.set_xlabel("epoch")
    ax[0, 0].legend(fontsize=6)
    fig.tight_layout()
    r = df.iloc[0]
    p = params["cnn"]
    cap = (f"Bansal et al. 2018 orthogonality regularizers on a deep plain CNN (scale: {scale(params)}; data: "
           f"{r.dataset}, i.e. the lossy JPEG copy of CIFAR-10 when so labelled, first {int(r.n_train)} training "
           f"images, test accuracy on {int(p['eval_examples'])} test images). {int(r.depth)} stride-1 3x3 conv layers "
           f"after {int(p['n_down'])} stride-2 ones, {int(r.channels)} channels, {r.nonlinearity}, {r.init} init, "
           f"global average pooling; {r.optimizer} (lr {r.lr:g}), {df.seed.nunique()} seed(s). SO: ||WW^T-I||_F^2, "
           "DSO: + ||W^TW-I||_F^2, MC: max|WW^T-I|, SRIP: sigma_max(WW^T-I) (2 power iterations), W = kernel reshaped "
           "to (C_out, C_in k^2), summed over conv layers, constant lambda. Deviations: BCW train wide ResNets for "
           "200 epochs with decaying lambda; here a small plain CNN for a few epochs on a subset.")
    save_figure(fig, output, cap)
