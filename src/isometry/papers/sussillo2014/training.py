"""SA section 4: training deep tanh / ReLU networks on MNIST (and Fashion-MNIST in place of TIMIT) with the paper's
recipe, through the batched engine (one ensemble per network shape; members = gain x learning rates x seed).

Recipe (SA section 4, config keys in ``recipe``):

* fixed parameter budget ``param_limit``: a classification net of depth D (hidden layers) has the largest constant
  width N with 784 N + (D-1) N^2 + 10 N + biases <= param_limit, so deeper means narrower;
* the auto-encoder (MSE reconstruction) has tanh hidden layers whose sizes shrink linearly toward a linear code
  layer of ``code`` units: sizes c + k Delta, with the largest integer Delta inside the budget;
* weights N(0, g^2 / fan_in) in every layer (``init: gaussian``, sigma_w2 = g^2), biases zero (sigma_b2 = 0);
* plain SGD on minibatches, per-member gradient-norm clipping, all rates decayed by ``lr_decay`` each epoch;
* depth-dependent exponential learning-rate schedule: weight layer l = 0..L-1 (readout = L-1) of a net with L
  weight layers gets  lr_l = lr_out * (lr_in / lr_out) ** ((L - 1 - l) / (L_max - 1)),  L_max the largest net of
  the experiment: the readout gets lr_out and the first layer of the deepest net lr_in; shallower nets are not
  penalized with tiny early-layer rates (SA section 4).  Implemented as per-member, per-parameter lr multipliers
  of the engine's optimizer.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from isometry.data import Dataset, load_dataset
from isometry.engine import exponential_decay, train
from isometry.models import EnsembleMLP, get_scheme, init_member_, split_batch
from isometry.nonlinearities import torch_phi
from isometry.spec import Member
from isometry.cost import mlp_cost_s
from isometry.pipeline import Shard
from isometry.sweep import job_from_spec, job_spec, make_jobs

PAPER = "sussillo2014"


# ------------------------------------------------------------------------------------------------ architectures
def mlp_params(width: int, depth: int, n_in: int = 784, n_out: int = 10) -> int:
    n = width
    return (n_in + 1) * n + (depth - 1) * (n + 1) * n + (n + 1) * n_out


def width_for_param_limit(param_limit: int, depth: int, n_in: int = 784, n_out: int = 10) -> int:
    """Largest constant width N whose depth-D classifier has at most ``param_limit`` parameters (SA section 4)."""
    n = 1
    while mlp_params(n + 1, depth, n_in, n_out) <= param_limit:
        n += 1
    return n


def autoencoder_sizes(param_limit: int, depth: int, code: int, n_in: int = 784) -> list[int]:
    """Hidden layer sizes of the depth-D auto-encoder: (D-1)//2 encoder layers, the code, the rest decoder; sizes
    grow by a constant Delta per layer away from the code (largest integer Delta within ``param_limit``)."""
    ke = (depth - 1) // 2
    kd = depth - 1 - ke

    def sizes(delta):
        return [code + (ke - i) * delta for i in range(ke)] + [code] + [code + (j + 1) * delta for j in range(kd)]

    def params(s):
        dims = [n_in] + s + [n_in]
        return sum((a + 1) * b for a, b in zip(dims[:-1], dims[1:]))

    delta = 0
    if depth > 1:
        while params(sizes(delta + 1)) <= param_limit:
            delta += 1
    return sizes(delta)


class EnsembleAutoencoder(nn.Module):
    """E same-shape MLP auto-encoders (EnsembleModel protocol of isometry.models): tanh hidden layers of the given
    sizes except the linear code layer, linear readout of ``n_in`` units.

    The forward pass returns (E, B, 2 n_in): the reconstruction followed by the (flattened) input, so that the
    engine's loss callable (out, y) -> (E,) can compute the reconstruction error without labels (``recon_mse``).
    """

    def __init__(self, E: int, input_shape, sizes: list[int], code_index: int, nonlinearity: str = "tanh"):
        super().__init__()
        self.E, self.input_shape = int(E), tuple(input_shape)
        self.in_features = math.prod(self.input_shape)
        self.sizes, self.code_index, self.nonlinearity = list(sizes), int(code_index), nonlinearity
        dims = [self.in_features] + self.sizes + [self.in_features]
        self.weights = nn.ParameterList([nn.Parameter(torch.zeros(E, o, i)) for i, o in zip(dims[:-1], dims[1:])])
        self.biases = nn.ParameterList([nn.Parameter(torch.zeros(E, o)) for o in dims[1:]])
        self._phi = torch_phi(nonlinearity)

    def forward(self, x: Tensor) -> Tensor:
        shared, x = split_batch(x, self.input_shape)
        x = x.flatten(-len(self.input_shape))
        h = x
        last = len(self.weights) - 1
        for l, (w, b) in enumerate(zip(self.weights, self.biases)):
            wt = w.transpose(1, 2)
            h = (torch.matmul(h, wt) if (l == 0 and shared) else torch.bmm(h, wt)) + b.unsqueeze(1)
            if l < last and l != self.code_index:
                h = self._phi(h)
        target = x.expand(self.E, *x.shape) if shared else x
        return torch.cat([h, target.to(h.dtype)], dim=-1)

    def reset_parameters(self, members: list[Member], generators: list[torch.Generator]) -> list[float]:
        last = len(self.weights) - 1
        out = []
        for i, (m, g) in enumerate(zip(members, generators)):
            scheme = get_scheme(m.init)
            s2 = []
            for l, (w, b) in enumerate(zip(self.weights, self.biases)):
                layer = "input" if l == 0 else ("readout" if l == last else "hidden")
                nl = "linear" if l in (self.code_index, last) else self.nonlinearity
                s2.append(init_member_(w, b, i, m, g, nonlinearity=nl, layer=layer, scheme=scheme))
            out.append(s2[1] if len(s2) > 2 else s2[0])
        return out

    def layer_weights(self) -> list[Tensor]:
        return list(self.weights)

    def lr_multipliers(self) -> dict:
        return {}

    def describe(self) -> dict:
        return {"nonlinearity": self.nonlinearity, "depth": len(self.sizes), "width": max(self.sizes)}


def recon_mse(out: Tensor, y: Tensor) -> Tensor:
    """Per-member mean squared reconstruction error of standardized pixels: out = [reconstruction, input]."""
    n = out.shape[-1] // 2
    return (out[..., :n].float() - out[..., n:].float()).pow(2).mean(dim=(1, 2))


# ------------------------------------------------------------------------------------------------ lr schedule
def depth_lr_multipliers(n_layers: int, n_layers_max: int, lr_in: np.ndarray, lr_out: np.ndarray) -> list[Tensor]:
    """Per weight layer l = 0..L-1: (E,) multipliers of lr_out, (lr_in/lr_out) ** ((L-1-l)/(L_max-1)) (SA sec. 4)."""
    ratio = torch.as_tensor(np.asarray(lr_in, float) / np.asarray(lr_out, float), dtype=torch.float32)
    span = max(n_layers_max - 1, 1)
    return [ratio ** ((n_layers - 1 - l) / span) for l in range(n_layers)]


# ------------------------------------------------------------------------------------------------ sweeps
def sweep_table(*, experiment: str, task: str, dataset: str, nonlinearities, depths, gains, lr_pairs, seeds,
                param_limit: int, code: int = 30) -> pd.DataFrame:
    """One row per run: group keys (shape), member fields (init/sigma_w2/lr/seed) and extras (gain, lr_in, ...).

    ``lr_pairs``: the (lambda_in, lambda_out) pairs of the per-layer schedule tried at every depth and gain."""
    rows = []
    for nl in nonlinearities:
        for D in depths:
            if task == "autoencoder":
                sizes = autoencoder_sizes(param_limit, D, code)
                width = max(sizes)
            else:
                sizes, width = None, width_for_param_limit(param_limit, D)
            for g in gains:
                for li, lo in lr_pairs:
                    for s in seeds:
                        rows.append({
                            "paper": PAPER, "experiment": experiment, "nonlinearity": nl, "depth": int(D),
                            "width": int(width), "dataset": dataset, "task": task,
                            "run_id": f"{task}-{dataset}-{nl}-D{D}-g{g:.4g}-li{li:.3g}-lo{lo:.3g}-s{s}",
                            "init": "gaussian", "sigma_w2": float(g) ** 2, "sigma_b2": 0.0, "lr": float(lo),
                            "optimizer": "sgd", "seed": int(s), "gain": float(g), "lr_in": float(li),
                            "lr_out": float(lo), "param_limit": int(param_limit),
                            "sizes": "-".join(map(str, sizes)) if sizes else "",
                        })
    return pd.DataFrame(rows)


def plan_sweep(table: pd.DataFrame, params: dict, recipe: dict, epochs: int) -> list[Shard]:
    """Shards of a sweep table: one per job (same task, shape and layer sizes; at most ``max_ensemble`` members),
    each carrying the SA recipe, the sweep's ``epochs`` and the deepest net of the table (the per-layer lr schedule
    depends on it)."""
    recipe = {**dict(recipe), "epochs": int(epochs)}
    n_layers_max = int(table["depth"].max()) + 1
    out = []
    for job in make_jobs(table, max_ensemble=int(params["max_ensemble"]), group_by=("task", "sizes")):
        g = job.group
        spec = {"job": job_spec(job), "recipe": dict(recipe), "n_layers_max": n_layers_max}
        n_train = int(recipe["n_train"])
        steps = int(recipe["epochs"]) * (n_train // int(recipe["batch_size"]))
        cost = mlp_cost_s(depth=int(g["depth"]), width=int(g["width"]), n_in=784, n_out=784 if g["task"] ==
                          "autoencoder" else 10, batch=int(recipe["batch_size"]), steps=steps, members=len(job.members),
                          eval_examples=int(recipe["eval_examples"]), n_evals=int(recipe["n_log"]) + 2)
        key = f"{g['task']}-{g['dataset']}-{g['nonlinearity']}-d{g['depth']}-w{g['width']}"
        out.append(Shard(key=key, spec=spec, data=(g["dataset"],), cost_s=cost, gpu=True))
    return out


def run_shard(spec: dict, ctx) -> pd.DataFrame:
    """Train one job of the sweep with the SA recipe; returns its tidy run rows (RUN_COLUMNS + extras)."""
    recipe = spec["recipe"]
    job = job_from_spec(spec["job"])
    grp = job.group
    data = ctx.dataset(grp["dataset"]).subset(recipe["n_train"], recipe["n_test"])
    device = None if ctx.device == "auto" else ctx.device
    steps_per_epoch = len(data.train_x) // recipe["batch_size"]
    steps = recipe["epochs"] * steps_per_epoch
    n_layers_max = int(spec["n_layers_max"])
    E = len(job.members)
    lr_in = np.array([m.extra["lr_in"] for m in job.members])
    lr_out = np.array([m.extra["lr_out"] for m in job.members])
    task = grp["task"]
    if task == "autoencoder":
        sizes = [int(s) for s in grp["sizes"].split("-")]
        model = EnsembleAutoencoder(E, data.input_shape, sizes, code_index=(grp["depth"] - 1) // 2,
                                    nonlinearity=grp["nonlinearity"])
        loss = recon_mse
    else:
        model = EnsembleMLP(E, data.input_shape, data.num_classes, depth=grp["depth"], width=grp["width"],
                            nonlinearity=grp["nonlinearity"])
        loss = "cross_entropy"
    weights = [n for n, _ in model.named_parameters() if n.startswith("weights.")]
    mult = depth_lr_multipliers(len(weights), n_layers_max, lr_in, lr_out)
    mults = {}
    for l, m in enumerate(mult):
        mults[f"weights.{l}"] = m
        mults[f"biases.{l}"] = m
    df = train(model, job.members, data, steps=steps, batch_size=recipe["batch_size"], loss=loss,
               lr_schedule=exponential_decay(recipe["lr_decay"], per="epoch"), n_log=recipe["n_log"],
               eval_examples=recipe["eval_examples"], device=device, grad_clip=recipe["grad_clip"],
               lr_multipliers=mults, paper=PAPER, experiment=grp["experiment"], progress=False,
               desc=job.job_id)
    if task == "autoencoder":                      # accuracy is meaningless for reconstruction
        df["train_acc"] = np.nan
        df["test_acc"] = np.nan
    df["task"] = task
    df["sizes"] = grp["sizes"]
    for k in ("epochs", "batch_size", "n_train", "lr_decay", "grad_clip"):
        df[k] = recipe[k]
    df["steps"] = steps
    return df


def load_train_data(name: str, params: dict, n_train: int, n_test: int) -> Dataset:
    return load_dataset(name, params["data_dir"]).subset(n_train, n_test)


def final_errors(df: pd.DataFrame) -> pd.DataFrame:
    """Last logged step per run: ``train_error`` = 1 - train_acc (classification) or the MSE (auto-encoder);
    diverged runs get NaN (drawn as failures)."""
    last = df.sort_values("step").groupby("run_id", as_index=False).tail(1).copy()
    cls = last["task"] != "autoencoder"
    last["train_error"] = np.where(cls, 1.0 - last["train_acc"], last["train_loss"])
    return last
