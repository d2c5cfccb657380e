"""Orthogonality regularizers for a deep plain CNN on CIFAR-10 (Bansal, Chen & Wang 2018, "Can we gain more from
orthogonality regularizations in training deep CNNs?", NeurIPS; tag BCW).

With every conv kernel reshaped to W (C_out, C_in k^2) (BCW's W^T: rows are filters), ``gain2`` the target scale and
G = W W^T / gain2 - I:

* ``SO``   single soft orthogonality     ||G||_F^2                                              (BCW eq. 2)
* ``DSO``  double soft orthogonality     ||G||_F^2 + ||W^T W / gain2 - I||_F^2                   (BCW eq. 3)
* ``MC``   mutual coherence              max_ij |G_ij|                                          (BCW eq. 4)
* ``SRIP`` spectral restricted isometry  sigma_max(G), by two power iterations from a fixed random vector per
                                         layer (BCW eq. 6; the authors' Keras code, not squared)

summed over the conv layers (the readout is not regularized, as in the authors' Keras ResNet code) and multiplied
by the member's lambda(epoch). **Schedule** (the authors' released code, VITA-Group/Orthogonality-in-CNNs,
``decay_schedule`` / ``adjust_ortho_decay_rate``, VERIFIED-CODE): lambda_0 until epoch 20 of 200, then x 1e-3 until
50, x 1e-4 until 70, x 1e-6 until 120, and 0 after; here the 200 epochs are compressed onto our ``epochs`` (paper
epoch = our 1-based epoch x 200 / epochs). lambda_0 = 0.01 is the code's value for SRIP; the paper's values for SO /
DSO / MC could not be read (UNVERIFIED), the config gives each its own.

**Target scale.** BCW's networks have batch norm, which makes the scale of W irrelevant, and their target is
orthonormal filters (gain2 = 1). In a plain ReLU network without normalization orthonormal filters mean sigma_w^2 = 1,
chi_1 = 1/2 per layer: the regularized net loses its signal (a 20-layer net by ~2^-10). ``gain2`` = 2 targets
orthonormal x sqrt 2, the ReLU critical scale of He init (the gain adjustment that seed 003 argues for RNNs); a
member with gain2 = 1 documents the published form.

The network is ``isometry.cnn.EnsembleCNN`` (n_down stride-2 convs, ``depth`` stride-1 convs, global average pool,
linear readout; no residuals, no normalization), He init, one ensemble of regularizer x seed members.
"""

from __future__ import annotations

import re

import pandas as pd
import torch

from isometry.cnn import EnsembleCNN
from isometry.cost import cnn_cost_s
from isometry.engine import train
from isometry.papers.extras.common import PAPER, chunks, device, load, members_from_spec, members_to_spec
from isometry.pipeline import Shard
from isometry.spec import Member

EXPERIMENT = "orthogonality_regularizers_cnn"
KINDS = ("none", "SO", "DSO", "MC", "SRIP")


def lambda_factor(epoch: int, epochs: int, schedule: dict) -> float:
    """lambda(epoch) / lambda_0 for our 1-based ``epoch`` of ``epochs``: the paper's piecewise schedule at paper
    epoch ``epoch * paper_epochs / epochs`` (factor f_i while paper epoch <= breakpoint_i, the last factor after)."""
    f = epoch * float(schedule["paper_epochs"]) / epochs
    for b, factor in zip(schedule["breakpoints"], schedule["factors"]):
        if f <= float(b):
            return float(factor)
    return float(schedule["factors"][-1])


def conv_matrices(model: EnsembleCNN) -> list[torch.Tensor]:
    """Conv kernels as (E', C_out, C_in k^2) stacks: the down convs one by one, the hidden convs as one (E L, C, C k^2)."""
    mats = [w.flatten(2) for w in model.down_weights]
    if model.depth > 0:
        E, L = model.hidden_weight.shape[:2]
        mats.append(model.hidden_weight.reshape(E * L, model.channels, -1))
    return mats


def regularizer_terms(W: torch.Tensor, v0: torch.Tensor, need: set[str]) -> dict[str, torch.Tensor]:
    """BCW's penalties (without lambda, target I) for a batch of kernels W (B, n, m) -> {kind: (B,)}."""
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


