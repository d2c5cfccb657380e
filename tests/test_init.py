"""Tests for isometry.init: orthogonality, norm preservation, Looks-Linear, ensembles, statistics, registry."""

from __future__ import annotations

import importlib.util
import inspect
import math
import sys
import textwrap

import pytest
import torch
import torch.nn.functional as F

from isometry import init as I


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def gens(seeds) -> list[torch.Generator]:
    return [gen(s) for s in seeds]


def flat_norm(t: torch.Tensor) -> torch.Tensor:
    return t.flatten(1).norm(dim=1)


def circular_conv(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Stride-1 circular cross-correlation, output size = input size (one-sided padding: works for even k too)."""
    k = w.shape[-1]
    if w.ndim == 3:
        return F.conv1d(F.pad(x, (0, k - 1), mode="circular"), w)
    return F.conv2d(F.pad(x, (0, k - 1, 0, k - 1), mode="circular"), w)


def assert_orthonormal(w2d: torch.Tensor, gain: float = 1.0, tol: float = 1e-5) -> None:
    """gain * (orthonormal rows if wide, orthonormal columns if tall)."""
    r, c = w2d.shape
    g = w2d @ w2d.T if r <= c else w2d.T @ w2d
    eye = torch.eye(min(r, c), dtype=w2d.dtype)
    assert torch.allclose(g, gain**2 * eye, atol=tol * max(gain**2, 1.0)), (g - gain**2 * eye).abs().max()


# --------------------------------------------------------------------------------------------------- orthogonality


@pytest.mark.parametrize("shape", [(16, 16), (7, 13), (13, 7), (6, 3, 3, 3), (4, 2, 2, 2), (1, 5)])
@pytest.mark.parametrize("gain", [1.0, 1.7])
def test_orthogonal_single(shape, gain):
    w = torch.empty(shape)
    out = I.orthogonal_(w, gain, generator=gen(0))
    assert out is w and w.dtype == torch.float32
    assert_orthonormal(w.reshape(shape[0], -1), gain)


@pytest.mark.parametrize("shape", [(4, 9, 9), (3, 5, 11), (3, 11, 5), (2, 6, 3, 3, 3)])
def test_orthogonal_ensemble_per_member_gain(shape):
    gains = torch.linspace(0.5, 2.0, shape[0])  # per-member gains as a (float32) tensor
    w = torch.empty(shape)
    I.orthogonal_(w, gains, generator=gen(1))
    for e in range(shape[0]):
        assert_orthonormal(w[e].reshape(shape[1], -1), float(gains[e]))
    # members differ
    assert not torch.allclose(w[0] / gains[0], w[1] / gains[1])


def test_orthogonal_is_haar_sign_fixed():
    # E[tr Q] = 0 for Haar Q; QR without the sign fix is biased (tr Q ~ +n for LAPACK's positive-diag-ish convention).
    w = torch.empty(400, 4, 4, dtype=torch.float64)
    I.orthogonal_(w, generator=gen(2))
    tr = torch.diagonal(w, dim1=-2, dim2=-1).sum(-1)
    assert abs(tr.mean().item()) < 0.25  # sd of the mean = 1/sqrt(400) = 0.05
    assert abs(tr.var().item() - 1.0) < 0.3  # Var tr Q = 1 for Haar O(n), n >= 2


def test_delta_orthogonal_structure():
    for shape in [(8, 5, 3, 3), (6, 6, 4, 4), (5, 5, 1, 1)]:
        w = torch.empty(shape)
        I.delta_orthogonal_(w, 1.3, generator=gen(3))
        c0, c1 = (shape[2] - 1) // 2, (shape[3] - 1) // 2       # TF / JAX convention (the middle when odd)
        assert_orthonormal(w[:, :, c0, c1], 1.3)
        mask = torch.ones(shape[2:], dtype=torch.bool)
        mask[c0, c1] = False
        assert (w[:, :, mask] == 0).all()
    # dense weights: plain orthogonal, any shape
    w = torch.empty(5, 9)
    I.delta_orthogonal_(w, 2.0, generator=gen(4))
    assert_orthonormal(w, 2.0)
    # ensemble of conv kernels
    w = torch.empty(3, 8, 5, 3, 3)
    I.delta_orthogonal_(w, [1.0, 2.0, 3.0], generator=gen(5))
    for e in range(3):
        assert_orthonormal(w[e, :, :, 1, 1], float(e + 1))


@pytest.mark.parametrize("fn", [I.delta_orthogonal_, I.conv_orthogonal_])
def test_conv_initializers_need_out_ge_in(fn):
    with pytest.raises(ValueError, match="out_channels >= in_channels"):
        fn(torch.empty(4, 8, 3, 3))


def conv_matrix(w: torch.Tensor, n: int) -> torch.Tensor:
    """The (out n^2, in n^2) matrix of the circular convolution on n x n images (float64)."""
    cin = w.shape[1]
    basis = torch.eye(cin * n * n, dtype=torch.float64).reshape(-1, cin, n, n)
    return circular_conv(basis, w.double()).reshape(cin * n * n, -1).T


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("cin,cout", [(3, 3), (3, 5)])
def test_conv_orthogonal_is_orthogonal_operator(k, cin, cout):
    w = torch.empty(cout, cin, k, k)
    I.conv_orthogonal_(w, generator=gen(10 + k))
    m = conv_matrix(w, n=5)
    assert_orthonormal(m, 1.0, tol=1e-5)


def test_conv_orthogonal_uses_every_tap():
    # unlike delta-orthogonal, Algorithm 1 spreads the kernel over all taps (with 16 channels a random projection
    # is 0 or I with probability 2^-15, so every tap is non-zero)
    w = torch.empty(16, 16, 3, 3)
    I.conv_orthogonal_(w, generator=gen(9))
    tap_norm = w.pow(2).sum((0, 1))
    assert (tap_norm > 1e-3).all()
    assert tap_norm.sum().item() == pytest.approx(16, rel=1e-5)  # sum_s |W_s|_F^2 = in (Parseval)


@pytest.mark.parametrize("fn", [I.delta_orthogonal_, I.conv_orthogonal_])
@pytest.mark.parametrize("k", [3, 4])
def test_conv_norm_preservation(fn, k):
    gain = 1.4
    w = torch.empty(16, 8, k, k)
    fn(w, gain, generator=gen(20))
    x = torch.randn(6, 8, 9, 9, generator=gen(21))
    y = circular_conv(x, w)
    rel = (flat_norm(y) / flat_norm(x) / gain - 1).abs().max().item()
    assert rel < 1e-4, rel
    # ... and a deep stack of them too (square channels), still norm-preserving
    h = torch.randn(4, 8, 8, 8, generator=gen(22))
    n0 = flat_norm(h)
    for layer in range(5):
        wl = torch.empty(8, 8, k, k)
        fn(wl, generator=gen(100 + layer))
        h = circular_conv(h, wl)
    assert (flat_norm(h) / n0 - 1).abs().max().item() < 1e-4


def test_conv_orthogonal_1d_and_dense():
    w = torch.empty(6, 4, 3)
    I.conv_orthogonal_(w, ensemble=False, generator=gen(30))
    x = torch.randn(5, 4, 10, generator=gen(31))
    assert (flat_norm(circular_conv(x, w)) / flat_norm(x) - 1).abs().max() < 1e-4
    w = torch.empty(3, 7)
    I.conv_orthogonal_(w, 0.5, generator=gen(32))
    assert_orthonormal(w, 0.5)


# ------------------------------------------------------------------------------------------------------ looks-linear


def test_crelu():
    x = torch.randn(3, 4, generator=gen(40))
    y = I.CReLU(dim=1)(x)
    assert y.shape == (3, 8)
    assert torch.equal(y[:, :4] - y[:, 4:], x)
    assert I.CReLU(dim=-1)(torch.randn(2, 3, 4)).shape == (2, 3, 8)


def test_looks_linear_dense_net_is_linear_at_init():
    d, m, depth = 10, 12, 5
    g = gen(41)
    w_in = torch.empty(m, d)
    I.orthogonal_(w_in, generator=g)
    hidden = []
    for _ in range(depth):
        w = torch.empty(m, 2 * m)
        I.looks_linear_(w, 1.2, generator=g)
        assert torch.equal(w[:, :m], -w[:, m:])
        assert_orthonormal(w[:, :m], 1.2)
        hidden.append(w)
    x = torch.randn(7, d, generator=gen(42), dtype=torch.float64)
    crelu = I.CReLU(dim=1)
    h = x @ w_in.double().T
    for w in hidden:
        h = crelu(h) @ w.double().T
    lin = w_in.double().T
    for w in hidden:
        lin = lin @ w[:, :m].double().T
    assert torch.allclose(h, x @ lin, atol=1e-10)
    assert torch.allclose(flat_norm(h), 1.2**depth * flat_norm(x), rtol=1e-5)  # orthogonal: isometric * gain^L


def test_looks_linear_conv_net_is_linear_at_init():
    c, depth = 4, 4
    g = gen(43)
    ws = []
    for _ in range(depth):
        w = torch.empty(c, 2 * c, 3, 3)
        I.looks_linear_(w, generator=g)
        assert torch.equal(w[:, :c], -w[:, c:])
        ws.append(w.double())
    x = torch.randn(2, c, 6, 6, generator=gen(44), dtype=torch.float64)
    h, lin = x, x
    for w in ws:
        h = circular_conv(I.crelu(h, dim=1), w)
        lin = circular_conv(lin, w[:, :c])
    assert torch.allclose(h, lin, atol=1e-10)
    assert torch.allclose(flat_norm(h), flat_norm(x), rtol=1e-6)


def test_looks_linear_needs_even_input():
    with pytest.raises(ValueError, match="even"):
        I.looks_linear_(torch.empty(4, 5))


# --------------------------------------------------------------------------------------------------- ensembles


ENSEMBLE_CASES = [
    (I.gaussian_, (3, 6, 5), True),
    (I.lecun_, (3, 6, 5), False),
    (I.he_, (3, 4, 3, 3, 3), False),
    (I.xavier_, (3, 6, 5), True),
    (I.orthogonal_, (3, 6, 5), True),
    (I.orthogonal_, (3, 4, 7), True),
    (I.orthogonal_, (3, 5, 2, 3, 3), True),
    (I.delta_orthogonal_, (3, 6, 4, 3, 3), True),
    (I.delta_orthogonal_, (3, 5, 8), True),
    (I.conv_orthogonal_, (3, 6, 4, 3, 3), True),
    (I.conv_orthogonal_, (3, 5, 5, 2, 2), True),
    (I.looks_linear_, (3, 6, 8), True),
    (I.looks_linear_, (3, 6, 8, 3, 3), True),
]


@pytest.mark.parametrize("fn,shape,has_gain", ENSEMBLE_CASES)
def test_stacked_equals_independent(fn, shape, has_gain):
    E = shape[0]
    seeds = [7, 123, 99]
    gains = [0.7, 1.0, 1.9]
    stacked = torch.empty(shape)
    kw = {}
    if has_gain:
        kw = {"sigma_w" if fn is I.gaussian_ else "gain": gains}  # a sequence of per-member gains
    out = fn(stacked, generator=gens(seeds), **kw)
    assert out is stacked
    for e in range(E):
        single = torch.empty(shape[1:])
        kw1 = {k: gains[e] for k in kw}
        fn(single, generator=gen(seeds[e]), ensemble=False, **kw1)
        assert torch.equal(stacked[e], single), (fn.__name__, e)
    # one generator: members drawn one after the other from it
    stacked2 = torch.empty(shape)
    fn(stacked2, generator=gen(5), **kw)
    g = gen(5)
    for e in range(E):
        single = torch.empty(shape[1:])
        fn(single, generator=g, ensemble=False, **{k: gains[e] for k in kw})
        assert torch.equal(stacked2[e], single)
    assert not torch.equal(stacked2[0], stacked2[1])


def test_ensemble_inference_and_override():
    # 3-D with ensemble=False: one conv1d kernel (out, in, k): flattened orthogonal (4, 9)
    w = torch.empty(4, 3, 3)
    I.orthogonal_(w, ensemble=False, generator=gen(0))
    assert_orthonormal(w.reshape(4, -1))
    # 4-D with ensemble=True: an ensemble of conv1d kernels (E, out, in, k)
    w = torch.empty(2, 4, 3, 3)
    I.delta_orthogonal_(w, ensemble=True, generator=gen(0))
    assert_orthonormal(w[0, :, :, 1])
    assert_orthonormal(w[1, :, :, 1])
    with pytest.raises(ValueError):
        I.gaussian_(torch.empty(5))
    with pytest.raises(ValueError):
        I.gaussian_(torch.empty(2, 2, 2, 2, 2, 2))  # 6-D: ambiguous
    with pytest.raises(ValueError, match="2 generators"):
        I.orthogonal_(torch.empty(3, 4, 4), generator=gens([1, 2]))
    with pytest.raises(ValueError, match="entries"):
        I.orthogonal_(torch.empty(3, 4, 4), gain=[1.0, 2.0])
    with pytest.raises(ValueError, match="scalar"):
        I.orthogonal_(torch.empty(4, 4), gain=torch.ones(2))


def test_reproducible_dtype_and_parameter():
    a, b = torch.empty(6, 6), torch.empty(6, 6, dtype=torch.float64)
    I.orthogonal_(a, generator=gen(3))
    I.orthogonal_(b, generator=gen(3))
    assert torch.allclose(a.double(), b, atol=1e-7)  # same draws whatever the weight dtype
    lin = torch.nn.Linear(5, 4)
    I.orthogonal_(lin.weight, generator=gen(3))
    assert lin.weight.requires_grad and lin.weight.grad_fn is None
    assert_orthonormal(lin.weight.detach())


# ---------------------------------------------------------------------------------------------- Gaussian statistics


@pytest.mark.parametrize(
    "fn,shape,var",
    [
        (lambda w, g: I.gaussian_(w, 1.7, generator=g), (300, 400), 1.7**2 / 400),
        (lambda w, g: I.gaussian_(w, 0.8, generator=g), (40, 30, 5, 5), 0.64 / (30 * 25)),
        (lambda w, g: I.lecun_(w, generator=g), (300, 400), 1 / 400),
        (lambda w, g: I.he_(w, generator=g), (300, 400), 2 / 400),
        (lambda w, g: I.xavier_(w, generator=g), (300, 400), 2 / 700),
        (lambda w, g: I.gaussian_(w, torch.tensor([1.0, 3.0]), generator=g), (2, 300, 200), None),
    ],
)
def test_gaussian_variance(fn, shape, var):
    w = torch.empty(shape)
    fn(w, gen(50))
    tol = 4 * math.sqrt(2 / w[0].numel()) + 0.01  # ~ 4 sd of the sample variance, relative
    if var is None:  # per-member sigma_w
        for e, s in enumerate([1.0, 3.0]):
            assert abs(w[e].var().item() / (s**2 / 200) - 1) < tol
        return
    assert abs(w.mean().item()) < 4 * math.sqrt(var / w.numel())
    assert abs(w.var().item() / var - 1) < tol


# ------------------------------------------------------------------------------------------------------- registry


EXPECTED = {
    "gaussian", "lecun", "he", "xavier", "orthogonal", "delta_orthogonal", "conv_orthogonal", "looks_linear",
    "random_walk", "critical", "critical_orthogonal", "critical_delta_orthogonal",
}


def test_known_schemes_and_uniform_signature():
    assert EXPECTED <= set(I.known_schemes())
    assert I.known_schemes() == sorted(I.known_schemes())
    for name in I.known_schemes():
        fn = I.get_initializer(name)
        assert fn is I.SCHEMES[name]
        params = inspect.signature(fn).parameters
        assert list(params) == ["w", "sigma_w2", "sigma_b2", "nonlinearity", "layer", "generator"], name
        assert params["sigma_w2"].default is None and params["layer"].default == "hidden"


@pytest.mark.parametrize(
    "name,shape,default",
    [
        ("gaussian", (20, 20), 1.0),
        ("lecun", (20, 20), 1.0),
        ("he", (20, 20), 2.0),
        ("orthogonal", (20, 20), 1.0),
        ("delta_orthogonal", (8, 8, 3, 3), 1.0),
        ("conv_orthogonal", (8, 8, 3, 3), 1.0),
        ("looks_linear", (10, 20), 1.0),
    ],
)
def test_simple_schemes(name, shape, default):
    fn = I.get_initializer(name)
    w = torch.empty(shape)
    assert fn(w, generator=gen(60)) == default
    assert fn(w, sigma_w2=1.5, generator=gen(60)) == 1.5
    if name in ("orthogonal", "delta_orthogonal", "conv_orthogonal"):
        x = torch.randn(3, *shape[1:2], *([7, 7] if len(shape) == 4 else []), generator=gen(61))
        y = circular_conv(x, w) if len(shape) == 4 else x @ w.T
        assert torch.allclose(flat_norm(y), math.sqrt(1.5) * flat_norm(x), rtol=1e-4)
    # same generator seed => same weights
    w2 = torch.empty(shape)
    fn(w2, sigma_w2=1.5, generator=gen(60))
    assert torch.equal(w, w2)


def test_scheme_on_member_views_of_stacked_parameter():
    # the engine's use: one scheme call per member on views of a stacked (E, out, in) Parameter
    p = torch.nn.Parameter(torch.zeros(3, 6, 6))
    fn = I.get_initializer("orthogonal")
    for e in range(3):
        assert fn(p[e], sigma_w2=float(e + 1), generator=gen(e)) == e + 1
    assert p.is_leaf and p.grad_fn is None
    ref = torch.empty(3, 6, 6)
    I.orthogonal_(ref, [math.sqrt(e + 1) for e in range(3)], generator=gens(range(3)))
    assert torch.equal(p.detach(), ref)


def test_xavier_scheme_returns_effective_sigma_w2():
    w = torch.empty(30, 10)
    assert I.get_initializer("xavier")(w, generator=gen(0)) == pytest.approx(2 * 10 / 40)


def test_looks_linear_scheme_layers():
    fn = I.get_initializer("looks_linear")
    w = torch.empty(10, 20)
    fn(w, sigma_w2=4.0, layer="hidden", generator=gen(1))
    assert torch.equal(w[:, :10], -w[:, 10:])
    assert_orthonormal(w[:, :10], 2.0)
    w_in = torch.empty(20, 7)  # input layer: raw data, not CReLU'd -> plain orthogonal on the whole weight
    assert fn(w_in, layer="input", generator=gen(1)) == 1.0
    assert_orthonormal(w_in)
    with pytest.raises(ValueError, match="layer"):
        fn(w, layer="middle")


def my_scheme(w, *, sigma_w2=None, sigma_b2=0.0, nonlinearity="linear", layer="hidden", generator=None):
    with torch.no_grad():
        w.fill_(0.25)
    return 0.5 if sigma_w2 is None else sigma_w2


def test_user_scheme_module_function(tmp_path, monkeypatch):
    mod = tmp_path / "isometry_test_user_init.py"
    mod.write_text(textwrap.dedent(
        """
        import torch

        def my_init(w, *, sigma_w2, sigma_b2, nonlinearity, layer, generator):
            torch.nn.init.constant_(w, 3.0 if layer == "readout" else 1.0)
            return 42.0

        def no_return(w, **kw):
            w.zero_()
        """
    ))
    monkeypatch.syspath_prepend(str(tmp_path))
    fn = I.get_initializer("isometry_test_user_init:my_init")
    w = torch.empty(3, 4, requires_grad=True)
    assert fn(w, layer="readout") == 42.0 and (w == 3.0).all()
    assert isinstance(fn(w), float)
    nr = I.get_initializer("isometry_test_user_init:no_return")
    assert nr(w, sigma_w2=2.0) == 2.0 and (w == 0).all()
    assert math.isnan(nr(w))
    # a function defined in this test module, resolved by its module path
    spec_name = my_scheme.__module__
    if spec_name in sys.modules and importlib.util.find_spec(spec_name) is not None:
        f2 = I.get_initializer(f"{spec_name}:my_scheme")
        assert f2(w) == 0.5 and (w == 0.25).all()
    # callables and register_scheme
    assert I.get_initializer(my_scheme)(w, sigma_w2=3.0) == 3.0
    with pytest.raises(ValueError, match="already registered"):
        I.register_scheme("gaussian")(my_scheme)


def test_register_scheme_roundtrip():
    name = "_test_only_constant"
    try:
        @I.register_scheme(name)
        def _s(w, *, sigma_w2=None, sigma_b2=0.0, nonlinearity="linear", layer="hidden", generator=None):
            return 0.0

        assert name in I.known_schemes() and I.get_initializer(name) is _s
    finally:
        I.SCHEMES.pop(name, None)


def test_unknown_scheme_errors():
    with pytest.raises(ValueError) as exc:
        I.get_initializer("nonsense_init")
    msg = str(exc.value)
    assert "nonsense_init" in msg and "orthogonal" in msg and "gaussian" in msg and "module.path:function" in msg
    with pytest.raises(ImportError, match="cannot import module"):
        I.get_initializer("no_such_module_xyz.sub:fn")
    with pytest.raises(ImportError, match="no attribute"):
        I.get_initializer("math:no_such_function")
    with pytest.raises(ValueError, match="module.path:function"):
        I.get_initializer("math:")


# ------------------------------------------------------------------- schemes that use the other helpers' theory


def test_random_walk_scheme():
    from isometry.theory import random_walk as rw

    for nl in ("linear", "relu"):
        for width in (10, 100):
            assert I.random_walk_gain(width, nl) == pytest.approx(float(rw.optimal_gain(width, nl, method="fit")))
            assert I.random_walk_gain(width, nl, method="exact") == pytest.approx(
                float(rw.optimal_gain(width, nl, method="exact"))
            )
    # paper's fit formula (catalog table): sqrt2 exp(1.2/(max(N,6)-2.4)) at N=100 = 1.43171
    assert I.random_walk_gain(100, "relu", method="fit") == pytest.approx(1.43171, rel=1e-4)
    assert I.random_walk_gain(100, "linear", method="fit") == pytest.approx(1.005013, rel=1e-5)
    fn = I.get_initializer("random_walk")
    w = torch.empty(200, 100)
    s2 = fn(w, sigma_w2=123.0, nonlinearity="relu", generator=gen(70))  # sigma_w2 is ignored
    g = I.random_walk_gain(100, "relu", method="exact")
    assert s2 == pytest.approx(g * g)
    assert abs(w.var().item() / (g * g / 100) - 1) < 0.03
    assert abs(g / 1.43171 - 1) < 0.01  # exact optimum agrees with the fit to ~0.5% at N = 100


@pytest.mark.parametrize(
    "name,shape",
    [("critical", (50, 40)), ("critical_orthogonal", (40, 40)), ("critical_delta_orthogonal", (8, 8, 3, 3))],
)
def test_critical_schemes(name, shape):
    from isometry.theory import meanfield as mf

    fn = I.get_initializer(name)
    w = torch.empty(shape)
    s2 = fn(w, sigma_w2=99.0, sigma_b2=0.0, nonlinearity="relu", generator=gen(80))
    assert s2 == pytest.approx(2.0, rel=1e-6)  # ReLU critical point (2, 0)
    s2 = fn(w, sigma_b2=0.05, nonlinearity="tanh", generator=gen(80))
    assert s2 == pytest.approx(float(mf.critical_sigma_w2("tanh", 0.05)))
    assert s2 == pytest.approx(1.7610, rel=2e-3)  # catalog §1 table
    if name != "critical":
        m = w.reshape(shape[0], -1) if name == "critical_orthogonal" else w[:, :, 1, 1]
        assert_orthonormal(m, math.sqrt(s2), tol=1e-5)


# ------------------------------------------------------------------------------------------------ issue 20, 16-17
@pytest.mark.parametrize("k", [2, 3, 4, 5])
@pytest.mark.parametrize("padding", ["zeros", "circular"])
def test_delta_orthogonal_is_norm_preserving_for_even_and_odd_kernels(k, padding):
    """Issue 20 item 16: the tap sat at k // 2; TF and JAX put it at (k - 1) // 2. For even kernels under zero 'same'
    padding ours shifted the image by a pixel and was not norm-preserving (ratio 1.599 for gain 1.75)."""
    import torch.nn.functional as F

    gain = 1.75
    w = torch.empty(8, 6, k, k, dtype=torch.float64)
    I.delta_orthogonal_(w, gain, generator=gen(7))
    taps = (w.abs().sum((0, 1)) > 0).nonzero().tolist()
    assert taps == [[(k - 1) // 2, (k - 1) // 2]]                     # TF ConvolutionDeltaOrthogonal / JAX
    x = torch.randn(3, 6, 9, 9, generator=gen(8), dtype=torch.float64)
    lo, hi = (k - 1) // 2, k // 2                                     # 'same' padding: (k-1)//2 before, k//2 after
    xp = F.pad(x, (lo, hi, lo, hi), mode="constant" if padding == "zeros" else "circular")
    y = F.conv2d(xp, w)
    assert y.shape[-2:] == x.shape[-2:]
    ratio = (y.flatten(1).norm(dim=1) / x.flatten(1).norm(dim=1))
    torch.testing.assert_close(ratio, torch.full_like(ratio, gain), rtol=1e-12, atol=0)
    if padding == "zeros":                                            # and PyTorch's own padding="same" agrees
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")                           # "padding='same' with even kernel lengths"
            torch.testing.assert_close(F.conv2d(x, w, padding="same"), y)


@pytest.mark.parametrize("name", ["gaussian_", "lecun_", "he_", "xavier_", "orthogonal_", "delta_orthogonal_",
                                  "conv_orthogonal_", "looks_linear_"])
@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.uint8, torch.bool])
def test_integer_weights_are_refused(name, dtype):
    """Issue 20 item 17: integer weight tensors were accepted and silently filled with zeros (torch.nn.init and TF
    raise)."""
    w = torch.zeros((4, 4, 3, 3) if "conv" in name or "delta" in name else (4, 4), dtype=dtype)
    with pytest.raises(TypeError, match=rf"initializers need a floating-point weight, got a tensor of dtype {dtype}"):
        getattr(I, name)(w)
    assert (w == 0).all()


def test_integer_weights_are_refused_by_schemes():
    w = torch.zeros(4, 4, dtype=torch.int64)
    for scheme in I.known_schemes():
        with pytest.raises(TypeError, match="floating-point weight"):
            I.get_initializer(scheme)(w, nonlinearity="tanh" if "critical" in scheme else "relu")
