"""xiao2018 (Xiao et al. 2018, dynamical isometry and mean field theory of CNNs): units and one tiny end-to-end run."""

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
from isometry.papers.xiao2018 import training as T
from isometry.papers.xiao2018.model import layer_lr
from isometry.theory import meanfield as mf

REPO = Path(__file__).resolve().parents[1]


def tiny_params(tmp_path=None):
    cfg = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    from isometry.config import validate_config
    validate_config(cfg)
    p = dict(cfg["xiao2018"])
    p.update(paper="xiao2018", scale="test", device="cpu", threads=1, max_ensemble=8, data_dir="data")
    return p


def test_tables_complete():
    assert set(xb.EXPERIMENTS) == set(xb.FIGURES) == {
        "deep_cnn_curves", "trainability_heatmap", "fourier_modes", "orthogonal_vs_gaussian", "nonuniform_variance",
        "cnn_jacobian_spectrum"}


def test_layer_lr_rule():
    assert layer_lr(0.25, 1250, "inverse") == pytest.approx(2e-4)
    assert layer_lr(0.25, 200, "inverse") == pytest.approx(1.25e-3)
    assert layer_lr(0.01, 200, "none") == 0.01
    assert layer_lr(0.25, 2, "inverse", lr_max=0.05) == 0.05
    with pytest.raises(ValueError):
        layer_lr(0.1, 3, "sqrt")


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


def test_heatmap_checks_logic():
    rows = []
    for init in ("gaussian", "delta_orthogonal"):
        for sw2, xi6 in ((0.5, 8.7), (1.05, 1e9), (3.0, 65.0)):
            for L in (4, 16, 64):
                acc = 0.9 if L < xi6 else 0.1
                rows.append(dict(row_kind="run", init=init, sigma_w2=sw2, depth=L, step=10, test_acc=acc,
                                 train_acc=acc, six_xi_c=xi6, seed=0, critical_sigma_w2=1.05))
    df = pd.DataFrame(rows)
    ccfg = dict(chance_margin=0.15, within_6xi_fraction=0.8)
    out = C.check_heatmap(df, {"metric": "test_acc"}, ccfg, "test")
    assert out[0].passed and out[0].reproduced_value == 1.0
    assert all(c.passed for c in out[1:])
    df.loc[(df.sigma_w2 == 3.0) & (df.depth == 64), "test_acc"] = 0.9     # deeper off-critical... still ties
    df.loc[(df.sigma_w2 == 1.05) & (df.depth == 64), "test_acc"] = 0.1
    out = C.check_heatmap(df, {"metric": "test_acc"}, ccfg, "test")
    assert not out[1].passed


def test_workflow_end_to_end(workflow_dir):
    from conftest import run_snakemake

    run_snakemake(workflow_dir, "xiao2018")
    res = workflow_dir / "results/xiao2018"
    for name in xb.FIGURES:
        assert (workflow_dir / f"figures/xiao2018/{name}.png").stat().st_size > 1000
        assert (workflow_dir / f"figures/xiao2018/{name}.caption.txt").exists()
    from isometry.spec import RUN_COLUMNS
    for name in ("deep_cnn_curves", "trainability_heatmap", "orthogonal_vs_gaussian", "nonuniform_variance"):
        df = pd.read_csv(res / f"{name}.csv")
        assert list(df.columns[:len(RUN_COLUMNS)]) == RUN_COLUMNS
    d = pd.read_csv(res / "deep_cnn_curves.csv")
    assert set(d.dataset) == {"mnist (official)", "cifar10 (jpeg)"} or len(set(d.dataset)) == 2
    assert set(d.depth) == {2, 4} and d.lr.max() <= 0.1 / 2 + 1e-12
    o = pd.read_csv(res / "orthogonal_vs_gaussian.csv")
    for init in ("delta_orthogonal", "conv_orthogonal"):
        s = o[o.init == init]
        assert np.allclose(s[["kernel_sv_min", "kernel_sv_max"]].to_numpy(), 1.0, atol=1e-5)
    ch = pd.read_csv(res / "checks.csv")
    assert len(ch) >= 6 and set(ch.scale) == {"test"}
    norm_rows = ch[ch.claim.str.contains("are norm-preserving")]
    assert len(norm_rows) == 2 and norm_rows.passed.all()
