"""extras pipeline: unit tests of its pieces (the properties that hold by construction live here, not in the
scorecard), every check on a synthetic CSV where it passes and one where it fails, the 'nothing trained' rule, and
one end-to-end Snakemake run at the tiny scale."""

import math
import re

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import run_snakemake
from isometry.papers.extras import checks as C
from isometry.papers.extras.experiments import bansal, shattered, vorontsov
from isometry.rnn import EnsembleRNN
from isometry.spec import Member

X = torch.linspace(-2, 2, 64, dtype=torch.float64)

CHECKS = {"chance": 0.1, "n_se": 2.0, "trained_margin": 0.05, "trained_cost_fraction": 0.8, "beta_brown_white": 1.0,
          "noise_depths": {"plain": 24, "resnet": 50}, "decay_fit_range": [0.05, 0.5], "ffn_factor_range": [0.35, 0.71],
          "resnet_fit_depths": [8, 200], "resnet_exponent_range": [0.25, 0.75], "theory_autocorr_tol": 0.1,
          "he_xavier_group": "he_xavier", "ll_group": "looks_linear_depth",
          "he_xavier_depth": 30, "plateau_fraction": 0.9, "he_xavier_speedup": 5.0, "trained_acc": 0.5,
          "ll_depth": 200, "signal_slope_tol": 0.1, "heatmap_trained_acc": 0.5, "heatmap_inside_xi": 3.0,
          "heatmap_outside_xi": 12.0, "heatmap_min_fraction": 0.8, "heatmap_tip_tol": 0.3,
          "margin_spearman_max": -0.8, "no_margin_spread_min": 0.1}
P = {"checks": CHECKS, "scale": "test"}


def passed(rows, figure=None):
    return [bool(r.passed) for r in rows if r.kind == "paper" and (figure is None or r.figure == figure)]


# ------------------------------------------------------------------------------------- construction (unit tests)
def test_looks_linear_net_is_its_linear_map_at_init():
    for bn in (False, True):
        g, f, a, c = shattered.net_gradients("looks_linear", 6, 16, X, 3, torch.Generator().manual_seed(1),
                                             batchnorm=bn, return_linear=True)
        lin = a[:, None] * X[None, :] + c[:, None]
        assert float((f - lin).abs().max() / f.abs().max()) < (1e-9 if bn else 1e-12)
        assert torch.allclose(g, a[:, None].expand_as(g))          # constant gradient = the slope
        assert shattered.autocorrelation(g.numpy(), 1) == pytest.approx(1.0)


def test_plain_gradients_shatter_and_theory_matches_shallow_nets():
    gen = torch.Generator().manual_seed(0)
    rho = [shattered.autocorrelation(shattered.net_gradients("plain", d, 32, X, 4, gen, batchnorm=True).numpy(), 1)
           for d in (1, 12)]
    assert rho[1] < rho[0] - 0.2
    th = shattered.theory_autocorrelation(X.numpy(), [1, 2], 1)
    sim = shattered.autocorrelation(shattered.net_gradients("plain", 1, 256, X, 32, gen).numpy(), 1)
    assert th[0] == pytest.approx(sim, abs=0.03) and th[1] <= th[0]


def test_noise_references_have_their_spectral_exponents():
    ref = shattered.noise_references(32, 256, torch.Generator().manual_seed(0))
    assert shattered.spectral_exponent(ref["white_noise"]) == pytest.approx(0.0, abs=0.3)
    assert shattered.spectral_exponent(ref["brown_noise"]) == pytest.approx(2.0, abs=0.3)
    assert math.isnan(shattered.spectral_exponent(np.ones((3, 64))))       # a constant signal has no spectrum


def test_margin_rnn_per_member_margins_hold_and_m0_is_orthogonal():
    margins = [0.0, 0.1, 1.0, math.inf]
    model = EnsembleRNN(4, (1, 28, 28), 10, hidden_size=8, recurrent="margin", margin=margins)
    model.reset_parameters([Member(run_id=str(i), init="orthogonal", sigma_w2=1.0, seed=i) for i in range(4)])
    with torch.no_grad():
        model.sv_param.copy_(torch.randn(4, 8) * 5)
    s = model.singular_values().detach()
    for e, m in enumerate(margins[:3]):
        assert float((s[e] - 1).abs().max()) <= m + 1e-6
    assert float((s[3] - 1).abs().max()) > 1.0                       # no margin: unconstrained
    W = model.recurrent_weight.detach().double()
    assert torch.allclose(W[0] @ W[0].T, torch.eye(8, dtype=torch.float64), atol=1e-5)   # m = 0: orthogonal
    sv = torch.linalg.svdvals(W[1])
    assert float(sv.max()) <= 1.1 + 1e-5 and float(sv.min()) >= 0.9 - 1e-5
    with pytest.raises(ValueError, match="margin"):
        EnsembleRNN(2, (1, 28, 28), 10, hidden_size=4, recurrent="margin", margin=[0.1, 1.5])


