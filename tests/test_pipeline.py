"""The pipeline plan (isometry.pipeline): scoped params, content-addressed shards, planning every paper at every
scale, the memory guard, and the `shards` / `shard` / `aggregate` CLI commands."""

import copy
import json
import subprocess
import sys

import pytest
import yaml

from isometry import pipeline as P
from isometry.config import ConfigError, load_config
from conftest import REPO

CONFIGS = ["config/config.yaml", "config/paper.yaml", "tests/configs/tiny.yaml"]


@pytest.fixture(scope="module")
def tiny():
    return load_config(REPO / "tests/configs/tiny.yaml")


def test_scoped_params_refuse_undeclared_keys():
    config = {"scale": "quick", "device": "cpu", "max_ensemble": 8,
              "x": {"a": {"n": 1, "figure": {"dpi": 100}, "checks": {"tol": 0.1}}, "b": {"m": 2}, "seed": 3}}
    p = P.scope(config, "x", ("a", "seed"))
    assert p["a"]["n"] == 1 and p["seed"] == 3 and p["paper"] == "x" and p["scale"] == "quick"
    assert "figure" not in dict(p["a"]) and "checks" not in dict(p["a"])     # reserved sub-keys stay out
    for access in (lambda: p["b"], lambda: p.get("b", {}), lambda: "b" in p, lambda: p["a"]["figure"],
                   lambda: p.get("device")):
        with pytest.raises(KeyError, match="declared"):
            access()
    assert p.get("not_in_config", 5) == 5                                     # unknown keys keep dict semantics
    f = P.scope(config, "x", ("a.figure",))
    assert f["a"]["figure"] == {"dpi": 100}
    with pytest.raises(KeyError):
        f["a"]["n"]
    assert json.loads(json.dumps(p.plain())) == p.plain()


def test_shard_ids_are_content_addressed():
    a = P.Shard("d10-x", {"members": [1, 2], "steps": 5})
    b = P.Shard("d10-x", {"steps": 5, "members": [1, 2]})
    c = P.Shard("d10-x", {"members": [1, 2], "steps": 6})
    assert a.id == b.id != c.id and a.id.startswith("d10-x-") and len(a.digest) == 10
    with pytest.raises(ValueError, match="shard key"):
        P.Shard("d 10/x", {})


@pytest.mark.parametrize("path", CONFIGS)
def test_every_paper_plans_at_every_scale(path):
    cfg = load_config(REPO / path)
    plans = P.plan_workflow(cfg)
    assert set(plans) == set(P.enabled_papers(cfg))
    for paper, plan in plans.items():
        names = [e.name for e in plan.pipeline.experiments]
        assert len(names) == len(set(names)), paper
        for f in plan.pipeline.figures:
            assert set(f.inputs) <= set(names), (paper, f.name)
        assert set(plan.pipeline.checks_inputs) <= set(names), paper
        for name, shards in plan.shards.items():
            assert shards, f"{paper}.{name} has no shards"
            ids = [s.id for s in shards]
            assert len(ids) == len(set(ids))
            for s in shards:
                json.dumps(s.shard.spec)                                      # serialisable
                assert s.shard.cost_s > 0 and s.runtime_min() >= 5 and set(s.shard.data) <= {
                    "mnist", "fashion_mnist", "cifar10"}
                members = s.shard.spec.get("job", {}).get("members", s.shard.spec.get("members"))
                if members is not None:
                    assert 1 <= len(members) <= cfg["max_ensemble"]


def test_every_job_reads_only_declared_keys(tiny):
    """Scoping is enforced: planning every sweep (above) and building every job's params must not touch an
    undeclared key (a job that reads one fails with KeyError at run time; the workflow tests run them all)."""
    for paper in P.enabled_papers(tiny):
        pipe = P.load_pipeline(paper)
        for exp in pipe.experiments:
            P.experiment_params(tiny, paper, exp)
            if isinstance(exp, P.Sweep):
                P.plan_sweep(tiny, paper, exp)
                P.finish_params(tiny, paper, exp)
        for fig in pipe.figures:
            P.figure_params(tiny, paper, fig)
        P.checks_params(tiny, paper, pipe)


