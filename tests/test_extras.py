"""extras pipeline: unit tests of its pieces at tiny sizes, and one end-to-end Snakemake run at the tiny scale."""

import math

import pandas as pd
import pytest
import torch

from conftest import run_snakemake
from isometry.papers.extras import heatmap, orthogonality, shattered



X = torch.linspace(-2, 2, 64, dtype=torch.float64)


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


def test_bansal_regularizer_terms():
    n = 4
    v0 = torch.randn(n, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    q, _ = torch.linalg.qr(torch.randn(2, n, n, dtype=torch.float64))
    t = orthogonality.regularizer_terms(q, v0, {"SO", "DSO", "MC", "SRIP"})
    for k in t:
        assert float(t[k].abs().max()) < 1e-10, k
    W = math.sqrt(2.0) * torch.eye(n, dtype=torch.float64).expand(1, n, n)   # G - I = I
    t = orthogonality.regularizer_terms(W, v0, {"SO", "DSO", "MC", "SRIP"})
    assert float(t["SO"][0]) == pytest.approx(n) and float(t["DSO"][0]) == pytest.approx(2 * n)
    assert float(t["MC"][0]) == pytest.approx(1.0) and float(t["SRIP"][0]) == pytest.approx(1.0)


def test_cnn_regularizer_is_per_member():
    from isometry.cnn import EnsembleCNN
    from isometry.spec import Member

    model = EnsembleCNN(3, (3, 8, 8), 10, channels=4, depth=2, n_down=1, nonlinearity="relu", padding="zeros")
    model.reset_parameters([Member(run_id=str(i), init="he", seed=i) for i in range(3)])
    reg = orthogonality.make_cnn_regularizer(model, ["none", "SO", "SRIP"], [0.0, 1.0, 2.0])
    pen = reg(model).detach()
    assert pen.shape == (3,) and float(pen[0]) == 0.0 and float(pen[1]) > 0 and float(pen[2]) > 0
    assert orthogonality.make_cnn_regularizer(model, ["none"] * 3, [0.0] * 3) is None


def test_heatmap_agreement_statistic():
    rows = []
    for sw2, six in ((1.0, 20.0), (2.0, 100.0)):
        for L, acc in ((10, 0.9), (50, 0.9 if sw2 == 2.0 else 0.1)):
            rows.append({"kind": "train", "step": 5, "sigma_w2": sw2, "depth": L, "train_acc": acc,
                         "six_xi_c": six, "threshold": 0.2})
    df = pd.DataFrame(rows)
    assert heatmap.agreement(df) == 1.0
    df.loc[0, "train_acc"] = 0.05                                   # trainable by theory, failed in practice
    assert heatmap.agreement(df) == 0.75


@pytest.fixture(scope="module")
def tiny_run(workflow_dir):
    run_snakemake(workflow_dir, "extras")
    return workflow_dir


def test_end_to_end_tiny(tiny_run):
    w = tiny_run
    for name in ("shattered_gradients", "relu_init_comparison", "trainability_heatmap_fc",
                 "orthogonality_regularization", "orthogonality_regularizers_cnn"):
        assert (w / f"results/extras/{name}.csv").stat().st_size > 0
        for ext in ("png", "pdf", "caption.txt"):
            assert (w / f"figures/extras/{name}.{ext}").exists(), (name, ext)
    from isometry.spec import RUN_COLUMNS

    rnn = pd.read_csv(w / "results/extras/orthogonality_regularization.csv")
    assert set(RUN_COLUMNS) <= set(rnn.columns)
    assert set(rnn.variant) == {"none", "soft", "gain_adjusted", "hard", "margin"}
    assert float(rnn[rnn.variant == "hard"].orth_err.max()) < 1e-4
    cnn = pd.read_csv(w / "results/extras/orthogonality_regularizers_cnn.csv")
    assert set(cnn.regularizer) == {"none", "SO", "DSO", "MC", "SRIP"}
    assert cnn.dataset.str.startswith("cifar10 (").all()
    assert "(" in (w / "figures/extras/orthogonality_regularizers_cnn.caption.txt").read_text()
    ri = pd.read_csv(w / "results/extras/relu_init_comparison.csv")
    assert set(ri[ri.kind == "train"].init) == {"xavier", "he", "orthogonal", "random_walk", "looks_linear"}
    checks = pd.read_csv(w / "results/extras/checks.csv")
    assert len(checks) >= 7 and set(checks.scale) == {"test"}
    ll = checks[checks.claim.str.startswith("Looks-Linear CReLU net equals")]
    assert bool(ll.passed.iloc[0])
    assert checks[checks.claim.str.startswith("hard-orthogonal")].passed.all()
    assert checks[checks.claim.str.startswith("singular values of W/sigma_w stay inside")].passed.all()
    hm = checks[checks.figure == "trainability_heatmap_fc"]
    assert len(hm) == 1 and 0.0 <= float(hm.reproduced_value.iloc[0]) <= 1.0
