"""xiao2018 (Xiao et al. 2018, dynamical isometry and mean field theory of CNNs): units, the recipe's model, the plans,
every check on synthetic CSVs that pass and fail (and fail when nothing trained), figures on all-diverged CSVs, and
one tiny end-to-end run."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from isometry.cnn import variance_profile
from isometry.init import conv_orthogonal_, delta_orthogonal_
from isometry.papers import xiao2018 as xb
from isometry.papers.xiao2018 import checks as C
from isometry.papers.xiao2018 import experiments as X
from isometry.papers.xiao2018 import figures as FG
from isometry.papers.xiao2018 import training as T
from isometry.papers.xiao2018.model import XiaoCNN, hidden_map, layer_lr
from isometry.pipeline import plan_sweep
from isometry.spec import Member
from isometry.theory import meanfield as mf

REPO = Path(__file__).resolve().parents[1]


def tiny_config():
    from isometry.config import validate_config
    cfg = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    return validate_config(cfg)


def default_config():
    from isometry.config import validate_config
    return validate_config(yaml.safe_load((REPO / "config/config.yaml").read_text()))


def tiny_params():
    cfg = tiny_config()
    p = dict(cfg["xiao2018"])
    p.update(paper="xiao2018", scale="test", device="cpu", threads=1, max_ensemble=8, data_dir="data")
    return p


def test_tables_complete():
    assert set(xb.EXPERIMENTS) == {"deep_cnn_curves", "trainability_heatmap", "fourier_modes", "fc_reference",
                                   "nonuniform_variance", "cnn_jacobian_spectrum"}
    assert set(xb.FIGURES) == {"deep_cnn_curves", "trainability_heatmap", "fourier_modes", "orthogonal_depth",
                               "nonuniform_variance", "cnn_jacobian_spectrum"}


def test_layer_lr_rule():
    assert layer_lr(0.05, 250, "inverse") == pytest.approx(2e-4)
    assert layer_lr(0.05, 8, "inverse") == pytest.approx(0.00625)
    assert layer_lr(0.01, 200, "none") == 0.01
    with pytest.raises(ValueError, match="lr_depth_scaling"):
        layer_lr(0.1, 3, "sqrt")


def test_edge_lr_multipliers():
    p = {"train": {"lr": 0.05, "lr_depth_scaling": "inverse", "edge_lr": 0.01}, "model": {"n_down": 3}}
    m = T.edge_lr_multipliers(p, 100)
    assert m["readout_weight"] == pytest.approx(0.01 / (0.05 / 100)) and m["down_biases.2"] == m["readout_bias"]
    assert len(m) == 2 + 2 * 3
    p["train"]["edge_lr"] = None
    assert T.edge_lr_multipliers(p, 100) == {}


def test_xiao_cnn_flatten_readout_trains_one_step():
    assert hidden_map((28, 28), 3) == (4, 4) and hidden_map((32, 32), 2) == (8, 8)
    members = [Member(run_id=f"m{i}", init=i_, sigma_w2=1.05, sigma_b2=2.01e-5, lr=1e-3, optimizer="momentum",
                      seed=i) for i, i_ in enumerate(["delta_orthogonal", "gaussian"])]
    m = XiaoCNN(2, (1, 28, 28), 10, readout="flatten", channels=4, depth=3, n_down=3)
    assert tuple(m.readout_weight.shape) == (2, 10, 4 * 4 * 4)
    m.reset_parameters(members)
    T.gaussian_edges_(m, members)
    # stem and readout: Gaussian, identical for the two members (same seed -> same draw; here seeds differ)
    w = m.readout_weight.detach()
    assert w[0].std() == pytest.approx(math.sqrt(1.05 / 64), rel=0.3)
    x = torch.randn(5, 1, 28, 28)
    out = m(x)
    assert out.shape == (2, 5, 10) and torch.isfinite(out).all()
    # the flatten readout of member 0 uses member 0's channels only
    feats = m.features(x)
    ref = feats[:, :4].reshape(5, -1) @ m.readout_weight[0].T + m.readout_bias[0]
    assert torch.allclose(out[0], ref, atol=1e-5)
    g = XiaoCNN(1, (3, 32, 32), 10, readout="gap", channels=4, depth=2, n_down=3)
    assert tuple(g.readout_weight.shape) == (1, 10, 4)
    with pytest.raises(ValueError, match="model.readout"):
        XiaoCNN(1, (1, 28, 28), 10, readout="max", channels=4, depth=2, n_down=3)


def test_plan_deep_cnn_curves_contrasts_and_stable_shards():
    cfg = default_config()
    shards = plan_sweep(cfg, "xiao2018", xb.PIPELINE.experiment("deep_cnn_curves"))
    inits = {(s.shard.spec["dataset"], s.shard.spec["job"]["group"]["depth"]): sorted(m["init"] for m in s.shard.members)
             for s in shards}
    dc = cfg["xiao2018"]["deep_cnn_curves"]
    top = max(dc["depths"])
    assert dc["gaussian_depth"] == top
    assert inits[("mnist", top)] == ["delta_orthogonal", "gaussian"]
    assert inits[("mnist", min(dc["depths"]))] == ["delta_orthogonal"]
    assert inits[("cifar10", top)] == ["conv_orthogonal", "delta_orthogonal", "gaussian"]
    # the stride-1 rate is lr / L, the edges' rate edge_lr
    for s in shards:
        L = s.shard.spec["job"]["group"]["depth"]
        assert all(m["lr"] == pytest.approx(0.05 / L) for m in s.shard.members)
    # a new depth adds one shard per dataset and leaves the others alone
    cfg["xiao2018"]["deep_cnn_curves"]["depths"] = dc["depths"] + [top + 1]
    more = plan_sweep(cfg, "xiao2018", xb.PIPELINE.experiment("deep_cnn_curves"))
    assert {s.id for s in shards} < {s.id for s in more} and len(more) == len(shards) + len(dc["datasets"])


def test_plan_heatmap_logs_the_budgets():
    cfg = default_config()
    hm = cfg["xiao2018"]["trainability_heatmap"]
    shards = plan_sweep(cfg, "xiao2018", xb.PIPELINE.experiment("trainability_heatmap"))
    assert len(shards) == len(hm["depths"])
    for s in shards:
        assert s.shard.spec["steps"] == max(hm["budgets"])
        assert s.shard.spec["log_at"] == [0] + sorted(hm["budgets"])
        assert len(s.shard.members) == len(hm["sigma_w2"]) * len(hm["inits"])
    cfg["xiao2018"]["trainability_heatmap"]["budgets"] = []
    with pytest.raises(Exception, match="budgets"):
        plan_sweep(cfg, "xiao2018", xb.PIPELINE.experiment("trainability_heatmap"))


def test_default_scale_meets_the_issue_shape():
    """Issue 16's minimum sizes at the default scale (so a config edit cannot quietly shrink them)."""
    x = default_config()["xiao2018"]
    d = x["deep_cnn_curves"]["depths"]
    assert len(d) >= 3 and max(d) >= 300 and max(d) / min(d) >= 10 ** 1.5
    assert x["deep_cnn_curves"]["gaussian_depth"] == max(d) and "cifar10" in x["deep_cnn_curves"]["block_orthogonal"]
    h = x["trainability_heatmap"]
    assert len(h["sigma_w2"]) >= 8 and min(h["sigma_w2"]) <= 0.5 and max(h["sigma_w2"]) >= 4
    assert len(h["depths"]) >= 6 and max(h["depths"]) >= 200 and len(h["budgets"]) >= 2
    assert h["sigma_b2"] <= 1e-4 and set(h["inits"]) == {"gaussian", "delta_orthogonal"}
    assert x["fc_reference"]["steps"] == x["deep_cnn_curves"]["steps"]


