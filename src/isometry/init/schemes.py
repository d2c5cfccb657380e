"""Registry of named initialization schemes, as used in configs (``init: orthogonal``) and by the training engine.

Every scheme has ONE signature and acts on a single (non-ensemble) weight of one layer::

    scheme(w, *, sigma_w2=None, sigma_b2=0.0, nonlinearity="linear", layer="hidden", generator=None) -> float

It fills ``w`` in place and returns the effective sigma_w^2 it used, so the engine can record it (run-CSV column
``sigma_w2``). ``sigma_w2=None`` means the scheme's own default. ``layer`` is ``"input"``, ``"hidden"`` or
``"readout"``. Biases are not touched (the engine draws them from N(0, sigma_b2)). sigma_w follows the package
convention: the factor multiplying the norm of a unit input vector (see :mod:`isometry.init.dense`).

How each scheme treats its arguments:

==========================  ===================================================================================
gaussian, lecun, he         N(0, sigma_w2 / fan_in); default sigma_w2 = 1, 1, 2. A given sigma_w2 overrides.
xavier                      N(0, sigma_w2 * 2 / (fan_in + fan_out)), default sigma_w2 = 1 (torch's gain^2);
                            returns the effective sigma_w2 * 2 fan_in / (fan_in + fan_out).
orthogonal                  sqrt(sigma_w2) * Haar orthogonal, default 1.
delta_orthogonal            conv weights: Xiao et al. Alg. 2; dense weights: orthogonal. Default 1.
conv_orthogonal             conv weights: Xiao et al. Alg. 1; dense weights: orthogonal. Default 1.
looks_linear                layer "hidden"/"readout": [W0, -W0] with W0 = sqrt(sigma_w2) * orthogonal
                            (delta-orthogonal for conv); the layer's input is assumed to be a CReLU output.
                            layer "input": the raw input is not CReLU'd, so plain orthogonal
                            (delta-orthogonal for conv) on the whole weight. Default 1; returns W0's sigma_w2.
random_walk                 Sussillo & Abbott 2014: Gaussian with sigma_w = g*(fan_in, nonlinearity) from
                            ``random_walk_gain(..., method="exact")``. sigma_w2 is IGNORED (the scheme chooses it)
                            and so is sigma_b2. Every layer gets the same rule (the paper scales all layers by g).
critical                    Gaussian at sigma_w2 = ``theory.meanfield.critical_sigma_w2(nonlinearity, sigma_b2)``
critical_orthogonal         (the edge of chaos chi_1 = 1, Schoenholz et al. 2017 / Pennington et al. 2017), with
critical_delta_orthogonal   Gaussian / orthogonal / delta-orthogonal weights. sigma_w2 is IGNORED. Every layer.
==========================  ===================================================================================

User-defined schemes: write a function with the signature above and name it in a config as
``"mypkg.mymod:my_init"``; :func:`get_initializer` imports it (the module must be importable, e.g. installed or on
``PYTHONPATH``) and wraps it with :func:`user_scheme_from_function`. Or register it in code with
``@register_scheme("my_init")``.
"""

from __future__ import annotations

import functools
import importlib
import math
from collections.abc import Callable

import torch

from ._core import fans
from .conv import conv_orthogonal_, delta_orthogonal_
from .dense import gaussian_, orthogonal_
from .looks_linear import looks_linear_

LAYERS = ("input", "hidden", "readout")

Scheme = Callable[..., float]

#: name -> scheme function (uniform signature, see the module docstring).
SCHEMES: dict[str, Scheme] = {}


def register_scheme(name: str, *, overwrite: bool = False):
    """Decorator registering a scheme under ``name`` (ValueError on a duplicate unless ``overwrite=True``)."""

    def deco(fn: Scheme) -> Scheme:
        if name in SCHEMES and not overwrite:
            raise ValueError(f"init scheme {name!r} is already registered")
        if ":" in name:
            raise ValueError(f"scheme names may not contain ':' (reserved for 'module:function'), got {name!r}")
        SCHEMES[name] = fn
        return fn

    return deco


