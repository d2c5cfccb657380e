"""Orthogonality of a recurrent weight during training: singular-value margins (Vorontsov et al. 2017, "On
orthogonality and learning recurrent networks with long term dependencies", ICML; tag VOR) and soft penalties with
and without the gain adjustment of seed 003 (EsterHlav 2019, section IV).

Task: sequential MNIST read **row by row** (T = 28 steps of 28 pixels) by a tanh Elman RNN that classifies from its
last state (``isometry.rnn.EnsembleRNN``). VOR read the image pixel by pixel (T = 784); that is 28x more recurrent
steps per example, which does not fit the suite's CPU budget (about 2 s per step for the default ensemble); seed
003 used rows. The shorter horizon weakens the long-term-dependency pressure that motivates VOR's margins, so the
hard-constraint penalty may be smaller here than in VOR.

Two kinds of shards (``variant`` column):

* margins (VOR): W = sigma_w U diag(s) V^T with U, V orthogonal (trained through the matrix exponential of a
  skew-symmetric matrix: the exact manifold, where VOR used Cayley-transform geodesic steps) and
  s = 1 + m (2 sigmoid(p) - 1) in [1 - m, 1 + m]; m = 0 is the hard constraint (s = 1), ``margin`` = inf is VOR's
  "no margin" (s = 1 + p free). Orthogonal init, sigma_w = ``margin_sigma_w`` (1 in VOR). ``variant`` = ``margin``.
* soft penalties (seed 003): free W initialized sigma_w Q (Q Haar orthogonal, sigma_w slightly above 1, the edge of
  chaos for a contractive tanh), trained with ``none``, ``single_soft`` lam ||W W^T - I||_F^2 (pulls the gain back to
  1) or ``gain_adjusted`` lam ||W W^T / sigma_w^2 - I||_F^2 (keeps sigma_w times an orthogonal matrix).

Logged per epoch: training / validation cost (cross-entropy on ``eval_examples`` training / test images) and
accuracy, and the singular values of W / sigma_w (min, 5/25/50/75/95 % quantiles, max, mean, s.d.).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from isometry.engine import train
from isometry.papers.extras.common import PAPER, chunks, device, load, members_from_spec, members_to_spec
from isometry.pipeline import Shard
from isometry.rnn import EnsembleRNN, soft_orthogonality
from isometry.spec import Member

EXPERIMENT = "orthogonality_regularization"
SOFT_VARIANTS = ("none", "single_soft", "gain_adjusted")


def margin_value(m) -> float:
    """Config margin -> float (``null`` / ``inf`` / ``none`` = no margin = inf)."""
    if m is None or (isinstance(m, str) and m.lower() in ("inf", "none", "no margin")):
        return math.inf
    return float(m)


class SpectrumLog:
    """Engine callback: singular values of W / sigma_w at the logged steps (checkpointable via state_dict)."""

    def __init__(self, members, log_at):
        self.members, self.log_at, self.rows = members, set(int(s) for s in log_at), []

    def record(self, step, model):
        with torch.no_grad():
            W = model.recurrent_weight.detach().double()
            g = model.sigma_w.detach().double().view(-1, 1, 1)
            sv = torch.linalg.svdvals(W / g).cpu().numpy()
        for e, m in enumerate(self.members):
            s = np.sort(sv[e])
            q = np.quantile(s, [0.05, 0.25, 0.5, 0.75, 0.95])
            self.rows.append({"run_id": m.run_id, "step": int(step), "sv_min": s[0], "sv_q05": q[0], "sv_q25": q[1],
                              "sv_median": q[2], "sv_q75": q[3], "sv_q95": q[4], "sv_max": s[-1],
                              "sv_mean": s.mean(), "sv_std": s.std()})

    def __call__(self, step, model, opt):
        if step in self.log_at:
            self.record(step, model)

    def init_hook(self, model, members):
        self.record(0, model)

    def state_dict(self):
        return {"rows": list(self.rows)}

    def load_state_dict(self, state):
        self.rows = list(state["rows"])


def _recipe(p) -> dict:
    return {"dataset": p["dataset"], "n_train": int(p["n_train"]), "n_test": int(p["n_test"]),
            "hidden_size": int(p["hidden_size"]), "epochs": int(p["epochs"]), "batch_size": int(p["batch_size"]),
            "eval_examples": int(p["eval_examples"]), "grad_clip": float(p["grad_clip"])}


def _cost(p, members: int) -> float:
    """Seconds on one core: measured ~1.6 ms per member-step at H = 64, batch 50, T = 28 (scales ~ H^2 batch)."""
    steps = int(p["epochs"]) * (int(p["n_train"]) // int(p["batch_size"]))
    per = 1.6e-3 * (int(p["hidden_size"]) / 64) ** 2 * int(p["batch_size"]) / 50
    return steps * members * per + 2.0


def plan(params) -> list[Shard]:
    p = params["rnn"]
    recipe = _recipe(p)
    shards = []
    margins = [margin_value(m) for m in p["margins"]]
    sw = float(p["margin_sigma_w"])
    mem = [Member(run_id=f"margin-{m:g}-s{s}", init="orthogonal", sigma_w2=sw * sw, sigma_b2=0.0, lr=float(p["lr"]),
                  optimizer=p["optimizer"], seed=int(s), extra={"variant": "margin", "margin": m, "lam": 0.0})
           for m in margins for s in p["seeds"]]
    for k, chunk in enumerate(chunks(mem, int(params["max_ensemble"]))):
        spec = {**recipe, "recurrent": "margin", "members": members_to_spec(chunk)}
        shards.append(Shard(key=f"margins-{k}", spec=json_safe(spec), data=(p["dataset"],),
                            cost_s=_cost(p, len(chunk)) * 1.6, mem_mb=800.0))
    s = p["soft"]
    sw = float(s["sigma_w"])
    mem = [Member(run_id=f"{v}-s{seed}", init="orthogonal", sigma_w2=sw * sw, sigma_b2=0.0, lr=float(p["lr"]),
                  optimizer=p["optimizer"], seed=int(seed),
                  extra={"variant": v, "margin": math.nan, "lam": 0.0 if v == "none" else float(s["lam"])})
           for v in s["variants"] for seed in p["seeds"]]
    for k, chunk in enumerate(chunks(mem, int(params["max_ensemble"]))):
        spec = {**recipe, "recurrent": "free", "members": members_to_spec(chunk)}
        shards.append(Shard(key=f"soft-{k}", spec=json_safe(spec), data=(p["dataset"],),
                            cost_s=_cost(p, len(chunk)), mem_mb=800.0))
    return shards


def json_safe(spec: dict) -> dict:
    """inf / NaN margins as strings (a shard spec is JSON)."""
    for m in spec["members"]:
        v = m["extra"]["margin"]
        m["extra"]["margin"] = "inf" if v == math.inf else ("nan" if isinstance(v, float) and math.isnan(v) else v)
    return spec


def run(spec: dict, ctx) -> pd.DataFrame:
    data = load(ctx, spec)
    members = members_from_spec(spec["members"])
    for m in members:
        m.extra["margin"] = float(m.extra["margin"])
    steps_per_epoch = len(data.train_x) // int(spec["batch_size"])
    epochs = int(spec["epochs"])
    log_at = [k * steps_per_epoch for k in range(epochs + 1)]
    recurrent = spec["recurrent"]
    margins = [m.extra["margin"] for m in members] if recurrent == "margin" else 0.1
    model = EnsembleRNN(len(members), data.input_shape, data.num_classes, hidden_size=int(spec["hidden_size"]),
                        nonlinearity="tanh", recurrent=recurrent, margin=margins, init_input="gaussian",
                        init_readout="gaussian")
    reg = None
    if recurrent == "free":
        lam = torch.tensor([float(m.extra["lam"]) for m in members])
        gain2 = torch.tensor([float(m.sigma_w2) if m.extra["variant"] == "gain_adjusted" else 1.0 for m in members])
        if bool((lam > 0).any()):
            def reg(model):
                dev = model.bias.device
                return soft_orthogonality(model.recurrent_weight, lam.to(dev), gain2.to(dev))
    log = SpectrumLog(members, log_at)
    df = train(model, members, data, steps=epochs * steps_per_epoch, batch_size=int(spec["batch_size"]),
               log_at=log_at, eval_examples=int(spec["eval_examples"]), device=device(ctx), regularizer=reg,
               grad_clip=float(spec["grad_clip"]), callback=log, init_hook=log.init_hook, paper=PAPER,
               experiment=EXPERIMENT, progress=False, desc=f"{EXPERIMENT}-{recurrent}")
    df = df.merge(pd.DataFrame(log.rows), on=["run_id", "step"], how="left")
    df["recurrent"], df["epoch"] = recurrent, df["step"] // steps_per_epoch
    df["sigma_w"] = np.sqrt(df["sigma_w2"].astype(float))
    df["n_train"], df["batch_size"] = len(data.train_x), int(spec["batch_size"])
    df["eval_examples"], df["grad_clip"] = int(spec["eval_examples"]), float(spec["grad_clip"])
    return df