@pytest.mark.parametrize("init", [delta_orthogonal_, conv_orthogonal_])
def test_circulant_singular_values_of_orthogonal_kernels(init):
    g = torch.Generator().manual_seed(0)
    w = torch.empty(6, 6, 3, 3, dtype=torch.float64)
    init(w, gain=1.3, generator=g)
    s = T.circulant_singular_values(w, (4, 5))
    assert s.shape == (4 * 5 * 6,)
    assert torch.allclose(s, torch.full_like(s, 1.3), atol=1e-10)
    # against the dense operator built from conv2d with circular padding
    x = torch.randn(3, 6, 4, 5, dtype=torch.float64, generator=g)
    y = X._circ_conv(x, w, torch.zeros(6, dtype=torch.float64))
    assert torch.allclose(y.flatten(1).norm(dim=1), 1.3 * x.flatten(1).norm(dim=1), atol=1e-10)


def test_circulant_singular_values_match_dense_gaussian():
    g = torch.Generator().manual_seed(1)
    w = torch.randn(3, 3, 3, 3, dtype=torch.float64, generator=g)
    n = 4
    eye = torch.eye(3 * n * n, dtype=torch.float64).reshape(-1, 3, n, n)
    M = X._circ_conv(eye, w, torch.zeros(3, dtype=torch.float64)).reshape(3 * n * n, -1)
    dense = torch.linalg.svdvals(M).sort().values
    fast = T.circulant_singular_values(w, (n, n)).sort().values
    assert torch.allclose(dense, fast, atol=1e-10)


