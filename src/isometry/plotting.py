"""Figure helpers: one style, PNG + PDF + caption written atomically.

A figure is drawn only from its CSV (DESIGN.md). ``save_figure`` writes ``<stem>.png``, ``<stem>.pdf`` and
``<stem>.caption.txt``; the caption states scale, data set (with variant) and deviations from the paper.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from isometry.io import atomic_path, write_text  # noqa: E402

STYLE = Path(__file__).with_name("isometry.mplstyle")


def use_style() -> None:
    plt.style.use(str(STYLE))


def new_figure(nrows: int = 1, ncols: int = 1, width: float = 3.4, height: float = 2.8, **kw):
    """A figure with ``nrows x ncols`` panels of the given size (inches) each, in the suite's style."""
    use_style()
    return plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False, **kw)


def colorbar_right(fig, mappable, label: str, width: float = 0.018):
    """A colorbar in its own column right of every panel: lays the panels out first (``tight_layout`` leaving room),
    then marks the figure as laid out so that ``save_figure`` does not move the panels over the colorbar."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig.tight_layout(rect=(0.0, 0.0, 0.9, 1.0))
    cax = fig.add_axes((0.915, 0.2, width, 0.6))
    fig.colorbar(mappable, cax=cax, label=label)
    fig.isometry_laid_out = True
    return cax


def save_figure(fig, png_path: str | Path, caption: str) -> Path:
    """Write PNG, PDF and caption next to each other; the caption is also drawn under the figure."""
    png_path = Path(png_path)
    import warnings

    with warnings.catch_warnings():  # lay the panels out first, so the caption goes below the x labels
        warnings.simplefilter("ignore")
        if not fig.get_constrained_layout() and not getattr(fig, "isometry_laid_out", False):
            fig.tight_layout()
    bottom = min([ax.get_tightbbox(fig.canvas.get_renderer()).transformed(fig.transFigure.inverted()).y0
                  for ax in fig.axes] + [0.0])
    wrapped = "\n".join(textwrap.wrap(caption, width=int(fig.get_figwidth() * 16)))
    fig.text(0.0, bottom - 0.02, wrapped, ha="left", va="top", fontsize=7, wrap=True)
    with atomic_path(png_path) as tmp:
        fig.savefig(tmp, format="png")
    with atomic_path(png_path.with_suffix(".pdf")) as tmp:
        fig.savefig(tmp, format="pdf")
    write_text(caption.strip() + "\n", png_path.with_suffix(".caption.txt"))
    plt.close(fig)
    return png_path
