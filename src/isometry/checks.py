"""Rows of ``results/checks.csv`` (the scorecard), and the statistics that training claims are checked with.

Every row has a **kind**:

* ``paper``        a result the paper reports. ``paper_value`` is taken from the paper's figure or text and
                   ``source`` cites it (figure, panel, section, and how sure ``shared/reference/verified.md`` is of
                   it: VERIFIED-TEXT / VERIFIED-FIG / SECONDARY / INFERRED). Only these rows count as reproductions.
* ``theory``       our simulation against our own theory (good science, not a claim of the paper).
* ``construction`` a property that holds by construction; such properties belong in unit tests, and rows of this
                   kind are never counted (``headline`` ignores them).

Checks of training results must fail where nothing trained: use ``trained`` / ``steps_to_threshold`` /
``speedup`` (censoring-aware, two-sided) and ``kappa`` / ``balanced_accuracy`` (agreement beyond the trivial
baseline). A missing input is a failed row (``missing_input``), never a dropped one. Nothing here is tuned to pass.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

KINDS = ("paper", "theory", "construction")
CHECK_COLUMNS = ["paper", "figure", "kind", "claim", "source", "paper_value", "reproduced_value", "tolerance",
                 "passed", "scale"]


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
    kind: str = "theory"
    source: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"check kind {self.kind!r} is not one of {KINDS}")
        if self.kind == "paper" and not self.source:
            raise ValueError(f"a 'paper' check needs a source citing the paper: {self.claim!r}")
        if isinstance(self.reproduced_value, float) and not math.isfinite(self.reproduced_value):
            self.passed = False
        self.passed = bool(self.passed)


def checks_frame(checks: list[Check]) -> pd.DataFrame:
    return pd.DataFrame([asdict(c) for c in checks], columns=CHECK_COLUMNS)


def missing_input(claim: str, paper: str, figure: str, stem: str, *, kind: str = "paper", source: str = "",
                  paper_value="", scale: str = "quick", reason: str = "") -> Check:
    """The failed row of a check whose input CSV (``<stem>.csv``) was not given or has no usable rows."""
    return Check(claim=claim, paper=paper, figure=figure, kind=kind, source=source or "-", paper_value=paper_value,
                 reproduced_value=f"missing input: {stem}.csv" + (f" ({reason})" if reason else ""),
                 tolerance="-", passed=False, scale=scale)


def headline(df: pd.DataFrame) -> str:
    """'N of M paper claims reproduced' plus the theory rows separately (construction rows are not counted)."""
    kind = df["kind"] if "kind" in df.columns else pd.Series(["theory"] * len(df))
    ok = df["passed"].astype(str).str.lower().isin(["true", "1"]) if len(df) else pd.Series([], dtype=bool)
    p, t = kind == "paper", kind == "theory"
    return (f"{int(ok[p].sum())} of {int(p.sum())} paper claims reproduced; "
            f"{int(ok[t].sum())} of {int(t.sum())} theory checks (our simulation vs our theory) pass")


# ------------------------------------------------------------------------------------- training statistics
def steps_to_threshold(steps, values, threshold: float, *, above: bool = True) -> float:
    """First step at which ``values`` reaches ``threshold`` (>= if ``above``, else <=), interpolated linearly in
    log(step) between the two logged steps around the crossing (step 0 counts as step 1 on the log axis).
    ``inf`` if it never does (censored at the last logged step); NaN values (diverged) never count."""
    s = np.asarray(steps, float)
    a = np.asarray(values, float)
    order = np.argsort(s)
    s, a = s[order], a[order]
    ok = np.isfinite(a)
    s, a = s[ok], a[ok]
    hit = np.flatnonzero(a >= threshold if above else a <= threshold)
    if hit.size == 0:
        return math.inf
    i = int(hit[0])
    if i == 0:
        return float(max(s[0], 1.0))
    s0, s1 = max(s[i - 1], 1.0), max(s[i], 1.0)
    a0, a1 = a[i - 1], a[i]
    f = (threshold - a0) / (a1 - a0) if a1 != a0 else 1.0
    return float(np.exp(np.log(s0) + f * (np.log(s1) - np.log(s0))))


def speedup(t_fast: float, t_slow: float, last_step: float) -> tuple[float, str]:
    """Ratio t_slow / t_fast of steps-to-threshold with censoring: (value, relation) where relation is ``=``
    (both reached), ``>=`` (only the fast one reached: the slow time is at least ``last_step``), ``<=`` (only the
    slow one reached: the ratio is at most slow / last_step) or ``?`` (neither reached: NaN)."""
    fast_ok, slow_ok = math.isfinite(t_fast), math.isfinite(t_slow)
    if fast_ok and slow_ok:
        return t_slow / t_fast, "="
    if fast_ok:
        return last_step / t_fast, ">="
    if slow_ok:
        return t_slow / last_step, "<="
    return math.nan, "?"


def speedup_at_least(t_fast: float, t_slow: float, last_step: float, k: float) -> bool:
    """Two-sided, censoring-aware 'fast reaches the threshold at least k x sooner than slow': the fast run must
    reach it, and the ratio (a lower bound when the slow one never did) must be >= k."""
    r, rel = speedup(t_fast, t_slow, last_step)
    return rel in ("=", ">=") and r >= k


def trained(acc: float, chance: float, margin: float) -> bool:
    """A run trained iff its accuracy is finite and exceeds chance by more than ``margin``."""
    return bool(np.isfinite(acc) and acc > chance + margin)


def kappa(predicted, observed) -> float:
    """Cohen's kappa between two boolean labelings (1 = perfect, 0 = what the marginals give by chance; NaN when
    the chance agreement is 1, i.e. both labelings are constant and equal)."""
    p = np.asarray(predicted, bool)
    o = np.asarray(observed, bool)
    if p.size == 0:
        return math.nan
    po = float(np.mean(p == o))
    pe = float(np.mean(p) * np.mean(o) + np.mean(~p) * np.mean(~o))
    return math.nan if pe >= 1.0 else (po - pe) / (1.0 - pe)


def balanced_accuracy(predicted, observed) -> float:
    """Mean of the recall on observed-positive and on observed-negative cells (0.5 = a constant predictor);
    NaN if one class is absent."""
    p = np.asarray(predicted, bool)
    o = np.asarray(observed, bool)
    if o.all() or (~o).all():
        return math.nan
    return 0.5 * (float(np.mean(p[o])) + float(np.mean(~p[~o])))


def trivial_baseline(observed) -> float:
    """Agreement of the best constant prediction ('everything trains' or 'nothing trains')."""
    o = np.asarray(observed, bool)
    return float(max(np.mean(o), np.mean(~o))) if o.size else math.nan