def test_mode_path_and_vhat():
    p = X.mode_path(8)
    assert p[0] == (0, 0) and p[4] == (4, 0) and p[8] == (4, 4) and p[-1] == (0, 0) and len(p) == 13
    v = variance_profile(0.0).numpy()
    # uniform 3x3: |v^| = |(1 + 2 cos w) / 3| per axis
    w = 2 * np.pi / 8
    assert X.vhat_abs(v, w, 0.0) == pytest.approx((1 + 2 * math.cos(w)) / 3)
    assert X.vhat_abs(variance_profile(1.0).numpy(), 1.1, 2.3) == pytest.approx(1.0)
    # continuous theory curve agrees with meanfield.xi_c_fourier on the lattice
    lat = mf.xi_c_fourier("tanh", 1.5, 0.05, v, 8)
    chic = float(mf.chi_c("tanh", 1.5, 0.05))
    for kx, ky in [(0, 0), (1, 0), (2, 1), (4, 4)]:
        cont = X.xi_fourier_continuous(chic, v, kx * w, ky * w)
        assert float(cont) == pytest.approx(float(lat[ky, kx]), rel=1e-9)


def test_correlation_modes_linear_map():
    # one linear layer with a delta variance vector keeps every pixel-pair correlation: modes unchanged
    g = torch.Generator().manual_seed(2)
    h = torch.randn(64, 4, 4, dtype=torch.float64, generator=g) + 2 * torch.randn(64, 1, 1, dtype=torch.float64,
                                                                                  generator=g)
    F0 = X.correlation_modes(h)
    assert F0.shape == (16, 4, 4)
    assert torch.allclose(F0[0], torch.zeros_like(F0[0]), atol=1e-10)   # displacement 0: eps = 0
    K = torch.zeros(64, 64, 3, 3, dtype=torch.float64)
    K[:, :, 1, 1] = torch.linalg.qr(torch.randn(64, 64, dtype=torch.float64, generator=g))[0]
    h1 = X._circ_conv(h[None], K, torch.zeros(64, dtype=torch.float64))[0]
    assert torch.allclose(X.correlation_modes(h1), F0, atol=1e-9)


