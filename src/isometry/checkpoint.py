"""Transparent checkpoints for ``engine.train``: a killed experiment resumes where it stopped, bit-identically.

Nothing in the paper pipelines knows about it. ``python -m isometry experiment ...`` (cli.py) runs the experiment
inside ``experiment_checkpoints(output, ...)``, which points this module at ``<output>.ckpt/``; every
``engine.train`` call made while it is active then

1. gets an **ordinal** (0, 1, 2, ... in call order; an experiment is deterministic, so the k-th call of a rerun is
   the k-th call of the killed run) and a **key**: a SHA-1 of everything that determines its result, taken after
   the model was set up (``fingerprint``: members, steps, batch size, logged steps, loss / schedule / regularizer
   (code + closure values), data order seed, dataset label and contents checksum, device type, the model's class,
   description and *initial parameters*, ...). Its file is ``<ordinal:04d>-<key>.pt``;
2. if that file is a **finished** record, restores the trained parameters into the model and returns the stored
   rows without training (the model is left as an uninterrupted call would leave it; callers may measure it);
3. if it is a **partial** checkpoint, restores the parameters, the optimizer state (step count, moments, frozen
   members), the data-order generators (each member's generator state at the start of the current epoch plus the
   position in it; the epoch's permutation is redrawn, consuming exactly what the original draw consumed), the
   diverged-at steps, the rows logged so far, the elapsed wall time and the global RNGs (torch CPU/CUDA, NumPy,
   ``random``), then continues the step loop after the saved step;
4. writes a partial checkpoint every ``every`` seconds (default 60, ``ISOMETRY_CHECKPOINT_EVERY`` overrides; 0 =
   after every step; a save that took T seconds postpones the next one by at least 10 T, so writing never costs
   more than ~10% of the time) and the finished record at the end, each atomically (``io.atomic_path``: a
   checkpoint file is complete or absent). A checkpoint that cannot be written (disk full) is reported on stderr
   and training goes on; the previous checkpoint stays intact.

Resumed training is bit-identical on the CPU to uninterrupted training (tests/test_resume.py): the checkpoint is
taken between two steps, after that step's logging and callback, and holds every piece of state the loop reads.
The only column that differs is ``wall_s`` (wall-clock time: a resumed run continues from the saved elapsed
time, so it stays monotone, but its values are measurements, not reproducible numbers).

Limits (by design, safe defaults):

* A call with a ``callback`` is checkpointed only if the callback carries its own state, i.e. has
  ``state_dict()`` and ``load_state_dict(state)`` methods; a plain closure (which may accumulate measurements the
  checkpoint cannot see) makes that call run from scratch every time, exactly as without checkpoints.
* A checkpoint resumes only on the same device type (cpu/cuda: part of the key) with the same code: a changed
  key (edited experiment code, different data) starts the call afresh; the CLI additionally discards the whole
  directory when the experiment's target, ``--params`` or ``--input`` files (path, size, mtime) changed.
* Finished records keep the final parameters (for callers that use the model after ``train``); the directory is
  removed once the experiment wrote its output.

The directory holds a ``.lock`` (``flock``; released by the kernel even on ``kill -9``, so a lock left behind by a
dead process is recognised as stale and taken) so that two processes never train into the same checkpoints; it is
taken before anything in the directory is read or discarded (``directory_lock``: a second process never deletes a
directory another one is using). A live holder is waited for (``ISOMETRY_LOCK_WAIT`` s, default 15) and then named
in the error.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import random
import shutil
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

from isometry.io import atomic_path, save_torch

FORMAT = 1
DEFAULT_EVERY_S = 60.0
ENV_EVERY = "ISOMETRY_CHECKPOINT_EVERY"

_session: "Session | None" = None


def _log(msg: str) -> None:
    print(f"[isometry.checkpoint] {msg}", file=sys.stderr, flush=True)


def every_seconds(default: float | None = None) -> float:
    """Seconds between partial checkpoints: ``ISOMETRY_CHECKPOINT_EVERY`` if set, else ``default`` (60)."""
    env = os.environ.get(ENV_EVERY)
    if env not in (None, ""):
        try:
            v = float(env)
        except ValueError:
            raise ValueError(f"{ENV_EVERY}={env!r} is not a number of seconds") from None
        if v < 0:
            raise ValueError(f"{ENV_EVERY}={env!r} must be >= 0 seconds")
        return v
    return DEFAULT_EVERY_S if default is None else float(default)


class Session:
    """The checkpoint directory of one experiment run, and the counter of its ``train`` calls."""

    def __init__(self, directory: str | os.PathLike, every: float | None = None):
        self.dir = Path(directory)
        self.every = every_seconds(every)
        self.ordinal = 0
        self.dir.mkdir(parents=True, exist_ok=True)

    def next_call(self) -> int:
        n = self.ordinal
        self.ordinal += 1
        return n

    def call(self, ordinal: int, key: str) -> "CallCheckpoint":
        return CallCheckpoint(self.dir / f"{ordinal:04d}-{key}.pt", self.every, ordinal)


def active() -> Session | None:
    """The session ``train`` checkpoints into, or None (plain library use: no checkpoints)."""
    return _session


class CheckpointInUseError(OSError):
    """The checkpoint directory is locked by another live process (an ``OSError``, so the CLI reports it as an
    error line, not a traceback)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "checkpoint directory in use"