def test_bansal_regularizer_terms():
    n = 4
    v0 = torch.rand(n, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    q, _ = torch.linalg.qr(torch.randn(2, n, n, dtype=torch.float64))
    t = bansal.regularizer_terms(q, v0, {"SO", "DSO", "MC", "SRIP"})
    for k in t:
        assert float(t[k].abs().max()) < 1e-10, k
    W = math.sqrt(2.0) * torch.eye(n, dtype=torch.float64).expand(1, n, n)   # G - I = I
    t = bansal.regularizer_terms(W, v0, {"SO", "DSO", "MC", "SRIP"})
    assert float(t["SO"][0]) == pytest.approx(n) and float(t["DSO"][0]) == pytest.approx(2 * n)
    assert float(t["MC"][0]) == pytest.approx(1.0) and float(t["SRIP"][0]) == pytest.approx(1.0)


SCHED = {"paper_epochs": 200, "breakpoints": [20, 50, 70, 120], "factors": [1.0, 1e-3, 1e-4, 1e-6, 0.0]}


def test_lambda_schedule_is_the_papers_compressed():
    f = [bansal.lambda_factor(e, 10, SCHED) for e in range(1, 11)]      # paper epochs 20, 40, ..., 200
    assert f == [1.0, 1e-3, 1e-4, 1e-6, 1e-6, 1e-6, 0.0, 0.0, 0.0, 0.0]
    assert bansal.lambda_factor(20, 200, SCHED) == 1.0 and bansal.lambda_factor(21, 200, SCHED) == 1e-3


def test_cnn_regularizer_is_per_member_with_gain_and_schedule():
    from isometry.cnn import EnsembleCNN

    model = EnsembleCNN(4, (3, 8, 8), 10, channels=4, depth=2, n_down=1, nonlinearity="relu", padding="zeros")
    model.reset_parameters([Member(run_id=str(i), init="he", sigma_w2=None, seed=i) for i in range(4)])
    reg = bansal.Regularizer(model, ["none", "SO", "SO", "SRIP"], [0.0, 1.0, 1.0, 2.0], [2.0, 2.0, 1.0, 2.0],
                             steps_per_epoch=5, epochs=10, schedule=SCHED)
    pen = reg(model).detach()
    assert pen.shape == (4,) and float(pen[0]) == 0.0 and float(pen[1]) > 0 and float(pen[3]) > 0
    assert float(pen[2]) > float(pen[1])         # He filters (norm^2 ~ 2) are far from orthonormal, near x sqrt 2
    reg.step = 5                                  # epoch 2: x 1e-3
    assert torch.allclose(reg(model).detach(), pen * 1e-3, rtol=1e-4)
    reg.step = 35                                 # epoch 8: 0
    assert float(reg(model).abs().max()) == 0.0


def test_plans_name_their_experiments_and_respect_max_ensemble():
    from isometry.config import load_config
    from isometry.pipeline import load_pipeline, plan_sweep, Sweep

    cfg = load_config("tests/configs/tiny.yaml")
    cfg["max_ensemble"] = 3
    pipe = load_pipeline("extras")
    for exp in pipe.experiments:
        if isinstance(exp, Sweep):
            shards = plan_sweep(cfg, "extras", exp)
            assert shards and all(len(s.shard.spec["members"]) <= 3 for s in shards), exp.name


# ------------------------------------------------------------------------------------------------ checks
def shattered_frame(good: bool) -> pd.DataFrame:
    rows = [{"kind": "spectrum", "arch": "white_noise", "batchnorm": False, "depth": np.nan, "value": 0.0},
            {"kind": "spectrum", "arch": "brown_noise", "batchnorm": False, "depth": np.nan, "value": 2.0},
            {"kind": "spectrum", "arch": "plain", "batchnorm": True, "depth": 1, "value": 1.9},
            {"kind": "spectrum", "arch": "plain", "batchnorm": True, "depth": 24, "value": 0.0 if good else 1.5},
            {"kind": "spectrum", "arch": "resnet", "batchnorm": True, "depth": 50, "value": 1.5 if good else 0.2}]
    for L in range(1, 25):
        rows.append({"kind": "autocorr", "arch": "plain", "batchnorm": True, "depth": L, "lag": 1,
                     "value": 0.5 ** (L - 1) if good else 0.97 ** L})
    for L in (8, 16, 32, 64, 128, 200):
        rows.append({"kind": "autocorr", "arch": "resnet", "batchnorm": True, "depth": L, "lag": 1,
                     "value": L ** -0.5 if good else math.exp(-L / 20)})
    return pd.DataFrame(rows).assign(theory=np.nan)


def test_shattered_checks_pass_and_fail():
    assert all(passed(C.shattered_checks(P, shattered_frame(True))))
    assert not any(passed(C.shattered_checks(P, shattered_frame(False)))[1:])
    assert len(passed(C.shattered_checks(P, None))) == 5 and not any(passed(C.shattered_checks(P, None)))


def relu_frame(he_trains=True, xavier_stalls=True, ll_deep=True) -> pd.DataFrame:
    rows = []
    steps = [0, 10, 30, 100, 300, 1000]
    for seed in range(3):
        for depth, init, curve in ((30, "he", "fast" if he_trains else "flat"),
                                   (30, "xavier", "flat" if xavier_stalls else "fast"),
                                   (30, "orthogonal", "fast"), (30, "random_walk", "fast"),
                                   (30, "looks_linear", "fast"), (200, "he", "flat"),
                                   (200, "looks_linear", "fast" if ll_deep else "flat")):
            group = "he_xavier" if depth == 30 else "looks_linear_depth"
            for s in steps:
                loss = math.log(10) * (1.0 if curve == "flat" or s == 0 else max(0.1, 1 - s / 100))
                acc = 0.1 if curve == "flat" or s == 0 else min(0.95, 0.1 + s / 100)
                rows.append({"kind": "train", "run_id": f"{depth}-{init}-{seed}", "init": init, "depth": depth,
                             "group": group,
                             "seed": seed, "step": s, "train_loss": loss, "test_acc": acc, "sigma_w2": 2.0,
                             "diverged": False})
    return pd.DataFrame(rows)


def test_relu_init_checks_pass_and_fail():
    assert all(passed(C.relu_checks(P, relu_frame())))
    assert not passed(C.relu_checks(P, relu_frame(he_trains=False)))[0]
    assert not passed(C.relu_checks(P, relu_frame(xavier_stalls=False)))[0]
    assert all(passed(C.looks_linear_checks(P, relu_frame())))
    assert not any(passed(C.looks_linear_checks(P, relu_frame(ll_deep=False))))


def heatmap_frame(good: bool) -> pd.DataFrame:
    rows = []
    for sw2, xi in ((1.0, 4.0), (1.75, 400.0), (2.5, 12.0), (4.0, 7.0)):
        for L in (10, 20, 40, 80, 160):
            inside = L <= 6 * xi
            acc = (0.9 if inside else 0.1) if good else 0.9
            rows.append({"kind": "train", "run_id": f"{sw2}-{L}", "sigma_w2": sw2, "depth": L, "step": 100,
                         "train_acc": acc, "xi_c": xi, "critical_sigma_w2": 1.76})
    return pd.DataFrame(rows)


def test_heatmap_checks_pass_and_fail():
    assert all(passed(C.heatmap_checks(P, heatmap_frame(True))))
    rows = C.heatmap_checks(P, heatmap_frame(False))        # 'everything trains': the trivial baseline
    assert not passed(rows)[0]


def vor_frame(good: bool) -> pd.DataFrame:
    rows = []
    margins = [0.0, 0.001, 0.01, 0.1, 1.0, math.inf]
    for seed in range(3):
        for i, m in enumerate(margins):
            cost = (1.3 - 0.1 * i + 0.01 * seed) if good else 1.0 + 0.01 * seed
            spread = min(2 * m, 0.3) if good else 0.0
            for ep in (0, 5):
                rows.append({"variant": "margin", "margin": m, "seed": seed, "epoch": ep, "run_id": f"{m}-{seed}",
                             "test_loss": cost if ep else math.log(10), "test_acc": 0.6,
                             "sv_min": 1 - spread / 2, "sv_max": 1 + spread / 2})
        for v, acc in (("single_soft", 0.5), ("gain_adjusted", 0.6 if good else 0.5)):
            rows.append({"variant": v, "margin": np.nan, "seed": seed, "epoch": 5, "run_id": f"{v}-{seed}",
                         "test_loss": 1.0, "test_acc": acc + 0.001 * seed, "sv_min": 1, "sv_max": 1})
    return pd.DataFrame(rows)


def test_vorontsov_checks_pass_and_fail():
    assert all(passed(C.vorontsov_checks(P, vor_frame(True))))
    assert not any(passed(C.vorontsov_checks(P, vor_frame(False))))


def bcw_frame(gain: float) -> pd.DataFrame:
    rows = []
    for seed in range(3):
        for reg in ("none", "SO", "SRIP"):
            acc = 0.4 + 0.01 * seed + (gain if reg != "none" else 0.0) + 0.002 * seed * (reg == "SRIP")
            rows.append({"regularizer": reg, "label": reg, "seed": seed, "epoch": 10, "test_acc": acc})
    return pd.DataFrame(rows)


def test_bansal_checks_pass_fail_and_say_why():
    assert all(passed(C.bansal_checks(P, bcw_frame(0.02))))
    rows = C.bansal_checks(P, bcw_frame(-0.02))
    assert not any(passed(rows)) and "lower" in rows[0].reproduced_value
    rows = C.bansal_checks(P, bcw_frame(0.0))
    assert not any(passed(rows)) and "inconclusive" in rows[1].reproduced_value


def test_training_claims_fail_when_nothing_trained():
    flat_relu = relu_frame(he_trains=False, xavier_stalls=True, ll_deep=False)
    flat_relu["test_acc"] = 0.1
    assert not any(passed(C.relu_checks(P, flat_relu) + C.looks_linear_checks(P, flat_relu)))
    hm = heatmap_frame(True).assign(train_acc=0.1)
    assert not any(passed(C.heatmap_checks(P, hm)))
    vor = vor_frame(True).assign(test_loss=math.log(10), test_acc=0.1)
    assert not any(passed(C.vorontsov_checks(P, vor)))
    assert not any(passed(C.bansal_checks(P, bcw_frame(0.0).assign(test_acc=0.1))))


# ------------------------------------------------------------------------------------------------ end to end
@pytest.fixture(scope="module")
def tiny_run(workflow_dir):
    run_snakemake(workflow_dir, "extras")
    return workflow_dir


def test_end_to_end_tiny(tiny_run):
    w = tiny_run
    for name in ("shattered_gradients", "relu_init_comparison", "trainability_heatmap_fc",
                 "orthogonality_regularization", "orthogonality_regularizers_cnn"):
        assert (w / f"results/extras/{name}.csv").stat().st_size > 0
    for name in ("shattered_gradients", "looks_linear_depth", "relu_init_comparison", "trainability_heatmap_fc",
                 "orthogonality_regularization", "orthogonality_regularizers_cnn"):
        for ext in ("png", "pdf", "caption.txt"):
            assert (w / f"figures/extras/{name}.{ext}").exists(), (name, ext)
    rnn = pd.read_csv(w / "results/extras/orthogonality_regularization.csv")
    assert set(rnn.variant) == {"margin", "none", "single_soft", "gain_adjusted"}
    cnn = pd.read_csv(w / "results/extras/orthogonality_regularizers_cnn.csv")
    assert set(cnn.regularizer) == {"none", "SO", "DSO", "MC", "SRIP"}
    assert cnn.dataset.str.startswith("cifar10 (").all()
    assert "cifar10 (" in (w / "figures/extras/orthogonality_regularizers_cnn.caption.txt").read_text()
    checks = pd.read_csv(w / "results/extras/checks.csv")
    assert set(checks.paper) == {"extras"} and set(checks.scale) == {"test"}
    assert (checks[checks.kind == "paper"].source.str.len() > 10).all()
    figures = {"shattered_gradients", "looks_linear_depth", "relu_init_comparison", "trainability_heatmap_fc",
               "orthogonality_regularization", "orthogonality_regularizers_cnn"}
    assert figures <= set(checks[checks.kind == "paper"].figure)      # every figure's headline is a paper row


TRAINING_FIGURES = {"relu_init_comparison", "looks_linear_depth", "trainability_heatmap_fc",
                    "orthogonality_regularization", "orthogonality_regularizers_cnn"}


def test_figures_draw_all_nan_csvs(tmp_path, tiny_run):
    """Every figure draws a CSV whose metrics are all NaN (everything diverged) without crashing."""
    from isometry.papers.extras import PIPELINE

    src = tiny_run / "results/extras"
    for fig in PIPELINE.figures:
        inputs = []
        for name in fig.inputs:
            df = pd.read_csv(src / f"{name}.csv")
            for col in ("train_loss", "train_acc", "test_loss", "test_acc", "value"):
                if col in df.columns:
                    df[col] = np.nan
            if "diverged" in df.columns:
                df["diverged"] = True
            p = tmp_path / f"{name}.csv"
            df.to_csv(p, index=False)
            inputs.append(str(p))
        params = {"scale": "test", "checks": CHECKS, "figures": {},
                  "relu_init": {"figure": {"depth": 4, "group": "he_xavier", "ll_group": "looks_linear_depth"}}}
        fig.draw(params, inputs, tmp_path / f"{fig.name}.png")
        assert (tmp_path / f"{fig.name}.png").exists()
        caption = (tmp_path / f"{fig.name}.caption.txt").read_text()
        if fig.name in TRAINING_FIGURES:      # issue 20 item 11: the caption says what ran (here: all diverged)
            assert re.search(r"\b[1-9]\d* run\(s\) diverged", caption), (fig.name, caption)
