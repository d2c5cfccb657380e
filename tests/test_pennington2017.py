"""pennington2017 pipeline: unit tests at tiny sizes, checks on synthetic CSVs (pass / fail / nothing trained),
figures on degenerate CSVs, and one end-to-end Snakemake run at the tiny scale."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml

from isometry.papers import pennington2017 as P
from isometry.papers.pennington2017 import analysis, checks, common
from isometry.papers.pennington2017.experiments import theory as T
from isometry.papers.pennington2017.experiments import training as TR
from isometry.papers.pennington2017.figures import theory as FT
from isometry.papers.pennington2017.figures import training as FTR

from conftest import REPO, run_snakemake

CONFIGS = [{"name": "tanh 1.05", "colour": "blue", "nonlinearity": "tanh", "sigma_w2": 1.05, "sigma_b2": 2.01e-5},
           {"name": "tanh 2", "colour": "red", "nonlinearity": "tanh", "sigma_w2": 2.0, "sigma_b2": 0.1038},
           {"name": "ReLU 2", "colour": "black", "nonlinearity": "relu", "sigma_w2": 2.0, "sigma_b2": 2e-5}]
CHECKS_CFG = {"l1_max": 0.1, "edge_rtol": 0.1, "moment_rtol": 0.1, "var_rtol": 0.15, "smax_rtol": 0.1,
              "fig2_edge_rtol": 0.1, "fig4_ratio_decades": 0.5, "fig4_best_acc": 0.4, "fig5_exponent_tol": 0.3,
              "fig5_eta_l_band": [0.8, 6.0]}


@pytest.fixture(scope="module")
def tiny_params():
    from isometry.config import load_config

    p = load_config(REPO / "tests/configs/tiny.yaml")["pennington2017"]
    p.update(paper="pennington2017", scale="test", device="cpu", threads=1, max_ensemble=8, data_dir="data")
    return p


# ================================================================================================ helpers
def test_predicted_spread_formulas():
    # PSG: at criticality mean = 1; linear Gaussian var = L; ReLU orthogonal var = L (1-p)/p = L; Gaussian 2L
    m, v = common.predicted_spread("relu", "orthogonal", 10, 2.0, 2e-5)
    assert m == pytest.approx(1.0) and v == pytest.approx(10.0)
    assert common.predicted_spread("relu", "gaussian", 10, 2.0, 0.0)[1] == pytest.approx(20.0)
    _, vo = common.predicted_spread("tanh", "orthogonal", 50, 1.05, 2.01e-5)
    _, vg = common.predicted_spread("tanh", "gaussian", 50, 1.05, 2.01e-5)
    assert vo < 0.1 * vg  # small-q* orthogonal tanh is nearly isometric


def test_simulate_prefix_linear_orthogonal_is_isometric():
    lam = common.simulate_prefix("linear", "orthogonal", 1.0, 0.0, 1.0, 16, [1, 3], seed=0)
    assert set(lam) == {1, 3}
    np.testing.assert_allclose(lam[3], 1.0, atol=1e-10)


def test_simulate_prefix_matches_measure_jacobian():
    import torch

    from isometry import measure

    sw, sb = common.critical_params("tanh", 0.25)
    lam = common.simulate_prefix("tanh", "gaussian", sw, sb, 0.25, 12, [3], seed=5)[3]
    g = torch.Generator().manual_seed(5)
    Ws, bs = measure.random_mlp(3, 12, "tanh", "gaussian", sw, sb, generator=g)
    x0 = measure.input_at_fixed_point("tanh", 12, 0.25, generator=g)
    np.testing.assert_allclose(lam, measure.jacobian_singular_values(Ws, bs, "tanh", x0), rtol=1e-9, atol=1e-12)


def test_log_fit_recovers_a_power_law_and_ignores_censored_points():
    L = np.array([10, 30, 100, 300.0])
    b, _ = common.log_fit(L, 3.0 * L ** -1.0)
    assert b == pytest.approx(-1.0)
    b2, _ = common.log_fit(np.r_[L, 1000], np.r_[L ** 0.5, np.inf])
    assert b2 == pytest.approx(0.5)
    assert math.isnan(common.log_fit([1], [1])[0])


def test_finite_n_quantile_is_below_the_edge_and_tends_to_it():
    # Marchenko-Pastur (linear Gaussian, L = 1): edge 4; the 1/N quantile moves up to it as N grows
    q100 = T.finite_n_quantile("linear", "gaussian", 1, 1.0, 1e-2)
    q1e4 = T.finite_n_quantile("linear", "gaussian", 1, 1.0, 1e-4)
    assert q100 < q1e4 < 4.0
    assert 4.0 - q1e4 < 0.05 * 4.0
    # MP tail mass above x: check one point against direct integration of the MP density
    from scipy.integrate import quad

    mass = quad(lambda x: math.sqrt(x * (4 - x)) / (2 * math.pi * x), q100, 4.0)[0]
    assert mass == pytest.approx(1e-2, rel=0.03)


# ================================================================================================ theory jobs
def test_phase_diagram_and_figure(tmp_path, tiny_params):
    out = tmp_path / "phase_diagram.csv"
    T.exp_phase_diagram(tiny_params, [], out)
    df = pd.read_csv(out)
    crit = df[df.kind == "critical"]
    i = (crit.sigma_b2 - 0.1038).abs().idxmin()
    assert crit.loc[i, "sigma_w2"] == pytest.approx(2.0, abs=0.03)
    pts = df[df.kind == "point"]
    assert len(pts) == 1 and pts.chi_1.iloc[0] == pytest.approx(1.0, abs=0.01)
    FT.fig_phase_diagram(tiny_params, [out], tmp_path / "phase_diagram.png")
    assert (tmp_path / "phase_diagram.png").stat().st_size > 0


def test_spectra_experiment_tiny(tmp_path, tiny_params):
    out = tmp_path / "spectra.csv"
    T.exp_spectra(tiny_params, [], out)
    df = pd.read_csv(out)
    s = df[df.kind == "summary"]
    assert len(s) == 3 * 2
    assert np.all(s.l1 >= 0) and np.all(s.l1 < 2.0)
    for _, g in df.groupby(["nonlinearity", "weights", "depth"]):
        tot = g[g.kind.isin(["bin", "below", "above"])].emp_mass.sum() + g[(g.kind == "atom") & (g.lam > 0)].emp_mass.sum()
        assert tot == pytest.approx(1.0, abs=1e-9)
        sb = g[g.kind == "s_bin"]
        assert ((sb.s_hi - sb.s) * sb.emp_density).sum() <= 1.0 + 1e-5
    r = df[(df.nonlinearity == "relu") & (df.kind == "below")]
    np.testing.assert_allclose(r.atom_zero, 0.5)
    a0 = df[(df.nonlinearity == "relu") & (df.kind == "atom") & (df.lam == 0)]
    assert len(a0) == 2 and np.allclose(a0.theory_mass, 0.5)
    for fn, name in ((FT.fig_spectra, "spectra"), (FT.fig_spectra_all, "spectra_all")):
        fn(tiny_params, [out], tmp_path / f"{name}.png")
        assert "N = 32" in (tmp_path / f"{name}.caption.txt").read_text()


def test_spectra_marks_unsolved_theory_points_as_nan_not_zero(tmp_path, tiny_params, monkeypatch):
    """A NaN from the theory solver is kept as 'no theory here' (theory_ok False), never a zero density."""
    from isometry.theory import spectra

    real = spectra.jacobian_density

    def broken(nl, weights, L, q, lam, **kw):
        d, atoms = real(nl, weights, L, q, lam, **kw)
        d = np.array(d, float)
        if d.size > 10:
            d[len(d) // 2] = np.nan
        return d, atoms

    monkeypatch.setattr(spectra, "jacobian_density", broken)
    out = tmp_path / "spectra.csv"
    T.exp_spectra(tiny_params, [], out)
    df = pd.read_csv(out)
    th = df[df.kind == "theory"]
    bad = th[~th.theory_ok.astype(bool)]
    assert len(bad) > 0 and bad.density.isna().all() and bad.p_s.isna().all()
    assert (df[df.kind == "summary"].theory_nan > 0).all()
    FT.fig_spectra(tiny_params, [out], tmp_path / "s.png")
    assert "not solved" in (tmp_path / "s.caption.txt").read_text()


def test_smax_vs_depth_tiny_and_figure(tmp_path, tiny_params):
    p = dict(tiny_params)
    p["smax_vs_depth"] = {"nonlinearity": "tanh", "q_stars": [0.25], "depths": [1, 2], "width": 16, "samples": 1}
    out = tmp_path / "smax_vs_depth.csv"
    T.exp_smax_vs_depth(p, [], out)
    df = pd.read_csv(out)
    th = df[df.kind == "theory"]
    at = th[th.depth.isin([1, 2])]
    assert np.isfinite(at.lam_quantile).all() and (at.lam_quantile <= at.lam_max * (1 + 1e-9)).all()
    FT.fig_smax_vs_depth(p, [out], tmp_path / "smax.png")
    assert "N = 16" in (tmp_path / "smax.caption.txt").read_text()


# ================================================================================================ Fig. 4 pieces
def _curve(t_half, steps, top=0.5, width=0.6):
    """A logistic accuracy curve in log step reaching (0.1 + top) / 2 at t_half (None: flat at chance)."""
    s = np.asarray(steps, float)
    if t_half is None:
        return np.full_like(s, 0.1)
    return 0.1 + (top - 0.1) / (1 + np.exp(-(np.log(np.maximum(s, 1)) - math.log(t_half)) / width))


def fig4_csv(times: dict, steps=2000, optimizers=("sgd",), top=0.5) -> pd.DataFrame:
    """Synthetic main-stage runs: times[(colour, init)] = step at half height (None = never trains)."""
    logs = TR.log_points(steps, 30)
    rows = []
    for opt in optimizers:
        for c in CONFIGS:
            for init in ("orthogonal", "gaussian"):
                acc = _curve(times.get((c["colour"], init)), logs, top=top)
                for s, a in zip(logs, acc):
                    rows.append({"optimizer": opt, "config": c["name"], "init": init, "lr": 0.01, "stage": "main",
                                 "nonlinearity": c["nonlinearity"], "sigma_w2": c["sigma_w2"], "depth": 200,
                                 "width": 64, "batch_size": 64, "step": s, "test_acc": a, "train_loss": 2.0,
                                 "diverged": False, "run_id": f"{opt}-{c['name']}-{init}", "dataset": "cifar10 (jpeg)",
                                 "lr_grid": "0.01,0.03"})
    return pd.DataFrame(rows)


GOOD = {("blue", "orthogonal"): 8, ("blue", "gaussian"): 150, ("red", "orthogonal"): 300, ("red", "gaussian"): 900,
        ("black", "orthogonal"): None, ("black", "gaussian"): None}


def _fig4_rows(df):
    R = checks._Rows("test")
    checks._fig4_checks(R, df, CHECKS_CFG, CONFIGS)
    return pd.DataFrame([r.__dict__ for r in R.rows])


def test_fig4_checks_pass_on_the_papers_ordering():
    rows = _fig4_rows(fig4_csv(GOOD))
    assert len(rows) == 6 and rows.passed.all(), rows[["claim", "reproduced_value", "passed"]]
    assert set(rows.kind) == {"paper"} and rows.source.str.contains("verified.md").all()


def test_fig4_checks_fail_on_wrong_ordering_and_wrong_ratio():
    bad = dict(GOOD)
    bad[("blue", "gaussian")] = 9          # ratio ~1: outside half a decade of 20x, and orth not first by much
    bad[("black", "orthogonal")] = 100     # ReLU before red orthogonal
    rows = _fig4_rows(fig4_csv(bad)).set_index("claim")
    failed = rows[~rows.passed].index
    assert any("after both orthogonal tanh" in c for c in failed)
    assert any("steps to 0.3, blue Gaussian / blue orthogonal" in c for c in failed)


def test_fig4_checks_fail_when_nothing_trained():
    rows = _fig4_rows(fig4_csv({k: None for k in GOOD}))
    assert not rows.passed.any()


def test_fig4_censored_ratio_fails():
    times = dict(GOOD)
    times[("blue", "gaussian")] = None       # never reaches 0.3: the ratio is only a lower bound
    rows = _fig4_rows(fig4_csv(times))
    r = rows[rows.claim.str.contains("steps to 0.3, blue Gaussian")]
    assert not r.passed.iloc[0] and ">=" in r.reproduced_value.iloc[0]


def test_fig4_censored_speedup_is_a_lower_bound_and_two_sided():
    times = dict(GOOD)
    times[("blue", "gaussian")] = None       # never reaches 0.3 in 2000 steps: ratio >= 2000 / t_orth
    rows = _fig4_rows(fig4_csv(times))
    r = rows[rows.claim.str.contains("at least")]
    assert r.passed.iloc[0] and ">=" in r.reproduced_value.iloc[0]
    slow = dict(times)
    slow[("blue", "orthogonal")] = 700       # orthogonal reaches 0.3 late: the lower bound 2000/t < 20 / sqrt(10)
    slow[("red", "orthogonal")] = 800
    rows = _fig4_rows(fig4_csv(slow))
    assert not rows[rows.claim.str.contains("at least")].passed.iloc[0]
    tie = dict(GOOD)
    tie[("blue", "gaussian")] = 9            # both reach it, ratio ~1
    rows = _fig4_rows(fig4_csv(tie))
    assert not rows[rows.claim.str.contains("at least")].passed.iloc[0]


def test_pilot_selection_prefers_lowest_late_loss_and_refuses_diverged():
    rows = []
    for lr, loss, div in ((0.01, 2.0, False), (0.03, 1.5, False), (0.1, 1.0, True)):
        for s in (0, 5, 10):
            rows.append({"init": "orthogonal", "lr": lr, "step": s, "train_loss": np.nan if div and s else loss,
                         "diverged": div and s > 0, "run_id": f"r{lr}"})
    assert TR.select_lr(pd.DataFrame(rows), 10) == {"orthogonal": 0.03}
    assert TR.pilot_score(pd.DataFrame(rows[-3:]), 10) == math.inf


def test_fig4_figure_draws_all_diverged_csv(tmp_path, tiny_params):
    df = fig4_csv(GOOD, optimizers=("sgd", "adam"))
    df["test_acc"] = np.nan
    df["diverged"] = True
    df["n_train"], df["n_test"] = 1234, 321          # what ran, not what the config says (issue 20 item 11)
    csv = tmp_path / "cifar10_learning.csv"
    df.to_csv(csv, index=False)
    p = dict(tiny_params)
    p["cifar10_learning"] = dict(p["cifar10_learning"], configs=CONFIGS)
    FTR.fig_cifar10_learning(p, [csv], tmp_path / "f4.png")
    cap = (tmp_path / "f4.caption.txt").read_text()
    assert "width N = 64" in cap and "Diverged runs in the CSV: 12" in cap
    assert "1234 training images" in cap and "first 321 test images" in cap and "batch 64," in cap
    assert "none in the CSV" in cap                   # no pilot rows in this CSV: the caption says so


# ================================================================================================ Fig. 5(a) pieces
def speed_csv(depths=(10, 30, 100, 300), eta_l=(0.01, 0.1, 1.0, 10.0, 100.0), tau_fn=None, steps=3000):
    """Synthetic learning_speed runs whose accuracy crosses 0.3 at tau_fn(L, eta L) (None = never)."""
    logs = TR.log_points(steps, 60)
    rows = []
    for L in depths:
        for eL in eta_l:
            tau = tau_fn(L, eL)
            for s, a in zip(logs, _curve(tau, logs, top=0.5, width=0.3)):
                rows.append({"depth": L, "eta_l": eL, "lr": eL / L, "step": s, "test_acc": a, "diverged": False,
                             "run_id": f"L{L}-{eL}", "width": 64, "dataset": "cifar10 (jpeg)"})
    return pd.DataFrame(rows)


def _paper_tau(L, eL):
    """tau/sqrt(L) = f(eta L) with the minimum at eta L = 2 (PSG Fig. 5(a)); unstable above eta L = 20."""
    if eL > 20:
        return None
    return math.sqrt(L) * (2.0 / eL + eL / 2.0) * 3.0


def _fig5_rows(df, thr=0.3):
    R = checks._Rows("test")
    checks._fig5_checks(R, df, CHECKS_CFG, thr)
    return pd.DataFrame([r.__dict__ for r in R.rows])


def test_fig5_checks_pass_on_a_collapse_with_the_papers_exponents():
    df = speed_csv(eta_l=(0.1, 0.3, 1.0, 2.0, 4.0, 10.0, 30.0), tau_fn=_paper_tau)
    opt = analysis.optimum(analysis.speed_table(df, 0.3))
    assert opt.interior.all()
    rows = _fig5_rows(df)
    assert rows.passed.all(), rows[["claim", "reproduced_value", "passed"]]


def test_fig5_checks_fail_on_depth_independent_speed_or_nothing_trained():
    const = speed_csv(eta_l=(0.1, 0.3, 1.0, 2.0, 4.0, 10.0), tau_fn=lambda L, eL: 30.0 * (2.0 / eL + eL / 2.0) * 10 / L)
    rows = _fig5_rows(const)            # eta* L constant, tau ~ 1/L: exponent -1, far from +0.5
    assert not rows[rows.claim.str.contains("tau\\(eta")].passed.iloc[0]
    flat = speed_csv(tau_fn=lambda L, eL: None)
    assert not _fig5_rows(flat).passed.any()


def test_fig5_optimum_at_grid_end_is_not_a_measurement():
    df = speed_csv(eta_l=(0.01, 0.03, 0.1), tau_fn=_paper_tau)      # minimum always at the largest rate
    opt = analysis.optimum(analysis.speed_table(df, 0.3))
    assert not opt.interior.any()
    assert not _fig5_rows(df).passed.any()


def test_fig5_figure_draws_empty_and_censored_csvs(tmp_path, tiny_params):
    p = dict(tiny_params)
    for name, df in (("some", speed_csv(tau_fn=_paper_tau)), ("none", speed_csv(tau_fn=lambda L, eL: None))):
        csv = tmp_path / name / "learning_speed.csv"
        csv.parent.mkdir()
        df.to_csv(csv, index=False)
        FTR.fig_learning_speed(p, [csv], tmp_path / name / "f5.png")
        cap = (tmp_path / name / "f5.caption.txt").read_text()
        assert "depths L = 10, 30, 100, 300" in cap
    assert "(20 such points)" in (tmp_path / "none" / "f5.caption.txt").read_text()


# ================================================================================================ other checks
def _spectra_rows(df):
    R = checks._Rows("test")
    checks._spectra_checks(R, df, CHECKS_CFG)
    return pd.DataFrame([r.__dict__ for r in R.rows])


def test_spectra_checks_pass_and_fail(tmp_path, tiny_params):
    out = tmp_path / "spectra.csv"
    T.exp_spectra(tiny_params, [], out)
    df = pd.read_csv(out)
    rows = _spectra_rows(df)
    paper = rows[rows.kind == "paper"]
    # tiny computes L = 2, 4 only: the paper's L = 2 edges pass, the other depths fail as 'not computed'
    assert paper[paper.claim.str.contains("at L = 2 ")].passed.all()
    assert (~paper[paper.claim.str.contains("at L = 128")].passed).all()
    # every computed (case, depth) has L1, edge, mean and variance rows
    assert len(rows[rows.kind == "theory"]) == 4 * 6
    s = df.kind == "summary"
    df.loc[s, "mean_emp"] = df.loc[s, "mean_theory"] * 1.5
    rows2 = _spectra_rows(df)
    assert not rows2[rows2.claim.str.startswith("mean of lambda")].passed.any()


def test_smax_checks_pass_and_fail():
    base = {"nonlinearity": "tanh", "weights": "orthogonal", "q_star": 0.25, "depth": 8, "width": 100}
    sim = dict(base, kind="simulation", sample=0, lam_max=2.0, var=0.1)
    th = dict(base, kind="theory", lam_max=2.2, lam_quantile=2.05, var=0.1)
    R = checks._Rows("test")
    checks._smax_checks(R, pd.DataFrame([sim, th]), CHECKS_CFG)
    assert R.rows[0].passed
    th["lam_quantile"] = 3.0
    R = checks._Rows("test")
    checks._smax_checks(R, pd.DataFrame([sim, th]), CHECKS_CFG)
    assert not R.rows[0].passed
    th["lam_quantile"] = np.nan                      # no theory here -> a failed row, never a pass
    R = checks._Rows("test")
    checks._smax_checks(R, pd.DataFrame([sim, th]), CHECKS_CFG)
    assert not R.rows[0].passed and R.rows[0].paper_value == "no theory here"


def test_missing_inputs_give_failed_rows(tmp_path, tiny_params):
    out = tmp_path / "checks.csv"
    P.CHECKS(tiny_params, [], out)
    df = pd.read_csv(out)
    miss = df[df.reproduced_value.astype(str).str.startswith("missing input")]
    assert set(miss.figure) >= {"spectra", "smax_vs_depth", "cifar10_learning", "learning_speed"}
    assert not miss.passed.any()


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
    for name in ("phase_diagram", "spectra", "smax_vs_depth", "cifar10_learning", "learning_speed"):
        assert (res / f"{name}.csv").stat().st_size > 0
    for fig in P.FIGURES:
        for ext in ("png", "pdf", "caption.txt"):
            assert (workflow_dir / "figures" / "pennington2017" / f"{fig}.{ext}").exists()
    runs = pd.read_csv(res / "cifar10_learning.csv")
    from isometry.spec import RUN_COLUMNS

    assert list(runs.columns[: len(RUN_COLUMNS)]) == RUN_COLUMNS
    assert set(runs.dataset) <= {"cifar10 (jpeg)", "cifar10 (official)"}
    assert set(runs.stage) == {"pilot", "main"}
    main = runs[runs.stage == "main"]
    assert main.groupby(["optimizer", "config", "init"]).lr.nunique().eq(1).all()
    cap = (workflow_dir / "figures" / "pennington2017" / "cifar10_learning.caption.txt").read_text()
    assert "cifar10 (" in cap and "Scale: test" in cap
    checks_df = pd.read_csv(res / "checks.csv")
    assert len(checks_df) > 5 and set(checks_df.scale) == {"test"}
    assert set(checks_df.kind) == {"paper", "theory"}
    assert checks_df[checks_df.kind == "paper"].source.str.len().gt(0).all()