def test_fourier_modes_experiment_tracks_theory(tmp_path):
    p = tiny_params()
    p["fourier_modes"] = dict(sigma_w2=1.5, sigma_b2=0.05, channels=64, image=4, depth=6, networks=8,
                              input_eps=0.05, fit_min=0.05)
    out = tmp_path / "fourier_modes.csv"
    X.exp_fourier_modes(p, [], out)
    df = pd.read_csv(out)
    m = df[(df.row_kind == "mode")].drop_duplicates(["variance", "kx", "ky"])
    d0 = m[(m.variance == "uniform") & (m.kx == 0) & (m.ky == 0)].iloc[0]
    assert d0.xi_empirical == pytest.approx(d0.xi_theory, rel=0.4)
    k1 = m[(m.variance == "uniform") & (m.kx == 1) & (m.ky == 0)].iloc[0]
    assert k1.xi_theory < 1.0 < d0.xi_theory          # (1 + 2 cos(pi/2)) / 3 = 1/3: fast
    assert k1.xi_empirical < 0.3 * d0.xi_empirical
    # reproducible
    X.exp_fourier_modes(p, [], tmp_path / "again.csv")
    assert (tmp_path / "again.csv").read_bytes() == out.read_bytes()


# ---------------------------------------------------------------------------------------- checks on synthetic CSVs
CCFG = {"min_test_acc": {"mnist": 0.90, "cifar10": 0.30}, "depth_spread": {"mnist": 0.03, "cifar10": 0.05},
        "gaussian_margin": 0.05, "heatmap_trained_acc": 0.5, "heatmap_agreement": 0.8, "orthogonal_min_drop": 0.03,
        "orthogonal_train_drop": 0.05, "nonuniform_min_gap": 0.02, "fourier_median_rel_err": 0.15,
        "spectrum_var_rel_err": 0.2, "spectrum_mean_rel_err": 0.05}
DEPTHS = (8, 24, 80, 300)


def _run_rows(dataset, init, depth, acc, train=None, extra=None, steps=(0, 250, 500)):
    rows = []
    for st in steps:
        a = 0.1 if st == 0 else acc
        tr = 0.1 if st == 0 else (acc if train is None else train)
        rows.append(dict(paper="xiao2018", experiment="deep_cnn_curves", run_id=f"{dataset}-{init}-{depth}",
                         init=init, depth=depth, dataset=dataset, step=st, test_acc=a, train_acc=tr,
                         diverged=False, lr=0.05 / depth, sigma_w2=1.05, sigma_b2=2.01e-5, seed=0, batch_size=32,
                         n_train=10000, n_eval=1000, channels=16, n_down=3, readout="flatten", edge_lr=0.01,
                         optimizer="momentum", momentum=0.9, **(extra or {})))
    return rows


def curves_csv(mnist=(0.93, 0.93, 0.92, 0.92), cifar=(0.38, 0.37, 0.36, 0.35), gauss=(0.10, 0.12),
               orth=(0.40, 0.37, 0.34, 0.30), orth_train=(0.40, 0.40, 0.39, 0.39)):
    rows = []
    for ds, accs, g in (("mnist (official)", mnist, gauss[0]), ("cifar10 (jpeg)", cifar, gauss[1])):
        for L, a in zip(DEPTHS, accs):
            rows += _run_rows(ds, "delta_orthogonal", L, a)
        rows += _run_rows(ds, "gaussian", DEPTHS[-1], g)
    for L, a, t in zip(DEPTHS, orth, orth_train):
        rows += _run_rows("cifar10 (jpeg)", "conv_orthogonal", L, a, train=t)
    return pd.DataFrame(rows)


def fc_csv(acc=0.28):
    return pd.DataFrame(_run_rows("cifar10 (jpeg)", "orthogonal", 2, acc, extra={"width": 256}))


def flatten_metrics(df):
    """The 'nothing trained' version of a training CSV: every accuracy at chance."""
    df = df.copy()
    for c in ("train_acc", "test_acc"):
        if c in df.columns:
            df[c] = np.where(df[c].notna(), 0.1, df[c])
    return df


def _passed(rows):
    return [bool(r.passed) for r in rows]


