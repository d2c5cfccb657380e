"""The Snakemake workflow end to end: lint, DAG, config errors before any job, and the data rules on the real
mirror (shared/data) producing tensors of the right shapes and label counts."""

import json
import subprocess
import sys

import pytest
import torch
import yaml

pytestmark = pytest.mark.workflow


def snakemake(repo, *args, cwd=None, timeout=600):
    cmd = [sys.executable, "-m", "snakemake", "-s", str(repo / "Snakefile"), *args]
    return subprocess.run(cmd, cwd=cwd or repo, capture_output=True, text=True, timeout=timeout)


def test_lint_is_clean(repo):
    r = snakemake(repo, "--lint")
    assert r.returncode == 0, r.stdout + r.stderr


def test_dry_run_shows_the_dag(repo, tmp_path):
    r = snakemake(repo, "-n", "--configfile", str(repo / "config/config.yaml"), "--directory", str(tmp_path))
    assert r.returncode == 0, r.stderr
    out = r.stdout + r.stderr
    for rule in ("all", "checks", "dataset", "saxe2014_checks", "xiao2018_checks"):
        assert rule in out


def test_bad_config_stops_before_any_job(repo, tmp_path):
    bad = yaml.safe_load((repo / "config/config.yaml").read_text())
    bad["max_ensemble"] = -1
    bad["data"]["mirors"] = []
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad))
    r = snakemake(repo, "-n", "--configfile", str(tmp_path / "bad.yaml"), "--directory", str(tmp_path))
    assert r.returncode != 0
    assert "mirors" in r.stderr + r.stdout
    assert not (tmp_path / "results").exists()


@pytest.fixture(scope="module")
def converted(repo, shared_data, tmp_path_factory):
    """Run the data rules through Snakemake with shared/data as the only source (no download)."""
    work = tmp_path_factory.mktemp("wf")
    cfg = yaml.safe_load((repo / "tests/configs/tiny.yaml").read_text())
    cfg["data"]["mirrors"] = [str(shared_data)]
    (work / "tiny.yaml").write_text(yaml.safe_dump(cfg))
    targets = [f"data/{n}/{n}.pt" for n in ("mnist", "fashion_mnist", "cifar10")]
    r = snakemake(repo, "--cores", "2", "--configfile", str(work / "tiny.yaml"), "--directory", str(work), *targets)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return work


@pytest.mark.parametrize("name, n_train, n_test, shape, variant", [
    ("mnist", 60000, 10000, (1, 28, 28), "official"),
    ("fashion_mnist", 60000, 10000, (1, 28, 28), "official"),
    ("cifar10", 50000, 10000, (3, 32, 32), "jpeg"),
])
def test_dataset_tensors(converted, name, n_train, n_test, shape, variant):
    d = torch.load(converted / "data" / name / f"{name}.pt", weights_only=True)
    assert d["variant"] == variant
    assert d["train_x"].dtype == torch.uint8
    assert tuple(d["train_x"].shape) == (n_train, *shape) and tuple(d["test_x"].shape) == (n_test, *shape)
    counts = torch.bincount(d["train_y"], minlength=10)
    assert counts.sum() == n_train and (counts > 0).all() and len(counts) == 10
    assert torch.bincount(d["test_y"]).sum() == n_test
    if name != "mnist":  # Fashion-MNIST and CIFAR-10 are exactly balanced
        assert counts.tolist() == [n_train // 10] * 10
    summary = json.loads((converted / "data" / name / f"{name}.json").read_text())
    assert summary["variant"] == variant


def test_loading_is_fast(converted):
    import time

    from isometry.data import load_dataset

    t = time.perf_counter()
    load_dataset("cifar10", converted / "data")
    assert time.perf_counter() - t < 2.0  # "well under a second" on an idle machine; loose bound under load
