"""Axis helpers for the extras figures: a log scale only where there is something finite and positive to draw
(an all-diverged CSV must still draw, saying so on the panel), and the note on a panel with nothing to draw."""

from __future__ import annotations

import numpy as np


def empty_panel(ax, text: str) -> None:
    """A panel with nothing to draw: ``text`` in its middle, no ticks."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=7, wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def _has_positive(ax, axis: str) -> bool:
    """Whether the panel's data limits (what plot / scatter / fill_between registered; not axhline) contain a finite
    positive value along ``axis``."""
    lim = ax.dataLim
    lo, hi = (lim.x0, lim.x1) if axis == "x" else (lim.y0, lim.y1)
    return bool(np.isfinite(lo) and np.isfinite(hi) and hi > 0)


def set_log(ax, axis: str = "y") -> bool:
    """Log scale on ``axis`` ("x", "y" or "both") if the panel has finite positive values there; otherwise keep it
    linear and write 'no finite values' on the panel. Returns whether the log scale was set."""
    ok = True
    for a in ("x", "y"):
        if axis not in (a, "both"):
            continue
        if _has_positive(ax, a):
            (ax.set_xscale if a == "x" else ax.set_yscale)("log")
        else:
            ok = False
    if not ok:
        ax.text(0.5, 0.5, "no finite values to draw\n(all runs diverged or missing)", ha="center", va="center",
                transform=ax.transAxes, fontsize=7, color="0.3")
    return ok
