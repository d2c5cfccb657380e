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


@pytest.mark.parametrize("nl,g", [("linear", 1.0), ("relu", 1.45), ("tanh", 1.2)])
def test_conditional_sampler_has_the_dense_law(nl, g):
    # the O(S D N) sampler draws W_d only where the walk sees it: same law as real dense Gaussian nets
    N, D, S = 16, 12, 3000
    a = W.simulate_walks(nl, N, D, [g], S, seed=5)[0]
    b = W.simulate_walks_conditional(nl, N, D, [g], S, seed=6)[0]
    for k in (1, D // 2, D):
        x, y = a[:, k][np.isfinite(a[:, k])], b[:, k][np.isfinite(b[:, k])]
        se = math.sqrt(x.var() / len(x) + y.var() / len(y))
        assert abs(x.mean() - y.mean()) < 4 * se
        assert y.var() == pytest.approx(x.var(), rel=0.15)
    # homogeneous f: changing g shifts every walk by 2 k ln(g'/g) (common random numbers)
    if nl != "tanh":
        c = W.simulate_walks_conditional(nl, N, D, [g, 1.1 * g], 64, seed=1)
        ok = np.isfinite(c[0, :, -1])
        assert np.allclose(c[1, ok, -1] - c[0, ok, -1], 2 * D * math.log(1.1), atol=1e-3)


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
    assert {"steps", "epochs", "n_train", "lr_decay", "grad_clip"} <= set(df.columns)   # what ran, for captions
    png = tmp_path / "mnist_gain_sweep.png"
    sa.FIGURES["mnist_gain_sweep"](p, [out], png)
    cap = png.with_suffix(".caption.txt").read_text()
    assert f"{int(df.steps.iloc[0])} steps" in cap and "first 200 training images" in cap


# ---------------------------------------------------------------------------------------------- checks
def _walk_csv(c_lin=2.0, c_relu=5.0, width_power=-1.0, depth_power=1.0, mean=0.0, widths=(25, 50, 100, 200)):
    """Synthetic random_walks rows: Var = c k^depth_power N^width_power (scaled to c k / N at N = 100, k = D)."""
    D, rows = 100, []
    for nl, c in (("linear", c_lin), ("relu", c_relu)):
        for N in widths:
            for k in range(D + 1):
                var = c * (k / D) ** depth_power * D / 100 * (N / 100) ** width_power
                base = dict(nonlinearity=nl, gain_label="g*", gain=1.0, width=N, depth=D, n_walks=500, walk=-1, layer=k)
                rows.append({**base, "stat": "var", "value": var, "theory": c * k / N})
                rows.append({**base, "stat": "mean", "value": mean * k / D, "theory": 0.0})
    return pd.DataFrame(rows)


def test_walk_rows_pass_and_fail():
    from isometry.papers.sussillo2014.checks import DEFAULTS, walk_rows

    good = walk_rows(_walk_csv(), DEFAULTS, "test")
    law = [r for r in good if "grows like depth/width" in r.claim]
    assert len(law) == 2 and all(r.passed and r.kind == "paper" for r in law)
    assert all(r.passed for r in good if "unbiased" in r.claim)
    flat_width = walk_rows(_walk_csv(width_power=-0.5), DEFAULTS, "test")       # variance not ~ 1/N
    assert not any(r.passed for r in flat_width if "grows like depth/width" in r.claim)
    sqrt_depth = walk_rows(_walk_csv(depth_power=0.5), DEFAULTS, "test")        # variance not ~ D
    assert not any(r.passed for r in sqrt_depth if "grows like depth/width" in r.claim)
    biased = walk_rows(_walk_csv(mean=-3.0), DEFAULTS, "test")                  # drifting walk
    assert not any(r.passed for r in biased if "unbiased" in r.claim)
    two_widths = walk_rows(_walk_csv(widths=(50, 100)), DEFAULTS, "test")      # needs >= 3 widths
    assert not any(r.passed for r in two_widths if "grows like depth/width" in r.claim)


def _final_rows(experiment, task, dataset, nl, depth, width, gain, lr, err, loss=None, steps=(0, 100)):
    rows = []
    for st in steps:
        last = st == steps[-1]
        e = err if last else 0.9
        rows.append(dict(experiment=experiment, task=task, dataset=dataset, nonlinearity=nl, depth=depth, width=width,
                         gain=gain, lr_in=lr[0], lr_out=lr[1], seed=0, step=st, diverged=False,
                         run_id=f"{task}-{dataset}-{nl}-{depth}-{gain}-{lr}",
                         train_acc=np.nan if task == "autoencoder" else 1 - e,
                         train_loss=(e if task == "autoencoder" else (loss if loss is not None and last else 2.3))))
    return rows


def _gain_csv(errs_tanh, errs_relu, gains=(0.9, 1.1, 1.2, 1.45, 1.8)):
    rows = []
    for nl, errs in (("tanh", errs_tanh), ("relu", errs_relu)):
        for g, e in zip(gains, errs):
            rows += _final_rows("mnist_gain_sweep", "classification", "mnist", nl, 64, 100, g, (0.02, 0.005), e, loss=e)
    return pd.DataFrame(rows)


def test_gain_rows_pass_and_fail():
    from isometry.papers.sussillo2014.checks import DEFAULTS, gain_rows

    ok = gain_rows(_gain_csv([0.8, 0.01, 0.03, 0.3, 0.9], [0.9, 0.8, 0.5, 0.02, 0.9]), DEFAULTS, "test")
    assert len(ok) == 2 and all(r.passed and r.kind == "paper" for r in ok)
    wrong = gain_rows(_gain_csv([0.01, 0.2, 0.3, 0.5, 0.9], [0.9, 0.02, 0.5, 0.3, 0.9]), DEFAULTS, "test")
    assert not any(r.passed for r in wrong)                                     # optimum away from the paper's g
    flat = gain_rows(_gain_csv([0.01] * 5, [0.02] * 5), DEFAULTS, "test")
    assert not any(r.passed for r in flat)                                      # g does not matter: no claim
    untrained = gain_rows(_gain_csv([0.9, 0.5, 0.7, 0.9, 0.9], [0.9, 0.9, 0.8, 0.5, 0.9]), DEFAULTS, "test")
    assert not any(r.passed for r in untrained)                                 # best net did not train
    # ties in error are broken by the lower training loss, never by the grid order
    rows = []
    for g, e, l in ((0.9, 0.9, 2.3), (1.1, 0.0, 0.05), (1.2, 0.0, 0.01), (1.45, 0.5, 1.0), (1.8, 0.9, 2.3)):
        rows += _final_rows("mnist_gain_sweep", "classification", "mnist", "tanh", 64, 100, g, (0.02, 0.005), e, loss=l)
    from isometry.papers.sussillo2014.checks import best_gain
    from isometry.papers.sussillo2014.training import final_errors

    assert best_gain(final_errors(pd.DataFrame(rows)))[0] == 1.2


def _depth_csv(cls_errs, ae_mse, depths=(2, 8, 32, 128)):
    rows = []
    for ds, errs in (("mnist", cls_errs), ("fashion_mnist", cls_errs)):
        for D, e in zip(depths, errs):
            rows += _final_rows("depth_sweep", "classification", ds, "tanh", D, 100, 1.15, (0.02, 0.005), e)
            rows += _final_rows("depth_sweep", "classification", ds, "tanh", D, 100, 1.15, (0.1, 0.1), 0.9)
    for D, e in zip(depths, ae_mse):
        rows += [dict(r, train_loss=(1.0 if r["step"] == 0 else e))
                 for r in _final_rows("depth_sweep", "autoencoder", "mnist", "tanh", D, 100, 1.15, (1.0, 1.0), e)]
    return pd.DataFrame(rows)


def test_depth_rows_pass_and_fail():
    from isometry.papers.sussillo2014.checks import DEFAULTS, depth_rows

    ok = depth_rows(_depth_csv([0.0, 0.0, 0.005, 0.015], [0.2, 0.22, 0.23, 0.24]), DEFAULTS, "test")
    assert len(ok) == 3 and all(r.passed and r.kind == "paper" for r in ok)
    worse = depth_rows(_depth_csv([0.0, 0.01, 0.05, 0.18], [0.2, 0.3, 0.5, 0.69]), DEFAULTS, "test")
    assert not any(r.passed for r in worse)                                     # deep nets train worse
    chance = depth_rows(_depth_csv([0.9] * 4, [1.0] * 4), DEFAULTS, "test")
    assert not any(r.passed for r in chance)                                    # nothing trained at any depth
    one = depth_rows(_depth_csv([0.0], [0.2], depths=(128,)), DEFAULTS, "test")
    assert len(one) == 3 and not any(r.passed for r in one)                      # one depth: no vacuous pass


def test_missing_inputs_are_failed_rows(tmp_path):
    sa.CHECKS({"scale": "test", "checks": {}}, [], tmp_path / "checks.csv")
    df = pd.read_csv(tmp_path / "checks.csv")
    miss = df[df.reproduced_value.astype(str).str.startswith("missing input")]
    assert set(miss.figure) == {"random_walks", "mnist_gain_sweep", "depth_sweep"} and not miss.passed.any()
    assert (miss.kind == "paper").all()


def test_figures_draw_all_diverged_csvs(tmp_path):
    gs = _gain_csv([np.nan] * 5, [np.nan] * 5)
    gs["train_acc"] = np.nan
    gs["diverged"] = True
    gs.to_csv(tmp_path / "mnist_gain_sweep.csv", index=False)
    sa.FIGURES["mnist_gain_sweep"]({"scale": "test"}, [tmp_path / "mnist_gain_sweep.csv"], tmp_path / "g.png")
    ds = _depth_csv([np.nan] * 4, [np.nan] * 4)
    ds["train_acc"] = np.nan
    ds["train_loss"] = np.nan
    ds.to_csv(tmp_path / "depth_sweep.csv", index=False)
    sa.FIGURES["depth_sweep"]({"scale": "test"}, [tmp_path / "depth_sweep.csv"], tmp_path / "d.png")
    rw = _walk_csv()
    rw["value"] = np.nan
    rw.to_csv(tmp_path / "random_walks.csv", index=False)
    sa.FIGURES["random_walks"]({"scale": "test"}, [tmp_path / "random_walks.csv"], tmp_path / "w.png")
    og = pd.DataFrame([dict(kind="g_star", nonlinearity=nl, width=16, method=m, g=np.nan, g_se=np.nan, depth=8)
                       for nl in ("linear", "relu", "tanh") for m in ("monte_carlo", "exact", "fit")]
                      + [dict(kind="drift", nonlinearity=nl, width=16, method="monte_carlo", gain=g, drift=np.nan,
                              se=np.nan, depth=8) for nl in ("linear", "relu", "tanh") for g in (0.9, 1.2)])
    og.to_csv(tmp_path / "optimal_gain.csv", index=False)
    sa.FIGURES["optimal_gain"]({"scale": "test"}, [tmp_path / "optimal_gain.csv"], tmp_path / "o.png")
    for f in ("g", "d", "w", "o"):
        assert (tmp_path / f"{f}.png").stat().st_size > 0
    cap = (tmp_path / "d.caption.txt").read_text()                 # the caption states what the CSV holds
    assert "D=2: 100" in cap and "D=128: 100" in cap and "g = 1.15" in cap


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
    assert set(checks.scale) == {"test"}
    assert checks[checks.kind == "paper"].source.str.len().gt(0).all()
    assert {"random_walks", "mnist_gain_sweep", "depth_sweep"} <= set(checks[checks.kind == "paper"].figure)
    fit = checks[checks.claim.str.contains("fit formulas")]
    assert fit.passed.all()
