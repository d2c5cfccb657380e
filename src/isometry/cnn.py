"""Vanilla CNNs in the style of Xiao et al. 2018 ("Dynamical Isometry and a Mean Field Theory of CNNs"), ensemble-aware.

Architecture (one member)::

    x ─► [3x3 conv, stride 2] x n_down  (first: in_channels -> C, then C -> C)
      ─► [3x3 conv, stride 1, C -> C] x depth      (padding "circular" (Xiao's theory) or "zeros")
      ─► global average pool ─► linear readout (C -> K)

every conv followed by the nonlinearity, every layer with a bias ~ N(0, sigma_b2).

Ensembles: E members are run as one grouped convolution. Member activations (E, B, C, H, W) live as
(B, E*C, H, W); a layer's weight is (E*C, C, k, k) (member e owns rows e*C:(e+1)*C) and ``conv2d(groups=E)``
applies each member's kernel to its own channels only. The first layer sees a shared input (B, C_in, H, W) and
needs no groups at all (weight (E*C, C_in, k, k)); a per-member input (E, B, C_in, H, W) uses groups=E.

Deep networks (depth 1,000-10,000):

* ``impl``: how the ``depth`` stride-1 layers run. ``"stack"``: the whole stack is ONE autograd node with a
  hand-written backward (``isometry.convstack``: per layer an im2col row gather with precomputed circular indices and
  one ``baddbmm`` over all members, activations channels-last, buffers allocated once); tanh, relu, hard_tanh,
  linear. ``"conv"``: per layer ``F.pad`` + grouped ``F.conv2d`` (oneDNN / cuDNN), with the options below.
  ``"auto"`` (default) picks by measurement (``EnsembleCNN.resolved_impl``): on one CPU core the stack is 1.2-3x
  faster per training step for the deep narrow nets here (L = 1,000, C = 16, 4x4 maps, batch 32: 5.3x the old
  checkpointed conv path, ``bench/deep_cnn.py``); CUDA keeps cuDNN.
* ``checkpoint="auto"`` (default) stores every activation when they fit in ``isometry.memory.activation_budget``
  (a share of the free memory; ``ISOMETRY_ACTIVATION_BUDGET_GB`` overrides) and checkpoints in segments of
  ceil(sqrt(depth)) layers otherwise; ``checkpoint=k`` recomputes activations in segments of k layers (stored
  activations ~ depth/k + k; k = sqrt(depth) with ``True``); None/False/0 stores everything.
* the ``depth`` hidden kernels are ONE stacked parameter ``hidden_weight`` (E, depth, C, C, 3, 3) and one
  ``hidden_bias`` (E, depth, C) (E on dim 0, the engine's protocol): an optimizer step is a handful of kernels,
  not 10,000 ``foreach`` chunks. Each forward lays them out as (depth, E*C, C, 3, 3) once (a no-op copy for E = 1
  in fp32; fused with the autocast cast otherwise). Per-layer
  views are made with ``split``/``unbind`` (one autograd node whose backward stacks the per-layer gradients), never
  with ``w[l]`` (whose backward would materialize a full-size zero gradient per layer: O(depth^2)).
* ``"conv"`` checkpoints with ``torch.utils.checkpoint`` (non-reentrant), ``"stack"`` inside its own backward.
* under ``torch.autocast`` the stacked kernels are cast once per forward (one kernel), not per layer; activations
  then stay in the autocast dtype (tanh in bf16), the pooled features and readout in fp32;
* ``channels_last=True`` lays activations and kernels out NHWC (faster cuDNN kernels on tensor cores);
* ``compile_blocks=True`` (CUDA only) ``torch.compile``s the function that runs ONE segment of layers; all segments
  share the compiled graph. The whole network is never compiled (10,000 unrolled layers would not finish).

Xiao's variance vector: with ``delta_mix=a`` Gaussian kernels get the spatial variance profile
``v = a * delta_centre + (1 - a) * uniform`` (sum 1) and weights ``N(0, sigma_w2 * v_ij / C_in)``; a=0 is the
ordinary fan-in Gaussian, a=1 the delta (centre-tap-only) Gaussian kernel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint as _checkpoint

from isometry.convstack import STACK_NONLINEARITIES, conv_stack, stored_bytes
from isometry.ensemble import get_scheme, init_member_, split_batch
from isometry.memory import activation_budget
from isometry.nonlinearities import check as _check_nl
from isometry.nonlinearities import torch_phi
from isometry.spec import Member

PADDINGS = ("circular", "zeros")
IMPLS = ("auto", "stack", "conv")


def variance_profile(delta_mix: float, k: int = 3) -> torch.Tensor:
    """Xiao et al.'s spatial variance vector v (k, k), sum 1: ``delta_mix`` * centre tap + (1 - delta_mix) * uniform."""
    if not 0.0 <= float(delta_mix) <= 1.0:
        raise ValueError(f"delta_mix must lie in [0, 1], got {delta_mix}")
    v = torch.full((k, k), (1.0 - float(delta_mix)) / (k * k), dtype=torch.float64)
    v[k // 2, k // 2] += float(delta_mix)
    return v


def gaussian_profile_(w: torch.Tensor, profile: torch.Tensor, sigma_w2: float = 1.0,
                      generator: torch.Generator | None = None) -> float:
    """Fill a conv weight (out, in, k, k) with N(0, sigma_w2 * v_ij / in) in place; returns sigma_w2."""
    if w.dim() != 4 or tuple(w.shape[-2:]) != tuple(profile.shape):
        raise ValueError(f"weight {tuple(w.shape)} does not match profile {tuple(profile.shape)}")
    with torch.no_grad():
        z = torch.randn(w.shape, generator=generator, dtype=torch.float32, device="cpu")
        std = (float(sigma_w2) * profile.to(torch.float32) / w.shape[1]).sqrt()
        w.copy_((z * std).to(w.device, w.dtype))
    return float(sigma_w2)


def _make_block(phi, padding: str, groups: int, k: int = 3):
    """The function that runs one segment of stride-1 layers: ws (n, E, C, C, k, k), bs (n, E, C).

    ``unbind`` (not ``ws[l]``) makes the per-layer views: one autograd node whose backward stacks the n layer
    gradients, instead of n full-size zero-filled gradients.
    """
    p = k // 2
    circular = padding == "circular"

    def run_block(x: torch.Tensor, ws: torch.Tensor, bs: torch.Tensor) -> torch.Tensor:
        for w, b in zip(ws.unbind(0), bs.unbind(0)):
            w, b = w.reshape(-1, *w.shape[2:]), b.reshape(-1)
            if circular:
                x = phi(F.conv2d(F.pad(x, (p, p, p, p), mode="circular"), w, b, groups=groups))
            else:
                x = phi(F.conv2d(x, w, b, padding=p, groups=groups))
        return x

    return run_block


class EnsembleCNN(nn.Module):
    """E vanilla CNNs of one shape, trained together (``isometry.ensemble.EnsembleModel`` protocol).

    ``forward(x)``: x (B, C_in, H, W) shared by all members or (E, B, C_in, H, W) per member -> logits (E, B, K).

    Parameters (every one has E on dim 0, members never interact):
        ``down_weights.{i}`` (E, C, C_in|C, k, k), ``down_biases.{i}`` (E, C)      stride-2 convs, i < n_down
        ``hidden_weight`` (E, L, C, C, k, k), ``hidden_bias`` (E, L, C)          the L stride-1 convs, stacked
        ``readout_weight`` (E, K, C), ``readout_bias`` (E, K)

    Shape arguments: ``channels`` C (the "width"), ``depth`` L (stride-1 layers; the "depth" column),
    ``n_down`` stride-2 convs (>= 1; the first maps C_in -> C), ``nonlinearity`` (any of
    ``isometry.nonlinearities``), ``padding`` "circular" (Xiao's theory: a torus) or "zeros", ``delta_mix`` (Xiao's
    variance vector for members whose init is "gaussian"; see ``variance_profile``).
    Speed/memory (no effect on the numbers beyond float rounding): ``impl`` "auto" | "stack" | "conv" (module
    docstring); ``checkpoint`` "auto" (by a memory estimate), None/False/0 (store all activations), True (segments
    of ceil(sqrt(L)) layers) or an int segment length; for ``impl="conv"``: ``channels_last``, ``compile_blocks``
    (CUDA only: torch.compile of the one-segment function, ``compile_mode`` passed on).

    Parameters start at zero: call ``reset_parameters(members, generators)`` (the engine does).
    """

    def __init__(self, E: int, input_shape=(3, 32, 32), num_outputs: int = 10, *, channels: int = 128,
                 depth: int = 10, n_down: int = 2, kernel_size: int = 3, nonlinearity: str = "tanh",
                 padding: str = "circular", delta_mix: float | None = None,
                 checkpoint: int | bool | str | None = "auto", impl: str = "auto", channels_last: bool = False, compile_blocks: bool = False, compile_mode: str | None = None,
                 lr_mults: dict | None = None, device=None, dtype=torch.float32):
        super().__init__()
        if padding not in PADDINGS:
            raise ValueError(f"padding must be one of {PADDINGS}, got {padding!r}")
        if n_down < 1:
            raise ValueError("n_down must be >= 1 (the first conv maps in_channels -> channels)")
        if kernel_size % 2 != 1:
            raise ValueError("kernel_size must be odd")
        if impl not in IMPLS:
            raise ValueError(f"impl must be one of {IMPLS}, got {impl!r}")
        if impl == "stack" and nonlinearity not in STACK_NONLINEARITIES:
            raise ValueError(f"impl='stack' supports {STACK_NONLINEARITIES}, got {nonlinearity!r}")
        if delta_mix is not None:
            variance_profile(delta_mix, kernel_size)   # validates
        self.E = E = int(E)
        self.input_shape = tuple(int(d) for d in input_shape)
        if len(self.input_shape) != 3:
            raise ValueError(f"input_shape must be (C_in, H, W), got {self.input_shape}")
        self.in_channels = self.input_shape[0]
        self.num_outputs = self.num_classes = int(num_outputs)
        self.channels, self.depth, self.n_down, self.kernel_size = int(channels), int(depth), int(n_down), kernel_size
        self.nonlinearity = _check_nl(nonlinearity)
        self.phi = torch_phi(nonlinearity)
        self.padding = padding
        self.delta_mix = delta_mix
        if checkpoint is True:
            checkpoint = max(1, math.ceil(math.sqrt(max(self.depth, 1))))
        if isinstance(checkpoint, str) and checkpoint != "auto":
            raise ValueError(f"checkpoint must be 'auto', a bool or an int, got {checkpoint!r}")
        self.checkpoint = checkpoint if checkpoint == "auto" else int(checkpoint or 0)
        self.impl = impl
        self.channels_last = channels_last
        self.compile_blocks, self.compile_mode = compile_blocks, compile_mode
        self._lr_mults = dict(lr_mults or {})
        k, C, L, K = kernel_size, self.channels, self.depth, self.num_outputs
        fk = dict(device=device, dtype=dtype)
        self.down_weights = nn.ParameterList(
            [nn.Parameter(torch.zeros(E, C, self.in_channels if i == 0 else C, k, k, **fk)) for i in range(n_down)])
        self.down_biases = nn.ParameterList([nn.Parameter(torch.zeros(E, C, **fk)) for _ in range(n_down)])
        self.hidden_weight = nn.Parameter(torch.zeros(E, L, C, C, k, k, **fk))
        self.hidden_bias = nn.Parameter(torch.zeros(E, L, C, **fk))
        self.readout_weight = nn.Parameter(torch.zeros(E, K, C, **fk))
        self.readout_bias = nn.Parameter(torch.zeros(E, K, **fk))
        self._block = _make_block(self.phi, padding, E, k)
        self._compiled_block = None

    # ---------------------------------------------------------------------------------------------------- init
    def reset_parameters(self, members: Sequence[Member], generators: Sequence[torch.Generator] | None = None
                         ) -> list[float]:
        """Initialize member i from ``generators[i]`` only (default: seeded with ``members[i].seed``).

        Network order (down convs, hidden convs, readout), each weight then its bias (``ensemble.init_member_``):
        the first conv is layer="input", the others "hidden", the readout "readout". Returns the effective sigma_w2
        of the hidden layers per member. Members with init "gaussian" use Xiao's variance vector when
        ``delta_mix`` is set (readout: plain fan-in Gaussian).
        """
        if len(members) != self.E:
            raise ValueError(f"got {len(members)} members for an ensemble of {self.E}")
        if generators is None:
            generators = [torch.Generator().manual_seed(int(m.seed)) for m in members]
        if len(generators) != self.E:
            raise ValueError(f"got {len(generators)} generators for an ensemble of {self.E}")
        profile = variance_profile(self.delta_mix, self.kernel_size) if self.delta_mix is not None else None
        out = []
        for i, (m, g) in enumerate(zip(members, generators)):
            scheme = get_scheme(m.init)
            conv_scheme = scheme
            if profile is not None and m.init == "gaussian":
                def conv_scheme(w, *, sigma_w2=None, generator=None, **_):
                    return gaussian_profile_(w, profile, 1.0 if sigma_w2 is None else sigma_w2, generator)
            kw = dict(nonlinearity=self.nonlinearity, scheme=conv_scheme)
            eff = float("nan")
            for j, (w, b) in enumerate(zip(self.down_weights, self.down_biases)):
                eff = init_member_(w, b, i, m, g, layer="input" if j == 0 else "hidden", **kw)
            for l in range(self.depth):
                eff = init_member_(self.hidden_weight[:, l], self.hidden_bias[:, l], i, m, g, layer="hidden", **kw)
            init_member_(self.readout_weight, self.readout_bias, i, m, g, nonlinearity=self.nonlinearity,
                         layer="readout", scheme=scheme)
            out.append(eff)
        return out

    # ------------------------------------------------------------------------------------------------ protocol
    def layer_weights(self) -> list[torch.Tensor]:
        """Every layer's stacked weight in forward order: convs (E, C_out, C_in, k, k) (the hidden ones are views
        into ``hidden_weight``), readout (E, K, C)."""
        return [*self.down_weights, *self.hidden_weight.unbind(1), self.readout_weight]

    def lr_multipliers(self) -> dict:
        return dict(self._lr_mults)

    def describe(self) -> dict:
        return {"nonlinearity": self.nonlinearity, "depth": self.depth, "width": self.channels}

    # ------------------------------------------------------------------------------------------------- helpers
    def _conv(self, x, w, b, stride, groups):
        if self.padding == "circular":
            p = self.kernel_size // 2
            return F.conv2d(F.pad(x, (p, p, p, p), mode="circular"), w, b, stride=stride, groups=groups)
        return F.conv2d(x, w, b, stride=stride, padding=self.kernel_size // 2, groups=groups)

    def _conv_weight(self, w: torch.Tensor, dt) -> torch.Tensor:
        """(E, O, I, k, k) -> grouped-conv weight (E*O, I, k, k), cast to the autocast dtype, NHWC if asked."""
        w = w.reshape(-1, *w.shape[2:])
        if dt is not None:
            w = w.to(dt)
        return w.contiguous(memory_format=torch.channels_last) if self.channels_last else w

    def _stacked_hidden(self, dt):
        """hidden_weight (E, L, C, C, k, k) -> (L, E, C, C, k, k) [NHWC: physical (L, E, C, k, k, C)] and the
        bias (L, E, C), cast: ONE copy kernel for all layers (a no-op for fp32, E == 1, NCHW)."""
        W, b = self.hidden_weight, self.hidden_bias
        dt_w = dt or W.dtype
        if self.channels_last:
            W = W.permute(1, 0, 2, 4, 5, 3).to(dt_w, memory_format=torch.contiguous_format).permute(0, 1, 2, 5, 3, 4)
        else:
            W = W.transpose(0, 1).to(dt_w, memory_format=torch.contiguous_format)
        b = b.transpose(0, 1).to(dt or b.dtype, memory_format=torch.contiguous_format)
        return W, b

    def resolved_impl(self, batch: int, hw: tuple[int, int], device=None) -> str:
        """"stack" or "conv": what ``impl="auto"`` means for a batch of ``batch`` maps of size ``hw`` on ``device``
        (default: the model's). CPU: "stack" when one layer's forward over the ensemble is at most 64 MFLOP and
        C >= 16 or the layer is small (E*B*H*W*C <= 16384). Measured, one core, batch 32, conv/stack step time
        (``bench/deep_cnn.py --grid``): E=1: 1.3-3.1x for C in {8, 16, 32} on 4x4 and 7x7 maps; E=4: C=16 and
        C=32 on 4x4 1.4-2.0x, C=16 7x7 1.2x, C=8 4x4 1.15x, but C=8 7x7 0.66x and C=32 7x7 (115 MFLOP) 0.92x.
        CUDA keeps cuDNN ("conv"; bench/gpu_check.sh measures both)."""
        if self.impl != "auto":
            return self.impl
        dev = torch.device(device) if device is not None else self.hidden_weight.device
        if self.nonlinearity not in STACK_NONLINEARITIES or self.channels_last or self.compile_blocks \
                or dev.type != "cpu":
            return "conv"
        C, k2 = self.channels, self.kernel_size ** 2
        acts = self.E * batch * hw[0] * hw[1] * C
        flops = 2 * k2 * acts * C
        return "stack" if flops <= 64e6 and (C >= 16 or acts <= 16384) else "conv"

    def segment_length(self, batch: int, hw: tuple[int, int], element_size: int = 4, impl: str | None = None) -> int:
        """Checkpoint segment length for a batch of ``batch`` (0: store every layer). ``checkpoint="auto"``: 0 when
        the stored activations fit in ``activation_budget``, else ceil(sqrt(depth))."""
        if self.checkpoint != "auto":
            return self.checkpoint
        impl = impl or self.resolved_impl(batch, hw)
        if impl == "stack":
            need = stored_bytes(self.E, batch, hw, self.channels, self.depth, 0, element_size)
        else:     # conv path: the padded input and the output of every layer
            p = self.kernel_size // 2
            per = batch * self.E * self.channels * ((hw[0] + 2 * p) * (hw[1] + 2 * p) + 2 * hw[0] * hw[1])
            need = self.depth * per * element_size
        if need <= activation_budget(self.hidden_weight.device):
            return 0
        return max(1, math.ceil(math.sqrt(max(self.depth, 1))))

    def _block_fn(self):
        if self.compile_blocks and self.hidden_weight.is_cuda:
            if self._compiled_block is None:
                self._compiled_block = torch.compile(self._block, dynamic=False, mode=self.compile_mode)
            return self._compiled_block
        return self._block

    # ------------------------------------------------------------------------------------------------- forward
    def features(self, x: torch.Tensor, collect: bool = False):
        """Last conv layer's activations (B, E*C, H', W') (member e owns channels e*C:(e+1)*C); with ``collect``
        also the mean squared pre-activation q^l of every conv layer per member, (n_down + depth, E) (this path
        stores everything: no checkpointing)."""
        E = self.E
        dev_type = self.hidden_weight.device.type
        dt = torch.get_autocast_dtype(dev_type) if torch.is_autocast_enabled(dev_type) else None
        shared, x = split_batch(x, self.input_shape)
        if shared:                 # one dense conv produces all members' channels from the shared input
            groups0 = 1
        else:                      # (E, B, C_in, H, W) -> (B, E*C_in, H, W), groups=E
            if x.shape[0] != E:
                raise ValueError(f"input has {x.shape[0]} members, model has {E}")
            x = x.transpose(0, 1).reshape(x.shape[1], E * x.shape[2], *x.shape[3:])
            groups0 = E
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        qs = []
        for i, (w, b) in enumerate(zip(self.down_weights, self.down_biases)):
            bb = b.reshape(-1) if dt is None else b.reshape(-1).to(dt)
            h = self._conv(x, self._conv_weight(w, dt), bb, 2, groups0 if i == 0 else E)
            if collect:
                qs.append(_member_q(h, E))
            x = self.phi(h)
        if self.depth > 0 and not collect and self.resolved_impl(x.shape[0], tuple(x.shape[2:])) == "stack":
            x = self._hidden_stack(x, dt)
        elif self.depth > 0:
            ws, bs = self._stacked_hidden(dt)
            if collect:
                for w, b in zip(ws.unbind(0), bs.unbind(0)):
                    h = self._conv(x, w.reshape(-1, *w.shape[2:]), b.reshape(-1), 1, E)
                    qs.append(_member_q(h, E))
                    x = self.phi(h)
            else:
                block = self._block_fn()
                seg = self.segment_length(x.shape[0], tuple(x.shape[2:]), x.element_size(), "conv") \
                    if torch.is_grad_enabled() else 0
                if seg and seg < self.depth:
                    for wseg, bseg in zip(ws.split(seg, 0), bs.split(seg, 0)):
                        x = _checkpoint(block, x, wseg, bseg, use_reentrant=False)
                else:
                    x = block(x, ws, bs)
        return (x, torch.stack(qs)) if collect else x

    def _hidden_stack(self, x: torch.Tensor, dt) -> torch.Tensor:
        """The stride-1 layers with ``isometry.convstack``: (B, E*C, H, W) -> (B, E*C, H, W)."""
        B, E, C, (H, W) = x.shape[0], self.E, self.channels, x.shape[2:]
        w, b = self.hidden_weight, self.hidden_bias
        if dt is not None:
            w, b = w.to(dt), b.to(dt)
        rows = x.reshape(B, E, C, H * W).permute(1, 0, 3, 2).reshape(E, B * H * W, C)      # (E, N, C)
        seg = self.segment_length(B, (H, W), rows.element_size(), "stack") if torch.is_grad_enabled() else 0
        with torch.autocast(x.device.type, enabled=False):
            rows = conv_stack(rows.to(w.dtype), w, b, (H, W), padding=self.padding, nonlinearity=self.nonlinearity,
                              segment=seg)
        return rows.view(E, B, H * W, C).permute(1, 0, 3, 2).reshape(B, E * C, H, W)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (E, B, K) for a shared input (B, C_in, H, W) or per-member inputs (E, B, C_in, H, W)."""
        x = self.features(x)
        B, E, C = x.shape[0], self.E, self.channels
        pooled = x.float().mean(dim=(2, 3)).view(B, E, C).transpose(0, 1)           # (E, B, C)
        return torch.baddbmm(self.readout_bias.unsqueeze(1), pooled, self.readout_weight.transpose(1, 2))

    def conv_flops(self, batch: int, height: int | None = None, width: int | None = None) -> float:
        """Forward FLOPs (2 per multiply-add) of all conv layers, all members, for a batch of ``batch`` images."""
        E, C, kk = self.E, self.channels, self.kernel_size ** 2
        h = height or self.input_shape[1]
        w = width or self.input_shape[2]
        total = 0.0
        for i in range(self.n_down):
            h, w = (h + 1) // 2, (w + 1) // 2
            cin = self.in_channels if i == 0 else C
            total += 2.0 * batch * h * w * C * cin * kk * E
        return total + self.depth * 2.0 * batch * h * w * C * C * kk * E

    def extra_repr(self) -> str:
        return (f"E={self.E}, input_shape={self.input_shape}, depth={self.depth}, channels={self.channels}, "
                f"n_down={self.n_down}, nonlinearity={self.nonlinearity!r}, padding={self.padding!r}, "
                f"checkpoint={self.checkpoint!r}, impl={self.impl!r}")


def _member_q(h: torch.Tensor, E: int) -> torch.Tensor:
    """Mean squared pre-activation per member of (B, E*C, H, W): (E,)."""
    B = h.shape[0]
    return h.detach().float().reshape(B, E, -1).pow(2).mean(dim=(0, 2))