def test_check_deep_cnn_curves_pass_and_fail():
    ok = C.check_deep_cnn_curves(curves_csv(), CCFG, "test")
    assert len(ok) == 6 and all(_passed(ok)) and all(r.kind == "paper" for r in ok)
    low = C.check_deep_cnn_curves(curves_csv(mnist=(0.93, 0.93, 0.92, 0.88)), CCFG, "test")
    assert _passed(low)[:2] == [False, False] and all(_passed(low)[3:])
    spread = C.check_deep_cnn_curves(curves_csv(cifar=(0.45, 0.40, 0.36, 0.35)), CCFG, "test")
    assert _passed(spread) == [True, True, True, True, False, True]
    gauss = C.check_deep_cnn_curves(curves_csv(gauss=(0.26, 0.12)), CCFG, "test")
    assert _passed(gauss) == [True, True, False, True, True, True]
    none = C.check_deep_cnn_curves(flatten_metrics(curves_csv()), CCFG, "test")
    assert not any(_passed(none))
    miss = C.check_deep_cnn_curves(None, CCFG, "test")
    assert len(miss) == 6 and not any(_passed(miss)) and "missing input" in miss[0].reproduced_value
    # a Gaussian run only at another depth: the contrast row fails and says why
    df = curves_csv()
    df.loc[df.init == "gaussian", "depth"] = 80
    rows = C.check_deep_cnn_curves(df, CCFG, "test")
    assert not rows[2].passed and "no Gaussian run" in rows[2].reproduced_value


def heatmap_csv(gauss_fn, delta_fn, steps=(0, 100, 300)):
    rows = []
    sws = (0.5, 0.75, 1.05, 2.0, 4.0)
    xi6 = {s: float(X.six_xi_c(s, 2.01e-5)) for s in sws}
    for init, fn in (("gaussian", gauss_fn), ("delta_orthogonal", delta_fn)):
        for s in sws:
            for L in (10, 48, 124, 200):
                for st in steps:
                    acc = 0.1 if st == 0 else fn(L, xi6[s])
                    rows.append(dict(row_kind="run", init=init, sigma_w2=s, sigma_b2=2.01e-5, depth=L, step=st,
                                     train_acc=acc, test_acc=acc, diverged=False, six_xi_c=xi6[s], seed=0,
                                     run_id=f"{init}{s}{L}", dataset="mnist (official)", critical_sigma_w2=1.05,
                                     n_eval=1000, lr=0.05 / L))
    return pd.DataFrame(rows)


def test_six_xi_c_matches_the_papers_curve():
    """verified.md sec. 1 (INFERRED from the figure's dashed curve): 6 xi_c ~ 48 at sigma_w^2 = 4, ~130 at 2, ~310
    at 1.5, diverging near 1, for sigma_b^2 ~ 1e-5-1e-4."""
    assert float(X.six_xi_c(4.0, 2.01e-5)) == pytest.approx(48, rel=0.1)
    assert float(X.six_xi_c(2.0, 2.01e-5)) == pytest.approx(130, rel=0.1)
    assert float(X.six_xi_c(1.5, 2.01e-5)) == pytest.approx(310, rel=0.15)
    assert float(X.six_xi_c(1.05, 2.01e-5)) > 1e4


def test_check_heatmap_two_sided():
    theory = lambda L, xi6: 0.9 if L <= xi6 else 0.1
    ok = C.check_heatmap(heatmap_csv(theory, theory), CCFG, "test")
    assert len(ok) == 2 and all(_passed(ok)) and "balanced accuracy 1.00" in ok[0].reproduced_value
    everything = C.check_heatmap(heatmap_csv(lambda L, x: 0.9, theory), CCFG, "test")
    assert _passed(everything) == [False, True]          # 'all cells train' fails the far side
    nothing = C.check_heatmap(flatten_metrics(heatmap_csv(theory, theory)), CCFG, "test")
    assert not any(_passed(nothing))
    assert not any(_passed(C.check_heatmap(None, CCFG, "test")))
    # diverged cells count as not trained
    df = heatmap_csv(theory, theory)
    df["diverged"] = True
    assert not any(_passed(C.check_heatmap(df, CCFG, "test")))


