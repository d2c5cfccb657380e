"""A training process dies with the Snakemake that started it.

``kill -9`` of Snakemake does not reach its jobs: the job's shell and our ``python -m isometry experiment`` are
re-parented and train on, holding the checkpoint directory's lock, so the rerun found it "in use" and Snakemake
overwrote the orphan's log. ``die_with_parent()``, called once at the start of a training command, prevents that:

* ``prctl(PR_SET_PDEATHSIG, SIGTERM)`` (Linux, via ctypes): the kernel signals us when our direct parent dies (the
  job's shell, or Snakemake itself when it runs us without a shell);
* a daemon watchdog thread polls, every ``interval`` seconds, every *Snakemake* ancestor of this process (the
  nearest one is usually two levels up: Snakemake -> bash -> python) and the direct parent; when one of them is gone
  (checked by pid *and* start time, so a reused pid does not fool it) it says so on stderr and sends this process
  SIGTERM. Checkpoints already written stay, and the rerun resumes from them.

It acts only inside a Snakemake job (a Snakemake ancestor exists; ``ISOMETRY_DIE_WITH_PARENT=1`` forces it), so that
``nohup python -m isometry experiment ... &`` still outlives the login shell; and only Snakemake ancestors are
watched beyond the direct parent, so ``nohup snakemake ... &`` keeps its jobs when the shell above it exits. Without
``/proc`` (not Linux) the call does nothing and returns False.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from pathlib import Path

PR_SET_PDEATHSIG = 1
DEFAULT_INTERVAL_S = 0.5
#: set to 1 to follow the parent even without a Snakemake ancestor (the default follows Snakemake jobs only)
ENV_FORCE = "ISOMETRY_DIE_WITH_PARENT"
_started = False


def _stat(pid: int) -> tuple[int, int] | None:
    """(ppid, start time in clock ticks) of ``pid`` from /proc, or None if there is no such (live) process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2:].split()
    if fields[0] in ("Z", "X"):           # a zombie has exited already
        return None
    return int(fields[1]), int(fields[19])


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def is_snakemake(cmdline: list[str]) -> bool:
    """``snakemake ...``, ``python .../bin/snakemake ...`` or ``python -m snakemake ...``."""
    args = [a for a in cmdline if a]
    if not args:
        return False
    name = os.path.basename(args[0])
    if name == "snakemake" or name.startswith("snakemake-"):
        return True
    if name.startswith("python") and len(args) > 1:
        return os.path.basename(args[1]) == "snakemake" or (args[1] == "-m" and len(args) > 2
                                                            and args[2] == "snakemake")
    return False


def ancestors(pid: int | None = None) -> list[tuple[int, int, list[str]]]:
    """(pid, start time, command line) of every ancestor of ``pid`` (default: this process), nearest first, up to
    but excluding pid 1."""
    out = []
    st = _stat(os.getpid() if pid is None else pid)
    seen = set()
    while st is not None and st[0] > 1 and st[0] not in seen:
        ppid = st[0]
        seen.add(ppid)
        pst = _stat(ppid)
        if pst is None:
            break
        out.append((ppid, pst[1], _cmdline(ppid)))
        st = pst
    return out


def _set_pdeathsig(sig: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):  # pragma: no cover - no libc prctl
        return False


def die_with_parent(interval: float = DEFAULT_INTERVAL_S, sig: int = signal.SIGTERM) -> bool:
    """Make this process exit (signal ``sig``) when its parent or any Snakemake ancestor dies. Idempotent; returns
    whether a mechanism is active. Call it first thing in a training command (``python -m isometry experiment``)."""
    global _started
    if _started:
        return True
    if not Path("/proc/self/stat").exists():
        return False
    parent = os.getppid()
    if parent == 1:                       # already orphaned (or started by init): nothing to follow
        return False
    chain = ancestors()
    if not any(is_snakemake(c) for _, _, c in chain) and os.environ.get(ENV_FORCE, "") in ("", "0"):
        return False                      # not a Snakemake job: plain `nohup python -m isometry ...` keeps running
    pdeath = _set_pdeathsig(sig)
    watched = [(p, t, c) for i, (p, t, c) in enumerate(chain) if i == 0 or is_snakemake(c)]
    if _stat(parent) is None or os.getppid() != parent:  # the parent died before prctl took effect
        os.kill(os.getpid(), sig)
    me = os.getpid()

    def watch():
        import time

        while True:
            time.sleep(interval)
            for pid, start, cmd in watched:
                st = _stat(pid)
                if st is None or st[1] != start or os.getppid() != parent:
                    what = "Snakemake" if is_snakemake(cmd) else "parent process"
                    print(f"[isometry] the {what} that started this job (pid {pid}: {' '.join(cmd)[:80]}) is gone; "
                          f"stopping (pid {me}). Checkpoints written so far are kept: rerun to resume.",
                          file=sys.stderr, flush=True)
                    os.kill(me, sig)
                    return

    threading.Thread(target=watch, name="isometry-die-with-parent", daemon=True).start()
    _started = True
    return pdeath or bool(watched)


__all__ = ["die_with_parent", "ancestors", "is_snakemake"]
