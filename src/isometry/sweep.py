"""Sweep table -> jobs: groups of same-shape members, at most ``max_ensemble`` per job, with deterministic ids.

A sweep table has one row per run (pandas DataFrame or list of dicts). Its columns are of three kinds:

* **Member fields** (spec.Member: run_id, init, sigma_w2, sigma_b2, lr, optimizer, momentum, beta1, beta2, eps,
  seed): per-member, they may differ inside one ensemble (``optimizer`` is also a group key: one batched optimizer
  kind per ensemble).
* **Group keys** (``GROUP_KEYS`` present in the table, plus any ``group_by`` given): what must be equal for members to
  be trained together, i.e. the model shape and the arguments of one ``engine.train`` call (paper, experiment,
  model, nonlinearity, depth, width, dataset, steps, batch_size, loss, optimizer, ...).
* Everything else goes to ``Member.extra`` and ends up as extra run-CSV columns.

Jobs: groups are ordered by their key values (sorted), members keep table order, each group is cut into chunks of
at most ``max_ensemble``. A job's id is ``<slug>-<hash>``: a readable slug of the group keys plus the first 10 hex
digits of the SHA-1 of the group keys and the chunk's run_ids. It depends only on the job's own content, so adding
rows elsewhere in a config does not rename (and re-run) unrelated jobs; Snakemake can use the ids as wildcards.
Missing run_ids are made the same way from the row's content.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, fields

import pandas as pd

from isometry.spec import Member

MEMBER_FIELDS = tuple(f.name for f in fields(Member) if f.name != "extra")
GROUP_KEYS = ("paper", "experiment", "model", "nonlinearity", "depth", "width", "bias", "crelu_matched", "channels",
              "n_down", "kernel_size", "padding", "delta_mix", "hidden_size", "recurrent", "margin", "dataset",
              "steps", "batch_size", "loss", "optimizer")


@dataclass
class Job:
    job_id: str
    group: dict              # group-key values shared by all members (model shape + train() arguments)
    members: list[Member]

    @property
    def run_ids(self) -> list[str]:
        return [m.run_id for m in self.members]


def _hash(obj) -> str:
    return hashlib.sha1(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:10]


def _slug(group: dict) -> str:
    short = {"nonlinearity": "", "depth": "d", "width": "w", "model": "", "optimizer": ""}
    parts = [f"{short[k]}{group[k]}" for k in ("model", "nonlinearity", "depth", "width", "optimizer") if k in group]
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", "-".join(parts)) or "job"


def _clean(v):
    """numpy scalars -> Python, NaN -> None (so equal groups hash equally)."""
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and v != v:
        return None
    return v


def make_jobs(table, max_ensemble: int = 64, group_by: tuple[str, ...] = ()) -> list[Job]:
    """Split a sweep table into jobs of at most ``max_ensemble`` same-group members (deterministic order and ids)."""
    if max_ensemble < 1:
        raise ValueError("max_ensemble must be >= 1")
    rows = table.to_dict("records") if isinstance(table, pd.DataFrame) else [dict(r) for r in table]
    keys = [k for k in dict.fromkeys((*GROUP_KEYS, *group_by)) if any(k in r for r in rows)]
    groups: dict[str, tuple[dict, list[Member]]] = {}
    seen: set[str] = set()
    for r in rows:
        r = {k: _clean(v) for k, v in r.items()}
        group = {k: r.get(k) for k in keys}
        if not r.get("run_id"):
            r["run_id"] = f"run-{_hash(r)}"
        if r["run_id"] in seen:
            raise ValueError(f"duplicate run_id {r['run_id']!r} in the sweep table")
        seen.add(r["run_id"])
        kw = {k: r[k] for k in MEMBER_FIELDS if k in r and r[k] is not None}
        extra = {k: v for k, v in r.items() if k not in MEMBER_FIELDS and k not in keys}
        gk = json.dumps(group, sort_keys=True, default=str)
        groups.setdefault(gk, (group, []))[1].append(Member(**kw, extra=extra))
    jobs = []
    for gk in sorted(groups):
        group, members = groups[gk]
        for c in range(0, len(members), max_ensemble):
            chunk = members[c:c + max_ensemble]
            jid = f"{_slug(group)}-{_hash([group, [m.run_id for m in chunk]])}"
            jobs.append(Job(jid, group, chunk))
    return jobs


def jobs_table(jobs: list[Job]) -> pd.DataFrame:
    """One row per run: job_id, run_id (what a Snakefile reads to know the job wildcards)."""
    return pd.DataFrame([{"job_id": j.job_id, "run_id": r} for j in jobs for r in j.run_ids],
                        columns=["job_id", "run_id"])


def find_job(jobs: list[Job], job_id: str) -> Job:
    for j in jobs:
        if j.job_id == job_id:
            return j
    raise KeyError(f"no job {job_id!r} in this sweep ({len(jobs)} jobs)")


# group keys passed to each model's constructor; "width" is the channel count / hidden size of cnn / rnn
MODEL_KEYS = {"mlp": ("depth", "width", "nonlinearity", "bias", "crelu_matched"),
              "cnn": ("depth", "channels", "n_down", "kernel_size", "nonlinearity", "padding", "delta_mix"),
              "rnn": ("hidden_size", "nonlinearity", "recurrent", "margin")}
WIDTH_ALIAS = {"cnn": "channels", "rnn": "hidden_size"}
TRAIN_KEYS = ("steps", "batch_size", "loss", "paper", "experiment")


def run_job(job: Job, dataset, **train_kw) -> pd.DataFrame:
    """Build the job's model (models.build_model with the group's shape keys) and train it with engine.train.

    ``train_kw`` (e.g. device, eval_examples, log_at, lr_schedule) override the group's train() arguments.
    """
    from isometry.engine import train
    from isometry.models import build_model

    g = {k: v for k, v in job.group.items() if v is not None}
    kind = g.get("model", "mlp")
    if kind in WIDTH_ALIAS and "width" in g:
        g.setdefault(WIDTH_ALIAS[kind], g["width"])
    shape = {k: g[k] for k in MODEL_KEYS.get(kind, ()) if k in g}
    model = build_model(kind, len(job.members), dataset.input_shape, dataset.num_classes, **shape)
    kw = {k: g[k] for k in TRAIN_KEYS if k in g}
    kw.update(train_kw)
    return train(model, job.members, dataset, **kw)


# ------------------------------------------------------------------------------------------ jobs as shard specs
def job_spec(job: Job) -> dict:
    """JSON-serialisable form of a job (group keys + every member's fields), for a ``pipeline.Shard`` spec."""
    from dataclasses import asdict

    return {"job_id": job.job_id, "group": dict(job.group), "members": [asdict(m) for m in job.members]}


def job_from_spec(spec: dict) -> Job:
    """The inverse of ``job_spec``."""
    return Job(spec["job_id"], dict(spec["group"]), [Member(**m) for m in spec["members"]])
