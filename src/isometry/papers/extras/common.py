"""Plumbing shared by the extras experiments: paper tag, members <-> shard specs, dataset loading, statistics."""

from __future__ import annotations

import math
from dataclasses import asdict

import numpy as np

from isometry.data import Dataset
from isometry.spec import Member

PAPER = "extras"


def members_to_spec(members: list[Member]) -> list[dict]:
    """JSON-serialisable member rows for a shard spec (``members_from_spec`` inverts it)."""
    return [asdict(m) for m in members]


def members_from_spec(rows: list[dict]) -> list[Member]:
    return [Member(**r) for r in rows]


def chunks(members: list, size: int) -> list[list]:
    """``members`` cut into consecutive groups of at most ``size`` (one shard = one ensemble)."""
    size = max(1, int(size))
    return [members[i:i + size] for i in range(0, len(members), size)]


def load(ctx, spec: dict) -> Dataset:
    """The shard's dataset (``spec['dataset']``), first ``n_train`` / ``n_test`` examples."""
    return ctx.dataset(spec["dataset"]).subset(int(spec["n_train"]), int(spec["n_test"]))


def device(ctx) -> str | None:
    d = getattr(ctx, "device", None)
    return None if d in (None, "auto") else d


def paired_difference(a, b) -> tuple[float, float, int]:
    """Mean and standard error of the paired differences a_i - b_i (finite pairs only) and their number."""
    d = np.asarray(a, float) - np.asarray(b, float)
    d = d[np.isfinite(d)]
    n = int(d.size)
    if n == 0:
        return math.nan, math.nan, 0
    se = float(d.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    return float(d.mean()), se, n
