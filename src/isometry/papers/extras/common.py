"""Plumbing shared by the extras experiments: paper tag, seeds, dataset loading, device, CSV reading."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from isometry.data import Dataset, load_dataset

PAPER = "extras"


def seed(params) -> int:
    return int(params.get("seed", 0))


def scale(params) -> str:
    return str(params.get("scale", "quick"))


def device(params):
    """None (engine default) for ``auto``; else the resolved device string the CLI put in params."""
    d = params.get("device", "auto")
    return None if d in (None, "auto") else d


def load(name: str, params: dict, n_train: int | None, n_test: int | None) -> Dataset:
    """The converted dataset (``isometry.data.load_dataset``), first ``n_train`` / ``n_test`` examples."""
    return load_dataset(name, params.get("data_dir", "data")).subset(n_train, n_test)


def read(inputs, stem: str) -> pd.DataFrame:
    paths = [Path(p) for p in inputs if Path(p).stem == stem]
    if not paths:
        raise SystemExit(f"extras: no input CSV named {stem}.csv among {[str(p) for p in inputs]}")
    return pd.read_csv(paths[0])


def maybe_read(inputs, stem: str) -> pd.DataFrame | None:
    paths = [Path(p) for p in inputs if Path(p).stem == stem]
    return pd.read_csv(paths[0]) if paths else None
