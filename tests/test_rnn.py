"""EnsembleRNN: ensemble equals per-member plain RNNs; hard-orthogonal and margin constraints hold during training;
soft-orthogonality penalties."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from isometry.models import EnsembleModel
from isometry.rnn import EnsembleRNN, soft_orthogonality
from isometry.spec import Member



def _members():
    return [Member("a", init="orthogonal", sigma_w2=1.2, sigma_b2=0.01, seed=1),
            Member("b", init="gaussian", sigma_w2=0.8, seed=2),
            Member("c", init="orthogonal", sigma_w2=1.0, seed=3)]


def _plain_rnn(U, W, b, V, c, x):
    """One member: x (B, T, I) -> logits (B, K), a straightforward loop."""
    h = torch.zeros(x.shape[0], W.shape[0])
    for t in range(x.shape[1]):
        h = torch.tanh(x[:, t] @ U.T + h @ W.T + b)
    return h @ V.T + c


@pytest.mark.parametrize("recurrent", ["free", "orthogonal", "margin"])
def test_ensemble_equals_per_member_rnn(recurrent):
    torch.manual_seed(0)
    E, B = 3, 5
    model = EnsembleRNN(E, (1, 28, 28), 10, hidden_size=12, recurrent=recurrent, margin=0.3)
    assert isinstance(model, EnsembleModel)
    assert all(p.shape[0] == E for p in model.parameters())
    s2 = model.reset_parameters(_members())
    assert s2 == pytest.approx([1.2, 0.8, 1.0])
    x = torch.randn(B, 1, 28, 28)
    out = model(x)
    assert out.shape == (E, B, 10)
    W = model.recurrent_weight.detach()
    for e in range(E):
        ref = _plain_rnn(model.input_weight[e].detach(), W[e], model.bias[e].detach(),
                         model.readout_weight[e].detach(), model.readout_bias[e].detach(), x[:, 0])
        torch.testing.assert_close(out[e].detach(), ref, rtol=1e-5, atol=1e-5)
    # per-member inputs (E, B, 1, 28, 28), and members do not interact
    xs = torch.randn(E, B, 1, 28, 28)
    out = model(xs)
    out[1].sum().backward()
    for n, p in model.named_parameters():
        if p.grad is not None:
            assert p.grad[0].abs().max() == 0 and p.grad[2].abs().max() == 0, n
    if recurrent == "free":     # the scheme's draw is the recurrent weight itself
        assert float(torch.linalg.svdvals(W[0]).std()) < 1e-5
        torch.testing.assert_close(torch.linalg.svdvals(W[0]), torch.full((12,), 1.2 ** 0.5))


def test_member_init_independent_of_ensemble():
    big = EnsembleRNN(3, (1, 28, 28), 10, hidden_size=8, recurrent="margin")
    big.reset_parameters(_members())
    one = EnsembleRNN(1, (1, 28, 28), 10, hidden_size=8, recurrent="margin")
    one.reset_parameters(_members()[1:2])
    torch.testing.assert_close(big.recurrent_weight[1], one.recurrent_weight[0])
    torch.testing.assert_close(big.input_weight[1], one.input_weight[0])


def _train(model, steps=15, lr=0.05):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(32, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (32,), generator=g)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(x).flatten(0, 1), y.repeat(model.E))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_hard_orthogonal_stays_orthogonal():
    model = EnsembleRNN(3, (1, 28, 28), 10, hidden_size=16, recurrent="orthogonal")
    model.reset_parameters(_members())
    before = model.recurrent_weight.detach().clone()
    losses = _train(model)
    assert losses[-1] < losses[0]
    W = model.recurrent_weight.detach()
    assert (W - before).abs().max() > 1e-2                        # it did move
    gain2 = torch.tensor([1.2, 0.8, 1.0]).view(-1, 1, 1)
    eye = torch.eye(16).expand(3, 16, 16)
    assert (W @ W.transpose(1, 2) / gain2 - eye).abs().max() < 1e-4
    assert soft_orthogonality(W, 1.0, gain2=gain2.flatten()).max() < 1e-6


def test_margin_constraint_holds_exactly():
    m = 0.2
    model = EnsembleRNN(3, (1, 28, 28), 10, hidden_size=16, recurrent="margin", margin=m)
    model.reset_parameters(_members())
    # the Gaussian member's singular values start clipped into the margin
    losses = _train(model, lr=0.2)
    assert losses[-1] < losses[0]
    s = model.singular_values().detach()
    assert (s >= 1 - m).all() and (s <= 1 + m).all()
    assert s.std() > 1e-3                                          # the singular values did spread
    W = model.recurrent_weight.detach().double()
    sv = torch.linalg.svdvals(W / model.sigma_w.double().view(-1, 1, 1))
    assert (sv >= 1 - m - 1e-5).all() and (sv <= 1 + m + 1e-5).all()
    torch.testing.assert_close(sv, s.double().sort(dim=1, descending=True).values, atol=1e-5, rtol=1e-5)


def test_soft_orthogonality():
    q = torch.linalg.qr(torch.randn(2, 6, 6))[0]
    assert soft_orthogonality(q, 3.0).abs().max() < 1e-10
    W = 2.0 * q
    pen = soft_orthogonality(W, 1.0)                               # ||4 I - I||^2 = 9 * 6
    torch.testing.assert_close(pen, torch.full((2,), 54.0))
    assert soft_orthogonality(W, 1.0, gain2=4.0).abs().max() < 1e-8  # gain-adjusted: sigma_w * orthogonal is free
    lam = torch.tensor([1.0, 2.0])
    torch.testing.assert_close(soft_orthogonality(W, lam), torch.tensor([54.0, 108.0]))
    # differentiable, and gradient descent on it makes a free W orthogonal
    model = EnsembleRNN(2, (1, 28, 28), 10, hidden_size=6, recurrent="free")
    model.reset_parameters([Member("a", init="gaussian", seed=0), Member("b", init="gaussian", seed=1)])
    opt = torch.optim.SGD(model.parameters(), lr=0.02)
    for _ in range(300):
        opt.zero_grad()
        soft_orthogonality(model.recurrent_weight, 1.0).sum().backward()
        opt.step()
    assert soft_orthogonality(model.recurrent_weight.detach(), 1.0).max() < 1e-3
