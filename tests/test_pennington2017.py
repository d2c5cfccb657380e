"""pennington2017 pipeline: unit tests at tiny sizes + one end-to-end Snakemake run at the tiny scale."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest
import yaml

from isometry.papers import pennington2017 as P

from conftest import REPO, run_snakemake


@pytest.fixture(scope="module")
def tiny_params():
    cfg = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    p = copy.deepcopy(cfg["pennington2017"])
    p.update(paper="pennington2017", scale="test", device="cpu", threads=1, max_ensemble=8, data_dir="data")
    p.setdefault("checks", {})
    from isometry.config import load_config

    full = load_config(REPO / "tests/configs/tiny.yaml")["pennington2017"]  # defaults filled in
    for k in ("checks", "spectra"):
        p[k] = full[k]
    return p


def test_steps_to_threshold_interpolates_in_log_step():
    steps = [0, 10, 100, 1000]
    acc = [0.1, 0.2, 0.4, 0.5]
    # crossing 0.3 halfway (in accuracy) between 10 and 100 -> geometric mean
    assert P.steps_to_threshold(steps, acc, 0.3) == pytest.approx(math.sqrt(10 * 100))
    assert P.steps_to_threshold(steps, acc, 0.05) == 1.0
    assert math.isnan(P.steps_to_threshold(steps, acc, 0.9))
    assert math.isnan(P.steps_to_threshold(steps, [np.nan] * 4, 0.1))


def test_spearman_matches_scipy_and_ranks_inf_last():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=20), rng.normal(size=20)
    assert P.spearman(x, y) == pytest.approx(spearmanr(x, y).statistic)
    assert P.spearman([1, 2, 3, 4], [10, 20, 30, np.inf]) == pytest.approx(1.0)


def test_predicted_spread_formulas():
    # PSG: at criticality mean = 1; linear Gaussian var = L; ReLU orthogonal var = L (1-p)/p = L; Gaussian 2L
    m, v = P.predicted_spread("relu", "orthogonal", 10, 2.0, 2e-5)
    assert m == pytest.approx(1.0) and v == pytest.approx(10.0)
    assert P.predicted_spread("relu", "gaussian", 10, 2.0, 0.0)[1] == pytest.approx(20.0)
    _, vo = P.predicted_spread("tanh", "orthogonal", 50, 1.05, 2.01e-5)
    _, vg = P.predicted_spread("tanh", "gaussian", 50, 1.05, 2.01e-5)
    assert vo < 0.1 * vg  # small-q* orthogonal tanh is nearly isometric


def test_simulate_prefix_linear_orthogonal_is_isometric():
    lam = P.simulate_prefix("linear", "orthogonal", 1.0, 0.0, 1.0, 16, [1, 3], seed=0)
    assert set(lam) == {1, 3}
    np.testing.assert_allclose(lam[3], 1.0, atol=1e-10)


def test_simulate_prefix_matches_measure_jacobian():
    import torch

    from isometry import measure

    sw, sb = P.critical_params("tanh", 0.25)
    lam = P.simulate_prefix("tanh", "gaussian", sw, sb, 0.25, 12, [3], seed=5)[3]
    g = torch.Generator().manual_seed(5)
    Ws, bs = measure.random_mlp(3, 12, "tanh", "gaussian", sw, sb, generator=g)
    x0 = measure.input_at_fixed_point("tanh", 12, 0.25, generator=g)
    np.testing.assert_allclose(lam, measure.jacobian_singular_values(Ws, bs, "tanh", x0), rtol=1e-9, atol=1e-12)


def test_phase_diagram_and_figure(tmp_path, tiny_params):
    out = tmp_path / "phase_diagram.csv"
    P.exp_phase_diagram(tiny_params, [], out)
    df = pd.read_csv(out)
    crit = df[df.kind == "critical"]
    # papers.md section 1: sigma_b^2 = 0.1038 -> sigma_w^2 = 2.00, q* = 0.821
    i = (crit.sigma_b2 - 0.1038).abs().idxmin()
    assert crit.loc[i, "sigma_w2"] == pytest.approx(2.0, abs=0.03)
    pts = df[df.kind == "point"]
    assert len(pts) == 1 and pts.chi_1.iloc[0] == pytest.approx(1.0, abs=0.01)
    P.fig_phase_diagram(tiny_params, [out], tmp_path / "phase_diagram.png")
    assert (tmp_path / "phase_diagram.png").stat().st_size > 0


def test_spectra_experiment_tiny(tmp_path, tiny_params):
    out = tmp_path / "spectra.csv"
    P.exp_spectra(tiny_params, [], out)
    df = pd.read_csv(out)
    s = df[df.kind == "summary"]
    assert len(s) == 3 * 2
    assert np.all(s.l1 >= 0) and np.all(s.l1 < 2.0)
    # empirical masses (bins + below + above + atoms) sum to one per case
    for _, g in df.groupby(["nonlinearity", "weights", "depth"]):
        tot = g[g.kind.isin(["bin", "below", "above", "atom"])].emp_mass.sum()
        assert tot == pytest.approx(1.0, abs=1e-9)
        th = g[g.kind.isin(["bin", "below", "above", "atom"])].theory_mass.sum()
        assert th == pytest.approx(1.0, abs=0.03)
    # ReLU: atom at 0 of mass 1/2 accounted for below the first bin
    r = df[(df.nonlinearity == "relu") & (df.kind == "below")]
    np.testing.assert_allclose(r.atom_zero, 0.5)
    P.fig_spectra(tiny_params, [out], tmp_path / "spectra.png")
    assert "N = 32 < 400" in (tmp_path / "spectra.caption.txt").read_text()


def test_best_runs_picks_fastest_lr():
    rows = []
    for lr, accs in ((0.1, [0.1, 0.2, 0.5]), (0.01, [0.1, 0.15, 0.3])):
        for step, a in zip([0, 10, 100], accs):
            rows.append({"config": "c", "init": "orthogonal", "lr": lr, "run_id": f"r{lr}", "step": step,
                         "test_acc": a, "diverged": False})
    b = P.best_runs(pd.DataFrame(rows), ["config", "init"], 0.25)
    assert b.lr.iloc[0] == 0.1 and b.steps_to_threshold.iloc[0] < 100


def test_schema_rejects_misspelled_key():
    from isometry.config import ConfigError, load_config

    cfg = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    cfg["pennington2017"]["cifar10_learning"]["stepz"] = 3
    path = REPO / "tests" / ".tmp_p17_bad.yaml"
    try:
        path.write_text(yaml.safe_dump(cfg))
        with pytest.raises(ConfigError, match="stepz"):
            load_config(path)
    finally:
        path.unlink(missing_ok=True)


def test_end_to_end_tiny(workflow_dir):
    run_snakemake(workflow_dir, "pennington2017")
    res = workflow_dir / "results" / "pennington2017"
    for name in ("phase_diagram", "spectra", "smax_vs_depth", "cifar10_learning", "speed_sweep"):
        assert (res / f"{name}.csv").stat().st_size > 0
    for fig in ("phase_diagram", "spectra", "smax_vs_depth", "cifar10_learning", "speed_vs_spread"):
        for ext in ("png", "pdf", "caption.txt"):
            assert (workflow_dir / "figures" / "pennington2017" / f"{fig}.{ext}").exists()
    runs = pd.read_csv(res / "cifar10_learning.csv")
    from isometry.spec import RUN_COLUMNS

    assert list(runs.columns[: len(RUN_COLUMNS)]) == RUN_COLUMNS
    assert set(runs.dataset) == {"cifar10 (jpeg)"} or set(runs.dataset) == {"cifar10 (official)"}
    assert set(runs.init) == {"orthogonal", "gaussian"}
    cap = (workflow_dir / "figures" / "pennington2017" / "cifar10_learning.caption.txt").read_text()
    assert "cifar10 (" in cap and "Scale: test" in cap
    checks = pd.read_csv(res / "checks.csv")
    assert len(checks) > 5 and set(checks.scale) == {"test"}
    assert any("Spearman" in c for c in checks.claim)
    assert any("faster than" in c for c in checks.claim)
