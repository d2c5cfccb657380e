"""Atomic output: a file is either complete or absent, never half-written.

Everything the pipeline writes (CSVs, tensors, figures, checkpoints) goes through ``atomic_path``: write to a
temporary file in the destination directory, fsync, then ``os.replace`` it onto the final name. A crash, a kill -9
or a full disk leaves at most a stray ``.tmp`` file, never a truncated output that Snakemake would take as done.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import pandas as pd


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None):
    """Yield a temporary path next to ``path``; on success rename it onto ``path``, on error delete it.

    ``suffix`` defaults to the suffix of ``path`` so that libraries which infer the format from the extension
    (matplotlib, torch) still see the right one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=(path.suffix if suffix is None else suffix) + ".tmp",
                               dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_csv(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a tidy CSV atomically (no index column, fixed float format so reruns are byte-identical)."""
    with atomic_path(path, suffix=".csv") as tmp:
        df.to_csv(tmp, index=False, float_format="%.8g")
    return Path(path)


def write_text(text: str, path: str | os.PathLike) -> Path:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)
    return Path(path)
