"""Deep ReLU MLPs on MNIST under five initializations, at several depths (a sweep: one shard per (depth,
nonlinearity) ensemble).

Inits: Xavier (Glorot & Bengio 2010: N(0, 2/(fan_in + fan_out)), i.e. sigma_w^2 = 1 on square layers), He (He et al.
2015: sigma_w^2 = 2), orthogonal x sqrt 2 (Saxe et al. 2014 scaled to the ReLU critical point), the random-walk gain
(Sussillo & Abbott 2014) and Looks-Linear CReLU (Balduzzi et al. 2017), the last parameter-matched (pre-activation
width round(N/sqrt 2), so a hidden weight (N/sqrt2, 2 N/sqrt2) has about N^2 entries). Biases start at zero.

Claims tested (``checks``): He et al. 2015 (Fig. 3, and seed 001): a 30-layer ReLU net trains with He init and stalls
with Xavier; Balduzzi et al. 2017: Looks-Linear init keeps very deep plain nets trainable where He / orthogonal
ReLU nets degrade (the depth study, figure ``looks_linear_depth``).

At init we also measure, per layer l and per network, the forward signal q^l = mean_i (h_i^l)^2 over a batch of real
images and the backward weight-gradient norm |dL/dW^l|_F of the cross-entropy loss. Mean-field theory
(``isometry.theory.meanfield.chi_1``) predicts q^{l+1}/q^l = chi_1 = sigma_w^2/2 for ReLU with zero biases: Xavier
halves the signal every layer, He / orthogonal x sqrt2 keep it.

Learning rate: ``lr_depth_product`` c gives every member of a depth-L net lr = c / L (PSG Fig. 5: the optimal rate
of deep critical nets scales like 1/L), so one constant serves the whole depth study.
"""

from __future__ import annotations

import pandas as pd
import torch

from isometry.cost import mlp_cost_s
from isometry.engine import cross_entropy, member_generators, train
from isometry.models import EnsembleMLP
from isometry.papers.extras.common import PAPER, chunks, device, load, members_from_spec, members_to_spec
from isometry.pipeline import Shard
from isometry.spec import Member

EXPERIMENT = "relu_init_comparison"


def _nonlinearity(init: str) -> str:
    return "crelu" if init == "looks_linear" else "relu"


def plan(params) -> list[Shard]:
    """One shard per (group, depth, nonlinearity), members = the group's inits x seeds.

    ``groups``: each {name, depths, width, steps, inits}; e.g. the He-vs-Xavier contrast at depth 30 and the
    Looks-Linear depth study at several depths (narrower, so that depth 200 fits the budget)."""
    p = params["relu_init"]
    c = float(p["lr_depth_product"])
    shards = []
    for g in p["groups"]:
        W, steps = int(g["width"]), int(g["steps"])
        for L in sorted(int(d) for d in g["depths"]):
            for nl in ("relu", "crelu"):
                members = [Member(run_id=f"{g['name']}-L{L}-{spec['init']}-s{s}", init=spec["init"],
                                  sigma_w2=spec.get("sigma_w2"), sigma_b2=0.0, lr=c / L, optimizer=p["optimizer"],
                                  seed=int(s), extra={"label": spec["label"], "group": g["name"]})
                           for spec in g["inits"] if _nonlinearity(spec["init"]) == nl for s in p["seeds"]]
                for k, chunk in enumerate(chunks(members, int(params["max_ensemble"]))):
                    spec = {"dataset": p["dataset"], "n_train": int(p["n_train"]), "n_test": int(p["n_test"]),
                            "depth": L, "width": W, "nonlinearity": nl, "steps": steps,
                            "batch_size": int(p["batch_size"]), "eval_examples": int(p["eval_examples"]),
                            "n_log": int(p["n_log"]), "measure_batch": int(p["measure_batch"]),
                            "members": members_to_spec(chunk)}
                    cost = mlp_cost_s(depth=L, width=W, n_in=784, n_out=10, batch=int(p["batch_size"]), steps=steps,
                                      members=len(chunk), eval_examples=int(p["eval_examples"]),
                                      n_evals=int(p["n_log"]) + 2)
                    shards.append(Shard(key=f"{g['name']}-L{L}-{nl}-{k}", spec=spec, data=(p["dataset"],),
                                        cost_s=cost, mem_mb=600.0 + 0.05 * L * len(chunk)))
    return shards


def measure_at_init(model: EnsembleMLP, members, x: torch.Tensor, y: torch.Tensor) -> list[dict]:
    """Per member and layer: q^l = mean (h^l)^2 and |dL/dW^l|_F at the members' initial weights (rows)."""
    model.reset_parameters(members, [member_generators(m.seed)[0] for m in members])
    model.zero_grad(set_to_none=True)
    h = x.flatten(1).T                                             # (in, B)
    qs = []
    last = len(model.weights) - 1
    for layer, w in enumerate(model.weights):
        h = (torch.matmul(w, h) if layer == 0 else torch.bmm(w, h)) + model.biases[layer].unsqueeze(2)
        qs.append(h.detach().pow(2).mean(dim=(1, 2)))
        if layer < last:
            h = model._phi(h)
    loss = cross_entropy(h.transpose(1, 2), y)
    loss.sum().backward()
    rows = []
    for layer, w in enumerate(model.weights):
        gn = w.grad.flatten(1).norm(dim=1)
        for e, m in enumerate(members):
            rows.append({"kind": "layer", "run_id": m.run_id, "label": m.extra["label"], "init": m.init,
                         "seed": m.seed, "layer": layer + 1, "q": float(qs[layer][e]), "grad_norm": float(gn[e]),
                         "readout": layer == last, "group": m.extra["group"]})
    model.zero_grad(set_to_none=True)
    return rows


def run(spec: dict, ctx) -> pd.DataFrame:
    data = load(ctx, spec)
    members = members_from_spec(spec["members"])
    L, nl = int(spec["depth"]), spec["nonlinearity"]
    model = EnsembleMLP(len(members), data.input_shape, data.num_classes, depth=L, width=int(spec["width"]),
                        nonlinearity=nl, crelu_matched=(nl == "crelu"))
    nb = int(spec["measure_batch"])
    lay = pd.DataFrame(measure_at_init(model, members, data.standardize(data.train_x[:nb]), data.train_y[:nb]))
    df = train(model, members, data, steps=int(spec["steps"]), batch_size=int(spec["batch_size"]),
               n_log=int(spec["n_log"]), eval_examples=int(spec["eval_examples"]), device=device(ctx), paper=PAPER,
               experiment=EXPERIMENT, progress=False, desc=f"{EXPERIMENT}-L{L}-{nl}")
    df["kind"] = "train"
    df["batch_size"], df["eval_examples"] = int(spec["batch_size"]), int(spec["eval_examples"])
    df["n_params"] = sum(int(t[0].numel()) for t in model.parameters())
    lay["paper"], lay["experiment"], lay["depth"], lay["width"] = PAPER, EXPERIMENT, L, int(spec["width"])
    lay["nonlinearity"], lay["dataset"] = nl, data.label
    return pd.concat([df, lay], ignore_index=True)
