"""A generic experiment: train a sweep table with the batched engine and write the tidy run CSV.

    python -m isometry experiment sweep.mlp --output results/my_sweep.csv --params '{
        "dataset": "mnist", "data_dir": "data", "n_train": 2000, "n_test": 1000,
        "steps": 500, "batch_size": 64, "n_log": 10, "threads": 1, "device": "auto",
        "grid": {"depth": [10, 50], "width": 128, "nonlinearity": "tanh",
                 "init": ["orthogonal", "gaussian"], "sigma_w2": [1.0, 1.2], "lr": 0.01, "seed": [0, 1]}}'

``grid`` is a Cartesian product (a scalar is a one-value axis); ``runs`` is an explicit list of rows (both may be
given: the rows are concatenated); ``defaults`` fills keys a row lacks. Row keys are the Member fields (run_id,
init, sigma_w2, sigma_b2, lr, optimizer, momentum, beta1, beta2, eps, seed), the model shape (model = mlp | cnn |
rnn, depth, width, nonlinearity, bias, ...: sweep.GROUP_KEYS) and ``label`` (a free tag copied to the CSV).
Rows of one shape and optimizer train together as one ensemble (at most ``max_ensemble`` members); every job is
checkpointed by the CLI (a killed sweep resumes, see isometry.checkpoint). Bad values stop the run before any
training with a message naming the key, e.g. ``sweep.mlp: params key 'grid.init[1]': unknown init scheme ...``.
"""

from __future__ import annotations

import itertools
import numbers

import pandas as pd

from isometry.config import ConfigError
from isometry.spec import OPTIMIZERS

PAPER = "sweep"

PARAM_KEYS = {"dataset", "data_dir", "n_train", "n_test", "steps", "batch_size", "loss", "n_log", "log_at",
              "eval_examples", "data_seed", "lr_decay", "max_ensemble", "grid", "runs", "defaults", "device",
              "threads", "scale", "paper", "checkpoint_every"}


class SweepError(ConfigError):
    """Bad sweep parameters (the CLI prints the message and exits with status 2)."""


def _row_keys() -> set[str]:
    from isometry.sweep import GROUP_KEYS, MEMBER_FIELDS

    return (set(MEMBER_FIELDS) | set(GROUP_KEYS) | {"label"}) - {"paper", "experiment", "steps", "batch_size",
                                                                  "loss", "dataset"}   # params-level keys


def _fail(name: str, key: str, msg: str):
    raise SweepError(f"sweep.{name}: params key '{key}': {msg}")


def _check_int(name, key, v, minimum):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < minimum:
        _fail(name, key, f"{v!r} is not an integer >= {minimum}")


def _check_value(name: str, key: str, col: str, v) -> None:
    from isometry.models import MLP_NONLINEARITIES

    if col == "init":
        from isometry.init import get_initializer

        try:
            get_initializer(v)
        except (ValueError, ImportError, TypeError) as exc:
            _fail(name, key, str(exc))
    elif col == "optimizer" and v not in OPTIMIZERS:
        _fail(name, key, f"{v!r} is not one of {', '.join(OPTIMIZERS)}")
    elif col == "nonlinearity" and v not in MLP_NONLINEARITIES:
        _fail(name, key, f"{v!r} is not one of {', '.join(MLP_NONLINEARITIES)}")
    elif col == "model" and v not in ("mlp", "cnn", "rnn"):
        _fail(name, key, f"{v!r} is not one of mlp, cnn, rnn")
    elif col in ("depth", "width", "channels", "hidden_size"):
        _check_int(name, key, v, 1)
    elif col == "seed":
        _check_int(name, key, v, 0)
    elif col in ("lr", "sigma_b2", "momentum", "beta1", "beta2", "eps") or (col == "sigma_w2" and v is not None):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not v >= 0 or v == float("inf"):
            _fail(name, key, f"{v!r} is not a finite number >= 0")