def test_check_orthogonal_depth():
    ok = C.check_orthogonal_depth(curves_csv(), fc_csv(0.28), CCFG, "test")
    assert len(ok) == 2 and all(_passed(ok))
    flat = C.check_orthogonal_depth(curves_csv(orth=(0.37, 0.37, 0.36, 0.37)), fc_csv(0.28), CCFG, "test")
    assert _passed(flat) == [False, True]
    away = C.check_orthogonal_depth(curves_csv(), fc_csv(0.45), CCFG, "test")     # falls, but away from FC
    assert not away[0].passed
    tr = C.check_orthogonal_depth(curves_csv(orth_train=(0.40, 0.35, 0.30, 0.25)), fc_csv(), CCFG, "test")
    assert _passed(tr) == [True, False]
    none = C.check_orthogonal_depth(flatten_metrics(curves_csv()), flatten_metrics(fc_csv()), CCFG, "test")
    assert not any(_passed(none))
    df = curves_csv()
    assert not any(_passed(C.check_orthogonal_depth(df[df.init != "conv_orthogonal"], fc_csv(), CCFG, "test")))


def nonuniform_csv(accs):
    rows = []
    for a, acc in accs.items():
        for r in _run_rows("mnist (official)", "gaussian", 48, acc, extra={"delta_mix": a}):
            r["run_id"] += f"-mix{a}"
            rows.append(r)
    return pd.DataFrame(rows)


def test_check_nonuniform():
    assert C.check_nonuniform(nonuniform_csv({1.0: 0.9, 0.5: 0.85, 0.0: 0.8}), CCFG, "test")[0].passed
    assert not C.check_nonuniform(nonuniform_csv({1.0: 0.8, 0.5: 0.85, 0.0: 0.9}), CCFG, "test")[0].passed
    assert not C.check_nonuniform(flatten_metrics(nonuniform_csv({1.0: 0.9, 0.0: 0.8})), CCFG, "test")[0].passed
    df = nonuniform_csv({1.0: 0.9, 0.0: 0.8})
    df.loc[df.delta_mix == 0.0, ["test_acc", "train_acc"]] = np.nan
    df.loc[df.delta_mix == 0.0, "diverged"] = True
    assert C.check_nonuniform(df, CCFG, "test")[0].passed           # a diverged uniform run did not train
    assert not C.check_nonuniform(None, CCFG, "test")[0].passed


def test_theory_checks_pass_and_fail():
    m = pd.DataFrame(dict(row_kind="mode", variance="uniform", kx=[0, 1, 2], ky=0, xi_theory=[10.0, 2.0, 1.0],
                          xi_empirical=[11.0, 2.1, 0.9]))
    assert C.check_fourier(m, CCFG, "test")[0].passed and C.check_fourier(m, CCFG, "test")[0].kind == "theory"
    m["xi_empirical"] = [20.0, 4.0, 2.0]
    assert not C.check_fourier(m, CCFG, "test")[0].passed
    mo = pd.DataFrame(dict(row_kind="moments", depth=[8], var_theory=[0.1], var_empirical=[0.11], mean_theory=1.0,
                           mean_empirical=1.0))
    assert C.check_spectrum(mo, CCFG, "test")[0].passed
    mo["var_empirical"] = 0.13
    assert not C.check_spectrum(mo, CCFG, "test")[0].passed
    mo["var_empirical"], mo["mean_empirical"] = 0.1, 1.06
    assert not C.check_spectrum(mo, CCFG, "test")[0].passed


