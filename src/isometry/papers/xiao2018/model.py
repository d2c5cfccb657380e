"""Model construction and the learning-rate rule of the xiao2018 pipeline.

The network is ``isometry.cnn.EnsembleCNN`` (Xiao et al. 2018's vanilla CNN: ``n_down`` stride-2 3x3 convolutions,
``depth`` stride-1 3x3 convolutions with ``channels`` channels, global average pooling, linear readout; tanh after
every convolution; circular padding as in the paper's theory). Members of one ensemble share the shape (depth,
channels, ``delta_mix``) and may differ in init scheme, sigma_w2, sigma_b2, learning rate and seed.
"""

from __future__ import annotations

from isometry.cnn import EnsembleCNN

LR_SCALINGS = ("none", "inverse")


def layer_lr(lr: float, depth: int, scaling: str, lr_max: float | None = None) -> float:
    """Learning rate of a network with ``depth`` stride-1 layers: ``lr`` ("none") or ``lr / depth`` ("inverse").

    Why 1/L: near dynamical isometry every one of the L layers receives a gradient of the same size, so one SGD
    step changes the network function by ~ L * lr; keeping L * lr fixed keeps the function-space step, and the
    learning curves, independent of depth (the H100 runs used ~0.25 / L with momentum 0.9 for L = 1,250-10,000).
    ``lr_max`` (optional) caps the rate of shallow networks.
    """
    if scaling == "none":
        out = float(lr)
    elif scaling == "inverse":
        out = float(lr) / max(int(depth), 1)
    else:
        raise ValueError(f"lr_depth_scaling must be one of {LR_SCALINGS}, got {scaling!r}")
    return min(out, float(lr_max)) if lr_max else out


def build_cnn(E: int, dataset, depth: int, model_cfg: dict, delta_mix: float | None = None,
              lr_mults: dict | None = None) -> EnsembleCNN:
    """EnsembleCNN of E members for ``dataset`` with the config's shape and speed options."""
    ck = model_cfg.get("checkpoint", 0)
    return EnsembleCNN(
        E, dataset.input_shape, dataset.num_classes, channels=int(model_cfg["channels"]), depth=int(depth),
        n_down=int(model_cfg["n_down"]), nonlinearity="tanh", padding=model_cfg.get("padding", "circular"),
        delta_mix=delta_mix, checkpoint=(True if ck == "sqrt" else int(ck or 0)),
        channels_last=bool(model_cfg.get("channels_last", False)),
        compile_blocks=bool(model_cfg.get("compile_blocks", False)), lr_mults=lr_mults)