def sweep_table(params: dict, name: str = "mlp") -> pd.DataFrame:
    """The rows of the sweep (validated): grid product + explicit runs, defaults filled, paper/experiment set."""
    unknown = sorted(set(params) - PARAM_KEYS)
    if unknown:
        raise SweepError(f"sweep.{name}: unknown params key(s) {', '.join(map(repr, unknown))} (misspelled?); "
                         f"allowed: {', '.join(sorted(PARAM_KEYS))}")
    allowed = _row_keys()
    rows: list[tuple[str, dict]] = []
    grid = params.get("grid") or {}
    if not isinstance(grid, dict):
        _fail(name, "grid", "must be a mapping {column: value or list of values}")
    axes = {k: (v if isinstance(v, list) else [v]) for k, v in grid.items()}
    for k, vals in axes.items():
        if k not in allowed:
            _fail(name, f"grid.{k}", f"unknown column (misspelled?); allowed: {', '.join(sorted(allowed))}")
        if not vals:
            _fail(name, f"grid.{k}", "empty list")
        for i, v in enumerate(vals):
            _check_value(name, f"grid.{k}[{i}]" if isinstance(grid[k], list) else f"grid.{k}", k, v)
    if axes:
        for combo in itertools.product(*axes.values()):
            rows.append(("grid", dict(zip(axes, combo))))
    runs = params.get("runs") or []
    if not isinstance(runs, list):
        _fail(name, "runs", "must be a list of rows")
    for i, r in enumerate(runs):
        if not isinstance(r, dict):
            _fail(name, f"runs[{i}]", "must be a mapping {column: value}")
        for k, v in r.items():
            if k not in allowed:
                _fail(name, f"runs[{i}].{k}", f"unknown column (misspelled?); allowed: {', '.join(sorted(allowed))}")
            _check_value(name, f"runs[{i}].{k}", k, v)
        rows.append((f"runs[{i}]", dict(r)))
    defaults = params.get("defaults") or {}
    for k, v in defaults.items():
        if k not in allowed:
            _fail(name, f"defaults.{k}", f"unknown column (misspelled?); allowed: {', '.join(sorted(allowed))}")
        _check_value(name, f"defaults.{k}", k, v)
    if not rows:
        _fail(name, "grid", "the sweep is empty: give 'grid' and/or 'runs'")
    for key in ("steps", "batch_size"):
        if key not in params:
            _fail(name, key, "missing (required)")
        _check_int(name, key, params[key], 0 if key == "steps" else 1)
    out = []
    for _, r in rows:
        row = {"model": "mlp", **defaults, **r, "paper": PAPER, "experiment": name,
               "steps": int(params["steps"]), "batch_size": int(params["batch_size"]),
               "loss": params.get("loss", "cross_entropy")}
        if row["model"] == "mlp":
            for k in ("depth", "width"):
                if k not in row:
                    _fail(name, f"grid.{k}", "missing (the mlp needs depth and width)")
        out.append(row)
    return pd.DataFrame(out)


def run(params: dict, inputs, output, name: str = "mlp") -> pd.DataFrame:
    from isometry.data import load_dataset
    from isometry.engine import exponential_decay
    from isometry.io import write_csv
    from isometry.sweep import make_jobs, run_job

    table = sweep_table(params, name)
    dataset = params.get("dataset", "mnist")
    data = load_dataset(dataset, params.get("data_dir", "data"))
    if params.get("n_train") or params.get("n_test"):
        data = data.subset(params.get("n_train"), params.get("n_test"))
    device = params.get("device", "auto")
    kw = {"device": None if device == "auto" else device, "n_log": int(params.get("n_log", 30)),
          "eval_examples": params.get("eval_examples", 10_000), "progress": False}
    if params.get("log_at") is not None:
        kw["log_at"] = [int(s) for s in params["log_at"]]
    if params.get("data_seed") is not None:
        kw["data_seed"] = int(params["data_seed"])
    if params.get("lr_decay") is not None:
        kw["lr_schedule"] = exponential_decay(float(params["lr_decay"]), per="epoch")
    frames = []
    for job in make_jobs(table, max_ensemble=int(params.get("max_ensemble", 64))):
        frames.append(run_job(job, data, desc=job.job_id, **kw))
    df = pd.concat(frames, ignore_index=True)
    write_csv(df, output)
    return df


def mlp(params, inputs, output):
    """Train a sweep of MLPs (or cnn/rnn rows: column ``model``) and write the tidy run CSV."""
    run(params, inputs, output, "mlp")


EXPERIMENTS = {"mlp": mlp}
FIGURES: dict = {}