class Regularizer:
    """callable(model) -> (E,) penalty: member e pays lambda_0[e] * factor(epoch) * (its kind's penalty of W /
    sqrt(gain2[e]), summed over conv layers). Also the engine callback that tells it the step (checkpointable)."""

    def __init__(self, model: EnsembleCNN, kinds, lam0, gain2, *, steps_per_epoch: int, epochs: int,
                 schedule: dict, seed: int = 0):
        self.E = model.E
        self.kinds = list(kinds)
        self.lam0 = torch.tensor([float(x) for x in lam0])
        self.scale = torch.tensor([float(g) for g in gain2]).rsqrt()
        self.spe, self.epochs, self.schedule = int(steps_per_epoch), int(epochs), dict(schedule)
        gen = torch.Generator().manual_seed(int(seed))
        self.v0s = [torch.rand(W.shape[1], generator=gen) for W in conv_matrices(model)]
        self.need = {k for k in self.kinds if k != "none"}
        self.step = 0                     # updates done; the next call computes update step + 1

    @property
    def active(self) -> bool:
        return bool(self.need) and bool((self.lam0 > 0).any())

    def factor(self) -> float:
        return lambda_factor(self.step // self.spe + 1, self.epochs, self.schedule)

    def __call__(self, model) -> torch.Tensor:
        dev = model.readout_weight.device
        total = torch.zeros(self.E, device=dev)
        f = self.factor()
        if f == 0.0 or not self.need:
            return total
        scale = self.scale.to(dev)
        for W, v0 in zip(conv_matrices(model), self.v0s):
            rep = W.shape[0] // self.E
            Wm = W.view(self.E, rep, *W.shape[1:])
            for k in self.need:              # each penalty only on the members that pay it
                idx = [e for e, kind in enumerate(self.kinds) if kind == k]
                sel = torch.tensor(idx, device=dev)
                Ws = Wm.index_select(0, sel) * scale.index_select(0, sel).view(-1, 1, 1, 1)
                t = regularizer_terms(Ws.reshape(-1, *W.shape[1:]), v0, {k})[k].view(len(idx), rep).sum(dim=1)
                total = total.index_add(0, sel, t)
        return f * self.lam0.to(dev) * total

    def state_dict(self):
        return {"step": self.step}

    def load_state_dict(self, state):
        self.step = int(state["step"])


class _StepCallback:
    def __init__(self, reg: Regularizer):
        self.reg = reg

    def __call__(self, step, model, opt):
        self.reg.step = int(step)

    def state_dict(self):
        return self.reg.state_dict()

    def load_state_dict(self, state):
        self.reg.load_state_dict(state)


def slug(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", label).strip("_")


def plan(params) -> list[Shard]:
    p = params["cnn"]
    members = []
    for r in p["regularizers"]:
        name = r["name"]
        label = r.get("label") or name
        lam = 0.0 if name == "none" else float(r["lam"])
        gain2 = float(r.get("gain2", p["gain2"]))
        for s in p["seeds"]:
            members.append(Member(run_id=f"{slug(label)}-s{s}", init=p["init"], sigma_w2=p.get("sigma_w2"),
                                  sigma_b2=float(p["sigma_b2"]), lr=float(p["lr"]), optimizer=p["optimizer"],
                                  seed=int(s), extra={"regularizer": name, "label": label, "lam0": lam,
                                                      "gain2": gain2}))
    spe = int(p["n_train"]) // int(p["batch_size"])
    steps = int(p["epochs"]) * spe
    hw = (32 // 2 ** int(p["n_down"])) ** 2
    shards = []
    for k, chunk in enumerate(chunks(members, int(params["max_ensemble"]))):
        spec = {"dataset": p["dataset"], "n_train": int(p["n_train"]), "n_test": int(p["n_test"]),
                "depth": int(p["depth"]), "channels": int(p["channels"]), "n_down": int(p["n_down"]),
                "nonlinearity": p["nonlinearity"], "padding": p["padding"], "epochs": int(p["epochs"]),
                "batch_size": int(p["batch_size"]), "eval_examples": int(p["eval_examples"]),
                "schedule": dict(p["schedule"]), "members": members_to_spec(chunk)}
        cost = 2.5 * cnn_cost_s(depth=int(p["depth"]), channels=int(p["channels"]), hw=hw,
                                batch=int(p["batch_size"]), steps=steps, members=len(chunk),
                                eval_examples=int(p["eval_examples"]), n_evals=int(p["epochs"]) + 1)
        shards.append(Shard(key=f"cnn-{k}", spec=spec, data=(p["dataset"],), cost_s=cost, mem_mb=1500.0))
    return shards


def run(spec: dict, ctx) -> pd.DataFrame:
    data = load(ctx, spec)
    members = members_from_spec(spec["members"])
    spe = len(data.train_x) // int(spec["batch_size"])
    epochs = int(spec["epochs"])
    log_at = [k * spe for k in range(epochs + 1)]
    model = EnsembleCNN(len(members), data.input_shape, data.num_classes, channels=int(spec["channels"]),
                        depth=int(spec["depth"]), n_down=int(spec["n_down"]), nonlinearity=spec["nonlinearity"],
                        padding=spec["padding"])
    reg = Regularizer(model, [m.extra["regularizer"] for m in members], [m.extra["lam0"] for m in members],
                      [m.extra["gain2"] for m in members], steps_per_epoch=spe, epochs=epochs,
                      schedule=spec["schedule"])
    df = train(model, members, data, steps=epochs * spe, batch_size=int(spec["batch_size"]), log_at=log_at,
               eval_examples=int(spec["eval_examples"]), device=device(ctx),
               regularizer=reg if reg.active else None, callback=_StepCallback(reg) if reg.active else None,
               paper=PAPER, experiment=EXPERIMENT, progress=False, desc=EXPERIMENT)
    df["epoch"] = df["step"] // spe
    df["lam"] = [float(l0) * (lambda_factor(e, epochs, spec["schedule"]) if e > 0 else 0.0)
                 for l0, e in zip(df["lam0"], df["epoch"])]
    df["n_train"], df["channels"], df["n_down"] = len(data.train_x), int(spec["channels"]), int(spec["n_down"])
    df["batch_size"], df["eval_examples"], df["epochs"] = int(spec["batch_size"]), int(spec["eval_examples"]), epochs
    df["padding"] = spec["padding"]
    return df
