"""Bad input: each case stops with a clear message naming what is wrong, and loses nothing already computed.

Cases: invalid config values and unknown init names (the message names the key), bad --params, a corrupted or
truncated dataset archive, a missing or unreadable mirror, a run that diverges (recorded, the sweep goes on), a full
disk while writing a CSV or a checkpoint (previous file intact, no partial file, rerun resumes).
"""

from __future__ import annotations

import copy
import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml

from isometry import checkpoint, cli
from isometry.config import ConfigError, load_yaml, validate_config
from isometry.io import write_csv
from test_resume import StopAt, _run, make_data

REPO = Path(__file__).resolve().parents[1]



def _main(capsys, *argv) -> tuple[int, str]:
    rc = cli.main([str(a) for a in argv])
    return rc, capsys.readouterr().err


# ------------------------------------------------------------------------------------------------ configuration
def test_invalid_config_value_names_the_key(tmp_path, capsys):
    cfg = load_yaml(REPO / "tests/configs/tiny.yaml")
    cfg["max_ensemble"] = 0
    cfg["data"]["cifar10_source"] = "imagenet"
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(cfg))
    rc, err = _main(capsys, "validate-config", tmp_path / "bad.yaml")
    assert rc == 2
    assert "error: invalid configuration:" in err
    assert "config key 'max_ensemble': 0 is less than the minimum of 1" in err
    assert "config key 'data.cifar10_source': 'imagenet' is not one of auto, official, jpeg" in err


def test_unknown_init_name_in_config_names_the_key(tmp_path):
    """A config section whose ``inits`` use the schema's ``init_scheme`` definition (as the paper sections do)."""
    schemas = tmp_path / "schemas"
    shutil.copytree(REPO / "workflow/schemas", schemas)
    root = load_yaml(schemas / "config.schema.yaml")
    root["properties"]["mysweep"] = {"type": "object", "properties": {
        "inits": {"type": "array", "items": {"$ref": "#/$defs/init_scheme"}}}}
    (schemas / "config.schema.yaml").write_text(yaml.safe_dump(root))
    cfg = copy.deepcopy(load_yaml(REPO / "tests/configs/tiny.yaml"))
    cfg["mysweep"] = {"inits": ["orthogonal", "orthgonal"]}
    with pytest.raises(ConfigError) as e:
        validate_config(cfg, schemas)
    assert "config key 'mysweep.inits[1]': 'orthgonal' is not a known init scheme (known: gaussian," in str(e.value)
    cfg["mysweep"] = {"inits": ["no_such_module_xyz:scheme"]}
    with pytest.raises(ConfigError) as e:
        validate_config(cfg, schemas)
    assert "config key 'mysweep.inits[0]': cannot load init scheme 'no_such_module_xyz:scheme'" in str(e.value)


@pytest.mark.parametrize("params, needle", [
    ({"grid": {"depth": 2, "width": 8, "init": ["orthogonal", "orthgonal"]}},
     "sweep.mlp: params key 'grid.init[1]': unknown init scheme 'orthgonal'; known: "),
    ({"grid": {"depth": 2, "width": 8, "init": "nomod_xyz:f"}},
     "sweep.mlp: params key 'grid.init': cannot import module 'nomod_xyz'"),
    ({"grid": {"depth": [2, -1], "width": 8}}, "sweep.mlp: params key 'grid.depth[1]': -1 is not an integer >= 1"),
    ({"grid": {"depth": 2, "width": 8, "lr": "fast"}}, "sweep.mlp: params key 'grid.lr': 'fast' is not a finite"),
    ({"grid": {"depth": 2, "width": 8, "nonlinarity": "tanh"}},
     "sweep.mlp: params key 'grid.nonlinarity': unknown column (misspelled?)"),
    ({"stepz": 3, "grid": {"depth": 2, "width": 8}}, "sweep.mlp: unknown params key(s) 'stepz' (misspelled?)"),
])
def test_bad_sweep_params_name_the_key(tmp_path, capsys, params, needle):
    p = {"steps": 5, "batch_size": 4, "data_dir": str(tmp_path), **params}
    rc, err = _main(capsys, "experiment", "sweep.mlp", "--params", json.dumps(p), "--output", tmp_path / "o.csv")
    assert rc == 2 and needle in err, err
    assert not list(tmp_path.iterdir())                              # nothing written, no checkpoint dir left


def test_bad_params_json_and_missing_dataset(tmp_path, capsys):
    rc, err = _main(capsys, "experiment", "sweep.mlp", "--params", "{steps: 3}", "--output", tmp_path / "o.csv")
    assert rc == 2 and "error: --params is not valid JSON" in err
    p = {"steps": 5, "batch_size": 4, "data_dir": str(tmp_path / "data"), "grid": {"depth": 1, "width": 4}}
    rc, err = _main(capsys, "experiment", "sweep.mlp", "--params", json.dumps(p), "--output", tmp_path / "o.csv")
    assert rc == 1
    assert f"error: sweep.mlp: {tmp_path}/data/mnist/mnist.pt does not exist: build it first with" in err


# ------------------------------------------------------------------------------------------------ data sets
def _fake_mirror(d: Path) -> Path:
    """A mirror holding MNIST's four file names with wrong contents (a truncated train-images archive)."""
    from torchvision.datasets import MNIST

    d.mkdir(parents=True)
    for name, _ in MNIST.resources:
        (d / name).write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 100)     # a gzip header, then truncated
    return d


