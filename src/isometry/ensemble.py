"""What every ensemble model shares: the model protocol and the helpers the models are built from.

The bottom of the model house: ``models.py`` (MLPs), ``cnn.py`` and ``rnn.py`` import from here and from nowhere
above, so they never import each other.

The model protocol (every model the engine trains follows it)
==========================================================

::

    class EnsembleModel(nn.Module):
        E: int                          # ensemble size: every parameter has shape (E, ...)
        input_shape: tuple[int, ...]    # one example, e.g. (1, 28, 28); forward() uses it to tell shared from
                                        # per-member batches
        def forward(self, x) -> Tensor
            # x (B, *input_shape)     : one batch shared by all members, or
            # x (E, B, *input_shape)  : one batch per member
            # -> outputs (E, B, K)     (logits for classification)
        def reset_parameters(self, members: list[Member], generators: list[torch.Generator]) -> list[float]
            # member i's weights are drawn ONLY from generators[i] (a CPU generator), with the scheme
            # isometry.init.get_initializer(members[i].init) applied to the member's slice w[i] of each stacked
            # weight, layer="input" | "hidden" | "readout"; biases are zero (sigma_b2 == 0) or N(0, sigma_b2),
            # drawn from the same generator right after the weight of their layer. Returns the effective
            # sigma_w2 per member (what the scheme reports; goes into the run CSV).
            # Called while the model is on the CPU (the engine moves it to the device afterwards), so a member's
            # init does not depend on the device or on which other members share the ensemble.
        def layer_weights(self) -> list[Tensor]
            # the stacked weights (E, ...) in forward order (regularizers, measurements)
        def lr_multipliers(self) -> dict[str, float | Tensor]
            # optional per-parameter learning-rate factors, keyed by parameter name (named_parameters()),
            # float or (E,) tensor; missing names mean 1. Default {}.
        def describe(self) -> dict
            # the shape columns of the run CSV: {"nonlinearity": ..., "depth": ..., "width": ...}

Parameter names and layouts are free, but every parameter must have E as its dim 0 and the members must not
interact (member i's outputs depend only on slice i of each parameter and on member i's inputs): the engine's
per-member divergence masking and per-member optimizers rely on it. Parameters are modified IN PLACE only (the
engine's optimizer keeps them as views into one flat buffer); to set custom initial weights (e.g. Saxe's
greedy pre-training), copy into them under ``torch.no_grad()`` after ``reset_parameters`` (see engine.train's
``init_hook``).
"""

from __future__ import annotations

import math
from typing import Protocol, runtime_checkable

import torch
from torch import Tensor

from isometry.init import get_initializer
from isometry.spec import Member


@runtime_checkable
class EnsembleModel(Protocol):
    """The protocol above, for type checks (``isinstance(model, EnsembleModel)``)."""

    E: int
    input_shape: tuple[int, ...]

    def forward(self, x: Tensor) -> Tensor: ...
    def reset_parameters(self, members: list[Member], generators: list[torch.Generator]) -> list[float]: ...
    def layer_weights(self) -> list[Tensor]: ...
    def lr_multipliers(self) -> dict: ...
    def describe(self) -> dict: ...


# ----------------------------------------------------------------------------------------------------------------
# helpers shared by ensemble models

def get_scheme(name: str):
    """The init scheme ``name`` (``isometry.init.get_initializer``)."""
    return get_initializer(name)


def init_member_(weight: Tensor, bias: Tensor | None, i: int, member: Member, generator: torch.Generator, *,
                 nonlinearity: str, layer: str, scheme=None) -> float:
    """Initialize member ``i``'s slice of a stacked weight (and bias) in place; returns the effective sigma_w2.

    The weight is drawn first, then the bias (N(0, sigma_b2) or zero), both from ``generator`` only.
    """
    scheme = scheme if scheme is not None else get_scheme(member.init)
    with torch.no_grad():
        s2 = scheme(weight[i], sigma_w2=member.sigma_w2, sigma_b2=member.sigma_b2, nonlinearity=nonlinearity,
                    layer=layer, generator=generator)
        if bias is not None:
            if member.sigma_b2 > 0:
                b = torch.randn(bias[i].shape, generator=generator, dtype=bias.dtype, device=generator.device)
                bias[i].copy_(b * math.sqrt(member.sigma_b2))
            else:
                bias[i].zero_()
    return float(s2) if s2 is not None else float("nan")


def split_batch(x: Tensor, input_shape: tuple[int, ...]) -> tuple[bool, Tensor]:
    """(shared, x): shared=True for a (B, *input_shape) batch, False for a per-member (E, B, *input_shape) one."""
    n = len(input_shape)
    if x.dim() == n + 1:
        return True, x
    if x.dim() == n + 2:
        return False, x
    raise ValueError(f"input of shape {tuple(x.shape)} does not match input_shape {input_shape} "
                     "(expected (B, *input_shape) or (E, B, *input_shape))")
