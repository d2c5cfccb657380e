"""Determinism: the same config and seeds give byte-identical run CSVs on the CPU, except the ``wall_s`` column.

Two runs of one small sweep (tests/test_resume.py's ``SWEEP``: two ensembles, SGD with a per-epoch lr schedule and
Adam, plus a diverging member): ``python -m isometry experiment`` in a subprocess (its own random PYTHONHASHSEED,
checkpoints every 0.2 s), and the library call in this process without any checkpoint session. Their CSVs must
agree byte for byte once ``wall_s`` (wall-clock seconds, a measurement) is dropped. (tests/test_resume.py compares
a third, killed and resumed, CLI run with another uninterrupted one.)

On a GPU the expectation is agreement to a tolerance, not bit-equality (see isometry.engine's docstring,
"Determinism"): cuBLAS/cuDNN reductions may change order between runs and TF32 matmuls round their inputs, so compare
GPU reruns statistically; ``torch.use_deterministic_algorithms(True)`` with ``CUBLAS_WORKSPACE_CONFIG=:4096:8``
and TF32 off makes a rerun on the same GPU model repeat itself.
"""

from __future__ import annotations

import subprocess

import pandas as pd
import pytest

from isometry.papers import sweep
from test_resume import SWEEP, csv_without_wall, env, make_data, sweep_cmd



@pytest.mark.slow
def test_same_config_same_csv(tmp_path):
    make_data(tmp_path / "data")
    r = subprocess.run(sweep_cmd(tmp_path, "a/sweep.csv"), env=env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    a = tmp_path / "a" / "sweep.csv"

    c = tmp_path / "c" / "sweep.csv"
    sweep.run({**SWEEP, "data_dir": str(tmp_path / "data")}, [], c)          # library use: no checkpoints
    assert csv_without_wall(c) == csv_without_wall(a)
    df = pd.read_csv(a)
    assert len(df) == 9 * df.step.nunique() and df.wall_s.notna().all()
    assert set(df.optimizer) == {"sgd", "adam"} and df.diverged.any()