def test_corrupt_archive_is_reported_and_nothing_is_overwritten(tmp_path, capsys):
    mirror = _fake_mirror(tmp_path / "mirror")
    out = tmp_path / "data" / "mnist" / "mnist.pt"
    out.parent.mkdir(parents=True)
    out.write_bytes(b"previous good file")
    rc, err = _main(capsys, "data", "mnist", "--mirror", mirror, "--no-download", "--data-dir", tmp_path / "data")
    assert rc == 1
    assert "error: mnist: could not obtain a verified copy of train-images-idx3-ubyte.gz:" in err
    assert (f"{mirror}/train-images-idx3-ubyte.gz: checksum error, md5 " in err
            and "(corrupt or truncated file; not used)" in err)
    assert out.read_bytes() == b"previous good file"                 # the earlier conversion is untouched


def test_missing_or_unreadable_mirror(tmp_path):
    missing = tmp_path / "no_such_mirror"
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "mnist").mkdir()
    shutil.copy(_fake_mirror(tmp_path / "src") / "train-images-idx3-ubyte.gz", locked / "mnist")
    partly = _fake_mirror(tmp_path / "partly")
    (partly / "train-images-idx3-ubyte.gz").chmod(0)
    locked.chmod(0)
    cmd = [sys.executable, "-m", "isometry", "data", "mnist", "--mirror", str(missing), "--mirror", str(locked),
           "--mirror", str(partly), "--no-download", "--data-dir", str(tmp_path / "data")]
    if os.geteuid() == 0:
        # root reads through chmod 000 (CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH); run the command without those
        # capabilities so that the permissions apply as they do for an ordinary user
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: chmod 000 cannot make a directory unreadable")
        cmd = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", *cmd]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    finally:
        locked.chmod(0o755)
    assert r.returncode == 1, r.stderr
    assert f"mirror {missing}: does not exist or is not a directory (skipped)" in r.stderr
    assert f"mirror {locked}: not readable (skipped)" in r.stderr
    assert f"{partly}/train-images-idx3-ubyte.gz: not readable" in r.stderr
    assert not (tmp_path / "data" / "mnist" / "mnist.pt").exists()


# ------------------------------------------------------------------------------------------------ divergence
def test_diverging_run_is_recorded_and_the_sweep_goes_on(tmp_path, capsys):
    make_data(tmp_path / "data", n_train=64, n_test=32)
    p = {"steps": 30, "batch_size": 8, "n_log": 5, "data_dir": str(tmp_path / "data"), "device": "cpu",
         "grid": {"depth": 2, "width": 8, "nonlinearity": "relu", "lr": [0.01, 1e20], "seed": 0},
         "runs": [{"depth": 3, "width": 8, "nonlinearity": "relu", "lr": 0.01}]}
    rc, err = _main(capsys, "experiment", "sweep.mlp", "--params", json.dumps(p), "--output", tmp_path / "o.csv")
    assert rc == 0, err
    df = pd.read_csv(tmp_path / "o.csv")
    bad = df[df.lr == 1e20]
    first = bad[bad.diverged].step.min()
    assert bad[bad.step >= first].diverged.all() and bad[bad.step >= first].train_loss.isna().all()
    assert bad[bad.step < first].train_loss.notna().all()
    ok = df[df.lr == 0.01]
    assert not ok.diverged.any() and ok.train_loss.notna().all() and set(ok.depth) == {2, 3}
    assert ok.step.max() == 30


# ------------------------------------------------------------------------------------------------ full disk
def _enospc(*_a, **_k):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_full_disk_while_writing_a_csv_keeps_the_previous_file(tmp_path, monkeypatch):
    out = tmp_path / "r.csv"
    write_csv(pd.DataFrame({"a": [1, 2]}), out)
    before = out.read_bytes()

    def partial_then_full(self, path, *a, **k):
        Path(path).write_text("a\n3\n")                              # half a file, then the disk is full
        _enospc()

    monkeypatch.setattr(pd.DataFrame, "to_csv", partial_then_full)
    with pytest.raises(OSError) as e:
        write_csv(pd.DataFrame({"a": [3, 4]}), out)
    assert e.value.errno == errno.ENOSPC
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["r.csv"]         # no temporary file left behind


def test_full_disk_while_checkpointing_training_goes_on(tmp_path, monkeypatch, capsys):
    ref, ref_w = _run_ds(StopAt())
    monkeypatch.setenv(checkpoint.ENV_EVERY, "0")
    real_save, calls = torch.save, []

    def save(obj, f, *a, **k):
        calls.append(obj["step"])
        if len(calls) > 3:                                           # the 4th write on: half a file, then ENOSPC
            if hasattr(f, "write"):
                f.write(b"PK\x03\x04 partial")
            else:
                Path(f).write_bytes(b"PK\x03\x04 partial")
            _enospc()
        return real_save(obj, f, *a, **k)

    monkeypatch.setattr(checkpoint.torch, "save", save)
    with checkpoint.checkpointing(tmp_path):
        got, got_w = _run_ds(StopAt())
    pd.testing.assert_frame_equal(ref.drop(columns="wall_s"), got.drop(columns="wall_s"))
    assert "could not write checkpoint" in capsys.readouterr().err
    (f,) = tmp_path.glob("*.pt")
    assert [p.name for p in tmp_path.iterdir() if p.name != ".lock"] == [f.name]   # no partial file
    st = torch.load(f, weights_only=False)                           # the last good checkpoint, intact
    assert st["step"] == 3 and not st["finished"]


