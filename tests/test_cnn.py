"""EnsembleCNN: grouped-conv ensembles equal per-member plain CNNs; critical delta-orthogonal signal propagation;
checkpointing (same gradients, less memory); a 1000-layer vanilla tanh CNN trains."""

from __future__ import annotations

import time

import pytest
import torch
import torch.nn.functional as F

from isometry.cnn import EnsembleCNN, variance_profile
from isometry.memory import MallocPeak
from isometry.models import EnsembleModel
from isometry.spec import Member

CRIT = dict(init="delta_orthogonal", sigma_w2=1.05, sigma_b2=2.01e-5)   # Xiao et al.'s critical tanh point



def _members():
    return [Member("a", seed=1, **CRIT),
            Member("b", init="gaussian", sigma_w2=1.7, sigma_b2=0.05, seed=2),
            Member("c", init="conv_orthogonal", sigma_w2=0.9, sigma_b2=0.0, seed=3)]


def _reference(model: EnsembleCNN, e: int, x: torch.Tensor, params: dict) -> torch.Tensor:
    """Member e as a plain (non-ensemble) CNN built from F.conv2d, on its own copies of the weights."""
    p = model.kernel_size // 2

    def conv(x, w, b, stride):
        if model.padding == "circular":
            return F.conv2d(F.pad(x, (p,) * 4, mode="circular"), w, b, stride=stride)
        return F.conv2d(x, w, b, stride=stride, padding=p)

    for i in range(model.n_down):
        x = model.phi(conv(x, params[f"down_weights.{i}"], params[f"down_biases.{i}"], 2))
    for l in range(model.depth):
        x = model.phi(conv(x, params["hidden_weight"][l], params["hidden_bias"][l], 1))
    return x.mean(dim=(2, 3)) @ params["readout_weight"].T + params["readout_bias"]


@pytest.mark.parametrize("padding", ["circular", "zeros"])
@pytest.mark.parametrize("shared", [True, False])
def test_grouped_conv_equals_per_member_conv(padding, shared):
    torch.manual_seed(0)
    E, B = 3, 4
    model = EnsembleCNN(E, (2, 12, 12), 5, channels=6, depth=3, n_down=2, padding=padding)
    assert isinstance(model, EnsembleModel)
    assert all(p.shape[0] == E for p in model.parameters())
    s2 = model.reset_parameters(_members(), [torch.Generator().manual_seed(m.seed) for m in _members()])
    assert s2 == pytest.approx([1.05, 1.7, 0.9])
    x = torch.randn(B, 2, 12, 12) if shared else torch.randn(E, B, 2, 12, 12)
    out = model(x)
    assert out.shape == (E, B, 5)
    r = torch.randn_like(out)
    (out * r).sum().backward()
    for e in range(E):
        params = {k: v[e].detach().clone().requires_grad_() for k, v in model.named_parameters()}
        ref = _reference(model, e, x if shared else x[e], params)
        torch.testing.assert_close(out[e], ref, rtol=1e-5, atol=1e-5)
        (ref * r[e]).sum().backward()
        for k, v in model.named_parameters():
            torch.testing.assert_close(v.grad[e], params[k].grad, rtol=1e-4, atol=1e-5, msg=k)


def test_member_init_independent_of_ensemble():
    """Member i's weights come from its own generator only: same draw alone or inside an ensemble."""
    ms = _members()
    big = EnsembleCNN(3, (3, 8, 8), 4, channels=4, depth=2, n_down=1)
    big.reset_parameters(ms, [torch.Generator().manual_seed(m.seed) for m in ms])
    one = EnsembleCNN(1, (3, 8, 8), 4, channels=4, depth=2, n_down=1)
    one.reset_parameters(ms[1:2], [torch.Generator().manual_seed(ms[1].seed)])
    for (k, a), (_, b) in zip(big.named_parameters(), one.named_parameters()):
        torch.testing.assert_close(a[1], b[0], msg=k)


def test_variance_profile_mixes_delta_and_uniform():
    v = variance_profile(0.25)
    assert float(v.sum()) == pytest.approx(1.0)
    assert float(v[1, 1]) == pytest.approx(0.25 + 0.75 / 9)
    assert float(v[0, 0]) == pytest.approx(0.75 / 9)
    model = EnsembleCNN(1, (64, 8, 8), 2, channels=64, depth=4, n_down=1, delta_mix=0.6)
    model.reset_parameters([Member("g", init="gaussian", sigma_w2=2.0, seed=0)])
    w = model.hidden_weight.detach()[0]                    # (L, C, C, 3, 3)
    emp = w.pow(2).mean(dim=(0, 1, 2)) * 64 / 2.0          # estimate of v_ij
    torch.testing.assert_close(emp, variance_profile(0.6).float(), atol=0.01, rtol=0.1)


