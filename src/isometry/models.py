"""Ensemble-aware MLPs, and ``build_model``, the factory of every ensemble model (MLP, CNN, RNN).

The model protocol all of them follow, and the helpers they share (``split_batch``, ``init_member_``,
``get_scheme``), live in ``isometry.ensemble`` (re-exported here).

Conventions of the MLP here
---------------------------
``depth`` = number of nonlinear (hidden) layers = number of weight matrices before the readout. The network is::

    h_1 = W_1 x + b_1                 (layer="input",  W_1: (E, width, in_features))
    h_l = W_l phi(h_{l-1}) + b_l      (layer="hidden", l = 2..depth)
    y   = W_out phi(h_depth) + b_out  (layer="readout", W_out: (E, K, width))

so there are depth + 1 weight matrices in all. ``nonlinearity="linear"`` gives a deep linear network (Saxe 2014).
``crelu`` (concatenated ReLU, [relu(h), relu(-h)]) doubles the feature dimension: the layer after a CReLU has
fan-in 2*width. With ``crelu_matched=True`` the pre-activation width is round(width / sqrt(2)), so that a hidden
weight (w', 2w') has about as many parameters as the (width, width) one of the ReLU network.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from isometry.cnn import EnsembleCNN
from isometry.ensemble import EnsembleModel, get_scheme, init_member_, split_batch
from isometry.nonlinearities import torch_phi
from isometry.rnn import EnsembleRNN
from isometry.spec import Member

__all__ = ["EnsembleModel", "EnsembleMLP", "EnsembleCNN", "EnsembleRNN", "build_model", "get_scheme", "init_member_",
           "split_batch", "MLP_NONLINEARITIES"]

MLP_NONLINEARITIES = ("linear", "relu", "tanh", "hard_tanh", "erf", "crelu")


class EnsembleMLP(nn.Module):
    """E fully connected networks of one shape, weights (E, out, in), applied with ``torch.baddbmm``.

    Internally activations are (E, features, B) (see forward); CReLU concatenates along the feature dimension.

    Parameters are ``weights.{l}`` (E, out, in) and, unless ``bias=False``, ``biases.{l}`` (E, out),
    l = 0..depth (the last one is the readout).
    """

    def __init__(self, E: int, input_shape, num_outputs: int, *, depth: int, width: int,
                 nonlinearity: str = "tanh", bias: bool = True, crelu_matched: bool = False,
                 lr_mults: dict | None = None):
        super().__init__()
        if nonlinearity not in MLP_NONLINEARITIES:
            raise ValueError(f"unknown nonlinearity {nonlinearity!r}; known: {', '.join(MLP_NONLINEARITIES)}")
        if depth < 1:
            raise ValueError("depth must be >= 1")
        self.E, self.depth, self.width, self.nonlinearity = int(E), int(depth), int(width), nonlinearity
        self.input_shape = tuple(input_shape) if not isinstance(input_shape, int) else (int(input_shape),)
        self.in_features = math.prod(self.input_shape)
        self.num_outputs = int(num_outputs)
        self.crelu_matched = crelu_matched
        crelu = nonlinearity == "crelu"
        pre = round(width / math.sqrt(2)) if (crelu and crelu_matched) else width   # pre-activation width
        post = 2 * pre if crelu else pre                                             # features after phi
        self._phi = (lambda h: torch.cat([torch.relu(h), torch.relu(-h)], dim=1)) if crelu \
            else torch_phi(nonlinearity)
        dims = [(pre, self.in_features)] + [(pre, post)] * (depth - 1) + [(self.num_outputs, post)]
        self.weights = nn.ParameterList([nn.Parameter(torch.zeros(E, o, i)) for o, i in dims])
        self.biases = nn.ParameterList([nn.Parameter(torch.zeros(E, o)) for o, _ in dims]) if bias else None
        self._lr_mults = dict(lr_mults or {})

    # -- protocol ------------------------------------------------------------------------------------------------
    def forward(self, x: Tensor) -> Tensor:
        # Activations are kept feature-major, (E, features, B): h_l = W_l @ h_{l-1} + b_l is a plain bmm whose
        # weight gradient g @ h^T comes out contiguous in the (E, out, in) layout (no transposed copy to accumulate).
        shared, x = split_batch(x, self.input_shape)
        h = x.flatten(-len(self.input_shape)).transpose(-1, -2)       # (in, B) or (E, in, B), a view
        last = len(self.weights) - 1
        for l, w in enumerate(self.weights):
            if l == 0 and shared:
                h = torch.matmul(w, h)                                  # (E, out, in) @ (in, B) -> (E, out, B)
                if self.biases is not None:
                    h = h + self.biases[0].unsqueeze(2)
            elif self.biases is not None:
                h = torch.baddbmm(self.biases[l].unsqueeze(2), w, h)   # (E, out, 1) + (E, out, in) @ (E, in, B)
            else:
                h = torch.bmm(w, h)
            if l < last:
                h = self._phi(h)
        return h.transpose(1, 2)                                        # (E, B, K)

    def reset_parameters(self, members: list[Member], generators: list[torch.Generator]) -> list[float]:
        if len(members) != self.E or len(generators) != self.E:
            raise ValueError(f"need {self.E} members and generators, got {len(members)} and {len(generators)}")
        last = len(self.weights) - 1
        out = []
        for i, (m, g) in enumerate(zip(members, generators)):
            scheme = get_scheme(m.init)
            s2 = []
            for l, w in enumerate(self.weights):
                layer = "input" if l == 0 else ("readout" if l == last else "hidden")
                b = self.biases[l] if self.biases is not None else None
                s2.append(init_member_(w, b, i, m, g, nonlinearity=self.nonlinearity, layer=layer, scheme=scheme))
            hidden = s2[1:last] or s2[:1]          # report the hidden layers' value (the input's if depth == 1)
            out.append(hidden[0])
        return out

    def layer_weights(self) -> list[Tensor]:
        return list(self.weights)

    def lr_multipliers(self) -> dict:
        return dict(self._lr_mults)

    def describe(self) -> dict:
        return {"nonlinearity": self.nonlinearity, "depth": self.depth, "width": self.width}

    # -- conveniences --------------------------------------------------------------------------------------------
    def member_state(self, i: int) -> dict[str, Tensor]:
        """Member i's parameters (copies), keyed like ``named_parameters()``."""
        return {k: p[i].detach().clone() for k, p in self.named_parameters()}

    def extra_repr(self) -> str:
        return (f"E={self.E}, input_shape={self.input_shape}, depth={self.depth}, width={self.width}, "
                f"nonlinearity={self.nonlinearity!r}, bias={self.biases is not None}")


def build_model(kind: str, E: int, input_shape, num_outputs: int, **shape) -> nn.Module:
    """Model factory used by the CLI / sweeps: ``kind`` in mlp | cnn | rnn (EnsembleMLP, EnsembleCNN, EnsembleRNN)."""
    if kind == "mlp":
        return EnsembleMLP(E, input_shape, num_outputs, **shape)
    if kind == "cnn":
        return EnsembleCNN(E, input_shape, num_outputs, **shape)
    if kind == "rnn":
        return EnsembleRNN(E, input_shape, num_outputs, **shape)
    raise ValueError(f"unknown model kind {kind!r}; known: mlp, cnn, rnn")
