"""Model construction and the learning-rate rule of the xiao2018 pipeline.

The network is ``isometry.cnn.EnsembleCNN`` (Xiao et al. 2018's vanilla CNN: ``n_down`` stride-2 3x3 convolutions,
``depth`` stride-1 3x3 convolutions with ``channels`` channels, tanh after every convolution, circular padding as in
the paper's theory), with the readout chosen by ``model.readout``:

* ``gap``      global average pooling, then a dense layer C -> 10: the authors' demo notebook
               (``brain-research/mean-field-cnns``, verified.md sec. 1) and ``EnsembleCNN`` itself;
* ``flatten``  a dense layer on all C x H' x W' activations of the last convolution (``XiaoCNN``). Why: on the 4x4
               hidden map of the CPU-scale network a GAP readout sees only C = 16 spatially averaged features, and in
               the near-linear regime of the critical point (q* = 0.026) the stride-1 stack cannot build the spatial
               features GAP needs within a CPU budget (MNIST 0.54-0.74 test accuracy after 300 steps at depth 8 with
               GAP, 0.91-0.93 with ``flatten``; research log in the xiao2018 README section). The deep stride-1 stack,
               whose initialization and depth the paper studies, is the same.

Members of one ensemble share the shape (depth, channels, readout, ``delta_mix``) and may differ in init scheme,
sigma_w2, sigma_b2, learning rate and seed.
"""

from __future__ import annotations

import torch
from torch import nn

from isometry.cnn import EnsembleCNN

LR_SCALINGS = ("none", "inverse")
READOUTS = ("gap", "flatten")


def layer_lr(lr: float, depth: int, scaling: str) -> float:
    """Learning rate of the ``depth`` stride-1 layers: ``lr`` ("none") or ``lr / depth`` ("inverse").

    Why 1/L: near dynamical isometry every one of the L layers receives a gradient of the same size, so one SGD
    step changes the network function by ~ L * lr; keeping L * lr fixed keeps the function-space step, and the
    learning curves, independent of depth (PSG 2017 Fig. 5(a): the optimal rate scales as 1/L, verified.md sec. 2).
    Measured here (MNIST, 500 steps, momentum 0.9): the rate that trains a 64-layer net (0.0016) leaves a 300-layer
    net at chance, 0.05 / L trains both.
    """
    if scaling == "none":
        return float(lr)
    if scaling == "inverse":
        return float(lr) / max(int(depth), 1)
    raise ValueError(f"train.lr_depth_scaling must be one of {LR_SCALINGS}, got {scaling!r}")


def hidden_map(input_hw: tuple[int, int], n_down: int) -> tuple[int, int]:
    """Spatial size of the stride-1 stack's feature maps after ``n_down`` stride-2 'same' convolutions."""
    h, w = input_hw
    for _ in range(int(n_down)):
        h, w = (h + 1) // 2, (w + 1) // 2
    return h, w


class XiaoCNN(EnsembleCNN):
    """``EnsembleCNN`` whose readout is a dense layer on the flattened last feature map (``readout="flatten"``).

    ``readout_weight`` is (E, K, C * H' * W') instead of (E, K, C); everything else (stem, the stacked stride-1
    layers, the engine protocol, the init order) is ``EnsembleCNN``'s. The readout's fan-in is C * H' * W', so a
    fan-in Gaussian readout has the same output variance as the GAP readout on spatially uncorrelated features.
    """

    def __init__(self, E: int, input_shape, num_outputs: int = 10, *, readout: str = "flatten", **kw):
        super().__init__(E, input_shape, num_outputs, **kw)
        if readout not in READOUTS:
            raise ValueError(f"model.readout must be one of {READOUTS}, got {readout!r}")
        self.readout = readout
        if readout == "flatten":
            h, w = hidden_map(self.input_shape[1:], self.n_down)
            ref = self.readout_weight
            self.readout_weight = nn.Parameter(torch.zeros(self.E, self.num_outputs, self.channels * h * w,
                                                           device=ref.device, dtype=ref.dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.readout == "gap":
            return super().forward(x)
        x = self.features(x)                                                    # (B, E*C, H', W')
        B, E = x.shape[0], self.E
        f = x.float().reshape(B, E, -1).transpose(0, 1)                         # (E, B, C*H'*W')
        return torch.baddbmm(self.readout_bias.unsqueeze(1), f, self.readout_weight.transpose(1, 2))

    def describe(self) -> dict:
        return {**super().describe(), "readout": self.readout}


def build_cnn(E: int, dataset, depth: int, model_cfg: dict, delta_mix: float | None = None,
              lr_mults: dict | None = None) -> XiaoCNN:
    """The ensemble CNN of E members for ``dataset`` with the ``model`` config section's shape and speed options."""
    ck = model_cfg.get("checkpoint", 0)
    return XiaoCNN(
        E, dataset.input_shape, dataset.num_classes, readout=model_cfg.get("readout", "flatten"),
        channels=int(model_cfg["channels"]), depth=int(depth), n_down=int(model_cfg["n_down"]),
        nonlinearity="tanh", padding=model_cfg.get("padding", "circular"), delta_mix=delta_mix,
        checkpoint=(True if ck == "sqrt" else int(ck or 0)),
        channels_last=bool(model_cfg.get("channels_last", False)),
        compile_blocks=bool(model_cfg.get("compile_blocks", False)), lr_mults=lr_mults)