def _sweeps_with_depths(cfg):
    out = []
    for paper in P.enabled_papers(cfg):
        for exp in P.load_pipeline(paper).experiments:
            sec = cfg[paper].get(exp.name)
            if isinstance(exp, P.Sweep) and isinstance(sec, dict) and isinstance(sec.get("depths"), list) \
                    and len(sec["depths"]) >= 2:
                out.append((paper, exp))
    if not out:
        pytest.skip("no sweep with a 'depths' list")
    return out


def _first_sweep_with_depths(cfg):
    return _sweeps_with_depths(cfg)[0]


def test_adding_a_depth_adds_shards_and_keeps_the_others(tiny):
    """A depth inside the swept range (not the deepest: a recipe may depend on the deepest net, e.g. SA's
    per-layer learning-rate schedule) adds shards and renames none."""
    for paper, exp in _sweeps_with_depths(tiny):
        before = {s.id for s in P.plan_sweep(tiny, paper, exp)}
        cfg = copy.deepcopy(tiny)
        depths = sorted(cfg[paper][exp.name]["depths"])
        new = next((d for d in range(depths[0] + 1, depths[-1]) if d not in depths), None)
        if new is None:
            continue
        cfg[paper][exp.name]["depths"] = depths + [new]
        after = {s.id for s in P.plan_sweep(cfg, paper, exp)}
        assert before < after, (paper, exp.name, before, after)


def test_memory_guard_names_the_key(tiny):
    cfg = copy.deepcopy(tiny)
    cfg["max_job_memory_gb"] = 1e-6
    with pytest.raises(P.PlanError, match="max_job_memory_gb"):
        P.plan_workflow(cfg)


def test_a_huge_theory_job_is_refused_with_its_key(tiny):
    """Issue 20 item 12: a width of 1e9 validated and then died allocating ~128 GB; the plan refuses it first."""
    cfg = copy.deepcopy(tiny)
    cfg["sussillo2014"]["walks"]["widths"] = [16, 10**9]
    with pytest.raises(P.PlanError, match=r"config key 'sussillo2014.walks.widths': the random_walks job needs an "
                                          r"estimated \d+\.\d GB, more than max_job_memory_gb"):
        P.plan_workflow(cfg)
    P.plan_workflow(copy.deepcopy(tiny))        # the tiny widths pass
    for paper, key in (("pennington2017", "spectra.width"), ("saxe2014", "product_spectra.width"),
                       ("saxe2014", "jacobian_spectra.width"), ("xiao2018", "cnn_jacobian_spectrum.channels")):
        cfg = copy.deepcopy(tiny)
        section, name = key.split(".")
        cfg[paper][section][name] = 10**7
        with pytest.raises(P.PlanError, match=rf"config key '{paper}.{key}': the {section} job needs an estimated"):
            P.plan_workflow(cfg)


def _cli(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "isometry", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_shards_command_lists_ids_and_rerun_hint(tiny):
    paper, exp = _first_sweep_with_depths(tiny)
    r = _cli("shards", paper, exp.name, "--config", str(REPO / "tests/configs/tiny.yaml"), "--members")
    assert r.returncode == 0, r.stderr
    for s in P.plan_sweep(tiny, paper, exp):
        assert s.id in r.stdout
    assert "--forcerun" in r.stdout and "run_id" in r.stdout


def test_shard_command_refuses_an_unknown_shard(tmp_path):
    paper = P.enabled_papers(load_config(REPO / "tests/configs/tiny.yaml"))[0]
    pipe = P.load_pipeline(paper)
    sweep = next(e for e in pipe.experiments if isinstance(e, P.Sweep))
    r = _cli("shard", f"{paper}.{sweep.name}", "nope-0123456789", "--config",
             str(REPO / "tests/configs/tiny.yaml"), "--output", str(tmp_path / "x.csv"))
    assert r.returncode == 2 and "no shard 'nope-0123456789'" in r.stderr
    assert not (tmp_path / "x.csv").exists()


def test_resolved_config_is_content_addressed(tmp_path, tiny):
    p1 = P.write_resolved_config(tiny, tmp_path)
    assert P.write_resolved_config(copy.deepcopy(tiny), tmp_path) == p1
    cfg = copy.deepcopy(tiny)
    cfg["threads"] = 2
    assert P.resolved_config_path(cfg, tmp_path) != p1
    assert load_config(p1) == tiny


def test_config_error_stops_planning():
    from isometry.config import validate_config

    bad = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    bad["max_ensemble"] = 0
    with pytest.raises(ConfigError, match="max_ensemble"):
        validate_config(bad)