def test_critical_delta_orthogonal_preserves_signal():
    """Depth 50, circular padding: the critical delta-orthogonal tanh CNN keeps q^l at its fixed point and the
    backpropagated signal O(1); ordered (sigma_w2=0.5) vanishes, chaotic (sigma_w2=4) explodes gradients."""
    ms = [Member("crit", seed=1, **CRIT),
          Member("ordered", init="gaussian", sigma_w2=0.5, sigma_b2=0.0, seed=2),
          Member("chaotic", init="gaussian", sigma_w2=4.0, sigma_b2=0.0, seed=3)]
    model = EnsembleCNN(3, (3, 16, 16), 10, channels=16, depth=50, n_down=1, padding="circular")
    model.reset_parameters(ms)
    torch.manual_seed(0)
    x = torch.randn(3, 8, 3, 16, 16, requires_grad=True)
    f, q = model.features(x, collect=True)
    assert q.shape == (51, 3)
    # q* of tanh at (1.05, 2.01e-5) is ~0.03; the critical member approaches it slowly and stays there
    assert 5e-3 < q[-1, 0] < 0.2 and q[-10:, 0].max() / q[-10:, 0].min() < 1.5
    assert q[-1, 1] < 1e-10
    r = torch.randn_like(f)
    (f * r).sum().backward()
    gain = x.grad.pow(2).sum(dim=(1, 2, 3, 4)).sqrt() / r.view(8, 3, -1).pow(2).sum(dim=(0, 2)).sqrt()
    assert 0.02 < gain[0] < 50
    assert gain[1] < 1e-5
    assert gain[2] > 1e2


def _step_grads_and_peak(checkpoint, impl="auto"):
    model = EnsembleCNN(2, (3, 16, 16), 10, channels=16, depth=48, n_down=1, checkpoint=checkpoint, impl=impl)
    model.reset_parameters([Member("a", seed=1, **CRIT), Member("b", seed=2, **CRIT)])
    x = torch.randn(16, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 10, (16,), generator=torch.Generator().manual_seed(1))
    params = {p.data_ptr() for p in model.parameters()}
    saved = []

    def pack(t):
        if t.data_ptr() not in params:                  # activations only (the weights are stored anyway)
            saved.append(t.numel() * t.element_size())
        return t

    F.cross_entropy(model(x).flatten(0, 1), y.repeat(2)).backward()     # warm-up: lazy imports and inits
    model.zero_grad(set_to_none=True)
    try:
        with MallocPeak() as mode, torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            loss = F.cross_entropy(model(x).flatten(0, 1), y.repeat(2))
            loss.backward()
        peak = mode.peak - mode.base
    except (OSError, AttributeError):     # no glibc mallinfo2: fall back on the saved-tensor count
        peak = None
    return {k: p.grad.clone() for k, p in model.named_parameters()}, peak, sum(saved)


@pytest.mark.parametrize("impl", ["stack", "conv"])
def test_checkpointing_same_gradients_less_memory(impl):
    g_full, peak_full, saved_full = _step_grads_and_peak(None, impl)
    g_ckpt, peak_ckpt, saved_ckpt = _step_grads_and_peak(True, impl)      # segments of 7 layers
    for k in g_full:
        torch.testing.assert_close(g_ckpt[k], g_full[k], rtol=1e-5, atol=1e-7, msg=k)
    act = 16 * 2 * 16 * 8 * 8 * 4                                    # one layer's activation, bytes
    # without checkpointing every layer's activation is stored (>= 1 per layer); with it, only segment inputs
    assert saved_full >= 48 * act
    assert saved_ckpt < 0.25 * saved_full
    if peak_full is not None:
        assert peak_full > 40 * act
        assert peak_ckpt < 0.6 * peak_full