def known_schemes() -> list[str]:
    """Sorted names of the registered schemes."""
    return sorted(SCHEMES)


def user_scheme_from_function(fn: Callable) -> Scheme:
    """Wrap a user function ``fn(w, *, sigma_w2, sigma_b2, nonlinearity, layer, generator) -> float`` as a scheme.

    The wrapper passes every argument by keyword, runs under ``torch.no_grad()``, and turns the return value into a
    float. If ``fn`` returns None, the scheme returns ``sigma_w2`` (NaN when that was None too).
    """
    if not callable(fn):
        raise TypeError(f"an init scheme must be callable, got {fn!r}")

    @functools.wraps(fn)
    def scheme(w, *, sigma_w2=None, sigma_b2=0.0, nonlinearity="linear", layer="hidden", generator=None) -> float:
        with torch.no_grad():
            out = fn(w, sigma_w2=sigma_w2, sigma_b2=sigma_b2, nonlinearity=nonlinearity, layer=layer,
                     generator=generator)
        if out is None:
            return float("nan") if sigma_w2 is None else float(sigma_w2)
        return float(out)

    return scheme


def get_initializer(name: str | Callable) -> Scheme:
    """Resolve a scheme: a registered name, a ``"module.path:function"`` string, or a callable (wrapped)."""
    if callable(name):
        return user_scheme_from_function(name)
    if not isinstance(name, str):
        raise TypeError(f"init scheme must be a name or a callable, got {name!r}")
    if name in SCHEMES:
        return SCHEMES[name]
    if ":" in name:
        mod_name, _, fn_name = name.partition(":")
        if not mod_name or not fn_name:
            raise ValueError(f"user init scheme must look like 'module.path:function', got {name!r}")
        try:
            module = importlib.import_module(mod_name)
        except ImportError as exc:
            raise ImportError(f"cannot import module {mod_name!r} for init scheme {name!r}: {exc}") from exc
        fn = module
        for part in fn_name.split("."):
            try:
                fn = getattr(fn, part)
            except AttributeError:
                raise ImportError(f"module {mod_name!r} has no attribute {fn_name!r} (init scheme {name!r})") from None
        return user_scheme_from_function(fn)
    raise ValueError(
        f"unknown init scheme {name!r}; known: {', '.join(known_schemes())} "
        "(or a user function as 'module.path:function')"
    )


def random_walk_gain(width: int, nonlinearity: str, method: str = "fit") -> float:
    """Sussillo & Abbott 2014's random-walk gain g*(N): the sigma_w that makes ln|delta|^2 an unbiased random walk.

    Thin wrapper of :func:`isometry.theory.random_walk.optimal_gain` (``method="fit"``: the paper's formulas, e.g.
    sqrt(2) exp(1.2 / (max(N, 6) - 2.4)) for ReLU; ``"exact"``: the digamma / Binomial-mixture optimum).
    """
    from isometry.theory.random_walk import optimal_gain

    return float(optimal_gain(width, nonlinearity, method=method))


def _critical_sigma_w2(nonlinearity: str, sigma_b2: float) -> float:
    from isometry.theory.meanfield import critical_sigma_w2

    return float(critical_sigma_w2(nonlinearity, sigma_b2))


def _check_layer(layer: str) -> None:
    if layer not in LAYERS:
        raise ValueError(f"layer must be one of {LAYERS}, got {layer!r}")


def _single(w: torch.Tensor) -> None:
    if w.ndim < 2:
        raise ValueError(f"init schemes act on one weight (out, in, *kernel), got shape {tuple(w.shape)}")


def _gain(sigma_w2: float) -> float:
    if not (sigma_w2 >= 0 and math.isfinite(sigma_w2)):
        raise ValueError(f"sigma_w2 must be finite and >= 0, got {sigma_w2}")
    return math.sqrt(sigma_w2)


