"""Rows of ``results/checks.csv``: one claim of a paper compared with the value this pipeline reproduced.

A check that fails is written as failed, with its numbers. Nothing here is tuned to pass.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import pandas as pd

CHECK_COLUMNS = ["claim", "paper", "figure", "paper_value", "reproduced_value", "tolerance", "passed", "scale"]


@dataclass
class Check:
    claim: str
    paper: str
    figure: str
    paper_value: str | float
    reproduced_value: str | float
    tolerance: str | float
    passed: bool
    scale: str = "quick"

    def __post_init__(self):
        if isinstance(self.reproduced_value, float) and not math.isfinite(self.reproduced_value):
            self.passed = False
        self.passed = bool(self.passed)


def checks_frame(checks: list[Check]) -> pd.DataFrame:
    return pd.DataFrame([asdict(c) for c in checks], columns=CHECK_COLUMNS)
