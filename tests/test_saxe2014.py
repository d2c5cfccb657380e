"""saxe2014 pipeline: the deep-linear trainer against autograd, the inits, the reductions, every check on a passing
and a failing synthetic CSV (and on "nothing trained" CSVs), figures on all-NaN CSVs, and one end-to-end run."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from isometry.papers import saxe2014
from isometry.papers.saxe2014 import analysis as A
from isometry.papers.saxe2014 import checks as C
from isometry.papers.saxe2014 import data as smg_data
from isometry.papers.saxe2014 import deep_linear as DL
from isometry.papers.saxe2014 import experiments as X
from isometry.papers.saxe2014 import figures as F
from isometry.theory import linear_dynamics as ld

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def params():
    p = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())["saxe2014"]
    p.update(scale="test", device="cpu", threads=1, max_ensemble=8, data_dir=str(REPO / "data"), paper="saxe2014")
    return p


def _toy(P=40, n_in=12, K=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(P, n_in, generator=g, dtype=torch.float64).abs()
    y = torch.nn.functional.one_hot(torch.randint(0, K, (P,), generator=g), K).double()
    return x, y, DL.correlations(x, y, "toy")


# ------------------------------------------------------------------------------------------ deep linear trainer
@pytest.mark.parametrize("kind", ["orthogonal", "glorot", "decoupled", "gaussian"])
def test_correlation_gd_equals_autograd_full_batch_gd(kind):
    """SMG eq. 13 on the correlation matrices is exactly batch gradient descent on 1/2 sum |y - W x|^2."""
    x, y, corr = _toy()
    ws = DL.initial_weights(kind, corr, 7, 4, 2, torch.Generator().manual_seed(1), u0=0.1)
    lrs = [1e-3, 3e-3]
    res = DL.train([w.clone() for w in ws], corr, lrs, steps=5, threshold=-1.0, stop="none", record=True,
                   dtype=torch.float64)
    for e, lr in enumerate(lrs):
        W = [w[e].clone() for w in ws]
        W[0] = W[0] @ corr.Q.T
        W = [w.requires_grad_(True) for w in W]
        ref = []
        for _ in range(6):
            out = x.T
            for w in W:
                out = w @ out
            loss = 0.5 * ((out.T - y) ** 2).sum()
            ref.append(float(loss.detach()))
            grads = torch.autograd.grad(loss, W)
            with torch.no_grad():
                for w, gr in zip(W, grads):
                    w -= lr * gr
        np.testing.assert_allclose(res.curve[:, e], ref, rtol=1e-10)


def test_train_threshold_divergence_and_least_squares_floor():
    x, y, corr = _toy()
    ls = float(0.5 * ((x @ torch.linalg.lstsq(x, y).solution - y) ** 2).sum())
    assert corr.loss_opt() == pytest.approx(ls, rel=1e-9)
    assert corr.loss_zero() == pytest.approx(0.5 * float((y ** 2).sum()))
    thr = corr.loss_opt() + 0.3 * (corr.loss_zero() - corr.loss_opt())
    ws = DL.initial_weights("orthogonal", corr, 8, 3, 3, torch.Generator().manual_seed(2))
    res = DL.train(ws, corr, [1e-3, 3e-3, 10.0], steps=3000, threshold=thr, stop="all", dtype=torch.float64)
    assert res.diverged.tolist() == [False, False, True]
    assert np.isfinite(res.t_hit[:2]).all() and not np.isfinite(res.t_hit[2])
    assert res.t_hit[1] < res.t_hit[0]                       # the larger stable rate is faster
    first = DL.train(DL.initial_weights("orthogonal", corr, 8, 3, 2, torch.Generator().manual_seed(2)), corr,
                     [1e-3, 3e-3], steps=3000, threshold=thr, stop="first", dtype=torch.float64)
    assert first.t_hit[1] == pytest.approx(res.t_hit[1]) and not np.isfinite(first.t_hit[0])


def test_decoupled_init_has_mode_strength_u0():
    _, _, corr = _toy(n_in=12, K=3)
    L, u0 = 5, 1e-3
    ws = DL.initial_weights("decoupled", corr, 9, L, 1, torch.Generator().manual_seed(3), u0=u0)
    wt = ws[0][0]
    for w in ws[1:]:
        wt = w[0] @ wt
    u, s, vt = torch.linalg.svd(corr.s31q, full_matrices=False)
    m = u.T @ wt @ vt.T                                     # U^T W_tot V: diagonal with u0 on the task modes
    np.testing.assert_allclose(torch.diagonal(m).numpy(), u0, rtol=1e-8)
    assert float((m - torch.diag(torch.diagonal(m))).abs().max()) < 1e-12
    for w in ws[1:-1]:                                      # hidden layers: a * orthogonal
        sv = torch.linalg.svdvals(w[0])
        np.testing.assert_allclose(sv.numpy(), u0 ** (1 / L), rtol=1e-8)


def test_glorot_init_is_uniform_with_glorot_bound():
    _, _, corr = _toy(n_in=12)
    ws = DL.initial_weights("glorot", corr, 50, 3, 1, torch.Generator().manual_seed(4))
    w = ws[1][0]                                             # hidden 50 x 50 (not rotated)
    assert float(w.abs().max()) <= math.sqrt(6 / 100) and float(w.var()) == pytest.approx(1 / 50, rel=0.1)


def test_pretraining_learns_an_isometry_on_the_data():
    """Greedy linear auto-encoders on strong-signal data end close to orthogonal on the data's span."""
    g = torch.Generator().manual_seed(5)
    x = torch.randn(200, 6, generator=g, dtype=torch.float64) * torch.tensor([3.0, 2.5, 2.0, 1.5, 1.2, 1.0])
    y = torch.nn.functional.one_hot(torch.randint(0, 3, (200,), generator=g), 3).double()
    corr = DL.correlations(x, y, "toy")
    stack, errs, iters = DL.pretrain_stack(corr, 8, 3, steps=3000, lr_scale=0.5, init_std=0.01, rank=6,
                                           generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    assert iters == 3000 and len(stack) == 3 and max(errs) < 1e-3
    prod = stack[2] @ stack[1] @ stack[0]                   # 8 x 6, pixel basis
    np.testing.assert_allclose(torch.linalg.svdvals(prod).numpy(), 1.0, atol=0.02)


# -------------------------------------------------------------------------------------------------- Fig. 2-3
def test_hierarchical_data_has_tree_structure():
    y, sigma31, u, s, v = smg_data.hierarchical_task(levels=3, features=2000, flip_prob=0.1, seed=0)
    assert y.shape == (8, 2000) and sigma31.shape == (2000, 8)
    assert np.all(np.diff(s) <= 1e-12)
    c = y @ y.T
    assert c[0, 1] > c[0, 2] > c[0, 4]
    np.testing.assert_allclose((u * s) @ v.T, sigma31, atol=1e-10)
    y1 = smg_data.hierarchical_task(levels=3, features=2000, flip_prob=0.1, seed=0, scale=1.0)[0]
    assert set(np.unique(y1)) == {-1.0, 1.0}


def test_half_times():
    s, u0, lr = 10.0, 1e-6, 1e-3
    t = X.analytic_half_time(s, u0, lr)
    assert ld.mode_strength(t * lr, s, u0) == pytest.approx(s / 2, rel=1e-9)
    assert X.half_time(np.arange(5), np.array([0, 1, 2, 3, 4.0]), 2.5) == pytest.approx(2.5)
    assert X.half_time(np.arange(3), np.zeros(3), 1.0) == math.inf


def test_vector_field_conserves_hyperbolas(params, tmp_path):
    out = tmp_path / "vector_field.csv"
    X.vector_field(params, [], out)
    df = pd.read_csv(out)
    assert set(df.kind) == {"field", "trajectory", "fixed", "balanced"}
    assert df[df.kind == "trajectory"].drift.max() < 1e-6


def test_mode_dynamics_tiny(params, tmp_path):
    out = tmp_path / "mode_dynamics.csv"
    saxe2014.EXPERIMENTS["mode_dynamics"](params, [], out)
    df = pd.read_csv(out)
    assert set(df[df.kind == "curve"].source) == {"analytic", "linear", "tanh"}
    h = df[(df.kind == "half") & (df.source == "linear")]
    assert h.seed.nunique() == 3 and np.isfinite(h[h["mode"] == 1].t_half).all()
    assert abs(h[h["mode"] == 1].delay).max() < 0.3           # the strongest mode follows eq. 12


# ---------------------------------------------------------------------------------------------- spectra
def test_radial_law_gives_the_papers_origin_fractions():
    assert X.radial_origin_fraction(5, 0.05) == pytest.approx(0.32, abs=0.01)
    assert X.radial_origin_fraction(99, 0.05) == pytest.approx(0.94, abs=0.01)
    assert X.decade_fraction(np.ones(5)) == 1.0 and X.decade_fraction(np.array([1, 0.01, 0.01, 0.5])) == 0.5


def test_spectra_tiny(params, tmp_path):
    ps, js = tmp_path / "product_spectra.csv", tmp_path / "jacobian_spectra.csv"
    X.product_spectra(params, [], ps)
    X.jacobian_spectra(params, [], js)
    p = pd.read_csv(ps)
    e = p[p.kind == "orth_eig"]
    np.testing.assert_allclose(np.hypot(e.re, e.im), 1.0, atol=1e-10)
    s = p[p.kind == "summary"].set_index("k")
    assert s.loc[99, "origin_fraction"] > s.loc[5, "origin_fraction"] > s.loc[1, "origin_fraction"]
    j = pd.read_csv(js)
    sm = j[j.kind == "summary"]
    for _, q in sm.groupby("q1"):                                  # median singular value rises with g
        med = q.sort_values("g").median_sv.to_numpy()
        assert (np.diff(med) > 0).all()


# ---------------------------------------------------------------------------------------------- reductions
def _runs(init, layers, epochs_by_lr, max_steps=100, seed=0):
    lrs = sorted(epochs_by_lr)
    return pd.DataFrame({"init": init, "layers": layers, "lr": lrs, "seed": seed,
                         "epochs": [epochs_by_lr[k] for k in lrs], "max_steps": max_steps,
                         "lr_min": 1e-9, "lr_max": 1e-3})


def test_best_per_depth_censoring_and_edges():
    df = pd.concat([_runs("orthogonal", 10, {1e-6: 20.0, 1e-5: 12.0, 1e-4: math.inf}),
                    _runs("glorot", 10, {1e-6: math.inf, 1e-5: math.inf}),
                    _runs("orthogonal", 20, {1e-9: 5.0, 1e-8: math.inf})])
    b = A.best_per_depth(df).set_index(["init", "layers"])
    assert b.loc[("orthogonal", 10), "best_lr"] == pytest.approx(1e-5) and b.loc[("orthogonal", 10), "reached"]
    assert not b.loc[("glorot", 10), "reached"] and b.loc[("glorot", 10), "epochs"] == 100
    assert b.loc[("orthogonal", 20), "edge"]


def test_lr_slope():
    b = pd.DataFrame({"init": "o", "layers": [10, 20, 40, 80], "best_lr": [1e-4, 5e-5, 2.5e-5, 1.25e-5],
                      "reached": True, "edge": False})
    assert A.lr_slope(b, "o", 10)[0] == pytest.approx(-1.0)
    assert math.isnan(A.lr_slope(b, "o", 40)[0])


# ---------------------------------------------------------------------------------------------------- checks
def _rows(inputs, tmp_path):
    out = tmp_path / "checks.csv"
    paths = []
    for stem, df in inputs.items():
        p = tmp_path / f"{stem}.csv"
        df.to_csv(p, index=False)
        paths.append(p)
    saxe2014.CHECKS({"scale": "test"}, paths, out)
    return pd.read_csv(out)


def _passed(rows, figure):
    r = rows[rows.figure == figure]
    assert len(r), figure
    return r.passed.astype(bool)


def _depth_csv(init_epochs, max_steps=3000, lr_of=None):
    """Synthetic depth-sweep CSV: {init: {layers: epochs}} (the best lr = 1e-3 / layers unless ``lr_of``)."""
    rows = []
    for init, by in init_epochs.items():
        for nl, ep in by.items():
            best = (lr_of or (lambda n: 1e-3 / n))(nl)
            for lr in (best / 2, best, best * 2):
                rows.append({"init": init, "layers": nl, "lr": lr, "seed": 0, "max_steps": max_steps,
                             "epochs": ep if lr == best else math.inf, "lr_min": 1e-9, "lr_max": 1.0})
    return pd.DataFrame(rows)


DEPTHS = [3, 10, 20, 50, 100]


def test_fig6a_checks_pass_and_fail():
    good = _depth_csv({"orthogonal": {d: 25.0 for d in DEPTHS}, "pretrained": {d: 30.0 for d in DEPTHS},
                       "glorot": {3: 30.0, 10: 60.0, 20: 120.0, 50: 400.0, 100: 900.0}})
    r = _rows({"depth_inits": good}, Path(pytest.tmp_path_factory_dir()) if False else _tmp())
    p = _passed(r, "depth_inits")
    assert p.iloc[:5].all() and not p.iloc[5]                       # the absolute-epochs row: 25 > 9
    bad = _depth_csv({"orthogonal": {3: 25.0, 10: 25.0, 20: 50.0, 50: 100.0, 100: 200.0},
                      "pretrained": {d: 80.0 for d in DEPTHS}, "glorot": {d: 30.0 for d in DEPTHS}},
                     lr_of=lambda n: 1e-5)
    assert not _passed(_rows({"depth_inits": bad}, _tmp()), "depth_inits").iloc[:5].any()
    censored_glorot = _depth_csv({"orthogonal": {d: 25.0 for d in DEPTHS}, "pretrained": {d: 30.0 for d in DEPTHS},
                                  "glorot": {3: 30.0, 10: 60.0, 20: 120.0, 50: 400.0, 100: math.inf}})
    assert _passed(_rows({"depth_inits": censored_glorot}, _tmp()), "depth_inits").iloc[0]   # >= 3000/25
    shallow = _depth_csv({i: {3: 25.0, 10: 25.0} for i in ("orthogonal", "pretrained", "glorot")})
    assert not _passed(_rows({"depth_inits": shallow[shallow.layers == 10]}, _tmp()), "depth_inits").iloc[2]


def test_fig4_checks_pass_and_fail():
    good = _depth_csv({"decoupled": {3: 40.0, 10: 150.0, 20: 200.0, 50: 230.0, 100: 240.0}})
    good["lr_min"], good["lr_max"] = 1e-9, 1.0
    assert _passed(_rows({"depth_decoupled": good}, _tmp()), "depth_decoupled").all()
    bad = _depth_csv({"decoupled": {3: 40.0, 10: 150.0, 20: 200.0, 50: 230.0, 100: 600.0}}, lr_of=lambda n: 1e-4)
    bad["lr_min"] = 1e-4                                           # the optimum at the grid's edge
    assert not _passed(_rows({"depth_decoupled": bad}, _tmp()), "depth_decoupled").any()


def _mode_csv(delay_lin, delay_tanh, learnt=1.0):
    rows = []
    for src, d in (("linear", delay_lin), ("tanh", delay_tanh)):
        for seed in range(10):
            for k, m in enumerate([1, 2, 5, 12]):
                t_an = 100.0 * (k + 1)
                dd = d + 0.01 * ((seed * 7 + k) % 3)
                rows.append({"kind": "half", "source": src, "seed": seed, "mode": m, "s": 10.0 / (k + 1),
                             "t_half": t_an * (1 + dd) if learnt else math.inf, "t_half_analytic": t_an,
                             "delay": dd if learnt else math.inf, "u_final_over_s": learnt, "plotted": True})
    return pd.DataFrame(rows)


def test_fig3_checks_pass_and_fail():
    assert _passed(_rows({"mode_dynamics": _mode_csv(0.05, 0.15)}, _tmp()), "mode_dynamics").all()
    r = _passed(_rows({"mode_dynamics": _mode_csv(-0.05, -0.2)}, _tmp()), "mode_dynamics")
    assert not r.iloc[2] and not r.iloc[3]
    assert not _passed(_rows({"mode_dynamics": _mode_csv(0.05, 0.15, learnt=0.0)}, _tmp()), "mode_dynamics").any()


def _curves_csv(t_gauss, t_pre, offset):
    rows = []
    for init, t, off in (("gaussian", t_gauss, 0), ("pretrained", t_pre, offset)):
        rows.append({"kind": "time", "init": init, "lr": 1e-6, "epochs": t, "offset": off})
        rows += [{"kind": "curve", "init": init, "lr": 1e-6, "step": s, "run_id": init, "offset": off,
                  "train_loss": 2.6e4 if s < t else 1.0e4, "threshold": 1.3e4} for s in range(0, 4001)]
    return pd.DataFrame(rows)


def test_fig5_checks_pass_and_fail():
    cons = pd.DataFrame({"kind": "summary", "which": ["pixels", "modes", "random"], "offdiag": [0.6, 0.04, 0.3]})
    r = _rows({"pretraining_consistency": cons, "pretraining_curves": _curves_csv(500.0, 30.0, 100)}, _tmp())
    assert _passed(r, "pretraining_consistency").all() and _passed(r, "pretraining_curves").all()
    cons.loc[1, "offdiag"] = 0.2
    r = _rows({"pretraining_consistency": cons, "pretraining_curves": _curves_csv(170.0, 32.0, 3000)}, _tmp())
    p = _passed(r, "pretraining_curves")
    assert not _passed(r, "pretraining_consistency").any() and not p.iloc[0] and p.iloc[1]
    r = _rows({"pretraining_curves": _curves_csv(math.inf, math.inf, 3000)}, _tmp())
    assert not _passed(r, "pretraining_curves").any()


def _spectra_csv(origin5=0.32, origin99=0.94, kurt=(0.0, 5.0, 50.0)):
    rows = [{"kind": "summary", "k": k, "origin_fraction": o, "origin_fraction_theory": o, "kurtosis": ku,
             "median_sv": 1e-6 if k == 99 else 0.5, "max_sv": 10.0, "decade_fraction": 0.02 if k == 99 else 0.5,
             "top_sv2": (k + 1) ** (k + 1) / k ** k, "edge": (k + 1) ** (k + 1) / k ** k}
            for k, o, ku in zip((1, 5, 99), (0.003, origin5, origin99), kurt)]
    return pd.DataFrame(rows)


def _jac_csv(median=lambda g, q: {0.9: 1e-6, 1.0: 0.05, 1.1: 0.1}[g], frac=0.3):
    rows = [{"kind": "summary", "g": g, "q1": q, "median_sv": median(g, q), "max_sv": 0.2 if g == 1 else 2.0,
             "decade_fraction": frac if g >= 1 else 1.0} for g in (0.9, 1.0, 1.1) for q in (1.0, 16.0)]
    return pd.DataFrame(rows)


def test_fig6bc_and_fig7_checks_pass_and_fail():
    r = _rows({"product_spectra": _spectra_csv(), "jacobian_spectra": _jac_csv()}, _tmp())
    paper = r[r.kind == "paper"]
    assert paper[paper.figure.isin(["product_spectra", "jacobian_spectra"])].passed.astype(bool).all()
    r = _rows({"product_spectra": _spectra_csv(0.5, 0.7, (5.0, 1.0, 2.0)),
               "jacobian_spectra": _jac_csv(median=lambda g, q: {0.9: 0.04, 1.0: 0.05, 1.1: 1.0}[g], frac=0.01)},
              _tmp())
    paper = r[r.kind == "paper"]
    assert not paper[paper.figure.isin(["product_spectra", "jacobian_spectra"])].passed.astype(bool).any()


def test_missing_inputs_give_failed_rows():
    r = _rows({}, _tmp())
    assert len(r[r.kind == "paper"]) >= 20 and not r.passed.astype(bool).any()
    assert r.reproduced_value.str.contains("missing input").all()


def test_nothing_trained_fails_every_training_row():
    """Flat training CSVs (no search reaches the threshold, no mode is learnt, flat loss curves)."""
    flat = {"depth_inits": _depth_csv({i: {d: math.inf for d in DEPTHS} for i in ("orthogonal", "pretrained",
                                                                                   "glorot")}),
            "depth_decoupled": _depth_csv({"decoupled": {d: math.inf for d in DEPTHS}}),
            "mode_dynamics": _mode_csv(0.0, 0.0, learnt=0.0),
            "pretraining_curves": _curves_csv(math.inf, math.inf, 3000)}
    r = _rows(flat, _tmp())
    train = r[r.figure.isin(list(flat)) & (r.kind == "paper")]
    assert len(train) >= 15 and not train.passed.astype(bool).any()


# ---------------------------------------------------------------------------------------------------- figures
def _nan_like(df):
    df = df.copy()
    for c in df.columns:
        if pd.api.types.is_float_dtype(df[c]):
            df[c] = np.nan
    return df


def test_figures_draw_empty_and_all_nan_csvs(tmp_path):
    tables = {"vector_field": pd.DataFrame({"kind": ["field"], "a": [np.nan], "b": [np.nan], "da": [np.nan],
                                            "db": [np.nan], "s": [1.0], "traj": [-1], "drift": [np.nan]}),
              "mode_dynamics": _nan_like(_mode_csv(0.1, 0.2)).assign(dataset="x", hidden=32, lr=1e-3, u0=1e-6,
                                                                     steps=10),
              "depth_decoupled": _nan_like(_depth_csv({"decoupled": {3: 1.0}})).assign(
                  dataset="x", width=8, threshold=1.0, max_steps=10, lr_min=1e-9, lr_max=1.0),
              "depth_inits": _nan_like(_depth_csv({"glorot": {3: 1.0}})).assign(
                  dataset="x", width=8, threshold=1.0, max_steps=10, lr_min=1e-9, lr_max=1.0),
              "pretraining_consistency": pd.DataFrame(columns=["kind", "which"]),
              "pretraining_curves": _nan_like(_curves_csv(1.0, 1.0, 0)).assign(dataset="x", layers=5, width=8),
              "product_spectra": pd.DataFrame(columns=["kind", "k", "width", "ev_bin"]),
              "jacobian_spectra": pd.DataFrame(columns=["kind", "g", "q1", "width", "layers"])}
    paths = {}
    for k, v in tables.items():
        paths[k] = tmp_path / f"{k}.csv"
        v.to_csv(paths[k], index=False)
    for name, (fn, inputs) in F.FIGURES.items():
        out = tmp_path / f"{name}.png"
        fn({"scale": "test"}, [paths[i] for i in inputs], out)
        assert out.stat().st_size > 1000 and out.with_suffix(".caption.txt").read_text().strip()


def _tmp():
    import tempfile

    return Path(tempfile.mkdtemp(prefix="smg-"))


# ------------------------------------------------------------------------------------------------ end to end
def test_end_to_end_tiny(workflow_dir):
    from conftest import run_snakemake

    run_snakemake(workflow_dir, "saxe2014")
    for name in F.FIGURES:
        assert (workflow_dir / f"figures/saxe2014/{name}.png").stat().st_size > 1000
        assert (workflow_dir / f"figures/saxe2014/{name}.caption.txt").read_text().strip()
    runs = pd.read_csv(workflow_dir / "results/saxe2014/depth_inits.csv")
    assert set(runs.init) == {"glorot", "orthogonal", "pretrained"}
    assert runs.dataset.iloc[0].startswith("mnist (official)")
    checks = pd.read_csv(workflow_dir / "results/saxe2014/checks.csv")
    assert len(checks[checks.kind == "paper"]) >= 20 and set(checks.scale) == {"test"}


def test_learning_times_come_from_the_loss_curves():
    """analysis.searches takes every search member's learning time from its recorded curve (the CSV's ``epochs``
    as trained is overwritten), so a flattened curve ('nothing trained') is censored."""
    from isometry.papers.saxe2014.experiments.mnist import logged_steps

    steps = logged_steps(300, 10, 41.25)
    assert {0, 41, 42, 300} <= set(steps)
    loss = np.where(steps < 42, 2.0, 0.5)
    loss[steps == 41] = 1.5
    curve = pd.DataFrame({"kind": "curve", "run_id": "a", "step": steps, "train_loss": loss, "threshold": 1.0})
    search = pd.DataFrame({"kind": ["search"], "run_id": ["a"], "epochs": [41.25], "threshold": [1.0]})
    s = A.searches(pd.concat([search, curve], ignore_index=True))
    assert s.epochs.iloc[0] == pytest.approx(41 + 0.5 / 1.0) and s.reached.iloc[0]
    flat = curve.assign(train_loss=2.0)
    s = A.searches(pd.concat([search, flat], ignore_index=True))
    assert math.isinf(s.epochs.iloc[0]) and not s.reached.iloc[0]
    assert A.crossing_time([0, 1, 2], [0.5, 0.4, 0.3], 1.0) == 1.0           # at least one iteration
