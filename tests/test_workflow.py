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


def test_snakefmt_is_clean(repo):
    r = subprocess.run([sys.executable, "-m", "snakefmt", "--check", "Snakefile", "workflow"], cwd=repo,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


def test_dry_run_shows_the_dag(repo, tmp_path):
    """Default config: every training sweep is expanded into shard jobs, each with a short, copyable command
    (paper.sweep, shard id, the resolved config file) instead of a JSON dump of the config."""
    from isometry import pipeline as P
    from isometry.config import load_config

    r = snakemake(repo, "-n", "-p", "--configfile", str(repo / "config/config.yaml"), "--directory", str(tmp_path))
    assert r.returncode == 0, r.stderr
    out = r.stdout + r.stderr
    for rule in ("all", "checks", "dataset", "saxe2014_checks", "xiao2018_checks", "xiao2018_shard",
                 "xiao2018_aggregate"):
        assert rule in out
    plans = P.plan_workflow(load_config(repo / "config/config.yaml"))
    for paper, plan in plans.items():
        for sweep, shards in plan.shards.items():
            for s in shards:
                assert f"python -m isometry shard {paper}.{sweep} {s.id} --config results/config/config-" in out
    commands = [line[line.index("python -m isometry"):] for line in out.splitlines() if "python -m isometry" in line]
    assert commands and all("{" not in c and len(c) < 600 for c in commands), max(commands, key=len)


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


# ---------------------------------------------------------------------------------------- what an edit reruns
EDIT_TARGETS = ("figures/xiao2018/deep_cnn_curves.png", "results/pennington2017/checks.csv")


@pytest.fixture(scope="module")
def ran(workflow_dir, tmp_path_factory):
    """A finished tiny run of one Xiao figure (MNIST + CIFAR-10 shards) and every Pennington job."""
    from conftest import run_snakemake

    work = tmp_path_factory.mktemp("edits")
    (work / "tiny.yaml").write_text((workflow_dir / "tiny.yaml").read_text())
    (work / "data").symlink_to(workflow_dir / "data")
    run_snakemake(work, *EDIT_TARGETS)
    return work


def _scheduled(repo, work, cfg: dict) -> set[str]:
    """Outputs a dry run after editing the config to ``cfg`` would (re)build."""
    path = work / "edited.yaml"
    path.write_text(yaml.safe_dump(cfg))
    r = snakemake(repo, "-n", *EDIT_TARGETS, "--configfile", str(path), "--directory", str(work), cwd=work)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    outs = set()
    for line in (r.stdout + r.stderr).splitlines():
        line = line.strip()
        if line.startswith("output:"):
            outs |= {o.strip() for o in line[len("output:"):].split(",")}
    return outs


def _tiny(work):
    return yaml.safe_load((work / "tiny.yaml").read_text())


def test_nothing_reruns_without_an_edit(repo, ran):
    assert _scheduled(repo, ran, _tiny(ran)) == set()


def test_a_figure_option_redraws_only_that_figure(repo, ran):
    cfg = _tiny(ran)
    cfg["xiao2018"].setdefault("figures", {})["deep_cnn_curves"] = {"dpi": 120}
    assert _scheduled(repo, ran, cfg) == {"figures/xiao2018/deep_cnn_curves.png",
                                          "figures/xiao2018/deep_cnn_curves.pdf",
                                          "figures/xiao2018/deep_cnn_curves.caption.txt"}


def test_a_new_depth_trains_only_the_new_shards(repo, ran):
    from isometry import pipeline as P
    from isometry.config import validate_config

    cfg = _tiny(ran)
    depths = cfg["xiao2018"]["deep_cnn_curves"]["depths"]
    cfg["xiao2018"]["deep_cnn_curves"]["depths"] = depths + [max(depths) + 1]
    plan = P.plan_workflow(validate_config(yaml.safe_load(yaml.safe_dump(cfg))))["xiao2018"]
    new = [s.id for s in plan.shards["deep_cnn_curves"] if f"-d{max(depths) + 1}-" in s.id]
    assert len(new) == len(cfg["xiao2018"]["deep_cnn_curves"]["datasets"])
    got = _scheduled(repo, ran, cfg)
    assert got == {f"results/xiao2018/deep_cnn_curves/shards/{i}.csv" for i in new} | {
        "results/xiao2018/deep_cnn_curves.csv", "figures/xiao2018/deep_cnn_curves.png",
        "figures/xiao2018/deep_cnn_curves.pdf", "figures/xiao2018/deep_cnn_curves.caption.txt"}, got


def test_a_phase_diagram_key_retrains_nothing(repo, ran):
    cfg = _tiny(ran)
    cfg["pennington2017"]["phase_diagram"]["num_w"] = int(cfg["pennington2017"]["phase_diagram"]["num_w"]) + 1
    got = _scheduled(repo, ran, cfg)
    assert got == {"results/pennington2017/phase_diagram.csv", "results/pennington2017/checks.csv"}, got