def _run_ds(cb):
    from isometry.data import Dataset

    g = torch.Generator().manual_seed(7)
    u8 = lambda n: torch.randint(0, 256, (n, 1, 4, 4), dtype=torch.uint8, generator=g)  # noqa: E731
    ds = Dataset("mnist", "random", u8(72), torch.randint(0, 5, (72,), generator=g),
                 u8(30), torch.randint(0, 5, (30,), generator=g))
    return _run(ds, "adam", cb)


def test_full_disk_at_the_end_keeps_finished_work_and_rerun_resumes(tmp_path, capsys, monkeypatch):
    make_data(tmp_path / "data", n_train=64, n_test=32)
    p = {"steps": 40, "batch_size": 8, "n_log": 5, "data_dir": str(tmp_path / "data"), "device": "cpu",
         "grid": {"depth": [1, 2], "width": 8, "seed": [0, 1]}}
    argv = ["experiment", "sweep.mlp", "--params", json.dumps(p), "--output", tmp_path / "o.csv"]
    import isometry.io

    real = isometry.io.write_csv
    monkeypatch.setattr(isometry.io, "write_csv", lambda df, path: _enospc())
    rc, err = _main(capsys, *argv)
    assert rc == 1
    assert "error: sweep.mlp: [Errno 28] No space left on device" in err
    assert f"note: finished work is kept in {tmp_path}/o.csv.ckpt/; rerun the same command to resume from it" in err
    assert len(list((tmp_path / "o.csv.ckpt").glob("*.pt"))) == 2    # both jobs' finished records
    assert not (tmp_path / "o.csv").exists()

    monkeypatch.setattr(isometry.io, "write_csv", real)              # space freed: rerun
    rc, err = _main(capsys, *argv)
    assert rc == 0, err
    assert err.count("train call already finished") == 2             # nothing retrained
    assert not (tmp_path / "o.csv.ckpt").exists()
    df = pd.read_csv(tmp_path / "o.csv")
    assert len(df) == 4 * df.step.nunique() and df.step.max() == 40


# ================================================================================================ hardening (issue 20)
import contextlib  # noqa: E402
import stat  # noqa: E402


@contextlib.contextmanager
def small_tmpfs(path: Path, size: str = "1m"):
    """A real file system of ``size`` mounted at ``path`` (root only; the test is skipped otherwise, saying why)."""
    if os.geteuid() != 0:
        pytest.skip("full-disk test needs root to mount a small tmpfs (CI runs as root)")
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True,
                       text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip()})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _fill(d: Path) -> Path:
    """Fill the file system holding ``d`` (a small tmpfs) until it has no space left; return the filler file."""
    filler = d / "filler"
    with open(filler, "wb", buffering=0) as fh:
        with contextlib.suppress(OSError):
            while True:
                fh.write(b"\0" * 4096)
    return filler


def test_full_disk_during_a_real_checkpoint_training_goes_on(tmp_path, monkeypatch, capsys):
    """Issue 20 item 1: torch.save on a full disk raised RuntimeError ('unexpected pos'), which killed the job."""
    ref, _ = _run_ds(StopAt())
    monkeypatch.setenv(checkpoint.ENV_EVERY, "0")
    with small_tmpfs(tmp_path / "fs") as fs:
        ck = fs / "ckpt"
        ck.mkdir()
        _fill(fs)
        with checkpoint.checkpointing(ck):
            got, _ = _run_ds(StopAt())
        pd.testing.assert_frame_equal(ref.drop(columns="wall_s"), got.drop(columns="wall_s"))
        err = capsys.readouterr().err
        assert "could not write checkpoint" in err and "training goes on" in err
        assert f"no space left on device: {ck}/" in err
        assert [p.name for p in ck.iterdir()] == [".lock"]           # no partial or temporary file left


def test_full_disk_during_dataset_conversion_names_the_file(tmp_path, capsys, shared_data):
    """Issue 20 items 1 and 8: `data` on a full disk said `basic_ios::clear` / a traceback."""
    with small_tmpfs(tmp_path / "fs") as fs:
        rc, err = _main(capsys, "data", "mnist", "--mirror", shared_data, "--no-download", "--data-dir", fs / "data")
        assert rc == 1, err
        assert f"error: no space left on device: {fs}/data/mnist/mnist.pt" in err
        assert "Traceback" not in err
        assert not (fs / "data" / "mnist" / "mnist.pt").exists()
        assert not [p for p in (fs / "data" / "mnist").iterdir() if p.name.endswith(".tmp")]


