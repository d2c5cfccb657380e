"""saxe2014 pipeline: unit tests of the experiments, figures and checks at tiny sizes, and one end-to-end run."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from isometry.papers import saxe2014
from isometry.papers.saxe2014 import data as smg_data
from isometry.papers.saxe2014 import experiments as X
from isometry.theory import linear_dynamics as ld

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def params():
    p = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())["saxe2014"]
    p.update(scale="test", device="cpu", threads=1, max_ensemble=8, data_dir=str(REPO / "data"), paper="saxe2014")
    return p


def test_hierarchical_data_has_tree_structure():
    y, sigma31, u, s, v = smg_data.hierarchical_task(levels=3, features=2000, flip_prob=0.1, seed=0)
    assert y.shape == (8, 2000) and sigma31.shape == (2000, 8)
    assert np.all(np.diff(s) <= 1e-12)
    # siblings share more features than items in different halves of the tree
    c = y @ y.T
    assert c[0, 1] > c[0, 2] > c[0, 4]
    np.testing.assert_allclose((u * s) @ v.T, sigma31, atol=1e-10)


def test_decoupled_u0_orthogonal_vectors_unchanged():
    c = np.eye(4)[None, :3] * np.array([1.0, 2.0, 3.0])[None, :, None]
    u0, bal = X.decoupled_u0(c)
    np.testing.assert_allclose(u0, bal)
    c2 = np.array([[[1.0, 0.0], [1.0, 1.0]]])
    u0, bal = X.decoupled_u0(c2)
    assert u0[0, 1] == pytest.approx(1.0) and bal[0, 1] == pytest.approx(2.0)


def test_epochs_to_criterion_interpolates():
    steps = np.array([0, 1, 2, 4, 8])
    loss = np.array([1.0, 0.8, 0.6, 0.4, 0.2])
    t = X.epochs_to_criterion(steps, loss, 0.5)
    assert 2 < t < 4
    assert np.isnan(X.epochs_to_criterion(steps, loss, 0.1))


def test_vector_field_conserves_hyperbolas(params, tmp_path):
    out = tmp_path / "vector_field.csv"
    X.vector_field(params, [], out)
    df = pd.read_csv(out)
    assert set(df.kind) == {"field", "trajectory", "fixed", "balanced"}
    assert df[df.kind == "trajectory"].drift.max() < 1e-6


def test_product_spectra_and_checks(params, tmp_path):
    out = tmp_path / "product_spectra.csv"
    X.product_spectra(params, [], out)
    df = pd.read_csv(out)
    s = df[df.kind == "summary"]
    assert s[s.init == "orthogonal"].max_abs_sv_minus_1.max() < 1e-10
    g = s[s.init == "gaussian"]
    np.testing.assert_allclose(g.edge, [(L + 1) ** (L + 1) / L**L for L in g.L], rtol=1e-8)
    chk = tmp_path / "checks.csv"
    saxe2014.CHECKS(params, [out], chk)
    c = pd.read_csv(chk)
    assert len(c) == 2 and c.passed.iloc[1]


def test_mode_dynamics_linear_matches_theory(params, tmp_path):
    out = tmp_path / "mode_dynamics.csv"
    X.mode_dynamics(params, [], out)
    df = pd.read_csv(out)
    assert set(df.source) == {"analytic", "linear", "tanh"}
    an = df[df.source == "analytic"].set_index(["mode", "step"]).u
    lin = df[df.source == "linear"].set_index(["mode", "step"])
    dev = ((lin.u - an.reindex(lin.index)) / lin.s).abs()
    assert dev.xs(1, level="mode").max() < 0.1           # the strongest mode follows SMG eq. 7
    t = df[(df.source == "analytic") & (df["mode"] == 1)]
    np.testing.assert_allclose(t.u, ld.mode_strength(t.t_over_tau, t.s, t.u0), rtol=1e-6)


def test_learning_time_aggregation(tmp_path, params):
    rows = []
    for D, init, lr, k in [(2, "orthogonal", 0.1, 1.0), (2, "orthogonal", 0.2, 0.5), (4, "orthogonal", 0.1, 0.5),
                           (4, "gaussian", 0.1, 0.0)]:
        for step in range(0, 11):
            rows.append({"run_id": f"{D}{init}{lr}", "init": init, "weight_layers": D, "lr": lr, "seed": 0,
                         "step": step, "train_loss": 1.0 / (1 + k * step), "loss_opt": 0.0, "loss_zero": 1.0,
                         "diverged": False, "dataset": "mnist (official)", "inputs": "x"})
    runs = tmp_path / "depth_runs.csv"
    pd.DataFrame(rows).to_csv(runs, index=False)
    out = tmp_path / "learning_time_vs_depth.csv"
    X.learning_time_vs_depth(params, [runs], out)
    df = pd.read_csv(out)
    sim = df[df.kind == "sim"].set_index(["init", "weight_layers"])
    assert sim.loc[("orthogonal", 2), "best_lr"] == pytest.approx(0.1)
    assert not sim.loc[("gaussian", 4), "reached"]
    th = df[df.kind == "theory"].sort_values("weight_layers")
    assert np.all(np.diff(th.theory_rel) > 0) and th.theory_rel.max() < 1.0


def test_end_to_end_tiny(workflow_dir):
    from conftest import run_snakemake

    run_snakemake(workflow_dir, "saxe2014")
    for name in ["vector_field", "mode_dynamics", "learning_time_vs_depth", "mnist_training_curves",
                 "product_spectra", "nonlinear_gain"]:
        assert (workflow_dir / f"figures/saxe2014/{name}.png").stat().st_size > 1000
        assert (workflow_dir / f"figures/saxe2014/{name}.caption.txt").read_text().strip()
    runs = pd.read_csv(workflow_dir / "results/saxe2014/depth_runs.csv")
    from isometry.spec import RUN_COLUMNS

    assert set(RUN_COLUMNS) <= set(runs.columns)
    assert set(runs.init) == {"gaussian", "orthogonal", "pretrained"}
    assert runs.dataset.iloc[0] == "mnist (official)"
    checks = pd.read_csv(workflow_dir / "results/saxe2014/checks.csv")
    assert len(checks) >= 8 and set(checks.scale) == {"test"}
