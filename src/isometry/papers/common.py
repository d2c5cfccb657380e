"""Helpers shared by the paper pipelines."""

from __future__ import annotations

from pathlib import Path

from isometry.checks import Check, checks_frame
from isometry.io import write_csv


def write_checks(checks: list[Check], output: str | Path) -> Path:
    """Write this paper's rows of results/checks.csv (possibly none)."""
    return write_csv(checks_frame(checks), output)


def read_input(inputs, stem: str, *, required: bool = True):
    """The input CSV called ``<stem>.csv`` as a DataFrame (the rules pass a job's CSVs as ``--input``).

    A missing one is an error naming what was expected and what was given, or ``None`` with ``required=False``
    (checks computed only from the experiments that were run).
    """
    import pandas as pd

    for p in inputs:
        p = Path(p)
        if p.stem == stem and p.suffix == ".csv":
            return pd.read_csv(p)
    if required:
        raise SystemExit(f"error: no input CSV named {stem}.csv among {[str(p) for p in inputs]}")
    return None


def scale_of(params) -> str:
    return str(params.get("scale", "quick"))
