"""sussillo2014 (Sussillo & Abbott 2014, random walk initialization): theory, simulation, recipe, end to end."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from isometry.papers import sussillo2014 as sa
from isometry.papers.sussillo2014 import training as T
from isometry.papers.sussillo2014 import walks as W

# papers.md section 3.2 table (the paper's fit formulas)
FIT_TABLE = {10: (1.051271, 1.65610), 20: (1.025315, 1.51400), 50: (1.010050, 1.45032), 100: (1.005013, 1.43171),
             200: (1.002503, 1.42283), 1000: (1.000500, 1.41592)}


@pytest.mark.parametrize("n", sorted(FIT_TABLE))
def test_fit_formulas_match_table_and_exact(n):
    lin, relu = FIT_TABLE[n]
    assert W.optimal_gain_fit(n, "linear") == pytest.approx(lin, abs=1e-5)
    assert W.optimal_gain_fit(n, "relu") == pytest.approx(relu, abs=1e-5)
    for nl in ("linear", "relu"):
        assert W.optimal_gain_fit(n, nl) == pytest.approx(W.optimal_gain_exact(n, nl), rel=5e-3)


def test_exact_step_statistics():
    # g* makes the walk unbiased; asymptotics E ln z ~ -1/N (linear, g=1), -2.5/N (ReLU, g=sqrt2); Var ~ 2/N, 5/N
    for nl in ("linear", "relu"):
        assert W.log_norm_increment_stats(100, nl, W.optimal_gain_exact(100, nl))[0] == pytest.approx(0, abs=1e-12)
    n = 1000
    assert W.log_norm_increment_stats(n, "linear", 1.0)[0] * n == pytest.approx(-1.0, rel=0.01)
    assert W.log_norm_increment_stats(n, "relu", math.sqrt(2))[0] * n == pytest.approx(-2.5, rel=0.02)
    assert W.log_norm_increment_stats(n, "linear")[1] * n == pytest.approx(2.0, rel=0.01)
    assert W.log_norm_increment_stats(n, "relu")[1] * n == pytest.approx(5.0, rel=0.02)


def test_simulated_walks_match_theory_and_are_seeded():
    N, D, S = 32, 24, 192
    for nl in ("linear", "relu"):
        g = W.optimal_gain_exact(N, nl)
        walks = W.simulate_walks(nl, N, D, [g, 1.0], S, seed=3)
        assert walks.shape == (2, S, D + 1)
        assert np.all(walks[:, :, 0] == 0)
        final = walks[0, :, -1]
        final = final[np.isfinite(final)]
        m, v = W.log_norm_increment_stats(N, nl, g)
        assert abs(final.mean()) < 4 * math.sqrt(D * v / len(final))
        assert final.var() == pytest.approx(D * v, rel=0.3)
        # common random numbers: for homogeneous f, changing g shifts every walk by 2 k ln(g'/g)
        shift = walks[1, :, -1] - walks[0, :, -1]
        ok = np.isfinite(shift)
        assert np.allclose(shift[ok], 2 * D * math.log(1.0 / g), atol=1e-3)
    a = W.simulate_walks("tanh", 8, 5, [1.2], 4, seed=1)
    b = W.simulate_walks("tanh", 8, 5, [1.2], 4, seed=1)
    assert np.array_equal(a, b)


def test_mc_optimal_gain_close_to_exact():
    g, se = W.mc_optimal_gain("relu", 32, 12, 32, seed=0, num=8)
    assert g == pytest.approx(W.optimal_gain_exact(32, "relu"), abs=max(4 * se, 0.03))
    gt, _ = W.mc_optimal_gain("tanh", 32, 12, 16, seed=0, num=8)
    assert 1.0 < gt < 1.6                                # tanh: above linear, below ReLU (SA section 2)


def test_architecture_budget_and_lr_schedule():
    for D in (1, 2, 8, 32):
        n = T.width_for_param_limit(30000, D)
        assert T.mlp_params(n, D) <= 30000 < T.mlp_params(n + 1, D)
    assert T.width_for_param_limit(30000, 32) < T.width_for_param_limit(30000, 2)   # deeper = narrower
    s = T.autoencoder_sizes(150000, 7, 30)
    assert len(s) == 7 and s[3] == 30 and s[0] > s[1] > s[2] > s[3] < s[4] < s[5] < s[6]
    m = T.depth_lr_multipliers(5, 5, np.array([0.01, 0.1]), np.array([0.1, 0.1]))
    assert torch.allclose(m[-1], torch.ones(2)) and torch.allclose(m[0], torch.tensor([0.1, 1.0]))
    m2 = T.depth_lr_multipliers(3, 5, np.array([0.01]), np.array([0.1]))     # shallower: larger first-layer lr
    assert float(m2[0][0]) > float(m[0][0])


def test_autoencoder_model_and_loss():
    members = [T.Member(run_id=f"m{i}", init="gaussian", sigma_w2=1.1**2, sigma_b2=0.0, seed=i) for i in range(2)]
    model = T.EnsembleAutoencoder(2, (1, 28, 28), [40, 20, 40], code_index=1)
    s2 = model.reset_parameters(members, [torch.Generator().manual_seed(i) for i in range(2)])
    assert s2 == pytest.approx([1.21, 1.21])
    assert all(float(b.detach().abs().sum()) == 0 for b in model.biases)                      # zero biases
    x = torch.randn(5, 1, 28, 28)
    out = model(x)
    assert out.shape == (2, 5, 2 * 784)
    assert torch.equal(out[0, :, 784:], x.flatten(1))
    loss = T.recon_mse(out, torch.zeros(5, dtype=torch.long))
    assert loss.shape == (2,) and torch.all(loss > 0)


def _params(tmp_path, shared_data):
    from isometry.config import load_config
    from isometry.data import prepare_dataset

    cfg = load_config("tests/configs/tiny.yaml")
    p = dict(cfg["sussillo2014"])
    for name in ("mnist", "fashion_mnist"):
        prepare_dataset(name, tmp_path / "data", [shared_data], download=False)
    p.update(paper="sussillo2014", scale="test", device="cpu", threads=1, max_ensemble=8, data_dir=str(tmp_path / "data"))
    return p


def test_training_experiments_units(tmp_path, shared_data, repo, monkeypatch):
    monkeypatch.chdir(repo)
    p = _params(tmp_path, shared_data)
    out = tmp_path / "mnist_gain_sweep.csv"
    sa.EXPERIMENTS["mnist_gain_sweep"](p, [], out)
    df = pd.read_csv(out)
    from isometry.spec import RUN_COLUMNS

    assert set(RUN_COLUMNS) <= set(df.columns)
    assert set(df.gain) == {1.0, 1.5} and set(df.nonlinearity) == {"tanh", "relu"}
    assert df.dataset.iloc[0] == "mnist (official)" and (df.sigma_b2 == 0).all()
    assert df.g_star.notna().all()
    png = tmp_path / "mnist_gain_sweep.png"
    sa.FIGURES["mnist_gain_sweep"](p, [out], png)
    assert png.exists() and png.with_suffix(".caption.txt").exists()


def test_end_to_end_snakemake(workflow_dir):
    from conftest import run_snakemake

    run_snakemake(workflow_dir, "sussillo2014")
    res = workflow_dir / "results" / "sussillo2014"
    for name in ("random_walks", "optimal_gain", "mnist_gain_sweep", "depth_sweep"):
        assert (res / f"{name}.csv").stat().st_size > 0
        png = workflow_dir / "figures" / "sussillo2014" / f"{name}.png"
        assert png.stat().st_size > 0 and png.with_suffix(".pdf").exists()
        assert "scale: test" in png.with_suffix(".caption.txt").read_text()
    ds = pd.read_csv(res / "depth_sweep.csv")
    assert set(ds.task) == {"classification", "autoencoder"}
    assert {"mnist (official)", "fashion_mnist (official)"} <= set(ds.dataset)
    ae = ds[ds.task == "autoencoder"]
    assert ae.train_loss.notna().any() and ae.train_acc.isna().all()
    checks = pd.read_csv(res / "checks.csv")
    assert len(checks) >= 9 and set(checks.scale) == {"test"}
    fit = checks[checks.claim.str.contains("fit formula")]
    assert fit.passed.all()