def test_auto_checkpointing_follows_the_memory_budget(monkeypatch):
    """checkpoint="auto": everything stored when it fits the activation budget, sqrt(L) segments when not."""
    model = EnsembleCNN(2, (3, 16, 16), 10, channels=16, depth=48, n_down=1)
    assert model.checkpoint == "auto"
    monkeypatch.setenv("ISOMETRY_ACTIVATION_BUDGET_GB", "1")
    assert model.segment_length(16, (8, 8)) == 0
    monkeypatch.setenv("ISOMETRY_ACTIVATION_BUDGET_GB", "0.001")             # 1 MB < 48 layers x 131 kB
    assert model.segment_length(16, (8, 8)) == 7
    assert EnsembleCNN(1, (3, 8, 8), 10, channels=4, depth=9, checkpoint=2).segment_length(8, (4, 4)) == 2


@pytest.mark.parametrize("padding", ["circular", "zeros"])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu", "hard_tanh", "linear"])
def test_conv_stack_equals_conv2d_per_layer(padding, nonlinearity):
    """isometry.convstack (im2col gathers + bmm, hand-written backward, optional segments) computes the same
    function and gradients as F.pad + F.conv2d per layer, in float64 to 1e-10: odd map sizes, a 2x2 and a 1x3 torus
    (taps that wrap onto the same pixel), E > 1."""
    from isometry.convstack import conv_stack, reference_stack
    g = torch.Generator().manual_seed(0)
    for E, B, H, W, C, L, seg in [(2, 3, 4, 5, 3, 4, 0), (3, 2, 2, 2, 4, 5, 2), (1, 2, 1, 3, 2, 3, 0)]:
        x = torch.randn(E, B * H * W, C, dtype=torch.float64, generator=g, requires_grad=True)
        w = (torch.randn(E, L, C, C, 3, 3, dtype=torch.float64, generator=g) / (3 * C ** 0.5)).requires_grad_()
        b = torch.randn(E, L, C, dtype=torch.float64, generator=g, requires_grad=True)
        y = conv_stack(x, w, b, (H, W), padding=padding, nonlinearity=nonlinearity, segment=seg)
        ref = reference_stack(x, w, b, (H, W), padding=padding, nonlinearity=nonlinearity)
        r = torch.randn(y.shape, dtype=torch.float64, generator=g)
        got = torch.autograd.grad((y * r).sum(), (x, w, b))
        want = torch.autograd.grad((ref * r).sum(), (x, w, b))
        torch.testing.assert_close(y, ref, rtol=1e-10, atol=1e-10)
        for a, c in zip(got, want):
            torch.testing.assert_close(a, c, rtol=1e-10, atol=1e-10)
        with torch.no_grad():
            torch.testing.assert_close(conv_stack(x, w, b, (H, W), padding=padding, nonlinearity=nonlinearity), ref)


def test_stack_and_conv_paths_agree_in_fp32():
    """The default CPU path ("stack") and the cuDNN-style path ("conv") of one model: same logits and gradients
    to ~1e-5 relative after 100 critical tanh layers (float32), shared and per-member inputs."""
    ms = _members()
    x = torch.randn(3, 4, 2, 12, 12, generator=torch.Generator().manual_seed(3))
    grads = {}
    for impl in ("stack", "conv"):
        model = EnsembleCNN(3, (2, 12, 12), 5, channels=6, depth=100, n_down=2, impl=impl)
        model.reset_parameters(ms, [torch.Generator().manual_seed(m.seed) for m in ms])
        out = model(x)
        (out * torch.linspace(-1, 1, out.numel()).view(out.shape)).sum().backward()
        grads[impl] = (out.detach(), {k: p.grad for k, p in model.named_parameters()})
    torch.testing.assert_close(grads["stack"][0], grads["conv"][0], rtol=1e-5, atol=1e-6)
    for k, g in grads["conv"][1].items():
        torch.testing.assert_close(grads["stack"][1][k], g, rtol=1e-4, atol=1e-6, msg=k)


