"""Resume: a training interrupted (exception, or ``kill -9`` of the CLI / of Snakemake) and rerun ends with the same
run CSV as an uninterrupted one: every column byte-identical except ``wall_s`` (wall-clock time, a measurement).

* unit level: ``engine.train`` inside ``checkpoint.checkpointing``, interrupted by an exception raised from the
  callback after step k, rerun -> identical rows and final weights (SGD with a per-epoch lr schedule, Adam; a
  diverging member; epoch boundaries crossed; checkpoints every step);
* CLI level: ``python -m isometry experiment sweep.mlp`` killed with SIGKILL after its first checkpoint of the second
  job, rerun: the finished job is not retrained, the interrupted one resumes, the CSV equals the reference;
* Snakemake level: the same through a one-rule Snakefile; snakemake itself is killed (-9, whole process group),
  which leaves Snakemake's directory lock behind: ``snakemake --unlock``, then the rerun with ``--rerun-incomplete``
  (profiles/default sets it) reruns the job marked incomplete, and the job resumes from its checkpoint.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch

from isometry import checkpoint
from isometry.data import Dataset
from isometry.engine import exponential_decay, train
from isometry.models import EnsembleMLP
from isometry.spec import Member

REPO = Path(__file__).resolve().parents[1]
IN_SHAPE = (1, 4, 4)



@pytest.fixture(scope="module")
def ds():
    g = torch.Generator().manual_seed(7)
    u8 = lambda n: torch.randint(0, 256, (n, *IN_SHAPE), dtype=torch.uint8, generator=g)  # noqa: E731
    return Dataset("mnist", "random", u8(72), torch.randint(0, 5, (72,), generator=g),
                   u8(30), torch.randint(0, 5, (30,), generator=g))


class Interrupt(Exception):
    pass


class StopAt:
    """A callback with state (so train() checkpoints the call): counts steps, raises once at step ``at``."""

    def __init__(self, at=None):
        self.at, self.n = at, 0

    def __call__(self, step, model, opt):
        self.n += 1
        if step == self.at:
            self.at = None
            raise Interrupt(step)

    def state_dict(self):
        return {"n": self.n}

    def load_state_dict(self, st):
        self.n = st["n"]


def _run(ds, optimizer, cb, **kw):
    members = [Member(f"m{i}", init="orthogonal", lr=lr, optimizer=optimizer, seed=i)
               for i, lr in enumerate([0.05, 0.02, 1e20 if optimizer == "sgd" else 0.01])]
    model = EnsembleMLP(len(members), IN_SHAPE, 5, depth=2, width=12, nonlinearity="relu")
    df = train(model, members, ds, steps=45, batch_size=16, device="cpu", n_log=10, callback=cb,
               lr_schedule=exponential_decay(0.9, per="epoch") if optimizer == "sgd" else None,
               paper="t", experiment="resume", progress=False, **kw)
    return df, {k: v.detach().clone() for k, v in model.state_dict().items()}


def assert_same_rows(a: pd.DataFrame, b: pd.DataFrame):
    cols = [c for c in a.columns if c != "wall_s"]
    assert list(a.columns) == list(b.columns)
    pd.testing.assert_frame_equal(a[cols].reset_index(drop=True), b[cols].reset_index(drop=True), check_exact=True)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_train_interrupted_and_resumed_equals_uninterrupted(ds, tmp_path, optimizer, monkeypatch):
    ref, ref_w = _run(ds, optimizer, StopAt())                       # no checkpoint session: plain library use
    if optimizer == "sgd":
        assert ref.groupby("run_id").diverged.any().tolist() == [False, False, True]   # the 1e20 member diverges

    monkeypatch.setenv(checkpoint.ENV_EVERY, "0")                    # a checkpoint after every step
    for at in (13, 31):                                              # inside epoch 3; just after an epoch boundary
        d = tmp_path / f"ck{at}"
        cb = StopAt(at)
        with pytest.raises(Interrupt):
            with checkpoint.checkpointing(d):
                _run(ds, optimizer, cb)
        (f,) = d.glob("0000-*.pt")
        st = torch.load(f, weights_only=False)
        assert not st["finished"] and st["step"] == at - 1            # the last complete step before the crash
        with checkpoint.checkpointing(d):
            got, got_w = _run(ds, optimizer, cb)
        assert cb.n == 45                                             # callback state restored, then continued
        assert_same_rows(ref, got)
        for k in ref_w:
            assert torch.equal(ref_w[k], got_w[k]), k

        # a third run finds the finished record: same rows (wall_s included: they are the stored rows), same weights
        with checkpoint.checkpointing(d):
            again, again_w = _run(ds, optimizer, StopAt(1))           # would raise if it trained
        pd.testing.assert_frame_equal(got, again)
        for k in ref_w:
            assert torch.equal(ref_w[k], again_w[k]), k


def test_callback_without_state_is_not_checkpointed(ds, tmp_path):
    seen = []
    with checkpoint.checkpointing(tmp_path):
        _run(ds, "sgd", lambda step, m, o: seen.append(step))
    assert seen == list(range(1, 46)) and not list(tmp_path.glob("*.pt"))


def test_changed_inputs_do_not_reuse_a_checkpoint(ds, tmp_path, monkeypatch):
    monkeypatch.setenv(checkpoint.ENV_EVERY, "0")
    with checkpoint.checkpointing(tmp_path):
        a, _ = _run(ds, "adam", StopAt())
    other = Dataset(ds.name, ds.variant, ds.train_x.flip(0), ds.train_y.flip(0), ds.test_x, ds.test_y)
    with checkpoint.checkpointing(tmp_path):
        b, _ = _run(other, "adam", StopAt())                          # different data -> different key -> retrain
    assert not a.train_loss.equals(b.train_loss)
    assert len(list(tmp_path.glob("0000-*.pt"))) == 1                 # the stale record was replaced


# ------------------------------------------------------------------------------------------------ CLI and Snakemake
def make_data(data_dir: Path, n_train=384, n_test=128):
    """A small synthetic dataset saved in the converted format under the name ``mnist`` (8x8 pixels)."""
    g = torch.Generator().manual_seed(0)
    proto = torch.randint(0, 256, (10, 1, 8, 8), generator=g)
    ty, sy = torch.randint(0, 10, (n_train,), generator=g), torch.randint(0, 10, (n_test,), generator=g)

    def mk(y):
        return (proto[y] + torch.randint(-60, 60, (len(y), 1, 8, 8), generator=g)).clamp(0, 255).to(torch.uint8)
    (data_dir / "mnist").mkdir(parents=True, exist_ok=True)
    torch.save({"train_x": mk(ty), "train_y": ty, "test_x": mk(sy), "test_y": sy, "name": "mnist",
                "variant": "synthetic", "source": "tests/test_resume.py", "classes": [str(i) for i in range(10)]},
               data_dir / "mnist" / "mnist.pt")


#: two jobs (sgd, adam ensembles of 3 members each), a few seconds each on one CPU thread
SWEEP = {"dataset": "mnist", "steps": 600, "batch_size": 16, "n_log": 8, "threads": 1, "device": "cpu",
         "lr_decay": 0.97, "grid": {"depth": 2, "width": 24, "nonlinearity": "relu",
                                    "init": ["orthogonal", "gaussian"], "lr": 0.03, "seed": [0, 1],
                                    "optimizer": ["sgd", "adam"]},
         "runs": [{"depth": 2, "width": 24, "nonlinearity": "relu", "init": "gaussian", "optimizer": "sgd", "lr": 1e20,
                   "seed": 3, "label": "diverges"}]}


def sweep_cmd(work: Path, out: str = "out/sweep.csv") -> list[str]:
    params = {**SWEEP, "data_dir": str(work / "data")}
    return [sys.executable, "-m", "isometry", "experiment", "sweep.mlp", "--params", json.dumps(params),
            "--output", str(work / out)]


def env(every="0.2"):
    return {**os.environ, checkpoint.ENV_EVERY: every, "PYTHONHASHSEED": "random"}


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    w = tmp_path_factory.mktemp("sweep")
    make_data(w / "data")
    return w


@pytest.fixture(scope="module")
def reference(work):
    """An uninterrupted CLI run (checkpoints written every 0.2 s and removed at the end)."""
    r = subprocess.run(sweep_cmd(work, "ref/sweep.csv"), env=env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert not (work / "ref" / "sweep.csv.ckpt").exists()
    return work / "ref" / "sweep.csv"


def wait_for(pattern_dir: Path, pattern: str, proc, timeout=120.0) -> Path:
    t = time.monotonic()
    while time.monotonic() - t < timeout:
        hits = sorted(pattern_dir.glob(pattern)) if pattern_dir.is_dir() else []
        if hits:
            return hits[0]
        if proc.poll() is not None:
            pytest.fail(f"process ended ({proc.returncode}) before writing {pattern}: {proc.stderr.read()[-3000:]}")
        time.sleep(0.01)
    pytest.fail(f"no {pattern} in {pattern_dir} after {timeout} s")


def csv_without_wall(path: Path) -> str:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    return df.drop(columns=["wall_s"]).to_csv(index=False)


@pytest.mark.slow
def test_cli_kill9_then_rerun_resumes_and_matches(work, reference):
    out = work / "kill" / "sweep.csv"
    ck = Path(f"{out}.ckpt")
    # frequent checkpoints while it is to be killed, so that the kill lands inside the second job (which lasts about
    # 0.4 s on an idle machine, longer on a busy one) well before it ends
    p = subprocess.Popen(sweep_cmd(work, "kill/sweep.csv"), env=env("0.03"), stderr=subprocess.PIPE, text=True)
    try:
        wait_for(ck, "0001-*.pt", p)                                  # job 0 finished, job 1 checkpointed
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    assert not out.exists()
    st = torch.load(next(ck.glob("0001-*.pt")), weights_only=False)
    assert not st["finished"] and 0 < st["step"] < SWEEP["steps"]
    assert torch.load(next(ck.glob("0000-*.pt")), weights_only=False)["finished"]

    r = subprocess.run(sweep_cmd(work, "kill/sweep.csv"), env=env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "train call already finished" in r.stderr and "resuming train call from step" in r.stderr
    assert not ck.exists()                                            # removed once the output was written
    assert csv_without_wall(out) == csv_without_wall(reference)
    df = pd.read_csv(out)
    assert df[df.label == "diverges"].diverged.any() and not df[df.label != "diverges"].diverged.any()


SNAKEFILE = """
rule sweep:
    output: "results/sweep.csv"
    params: p={params!r}
    log: "logs/sweep.log"
    shell: "{python} -m isometry experiment sweep.mlp --params '{{params.p}}' --output {{output}} > {{log}} 2>&1"