def test_checks_job_writes_every_row_even_without_inputs(tmp_path):
    out = tmp_path / "checks.csv"
    C.CHECKS({"scale": "test", "checks": CCFG}, [], out)
    ch = pd.read_csv(out)
    assert len(ch) >= 6 + 2 + 2 + 1 + 2 and not ch.passed.any()
    assert set(ch.kind) == {"paper", "theory"}


# ------------------------------------------------------------------------------------- figures on degenerate CSVs
def test_figures_draw_all_diverged_csvs(tmp_path):
    curves = curves_csv()
    curves[["train_acc", "test_acc"]] = np.nan
    curves["diverged"] = True
    curves.to_csv(tmp_path / "deep_cnn_curves.csv", index=False)
    fc = fc_csv()
    fc[["train_acc", "test_acc"]] = np.nan
    fc.to_csv(tmp_path / "fc_reference.csv", index=False)
    hm = heatmap_csv(lambda L, x: np.nan, lambda L, x: np.nan)
    hm["diverged"] = True
    th = pd.DataFrame(dict(row_kind="theory", sigma_w2=[0.5, 4.0], six_xi_c=[8.7, 48.0], critical_sigma_w2=1.05))
    pd.concat([hm, th]).to_csv(tmp_path / "trainability_heatmap.csv", index=False)
    nu = nonuniform_csv({1.0: np.nan, 0.0: np.nan})
    nu["diverged"] = True
    nu["xi_slowest_nonzero_mode"] = np.inf
    nu["hidden_map"] = 4
    nu.to_csv(tmp_path / "nonuniform_variance.csv", index=False)
    p = {"scale": "test"}
    for name in ("deep_cnn_curves", "trainability_heatmap", "orthogonal_depth", "nonuniform_variance"):
        ins = [str(tmp_path / f"{i}.csv") for i in FG.FIGURE_INPUTS.get(name, (name,))]
        FG.FIGURES[name](p, ins, tmp_path / f"{name}.png")
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
        assert "diverged" in (tmp_path / f"{name}.caption.txt").read_text()


def test_captions_state_what_ran(tmp_path):
    curves = curves_csv()
    curves.to_csv(tmp_path / "deep_cnn_curves.csv", index=False)
    FG.fig_deep_cnn_curves({"scale": "test"}, [str(tmp_path / "deep_cnn_curves.csv")], tmp_path / "f.png")
    cap = (tmp_path / "f.caption.txt").read_text()
    assert "depths 8, 24, 80, 300, 500 steps" in cap and "Gaussian kernels at depth 300" in cap
    assert "momentum 0.9" in cap and "flattened" in cap and "10000 training examples" in cap


def test_workflow_end_to_end(workflow_dir):
    from conftest import run_snakemake

    run_snakemake(workflow_dir, "xiao2018")
    res = workflow_dir / "results/xiao2018"
    for name in xb.FIGURES:
        assert (workflow_dir / f"figures/xiao2018/{name}.png").stat().st_size > 1000
        assert (workflow_dir / f"figures/xiao2018/{name}.caption.txt").exists()
    from isometry.spec import RUN_COLUMNS
    for name in ("deep_cnn_curves", "trainability_heatmap", "fc_reference", "nonuniform_variance"):
        df = pd.read_csv(res / f"{name}.csv")
        assert list(df.columns[:len(RUN_COLUMNS)]) == RUN_COLUMNS
    d = pd.read_csv(res / "deep_cnn_curves.csv")
    assert len(set(d.dataset)) == 2 and set(d.depth) == {2, 4}
    assert set(d[d.depth == 4].init) == {"delta_orthogonal", "gaussian", "conv_orthogonal"}
    assert np.allclose(d.lr, 0.05 / d.depth) and set(d.readout) == {"flatten"}
    h = pd.read_csv(res / "trainability_heatmap.csv")
    assert set(h[h.row_kind == "run"].step) == {0, 2, 3}
    ch = pd.read_csv(res / "checks.csv")
    assert len(ch) >= 13 and set(ch.scale) == {"test"} and set(ch.kind) == {"paper", "theory"}