ENV_LOCK_WAIT = "ISOMETRY_LOCK_WAIT"
DEFAULT_LOCK_WAIT_S = 15.0
LOCK_NAME = ".lock"


def _lock_holder(lock_path: Path) -> str:
    """'process <pid> (<command>)' from the lock file, with whether it is still alive; '' when unknown."""
    try:
        info = json.loads(lock_path.read_text() or "{}")
        pid = int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    from isometry.process import _stat

    st = _stat(pid)
    desc = f"process {pid} ({info.get('cmd', '?')[:100]}, host {info.get('host', '?')})"
    if st is not None and st[0] == 1:
        desc += (" -- an orphan: the Snakemake that started it is gone; stop it with `kill "
                 f"{pid}` and rerun")
    return desc


def _lock_wait_s() -> float:
    env = os.environ.get(ENV_LOCK_WAIT, "")
    try:
        return max(float(env), 0.0) if env else DEFAULT_LOCK_WAIT_S
    except ValueError:
        raise ValueError(f"{ENV_LOCK_WAIT}={env!r} is not a number of seconds") from None


@contextlib.contextmanager
def directory_lock(directory: str | os.PathLike, wait: float | None = None):
    """Hold ``<directory>/.lock`` exclusively (``flock``: released by the kernel when the holder dies, even on
    ``kill -9``, so a lock left by a dead process is never in the way: a *stale* lock is one whose file exists but
    which nobody holds, and it is simply taken).

    Protocol (safe against a concurrent deletion of the directory): create the directory, open the lock file, take
    the flock, then check that the file we locked is still the one at ``<directory>/.lock`` (same inode); if the
    holder removed it meanwhile (it finished and cleaned up), start over. While another live process holds it, wait
    up to ``wait`` seconds (``ISOMETRY_LOCK_WAIT``, default 15: long enough for an orphan of a killed Snakemake to
    notice and exit, see ``isometry.process``), then raise ``CheckpointInUseError`` naming the holder.
    Nothing in the directory is read, changed or deleted before the lock is held.
    """
    import time

    directory = Path(directory)
    wait = _lock_wait_s() if wait is None else wait
    lock_path = directory / LOCK_NAME
    deadline = time.monotonic() + wait
    announced = False
    while True:
        directory.mkdir(parents=True, exist_ok=True)
        try:
            fh = open(lock_path, "a+b", buffering=0)
        except FileNotFoundError:            # the directory was removed between mkdir and open: retry
            continue
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            if time.monotonic() >= deadline:
                holder = _lock_holder(lock_path)
                raise CheckpointInUseError(f"checkpoint directory {directory} is in use by "
                                   f"{holder or 'another process'} (is the same experiment running twice?)") from None
            if not announced:
                _log(f"{directory} is locked by {_lock_holder(lock_path) or 'another process'}; waiting up to "
                     f"{wait:g} s for it to finish")
                announced = True
            time.sleep(0.2)
            continue
        try:
            same = os.stat(lock_path).st_ino == os.fstat(fh.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if not same:                          # we locked a file the previous holder had already deleted
            fh.close()
            continue
        break
    try:
        import socket

        with contextlib.suppress(OSError):   # who holds it, for the error message of a waiting process (a full disk
            os.ftruncate(fh.fileno(), 0)     # may refuse even these few bytes: the lock itself still holds)
            info = {"pid": os.getpid(), "host": socket.gethostname(), "cmd": " ".join(sys.argv)}
            os.pwrite(fh.fileno(), json.dumps(info).encode(), 0)
        yield directory
    finally:
        fh.close()


@contextlib.contextmanager
def checkpointing(directory: str | os.PathLike, every: float | None = None, *, lock: bool = True):
    """Checkpoint every ``engine.train`` call made inside the block into ``directory`` (created; kept afterwards).
    ``lock=False``: the caller already holds ``directory_lock(directory)``."""
    global _session
    prev = _session
    with directory_lock(directory) if lock else contextlib.nullcontext():
        _session = Session(directory, every)
        try:
            yield _session
        finally:
            _session = prev


# ------------------------------------------------------------------------------------------------ one train() call
class CallCheckpoint:
    """The checkpoint file of one ``train`` call."""

    def __init__(self, path: Path, every: float, ordinal: int):
        self.path, self.every, self.ordinal = path, every, ordinal
        self.failed_writes = 0

    def load(self) -> dict | None:
        """The saved state (partial or finished), or None when there is none usable (a stale or unreadable file is
        reported and ignored: the call then starts from scratch)."""
        for stale in self.path.parent.glob(f"{self.ordinal:04d}-*.pt"):
            if stale != self.path:
                _log(f"{stale.name}: made by a different train() call (inputs or code changed); discarded")
                stale.unlink(missing_ok=True)
        if not self.path.exists():
            return None
        try:
            state = torch.load(self.path, map_location="cpu", weights_only=False)
        except Exception as exc:  # noqa: BLE001 - any unreadable file: start afresh, say why
            _log(f"{self.path}: unreadable checkpoint ({type(exc).__name__}: {exc}); starting this call afresh")
            return None
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            _log(f"{self.path}: checkpoint of another format; starting this call afresh")
            return None
        return state

    def save(self, state: dict) -> bool:
        """Write ``state`` atomically; on failure (disk full, ...) report it and return False (training goes on,
        the previous checkpoint stays as it was)."""
        state = {"format": FORMAT, **state}
        try:
            save_torch(state, self.path)
        except (OSError, RuntimeError) as exc:   # torch.save reports some write errors as RuntimeError
            self.failed_writes += 1
            if self.failed_writes == 1 or self.failed_writes % 100 == 0:
                _log(f"could not write checkpoint {self.path} ({exc}); training goes on, the previous checkpoint "
                     "is kept")
            return False
        return True


# ------------------------------------------------------------------------------------------------ global RNGs
def rng_state() -> dict:
    st = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "random": random.getstate()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        st["cuda"] = torch.cuda.get_rng_state_all()
    return st


def set_rng_state(st: dict) -> None:
    torch.set_rng_state(st["torch"])
    np.random.set_state(st["numpy"])
    random.setstate(st["random"])
    if "cuda" in st and torch.cuda.is_available():
        with contextlib.suppress(Exception):
            torch.cuda.set_rng_state_all(st["cuda"])


# ------------------------------------------------------------------------------------------------ fingerprints
def _sha(b: bytes) -> str:
    return hashlib.sha1(b).hexdigest()


def _tensor_digest(t: torch.Tensor) -> list:
    t = t.detach().to("cpu").contiguous()
    raw = t.view(torch.uint8) if t.dtype == torch.bool else t
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = raw.reshape(-1).view(torch.uint8).numpy().tobytes() if raw.numel() else b""
    return ["tensor", list(t.shape), str(t.dtype), _sha(data)]


def describe(obj, depth: int = 0):
    """A JSON-able, process-independent description of ``obj`` for a fingerprint (best effort for callables: module,
    qualified name, bytecode, defaults and closure values; tensors and arrays by content hash)."""
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return repr(obj)
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return describe(obj.item(), depth)
    if isinstance(obj, torch.Tensor):
        return _tensor_digest(obj)
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "biufc":
            return _tensor_digest(torch.from_numpy(np.ascontiguousarray(obj)))
        return ["ndarray", list(obj.shape), str(obj.dtype), describe(obj.tolist(), depth + 1)]
    if isinstance(obj, torch.device):
        return str(obj)
    if depth > 4:
        return type(obj).__qualname__
    if isinstance(obj, (list, tuple)):
        return [describe(v, depth + 1) for v in obj]
    if isinstance(obj, dict):
        return {str(k): describe(v, depth + 1) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, functools.partial):
        return ["partial", describe(obj.func, depth + 1), describe(obj.args, depth + 1),
                describe(obj.keywords, depth + 1)]
    if callable(obj):
        fn = getattr(obj, "__func__", obj)
        out = [getattr(fn, "__module__", None), getattr(fn, "__qualname__", type(fn).__qualname__)]
        code = getattr(fn, "__code__", None)
        if code is not None:
            out.append(_sha(code.co_code + repr(code.co_names).encode()))
            out.append(describe(getattr(fn, "__defaults__", None), depth + 1))
            cells = []
            for cell in getattr(fn, "__closure__", None) or ():
                try:
                    cells.append(describe(cell.cell_contents, depth + 1))
                except ValueError:         # empty cell
                    cells.append(None)
            out.append(cells)
        return out
    return type(obj).__qualname__


def fingerprint(**parts) -> str:
    """First 16 hex digits of the SHA-1 of ``describe(parts)``."""
    return _sha(json.dumps(describe(parts), sort_keys=True, default=str).encode())[:16]


def call_key(*, dataset, model, **parts) -> str | None:
    """The key of a ``train`` call: ``fingerprint`` of its arguments, the data set's contents and the model's class
    and initial state; None (the call is then not checkpointed, and says so) if it cannot be made."""
    try:
        return fingerprint(**parts, dataset=dataset_digest(dataset),
                           model=[type(model).__module__, type(model).__qualname__],
                           params={k: describe(v) for k, v in model.state_dict().items()})
    except Exception as exc:  # noqa: BLE001 - never let checkpointing break a training
        _log(f"cannot fingerprint a train() call ({type(exc).__name__}: {exc}); it is not checkpointed")
        return None


_digest_cache: dict = {}


def dataset_digest(dataset) -> list:
    """Content hash of a Dataset (label + SHA-1 of each tensor; cached per tensor while it is unmodified, so the
    many ``train`` calls of one experiment hash a data set once: ~0.2 s for CIFAR-10)."""
    out = [dataset.label]
    for name in ("train_x", "train_y", "test_x", "test_y"):
        t = getattr(dataset, name)
        k = (t.data_ptr(), tuple(t.shape), tuple(t.stride()), str(t.dtype), t._version)
        if k not in _digest_cache:
            if len(_digest_cache) > 64:
                _digest_cache.clear()
            _digest_cache[k] = _tensor_digest(t)
        out.append([name, _digest_cache[k]])
    return out


# ------------------------------------------------------------------------------------------------ the CLI's context
def _input_meta(inputs) -> list:
    out = []
    for p in inputs or ():
        p = Path(p)
        try:
            st = p.stat()
            out.append([str(p), st.st_size, st.st_mtime_ns])
        except OSError:
            out.append([str(p), None, None])
    return out


@contextlib.contextmanager
def experiment_checkpoints(output: str | os.PathLike, target: str, params: dict, inputs=(),
                           every: float | None = None):
    """What ``python -m isometry experiment`` wraps an experiment in: checkpoints in ``<output>.ckpt/``.

    A directory made for other ``target`` / ``params`` / ``inputs`` is discarded first (stale). On success (and
    when ``output`` exists) the directory is removed; on an error or a kill it stays, and a rerun resumes from it.
    """
    directory = Path(f"{output}.ckpt")
    meta = {"format": FORMAT, "target": target,
            "params": {k: v for k, v in params.items() if k != "checkpoint_every"},
            "inputs": _input_meta(inputs)}
    meta_txt = json.dumps(meta, sort_keys=True, default=str)
    meta_file = directory / "experiment.json"
    with directory_lock(directory):          # nothing is inspected or discarded before the lock is held
        old = meta_file.read_text() if meta_file.is_file() else None
        if old != meta_txt:
            if any(p.name != LOCK_NAME for p in directory.iterdir()):
                _log(f"{directory}: checkpoints of another configuration (target, params or inputs changed); "
                     "discarded")
            _clear(directory)
            with atomic_path(meta_file) as tmp:
                Path(tmp).write_text(meta_txt)
        else:
            n = len(list(directory.glob("*.pt")))
            if n:
                _log(f"{directory}: resuming from {n} checkpoint file(s) of an interrupted run")
        try:
            with checkpointing(directory, every, lock=False) as session:
                yield session
        except BaseException:
            if not any(directory.glob("*.pt")):          # nothing computed yet: leave no empty directory behind
                _remove(directory)
            raise
        if Path(output).exists():
            _remove(directory)
        else:
            _log(f"{output} was not written; checkpoints kept in {directory}")


def _clear(directory: Path) -> None:
    """Delete everything in ``directory`` but the lock file (which the caller holds)."""
    for p in directory.iterdir():
        if p.name == LOCK_NAME:
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)


def _remove(directory: Path) -> None:
    """Remove the whole directory while holding its lock: the lock file goes last, so that a process waiting for it
    finds it deleted, retries, and never works in a directory we are removing."""
    _clear(directory)
    with contextlib.suppress(OSError):
        (directory / LOCK_NAME).unlink()
        directory.rmdir()
