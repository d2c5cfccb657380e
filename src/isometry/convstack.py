"""A stack of L stride-1 'same' k x k convolutions, each followed by a pointwise nonlinearity, as ONE autograd node.

For deep, narrow CNNs (Xiao et al. 2018: 16-32 channels, 4x4-8x8 maps, 1,000+ layers) the cost of a layer on a CPU is
not its arithmetic (2.4 MFLOP for C=16, 4x4, batch 32) but the ops around it: a circular pad, a oneDNN convolution
and its two backward kernels, the pad's backward, autograd bookkeeping and fresh allocations, about 1 ms per layer.
Here a layer is three kernels forward and six backward, all writing into buffers allocated once per call:

* activations are kept per member as rows of pixels, (E, N, C) with N = B*H*W (channels last);
* im2col is ONE row gather with a precomputed neighbour index (circular: indices modulo H, W; zero padding: an
  all-zero row N appended to every buffer), giving (E, N, T*C) with T = k*k taps, column t*C + c_in;
* the convolution is ONE ``baddbmm`` with the layer's kernel laid out (T*C_in, C_out) (+ bias), over all members;
* backward: the weight gradient is cols^T @ g (cols re-gathered from the stored layer input), the input gradient the
  transposed convolution, i.e. the same gather with the reflected offsets and ``bmm`` with the kernel laid out
  (T*C_out, C_in); the nonlinearity's derivative comes from its output (tanh: 1 - y^2; relu, hard_tanh: a mask).

Numbers equal PyTorch's ``conv2d`` (+ ``F.pad`` circular) up to float summation order (tests/test_cnn.py).
``segment=s`` stores only every s-th layer's input and recomputes the s layers of a segment in backward (activation
memory ~ (L/s + s) layers instead of L).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

#: nonlinearities whose derivative can be computed from the output (what the stack stores)
STACK_NONLINEARITIES = ("tanh", "relu", "linear", "hard_tanh")


def neighbour_index(batch: int, height: int, width: int, k: int, padding: str, device=None
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """Row indices of the im2col gather and of its transpose, each (N*T,), N = batch*height*width, T = k*k.

    ``idx[n*T + t]`` is the pixel read by tap t = i*k + j (offset (i - k//2, j - k//2)) of output pixel n;
    ``idx_t[m*T + t]`` the output pixel that tap t of input pixel m feeds (offset reflected). Zero padding points
    out-of-range taps at row N (an all-zero row); circular padding wraps around (a torus).
    """
    p = k // 2
    y, x = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    y, x = y.reshape(-1, 1), x.reshape(-1, 1)                                        # (HW, 1)
    di = (torch.arange(k * k) // k - p).view(1, -1)
    dj = (torch.arange(k * k) % k - p).view(1, -1)
    base = (torch.arange(batch) * height * width).view(-1, 1, 1)
    n_pix = batch * height * width

    def table(sign: int) -> torch.Tensor:
        yy, xx = y + sign * di, x + sign * dj                                        # (HW, T)
        if padding == "circular":
            pix = (yy % height) * width + (xx % width)
            return (base + pix.unsqueeze(0)).reshape(-1)
        inside = (yy >= 0) & (yy < height) & (xx >= 0) & (xx < width)
        pix = yy.clamp(0, height - 1) * width + xx.clamp(0, width - 1)
        return torch.where(inside.unsqueeze(0), base + pix.unsqueeze(0), n_pix).reshape(-1)

    return table(1).to(device), table(-1).to(device)


def _phi_(name: str, y: torch.Tensor) -> None:
    """Apply the nonlinearity in place."""
    if name == "tanh":
        torch.tanh_(y)
    elif name == "relu":
        torch.relu_(y)
    elif name == "hard_tanh":
        y.clamp_(-1.0, 1.0)


def _dphi(name: str, g: torch.Tensor, y: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """out = g * phi'(h), from the output y = phi(h)."""
    if name == "tanh":
        return torch.ops.aten.tanh_backward.grad_input(g, y, grad_input=out)
    if name == "relu":
        return torch.mul(g, y > 0, out=out)
    if name == "hard_tanh":
        return torch.ops.aten.hardtanh_backward.grad_input(g, y, -1.0, 1.0, grad_input=out)
    return out.copy_(g)


class _Plan:
    """Shapes, neighbour indices and buffers of one call (E members, N pixels, C channels, T taps)."""

    def __init__(self, x: torch.Tensor, weight: torch.Tensor, padding: str, nonlinearity: str, hw: tuple[int, int]):
        self.E, self.L, self.C = weight.shape[0], weight.shape[1], weight.shape[2]
        self.k = weight.shape[-1]
        self.T = self.k * self.k
        self.N = x.shape[1]
        self.z = 0 if padding == "circular" else 1                 # zero padding: one all-zero row per buffer
        self.nl = nonlinearity
        H, W = hw
        self.idx, self.idx_t = _index_cache(self.N // (H * W), H, W, self.k, padding, x.device)
        self.fk = dict(dtype=x.dtype, device=x.device)

    def buffer(self, *lead) -> torch.Tensor:
        """(*lead, E, N + z, C) with the zero row (if any) zeroed."""
        b = torch.empty(*lead, self.E, self.N + self.z, self.C, **self.fk)
        if self.z:
            b[..., self.N, :] = 0
        return b

    def layer(self, x_ext, wt, b, out_ext, cols, h):
        """out_ext[:, :N] = phi(conv(x) + b); x_ext (E, N+z, C); wt (E, T*C, C); b (E, C)."""
        E, N, C, T = self.E, self.N, self.C, self.T
        torch.index_select(x_ext, 1, self.idx, out=cols)
        if self.z == 0:
            torch.baddbmm(b.unsqueeze(1), cols.view(E, N, T * C), wt, out=out_ext)
            _phi_(self.nl, out_ext)
        else:
            torch.baddbmm(b.unsqueeze(1), cols.view(E, N, T * C), wt, out=h)
            _phi_(self.nl, h)
            out_ext[:, :N].copy_(h)


_INDEX: dict = {}


def _index_cache(batch, height, width, k, padding, device):
    key = (batch, height, width, k, padding, str(device))
    if key not in _INDEX:
        if len(_INDEX) > 16:
            _INDEX.clear()
        _INDEX[key] = neighbour_index(batch, height, width, k, padding, device)
    return _INDEX[key]


def _forward_layout(weight: torch.Tensor) -> torch.Tensor:
    """(E, L, C_out, C_in, k, k) -> (L, E, T*C_in, C_out): row t*C_in + c_in, the im2col column order."""
    E, L, Co, Ci, k, _ = weight.shape
    return weight.permute(1, 0, 4, 5, 3, 2).reshape(L, E, k * k * Ci, Co)


def _transposed_layout(weight: torch.Tensor) -> torch.Tensor:
    """(E, L, C_out, C_in, k, k) -> (L, E, T*C_out, C_in): the kernel of the transposed convolution."""
    E, L, Co, Ci, k, _ = weight.shape
    return weight.permute(1, 0, 4, 5, 2, 3).reshape(L, E, k * k * Co, Ci)


class _ConvStack(torch.autograd.Function):
    """Forward and backward of the whole stack. With segments, the weight layouts and the weight gradient are also
    made one segment at a time, so that memory stays ~ (L/s + s) activations plus one segment of kernels."""

    @staticmethod
    def forward(ctx, x, weight, bias, padding, nonlinearity, hw, segment):
        plan = _Plan(x, weight, padding, nonlinearity, hw)
        E, N, C, T, L = plan.E, plan.N, plan.C, plan.T, plan.L
        cols = torch.empty(E, N * T, C, **plan.fk)
        h = torch.empty(E, N, C, **plan.fk) if plan.z else None
        x_ext = plan.buffer()
        x_ext[:, :N].copy_(x)
        seg = segment if 0 < segment < L else L
        layer = plan.layer
        if seg == L:                                   # store every layer's output
            wt, bt = _forward_layout(weight).unbind(0), bias.transpose(0, 1).unbind(0)
            stored = plan.buffer(L)
            prev = x_ext
            for l, out in enumerate(stored.unbind(0)):
                layer(prev, wt[l], bt[l], out, cols, h)
                prev = out
        else:                                          # store the input of every segment, ping-pong in between
            stored = plan.buffer(math.ceil(L / seg))
            work = plan.buffer(2).unbind(0)
            prev = x_ext
            for j, s0 in enumerate(range(0, L, seg)):
                s1 = min(s0 + seg, L)
                wt, bt = _forward_layout(weight[:, s0:s1]).unbind(0), bias[:, s0:s1].transpose(0, 1).unbind(0)
                stored[j].copy_(prev)
                prev = stored[j]
                for l in range(s1 - s0):
                    layer(prev, wt[l], bt[l], work[l % 2], cols, h)
                    prev = work[l % 2]
        ctx.save_for_backward(x_ext, weight, bias, stored)
        ctx.plan, ctx.seg = plan, seg
        return prev[:, :N].clone()

    @staticmethod
    def backward(ctx, grad):
        x_ext, weight, bias, stored = ctx.saved_tensors
        plan, seg = ctx.plan, ctx.seg
        E, N, C, T, L, nl, k = plan.E, plan.N, plan.C, plan.T, plan.L, plan.nl, plan.k
        g_weight = torch.empty_like(weight)
        gb = torch.empty(L, E, C, **plan.fk)
        gbs = gb.unbind(0)
        cols = torch.empty(E, N * T, C, **plan.fk)
        colsv = cols.view(E, N, T * C)
        colsT = colsv.transpose(1, 2)
        h = torch.empty(E, N, C, **plan.fk) if plan.z else None
        gh_ext = plan.buffer()                         # dL/dh with the zero row: the transposed gather reads it
        gh = gh_ext[:, :N] if plan.z else gh_ext
        gx = grad.contiguous().clone()                 # dL/d(output of the current layer), then of its input
        need_x = ctx.needs_input_grad[0]
        idx, idx_t = plan.idx, plan.idx_t
        core = (lambda b: b[:, :N]) if plan.z else (lambda b: b)
        recompute = plan.buffer(seg).unbind(0) if seg < L else None
        for j in reversed(range(math.ceil(L / seg))):
            s0, s1 = j * seg, min(j * seg + seg, L)
            n = s1 - s0
            w_seg = weight[:, s0:s1]
            wf = _transposed_layout(w_seg).unbind(0)
            gw = torch.empty(n, E, T * C, C, **plan.fk)
            gws = gw.unbind(0)
            if seg < L:                                # recompute the segment's outputs from its stored input
                wt, bt = _forward_layout(w_seg).unbind(0), bias[:, s0:s1].transpose(0, 1).unbind(0)
                ins, outs, prev = [], [], stored[j]
                for l in range(n):
                    ins.append(prev)
                    plan.layer(prev, wt[l], bt[l], recompute[l], cols, h)
                    prev = recompute[l]
                    outs.append(prev)
            else:
                outs = stored.unbind(0)
                ins = (x_ext,) + outs[:-1]
            for l in range(n - 1, -1, -1):
                _dphi(nl, gx, core(outs[l]), gh)
                torch.sum(gh, 1, out=gbs[s0 + l])
                torch.index_select(ins[l], 1, idx, out=cols)
                torch.bmm(colsT, gh, out=gws[l])
                if s0 + l > 0 or need_x:
                    torch.index_select(gh_ext, 1, idx_t, out=cols)
                    torch.bmm(colsv, wf[l], out=gx)
            g_weight[:, s0:s1] = gw.view(n, E, k, k, C, C).permute(1, 0, 5, 4, 2, 3)
            del gw, gws, wf
        return (gx if need_x else None), g_weight, gb.transpose(0, 1).contiguous(), None, None, None, None


def conv_stack(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, hw: tuple[int, int], *,
               padding: str = "circular", nonlinearity: str = "tanh", segment: int = 0) -> torch.Tensor:
    """L stride-1 'same' convolutions + nonlinearity: x (E, N, C) (N = B*H*W pixel rows, channels last),
    weight (E, L, C, C, k, k), bias (E, L, C), hw = (H, W) -> (E, N, C). ``segment``: recompute in segments of that
    many layers (0: store all). One autograd node; without grad it keeps only two activations."""
    if nonlinearity not in STACK_NONLINEARITIES:
        raise ValueError(f"conv_stack supports {STACK_NONLINEARITIES}, got {nonlinearity!r}")
    if padding not in ("circular", "zeros"):
        raise ValueError(f"padding must be 'circular' or 'zeros', got {padding!r}")
    x = x.contiguous()
    if torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad or bias.requires_grad):
        return _ConvStack.apply(x, weight, bias, padding, nonlinearity, tuple(hw), int(segment))
    with torch.no_grad():
        plan = _Plan(x, weight, padding, nonlinearity, hw)
        wt, bt = _forward_layout(weight), bias.transpose(0, 1)
        cols = torch.empty(plan.E, plan.N * plan.T, plan.C, **plan.fk)
        h = torch.empty(plan.E, plan.N, plan.C, **plan.fk) if plan.z else None
        work = plan.buffer(2)
        work[1, :, :plan.N].copy_(x)
        for l in range(plan.L):
            plan.layer(work[(l + 1) % 2], wt[l], bt[l], work[l % 2], cols, h)
        return work[(plan.L - 1) % 2, :, :plan.N].clone()


def stored_bytes(E: int, batch: int, hw: tuple[int, int], channels: int, depth: int, segment: int,
                 element_size: int = 4) -> int:
    """Activation bytes ``conv_stack`` keeps for backward (segment 0: every layer; s: ceil(L/s) inputs + s
    recomputed outputs)."""
    act = E * (batch * hw[0] * hw[1] + 1) * channels * element_size
    if not segment or segment >= depth:
        return depth * act
    return (math.ceil(depth / segment) + segment) * act


def reference_stack(x, weight, bias, hw, *, padding="circular", nonlinearity="tanh"):
    """The same function with ``F.conv2d`` per layer and member (for tests): x (E, N, C) -> (E, N, C)."""
    from isometry.nonlinearities import torch_phi
    E, L, C = weight.shape[:3]
    H, W = hw
    k = weight.shape[-1]
    p = k // 2
    phi = torch_phi(nonlinearity)
    a = x.view(E, -1, H, W, C).permute(1, 0, 4, 2, 3).reshape(-1, E * C, H, W)
    for l in range(L):
        w = weight[:, l].reshape(E * C, C, k, k)
        if padding == "circular":
            a = phi(F.conv2d(F.pad(a, (p, p, p, p), mode="circular"), w, bias[:, l].reshape(-1), groups=E))
        else:
            a = phi(F.conv2d(a, w, bias[:, l].reshape(-1), padding=p, groups=E))
    return a.view(-1, E, C, H * W).permute(1, 0, 3, 2).reshape(E, -1, C)