def _simple(name: str, fill, default: float):
    """Register a scheme that fills with ``fill(w, sqrt(sigma_w2), generator)`` at a default sigma_w2."""

    @register_scheme(name)
    def scheme(w, *, sigma_w2=None, sigma_b2=0.0, nonlinearity="linear", layer="hidden", generator=None) -> float:
        _check_layer(layer)
        _single(w)
        s2 = float(default if sigma_w2 is None else sigma_w2)
        fill(w, _gain(s2), generator=generator, ensemble=False)
        return s2

    scheme.__name__ = scheme.__qualname__ = f"scheme_{name}"
    scheme.__doc__ = f"Scheme {name!r}: {fill.__name__}(w, sqrt(sigma_w2)); default sigma_w2 = {default}."
    return scheme


_simple("gaussian", gaussian_, 1.0)
_simple("lecun", gaussian_, 1.0)
_simple("he", gaussian_, 2.0)
_simple("orthogonal", orthogonal_, 1.0)
_simple("delta_orthogonal", delta_orthogonal_, 1.0)
_simple("conv_orthogonal", conv_orthogonal_, 1.0)


@register_scheme("xavier")
def scheme_xavier(w, *, sigma_w2=None, sigma_b2=0.0, nonlinearity="linear", layer="hidden", generator=None) -> float:
    """Glorot & Bengio 2010: N(0, sigma_w2 * 2/(fan_in + fan_out)); returns the effective sigma_w2 (per fan_in)."""
    _check_layer(layer)
    _single(w)
    fan_in, fan_out = fans(w.shape)
    s2 = (1.0 if sigma_w2 is None else float(sigma_w2)) * 2.0 * fan_in / (fan_in + fan_out)
    gaussian_(w, _gain(s2), generator=generator, ensemble=False)
    return s2


@register_scheme("looks_linear")
def scheme_looks_linear(w, *, sigma_w2=None, sigma_b2=0.0, nonlinearity="linear", layer="hidden",
                        generator=None) -> float:
    """Balduzzi et al. 2017: [W0, -W0] after a CReLU (hidden, readout); plain (delta-)orthogonal on the input layer."""
    _check_layer(layer)
    _single(w)
    s2 = 1.0 if sigma_w2 is None else float(sigma_w2)
    if layer == "input":
        delta_orthogonal_(w, _gain(s2), generator=generator, ensemble=False)
    else:
        looks_linear_(w, _gain(s2), generator=generator, ensemble=False)
    return s2


@register_scheme("random_walk")
def scheme_random_walk(w, *, sigma_w2=None, sigma_b2=0.0, nonlinearity="linear", layer="hidden",
                       generator=None) -> float:
    """Sussillo & Abbott 2014: Gaussian with sigma_w = random_walk_gain(fan_in, nonlinearity, "exact").

    ``sigma_w2`` is ignored (the scheme chooses it); returns g*^2.
    """
    _check_layer(layer)
    _single(w)
    fan_in, _ = fans(w.shape)
    g = random_walk_gain(fan_in, nonlinearity, method="exact")
    gaussian_(w, g, generator=generator, ensemble=False)
    return g * g


def _critical(name: str, fill):
    @register_scheme(name)
    def scheme(w, *, sigma_w2=None, sigma_b2=0.0, nonlinearity="linear", layer="hidden", generator=None) -> float:
        _check_layer(layer)
        _single(w)
        s2 = _critical_sigma_w2(nonlinearity, sigma_b2)
        fill(w, _gain(s2), generator=generator, ensemble=False)
        return s2

    scheme.__name__ = scheme.__qualname__ = f"scheme_{name}"
    scheme.__doc__ = (
        f"Scheme {name!r}: {fill.__name__} at the critical sigma_w2 (chi_1 = 1) of (nonlinearity, sigma_b2), from "
        "isometry.theory.meanfield.critical_sigma_w2. The sigma_w2 argument is ignored."
    )
    return scheme


_critical("critical", gaussian_)
_critical("critical_orthogonal", orthogonal_)
_critical("critical_delta_orthogonal", delta_orthogonal_)
