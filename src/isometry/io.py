"""Atomic output: a file is either complete or absent, never half-written.

Everything the pipeline writes (CSVs, tensors, figures, checkpoints) goes through ``atomic_path``: write to a
temporary file in the destination directory, fsync, then ``os.replace`` it onto the final name. A crash, a kill -9
or a full disk leaves at most a stray ``.tmp`` file, never a truncated output that Snakemake would take as done.

The final file gets the permissions an ordinary ``open(path, "w")`` would give it (``0o666`` minus the umask;
``tempfile.mkstemp`` alone would leave every output ``0600``). A full disk is reported as ``DiskFullError`` (an
``OSError`` with errno ENOSPC) whose message names the file: ``no space left on device: <path>``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

import pandas as pd

_NO_SPACE = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


class DiskFullError(OSError):
    """No space left (or disk quota exceeded) while writing ``path``; ``str()`` is ``no space left on device:
    <path>`` plus what to do."""

    def __init__(self, path: str | os.PathLike, detail: str = ""):
        super().__init__(errno.ENOSPC, "no space left on device", str(path))
        self.path = Path(path)
        self.detail = detail

    def __str__(self) -> str:
        return (f"no space left on device: {self.path}" + (f" ({self.detail})" if self.detail else "")
                + "; free some space and rerun")


def current_umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux: /proc/self/status)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)   # pragma: no cover - non-Linux fallback (briefly sets the umask)
    os.umask(mask)
    return mask


def is_disk_full(exc: BaseException) -> bool:
    """True for an ENOSPC/EDQUOT ``OSError`` and for the ``RuntimeError`` that ``torch.save(obj, <path>)`` raises on
    a full disk (``[enforce fail at inline_container.cc] unexpected pos ...`` / ``basic_ios::clear`` / ``file write
    failed``)."""
    if isinstance(exc, OSError):
        return exc.errno in _NO_SPACE
    if isinstance(exc, RuntimeError):
        msg = str(exc)
        return any(s in msg for s in ("unexpected pos", "basic_ios::clear", "file write failed",
                                      "No space left on device"))
    return False


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None):
    """Yield a temporary path next to ``path``; on success rename it onto ``path``, on error delete it.

    ``suffix`` defaults to the suffix of ``path`` so that libraries which infer the format from the extension
    (matplotlib, torch) still see the right one. The final file's mode is ``0o666 & ~umask``. A full disk raises
    ``DiskFullError`` naming ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=(path.suffix if suffix is None else suffix)
                                   + ".tmp", dir=path.parent)
    except OSError as exc:
        if is_disk_full(exc):
            raise DiskFullError(path) from exc
        raise
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if is_disk_full(exc) and not isinstance(exc, DiskFullError):
            raise DiskFullError(path) from exc
        raise


def save_torch(obj, path: str | os.PathLike) -> Path:
    """``torch.save`` atomically, through a Python file object (so a full disk is an ``OSError``, reported as
    ``DiskFullError`` naming ``path``, not PyTorch's opaque ``RuntimeError``)."""
    import torch

    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            torch.save(obj, fh)
    return Path(path)


def write_csv(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a tidy CSV atomically (no index column, fixed float format so reruns are byte-identical)."""
    with atomic_path(path, suffix=".csv") as tmp:
        df.to_csv(tmp, index=False, float_format="%.8g")
    return Path(path)


def write_text(text: str, path: str | os.PathLike) -> Path:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)
    return Path(path)