def test_data_on_a_read_only_path_is_a_clear_error(tmp_path, capsys, shared_data):
    """Issue 20 item 8: `data --data-dir <read-only>` printed a traceback."""
    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() == 0:
        with small_tmpfs(ro):
            subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True)
            rc, err = _main(capsys, "data", "mnist", "--mirror", shared_data, "--no-download", "--data-dir",
                            ro / "data")
    else:
        ro.chmod(0o555)
        try:
            rc, err = _main(capsys, "data", "mnist", "--mirror", shared_data, "--no-download", "--data-dir",
                            ro / "data")
        finally:
            ro.chmod(0o755)
    assert rc == 1, err
    assert f"error: cannot write {ro}/data/mnist" in err and "choose a writable --data-dir" in err
    assert "Traceback" not in err


def test_outputs_honour_the_umask(tmp_path):
    """Issue 20 item 10: temp-file-then-rename left every output 0600 whatever the umask."""
    from isometry.io import save_torch, write_text

    old = os.umask(0o022)
    try:
        write_csv(pd.DataFrame({"a": [1]}), tmp_path / "r.csv")
        write_text("x", tmp_path / "c.txt")
        save_torch({"x": torch.zeros(2)}, tmp_path / "t.pt")
        os.umask(0o077)
        write_text("y", tmp_path / "private.txt")
    finally:
        os.umask(old)
    for name in ("r.csv", "c.txt", "t.pt"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name
    assert stat.S_IMODE((tmp_path / "private.txt").stat().st_mode) == 0o600


# ------------------------------------------------------------------------------------------------ kill -9 and locks
def _alive(pid: int) -> bool:
    from isometry.process import _stat

    return _stat(pid) is not None


def _wait_for(pred, timeout: float) -> bool:
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


_CHILD = ("import os, sys, time; from isometry.process import die_with_parent; ok = die_with_parent(interval=0.1); "
          "open(sys.argv[1], 'w').write(f'{os.getpid()} {ok}'); time.sleep(60)")


def test_training_process_dies_with_a_killed_snakemake(tmp_path):
    """Issue 20 item 13: kill -9 of Snakemake left `python -m isometry experiment` training (Snakemake -> bash ->
    python; the job shell survives the kill, so the kernel's parent-death signal alone is not enough)."""
    import shlex

    pidfile = tmp_path / "child.pid"
    (tmp_path / "child.py").write_text(_CHILD)
    inner = f"{shlex.quote(sys.executable)} {shlex.quote(str(tmp_path / 'child.py'))} {shlex.quote(str(pidfile))}"
    (tmp_path / "fake_snakemake.py").write_text(
        f"import subprocess, time\nsubprocess.Popen(['bash', '-c', {inner + '; echo shell-survives'!r}])\n"
        "time.sleep(60)\n")
    script = shlex.quote(str(tmp_path / "fake_snakemake.py"))
    fake_snakemake = f"exec -a snakemake {shlex.quote(sys.executable)} {script}"
    sm = subprocess.Popen(["bash", "-c", fake_snakemake], env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    try:
        assert _wait_for(lambda: pidfile.exists() and pidfile.read_text(), 30), "child did not start"
        pid, ok = pidfile.read_text().split()
        pid = int(pid)
        assert ok == "True"
        sm.kill()                                                    # kill -9 of "Snakemake" only
        assert _wait_for(lambda: not _alive(pid), 5), "the training process outlived Snakemake"
    finally:
        sm.kill()
        sm.wait()
        with contextlib.suppress(Exception):
            os.kill(int(pidfile.read_text().split()[0]), 9)


def test_without_snakemake_the_process_is_left_alone(tmp_path):
    """`nohup python -m isometry experiment ...` (no Snakemake above it) must not be tied to its shell."""
    pidfile = tmp_path / "child.pid"
    r = subprocess.run([sys.executable, "-c", _CHILD.replace("time.sleep(60)", "pass"), str(pidfile)],
                       env={**os.environ, "PYTHONPATH": str(REPO / "src")}, timeout=60)
    assert r.returncode == 0 and pidfile.read_text().split()[1] == "False"


def test_second_process_never_deletes_a_locked_checkpoint_directory(tmp_path, monkeypatch):
    """Issue 20 item 13 (race): a second run that found the directory locked before the first had saved anything
    removed it ('nothing computed yet') -- under the first run's feet."""
    import threading

    out = tmp_path / "o.csv"
    ckdir = Path(f"{out}.ckpt")
    entered, release, errors = threading.Event(), threading.Event(), []

    def first():
        try:
            with checkpoint.experiment_checkpoints(out, "x.y", {"a": 1}, every=0) as s:
                entered.set()
                release.wait(30)
                (s.dir / "0000-k.pt").write_bytes(b"x")                 # a checkpoint appears after the race
                write_csv(pd.DataFrame({"a": [1]}), out)
        except BaseException as exc:                                   # noqa: BLE001
            errors.append(exc)

    t = threading.Thread(target=first)
    t.start()
    try:
        assert entered.wait(30)
        monkeypatch.setenv(checkpoint.ENV_LOCK_WAIT, "0.3")
        for params in ({"a": 1}, {"a": 2}):                              # same run, and another configuration
            with pytest.raises(OSError, match=r"checkpoint directory .*o\.csv\.ckpt is in use by process "
                                              rf"{os.getpid()} "):
                with checkpoint.experiment_checkpoints(out, "x.y", params):
                    pass
            assert (ckdir / "experiment.json").is_file() and (ckdir / ".lock").is_file()
    finally:
        release.set()
        t.join(30)
    assert not errors and out.exists() and not ckdir.exists()


def test_stale_lock_of_a_dead_process_is_taken(tmp_path, capsys):
    """A lock file left by a process killed with -9 (its pid recorded in it) does not block the rerun."""
    d = tmp_path / "o.csv.ckpt"
    code = ("import sys, time; from isometry import checkpoint\n"
            "with checkpoint.directory_lock(sys.argv[1]):\n    print('locked', flush=True); time.sleep(60)")
    p = subprocess.Popen([sys.executable, "-c", code, str(d)], stdout=subprocess.PIPE, text=True,
                         env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    assert p.stdout.readline().strip() == "locked"
    assert json.loads((d / ".lock").read_text())["pid"] == p.pid
    p.kill()
    p.wait()
    with checkpoint.directory_lock(d, wait=0):                       # no waiting, no error
        assert json.loads((d / ".lock").read_text())["pid"] == os.getpid()


def test_real_snakemake_kill_9_stops_its_job(tmp_path):
    """The same through a real Snakemake (Snakemake -> bash -c 'set -euo pipefail; python ...' -> python)."""
    (tmp_path / "child.py").write_text(_CHILD)
    (tmp_path / "Snakefile").write_text(
        "rule a:\n    output: 'a.txt'\n"
        f"    shell: '{sys.executable} child.py child.pid > job.log 2>&1; touch {{output}}'\n")
    sm = subprocess.Popen([sys.executable, "-m", "snakemake", "--cores", "1", "--directory", str(tmp_path), "-s",
                           str(tmp_path / "Snakefile")], cwd=tmp_path, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    pidfile = tmp_path / "child.pid"
    try:
        assert _wait_for(lambda: pidfile.exists() and pidfile.read_text(), 60), "job did not start"
        pid = int(pidfile.read_text().split()[0])
        sm.kill()
        sm.wait()
        assert _wait_for(lambda: not _alive(pid), 5), "the job outlived kill -9 of Snakemake"
        assert "the Snakemake that started this job" in (tmp_path / "job.log").read_text()
    finally:
        sm.kill()
        with contextlib.suppress(Exception):
            os.kill(int(pidfile.read_text().split()[0]), 9)


# ------------------------------------------------------------------------------------------------ converted datasets
def _converted(data_dir: Path, n_train=64, n_test=32) -> Path:
    """A small dataset converted the way `python -m isometry data` writes one (.pt + .json with its md5)."""
    from isometry.data import save_converted

    g = torch.Generator().manual_seed(0)
    d = {"train_x": torch.randint(0, 256, (n_train, 1, 8, 8), dtype=torch.uint8, generator=g),
         "train_y": torch.randint(0, 10, (n_train,), generator=g),
         "test_x": torch.randint(0, 256, (n_test, 1, 8, 8), dtype=torch.uint8, generator=g),
         "test_y": torch.randint(0, 10, (n_test,), generator=g),
         "name": "mnist", "variant": "official", "source": "test", "classes": [str(i) for i in range(10)]}
    return save_converted(d, data_dir / "mnist" / "mnist.pt")


def _tamper_in_place(path: Path, edit) -> None:
    """Rewrite ``path`` in place (same inode) with ``edit(dict)`` applied, and put its mtime back."""
    import io

    st = path.stat()
    d = torch.load(path, weights_only=True)
    edit(d)
    buf = io.BytesIO()
    torch.save(d, buf)
    with open(path, "r+b") as fh:
        fh.write(buf.getvalue())
        fh.truncate()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_mtime_ns == st.st_mtime_ns


def test_dataset_modified_in_place_is_detected(tmp_path, monkeypatch, capsys):
    """Issue 20 item 2: pixels and labels changed in place (mtime kept) trained silently; the CSV said
    'mnist (official)'."""
    from isometry.data import DatasetCorruptError, load_dataset

    monkeypatch.setenv("ISOMETRY_CACHE_DIR", str(tmp_path / "cache"))
    pt = _converted(tmp_path / "data")
    assert load_dataset("mnist", tmp_path / "data").label == "mnist (official)"     # verified, and remembered

    def edit(d):
        d["train_x"][:10] = 255 - d["train_x"][:10]
        d["train_y"][:10] = (d["train_y"][:10] + 1) % 10

    _tamper_in_place(pt, edit)
    with pytest.raises(DatasetCorruptError) as e:
        load_dataset("mnist", tmp_path / "data")
    msg = str(e.value)
    assert msg.startswith(f"{pt}: checksum mismatch, md5 ") and f"recorded in {pt.with_suffix('.json')}" in msg
    assert f"rebuild it with `python -m isometry data mnist --data-dir {tmp_path / 'data'}`" in msg

    p = {"steps": 5, "batch_size": 8, "data_dir": str(tmp_path / "data"), "device": "cpu",
         "grid": {"depth": 1, "width": 4}}
    rc, err = _main(capsys, "experiment", "sweep.mlp", "--params", json.dumps(p), "--output", tmp_path / "o.csv")
    assert rc == 1 and f"error: sweep.mlp: {pt}: checksum mismatch" in err and "Traceback" not in err
    assert not (tmp_path / "o.csv").exists()


def test_truncated_or_malformed_dataset_names_the_file(tmp_path, monkeypatch):
    """Issue 20 item 2: a truncated .pt gave 'failed finding central directory' without the file name; labels
    outside the class range gave 'IndexError: Target 7 is out of bounds' during training."""
    from isometry.data import DatasetCorruptError, load_dataset, save_converted

    monkeypatch.setenv("ISOMETRY_CACHE_DIR", str(tmp_path / "cache"))
    pt = _converted(tmp_path / "a")
    pt.with_suffix(".json").unlink()                                # no checksum to compare with
    pt.write_bytes(pt.read_bytes()[: pt.stat().st_size // 2])
    with pytest.raises(DatasetCorruptError, match=rf"^{pt}: unreadable \(.*\); rebuild it with"):
        load_dataset("mnist", tmp_path / "a")

    pt = _converted(tmp_path / "b")
    d = torch.load(pt, weights_only=True)
    d["classes"] = d["classes"][:5]                                 # 5 classes, labels up to 9: a bad conversion
    save_converted(d, pt)
    with pytest.raises(DatasetCorruptError, match=r"train labels outside 0\.\.4 \(found 0\.\.9\)"):
        load_dataset("mnist", tmp_path / "b")


def test_dataset_verification_is_cheap_after_the_first_load(tmp_path, monkeypatch):
    """The md5 is computed once per file (then a stat): later loads, in this process or another, do not hash."""
    import isometry.data as data

    monkeypatch.setenv("ISOMETRY_CACHE_DIR", str(tmp_path / "cache"))
    _converted(tmp_path / "data")
    calls = []
    real = data.md5sum
    monkeypatch.setattr(data, "md5sum", lambda p, *a: calls.append(p) or real(p, *a))
    data.load_dataset("mnist", tmp_path / "data")
    data._verified.clear()                                          # a new process: only the on-disk stamp is left
    data.load_dataset("mnist", tmp_path / "data")
    assert len(calls) == 1


def test_incomplete_or_corrupt_cifar_image_folder_is_not_used(tmp_path, monkeypatch, capsys):
    """Issue 20 item 3: a folder missing 1,000 images converted (exit 0) into 49,000 training images; a truncated
    .jpg failed with 'OSError: Truncated File Read' without naming the file."""
    import numpy as np

    import isometry.data as D
    from test_data import _make_image_folder

    monkeypatch.setattr(D, "CIFAR10_JPEG_PER_CLASS", {"train": 3, "test": 2})   # the real copy: 5,000 / 1,000
    folder = tmp_path / "mirror" / "cifar-10-jpeg"
    _make_image_folder(folder, np.random.default_rng(0), per_class=(3, 2))
    (folder / "train" / "cat" / "0001.jpg").unlink()
    argv = ["data", "cifar10", "--mirror", tmp_path / "mirror", "--no-download", "--cifar10-source", "jpeg",
            "--data-dir", tmp_path / "data"]
    rc, err = _main(capsys, *argv)
    assert rc == 1, err
    assert (f"jpeg image folder {folder}: incomplete copy of CIFAR-10 (train/cat: 2 images, expected 3) (not used)"
            in err)
    assert not (tmp_path / "data" / "cifar10" / "cifar10.pt").exists()

    (folder / "train" / "cat" / "0001.jpg").write_bytes((folder / "train" / "cat" / "0000.jpg").read_bytes())
    bad = folder / "test" / "ship" / "0001.jpg"
    bad.write_bytes(bad.read_bytes()[:200])                          # truncated JPEG
    rc, err = _main(capsys, *argv)
    assert rc == 1, err
    assert f"{bad}: cannot decode this image (OSError: " in err and "corrupt or truncated file" in err
    assert "Traceback" not in err and not (tmp_path / "data" / "cifar10" / "cifar10.pt").exists()


# ------------------------------------------------------------------------------------------------ config hardening
def _tiny() -> dict:
    return copy.deepcopy(load_yaml(REPO / "tests/configs/tiny.yaml"))


def test_reference_depth_not_swept_is_rejected(tmp_path):
    """Issue 20 item 4: reference_depth 7 with depths [2, 4] compared t(4)/t(4) = 1, and 'orthogonal learning time
    is depth-independent' passed. saxe2014 (issue 18) has no reference_depth key any more: its Fig. 6A rows take the
    depth nearest 10 and fail when that is the deepest (tests/test_saxe2014.py); the swapped-range cases remain."""
    cfg = _tiny()
    cfg["sussillo2014"]["optimal_gain"]["stat_gains"] = {"min": 2.0, "max": 0.8, "num": 5}
    with pytest.raises(ConfigError, match=r"'sussillo2014.optimal_gain.stat_gains.max': 0.8 must be greater than "
                                          r"'sussillo2014.optimal_gain.stat_gains.min' \(2.0\)"):
        validate_config(cfg)


def test_cross_key_constraints_are_extensible():
    from isometry.config import CONSTRAINTS, Compare, OneOf, check_constraints

    cfg = {"s": {"depths": [1, 2], "show": {"a": 2, "b": 5}, "lst": [1, 3]}}
    assert check_constraints(cfg, [OneOf("s.show.*", "s.depths", "drawn depth")]) == [
        "config key 's.show.b': 5 is not one of the values of 's.depths' (1, 2): drawn depth"]
    assert check_constraints(cfg, [OneOf("s.lst", "s.depths")]) == [
        "config key 's.lst[1]': 3 is not one of the values of 's.depths' (1, 2)"]
    assert check_constraints(cfg, [Compare("s.show.a", ">=", "s.depths", "max")]) == []
    assert check_constraints({"s": {"enabled": False, "x": 9, "d": [1]}}, [OneOf("s.x", "s.d")]) == []
    assert check_constraints(cfg, [OneOf("nope.x", "s.depths")]) == []          # absent keys: nothing to check
    assert all(hasattr(c, "violations") for c in CONSTRAINTS)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_numbers_are_rejected(value):
    """Issue 20 item 6: `lr_in: [.nan]` validated, and every run was then recorded as diverged."""
    cfg = _tiny()
    cfg["sussillo2014"]["gain_sweep"]["gains"] = [value]
    with pytest.raises(ConfigError) as e:
        validate_config(cfg)
    assert (f"config key 'sussillo2014.gain_sweep.gains[0]': {value!r} is not a finite number (NaN and infinities "
            "are not accepted anywhere in the configuration)") in str(e.value)


def test_yaml_numbers_duplicates_and_typed_nested_overrides(tmp_path, capsys):
    """Issue 20 item 7: '1e-3' is not of type 'number'; nested --config overrides were always text; a duplicate
    YAML key silently kept the last value."""
    from snakemake.cli import parse_config

    from isometry.config import load_config_file

    text = (REPO / "tests/configs/tiny.yaml").read_text()
    text = text.replace("lr: 0.05, lr_depth_scaling", "lr: 5e-2, lr_depth_scaling")
    text = text.replace("critical: {sigma_w2: 1.05, sigma_b2: 2.01e-5}",
                        "critical: {sigma_w2: 1.05, sigma_b2: 2.01E-5}")
    text = text.replace("grad_clip: 5.0", "grad_clip: 5.0e0")
    (tmp_path / "num.yaml").write_text(text)
    cfg = validate_config(load_config_file(tmp_path / "num.yaml"))
    assert cfg["xiao2018"]["train"]["lr"] == 0.05 and cfg["xiao2018"]["critical"]["sigma_b2"] == 2.01e-5
    assert cfg["sussillo2014"]["recipe"]["grad_clip"] == 5.0

    # what Snakemake delivers for `--config sussillo2014='{walks: {depth: 8}, gain_sweep: {lr_pairs: [[1e-3, 1e-2]]}}'`
    over = parse_config(["sussillo2014={walks: {depth: 8, n_show: 0}, gain_sweep: {lr_pairs: [[1e-3, 1e-2]], "
                         "gains: [1, 2]}}",
                         "xiao2018={train: {edge_lr: null, lr_depth_scaling: none}, model: {checkpoint: 2}}"])
    assert over["sussillo2014"]["walks"]["depth"] == "8"                    # Snakemake: text
    cfg = _tiny()
    from isometry.config import deep_update

    cfg = validate_config(deep_update(cfg, over))
    assert cfg["sussillo2014"]["walks"] == {"nonlinearities": ["linear", "relu", "tanh"], "widths": [16, 24, 32],
                                            "show_width": 16, "depth": 8, "n_walks": 32, "n_show": 0}
    gs = cfg["sussillo2014"]["gain_sweep"]
    assert gs["lr_pairs"] == [[0.001, 0.01]] and gs["gains"] == [1, 2]
    assert cfg["xiao2018"]["train"]["edge_lr"] is None and cfg["xiao2018"]["train"]["lr_depth_scaling"] == "none"
    assert cfg["xiao2018"]["model"]["checkpoint"] == 2
    cfg = deep_update(_tiny(), parse_config(["sussillo2014={walks: {depth: wide}}"]))
    with pytest.raises(ConfigError, match=r"'sussillo2014.walks.depth': 'wide' is not a number \(write it unquoted"):
        validate_config(cfg)

    (tmp_path / "dup.yaml").write_text("scale: test\ndata:\n  dir: data\n  download: false\n  dir: other\n")
    rc, err = _main(capsys, "validate-config", tmp_path / "dup.yaml")
    assert rc == 2
    assert f"error: {tmp_path}/dup.yaml, line 5, column 3: duplicate key 'dir' (first given on line 3;" in err


def test_validate_config_on_a_broken_missing_or_directory_path(tmp_path, capsys):
    """Issue 20 item 8: validate-config printed a traceback for a YAML syntax error, a missing file, a directory."""
    from isometry.config import load_config_file

    (tmp_path / "bad.yaml").write_text("scale: test\ndata:\n  dir: data\n   mirrors: [a\n")
    rc, err = _main(capsys, "validate-config", tmp_path / "bad.yaml")
    assert rc == 2 and f"error: {tmp_path}/bad.yaml, line 4, column " in err and "not valid YAML" in err
    assert "Traceback" not in err
    rc, err = _main(capsys, "validate-config", tmp_path / "nope.yaml")
    assert rc == 2 and f"error: config file {tmp_path}/nope.yaml: no such file" in err
    rc, err = _main(capsys, "validate-config", tmp_path)
    assert rc == 2 and f"error: config file {tmp_path}: is a directory" in err
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="the top level must be a mapping"):
        load_config_file(tmp_path / "list.yaml")
    (tmp_path / "tab.yaml").write_text("scale: test\ndata:\n\tdir: data\n")
    with pytest.raises(ConfigError, match=rf"^{tmp_path}/tab.yaml, line 3, column 1: not valid YAML: .*tabs"):
        load_config_file(tmp_path / "tab.yaml")


def test_user_init_scheme_in_a_structural_section_says_where_they_work():
    """Issue 20 item 14: the README's 'module:function' example works only where a section takes any scheme."""
    cfg = _tiny()
    cfg["saxe2014"]["depth_inits"]["inits"] = ["glorot", "mypkg.inits:scaled_uniform"]
    with pytest.raises(ConfigError) as e:
        validate_config(cfg)
    assert ("config key 'saxe2014.depth_inits.inits[1]': 'mypkg.inits:scaled_uniform' is not one of glorot, "
            "pretrained, orthogonal (user init schemes 'module.path:function' are accepted where a section takes any "
            "init scheme (xiao2018 and extras)") in str(e.value)
    cfg = _tiny()
    cfg["xiao2018"]["trainability_heatmap"]["inits"] = ["gaussian", "isometry.init.dense:gaussian_"]
    cfg["extras"]["cnn"]["init"] = "isometry.init.dense:orthogonal_"
    validate_config(cfg)


# ------------------------------------------------------------------------------------------------ advise
@pytest.mark.parametrize("argv, needle", [
    (["--sigma-w2", "-2"], "error: --sigma-w2 must be a finite number > 0, got -2.0"),
    (["--sigma-w2", "nan"], "error: --sigma-w2 must be a finite number > 0, got nan"),
    (["--sigma-w2", "0"], "error: --sigma-w2 must be a finite number > 0, got 0.0"),
    (["--bias-variance", "inf"], "error: --bias-variance must be a finite number >= 0, got inf"),
    (["--bias-variance", "-1"], "error: --bias-variance must be a finite number >= 0, got -1.0"),
    (["--width", "1"], "error: --width must be >= 2, got 1"),
    (["--depth", "0"], "error: --depth must be >= 1, got 0"),
])
def test_advise_rejects_nonsense(capsys, argv, needle):
    """Issue 20 item 9 / issue 19 item 6: sigma_w^2 = -2 or NaN exited 0 (printing chi_1 = -2)."""
    base = {"--nonlinearity": "tanh", "--depth": "10", "--width": "64"}
    for k, v in zip(argv[::2], argv[1::2]):
        base[k] = v
    rc, err = _main(capsys, "advise", *[x for kv in base.items() for x in kv])
    assert rc == 2 and needle in err, err


def test_advise_finite_width_caveat_and_one_prescription():
    """Issue 20 item 9: width 4 tanh gave infinite-width numbers with 'Warnings: none'; tanh at depth 1000 mixed the
    critical sigma_w^2 with a random-walk gain that mean field calls chaotic, without saying which it follows."""
    from isometry import advisor
    from isometry.theory import meanfield as mf

    rep = advisor.advise("tanh", 3, 4)
    assert any(w.startswith("finite width: every number above is an infinite-width limit") for w in rep["warnings"])
    assert "Warnings: none" not in advisor.format_report(rep)
    assert not any(w.startswith("finite width") for w in advisor.advise("tanh", 10, 256)["warnings"])

    rep = advisor.advise("tanh", 1000, 256)
    r, w = rep["recommended"], rep["random_walk"]
    assert r["sigma_w2"] == pytest.approx(float(mf.critical_sigma_w2("tanh", 2e-5)))
    assert r["follows"].startswith("the mean-field critical point chi_1 = 1")
    assert w["chi_1_at_gain_star"] == pytest.approx(float(mf.chi_1("tanh", w["sigma_w2_star"], 2e-5)))
    assert w["chi_1_at_gain_star"] > 1 and w["phase_at_gain_star"] == "chaotic"
    assert "This advice follows the mean-field critical point" in w["vs_mean_field"]
    assert not any("removes the drift" in x for x in rep["warnings"])           # no second, conflicting advice
    text = advisor.format_report(rep)
    assert "random walk vs mean field: g* = 1.06" in text and "chaotic at infinite" in text
    relu = advisor.advise("relu", 50, 64)
    alt = [a for a in relu["alternatives"] if a["scheme"] == "random_walk"]
    assert alt and alt[0]["why"].startswith("Gaussian weights only")


def test_json_config_duplicates_and_nan(tmp_path):
    from isometry.config import load_config_file

    (tmp_path / "c.json").write_text('{"scale": "test", "data": {"dir": "a", "dir": "b"}}')
    with pytest.raises(ConfigError, match=r"c.json: duplicate key 'dir' \(JSON would silently keep the last one\)"):
        load_config_file(tmp_path / "c.json")
    (tmp_path / "n.json").write_text('{"max_ensemble": NaN}')
    with pytest.raises(ConfigError, match="NaN is not a finite number"):
        load_config_file(tmp_path / "n.json")
    (tmp_path / "ok.json").write_text('{"scale": "test", "max_ensemble": 4}')
    assert load_config_file(tmp_path / "ok.json") == {"scale": "test", "max_ensemble": 4}