"""


@pytest.mark.slow
@pytest.mark.workflow
def test_snakemake_kill9_then_rerun_incomplete_resumes(work, reference):
    wf = work / "wf"
    wf.mkdir()
    (wf / "Snakefile").write_text(SNAKEFILE.format(params=json.dumps({**SWEEP, "data_dir": str(work / "data")}),
                                                   python=sys.executable))
    cmd = [sys.executable, "-m", "snakemake", "--cores", "1", "-s", str(wf / "Snakefile"), "--directory", str(wf)]
    p = subprocess.Popen(cmd, env=env("0.03"), stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        wait_for(wf / "results" / "sweep.csv.ckpt", "0001-*.pt", p, timeout=180)
    finally:
        os.killpg(p.pid, signal.SIGKILL)                              # snakemake and its job: the whole group
        p.wait()
    assert not (wf / "results" / "sweep.csv").exists()
    # a killed snakemake leaves its lock (it says so, and how to remove it): the documented recovery is --unlock,
    # then the rerun; --rerun-incomplete (profiles/default sets it) reruns the job it marked incomplete
    u = subprocess.run(cmd + ["--unlock"], env=env(), capture_output=True, text=True, timeout=120)
    assert u.returncode == 0, u.stderr[-3000:]
    r = subprocess.run(cmd + ["--rerun-incomplete"], env=env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    log = (wf / "logs" / "sweep.log").read_text()
    assert "train call already finished" in log and "resuming train call from step" in log, log
    assert csv_without_wall(wf / "results" / "sweep.csv") == csv_without_wall(reference)
