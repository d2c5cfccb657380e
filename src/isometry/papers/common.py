"""Helpers shared by the paper pipelines."""

from __future__ import annotations

from pathlib import Path

from isometry.checks import Check, checks_frame
from isometry.io import write_csv


def write_checks(checks: list[Check], output: str | Path) -> Path:
    """Write this paper's rows of results/checks.csv (possibly none)."""
    return write_csv(checks_frame(checks), output)