def test_1000_layer_critical_cnn_trains():
    """A 1000-layer vanilla tanh CNN at Xiao's critical point (delta-orthogonal, sigma_w2=1.05, sigma_b2=2.01e-5)
    trains: the loss decreases under SGD + momentum and the gradient reaching the FIRST hidden layer stays as large
    as the last one's (dynamical isometry), before and after the updates. Hidden weights get a small learning
    rate (1e-3, Xiao et al.'s scale: at depth 1000 a coherent 1% change per layer compounds), the readout 0.5."""
    t0 = time.time()
    E, B, K = 2, 16, 4
    model = EnsembleCNN(E, (K, 8, 8), K, channels=8, depth=1000, n_down=2, checkpoint=True)
    model.reset_parameters([Member("a", seed=1, **CRIT), Member("b", seed=2, **CRIT)])
    g = torch.Generator().manual_seed(0)
    y = torch.arange(B) % K
    x = F.one_hot(y, K).float()[:, :, None, None] + 0.5 * torch.randn(B, K, 8, 8, generator=g)
    readout = [model.readout_weight, model.readout_bias]
    rest = [p for n, p in model.named_parameters() if not n.startswith("readout")]
    opt = torch.optim.SGD([{"params": readout, "lr": 0.5}, {"params": rest}], lr=1e-3, momentum=0.9)
    losses, ratios = [], []
    for _ in range(6):
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x).flatten(0, 1), y.repeat(E), reduction="none").view(E, B).mean(1)
        loss.sum().backward()
        gw = model.hidden_weight.grad
        ratios.append(gw[:, 0].flatten(1).norm(dim=1) / gw[:, -1].flatten(1).norm(dim=1))
        opt.step()
        losses.append(loss.detach())
    losses, ratios = torch.stack(losses), torch.stack(ratios)
    assert torch.isfinite(losses).all()
    assert (losses[-1] < 0.85 * losses[0]).all(), losses
    assert ((ratios > 0.05) & (ratios < 20)).all(), ratios
    assert time.time() - t0 < 60


def test_1000_layer_critical_cnn_trains_on_real_mnist_through_the_engine(shared_data, tmp_path):
    """Issue acceptance: a 1000-layer delta-orthogonal critical tanh CNN (small C) trains a few steps on REAL
    MNIST through the batched engine, with activation checkpointing; the training loss decreases."""
    from isometry.data import load_dataset, prepare_dataset
    from isometry.engine import train

    prepare_dataset("mnist", tmp_path, [shared_data], download=False)
    ds = load_dataset("mnist", tmp_path).subset(64, 32)
    members = [Member("a", seed=1, lr=1e-3, optimizer="momentum", **CRIT),
               Member("b", seed=2, lr=1e-3, optimizer="momentum", **CRIT)]
    model = EnsembleCNN(2, (1, 28, 28), 10, channels=8, depth=1000, n_down=2, checkpoint=True)
    # hidden convolutions at 1e-3 (Xiao et al.'s depth scaling), stem and readout 300x faster
    mults = {n: (1.0 if n.startswith("hidden") else 300.0) for n, _ in model.named_parameters()}
    rows = train(model, members, ds, steps=8, batch_size=32, log_at=[0, 8], eval_examples=64, data_seed=0,
                 lr_multipliers=mults, device="cpu", progress=False)
    first = rows[rows.step == 0].set_index("run_id").train_loss
    last = rows[rows.step == 8].set_index("run_id").train_loss
    assert not rows.diverged.any()
    assert (last < first - 0.02).all(), (first.tolist(), last.tolist())  # measured: 2.34->2.26, 2.29->2.26
    assert set(rows.dataset) == {"mnist (official)"} and set(rows.depth) == {1000}


def test_10000_layer_cnn_runs_through_the_engine():
    """Xiao et al.'s 10,000 layers run through the engine's deep-CNN path (stacked hidden weight, segment
    checkpointing): one SGD-momentum step at lr 0.25/L, finite loss, not diverged. Tiny C and images on CPU; the
    GPU-scale run (C = 128, batch 128) uses the same path."""
    from isometry.data import Dataset
    from isometry.engine import train

    g = torch.Generator().manual_seed(0)
    u8 = lambda n: torch.randint(0, 256, (n, 1, 8, 8), dtype=torch.uint8, generator=g)  # noqa: E731
    ds = Dataset("mnist", "random", u8(16), torch.arange(16) % 10, u8(8), torch.arange(8) % 10)
    model = EnsembleCNN(1, (1, 8, 8), 10, channels=4, depth=10_000, n_down=1, checkpoint=True)
    rows = train(model, [Member("a", seed=0, lr=0.25 / 10_000, optimizer="momentum", **CRIT)], ds, steps=1,
                 batch_size=8, log_at=[0, 1], eval_examples=8, data_seed=0, device="cpu", progress=False)
    assert len(rows) == 2 and not rows.diverged.any()
    assert rows.train_loss.notna().all() and (rows.train_loss < 5).all()
    assert set(rows.depth) == {10_000}
