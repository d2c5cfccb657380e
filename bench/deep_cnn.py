"""Training-step time and peak memory of a 1,000-10,000-layer vanilla tanh CNN (Xiao et al. 2018), like with like.

One network (n_down stride-2 3x3 convs, then L stride-1 3x3 convs of C channels, circular padding, tanh, global
average pool, linear readout), the same critical delta-orthogonal weights (sigma_w2 = 1.05, sigma_b2 = 2.01e-5) and
the same batch for every variant, all IN ONE PROCESS, steps interleaved (variant A, B, C, ..., A, B, C, ...).
One step = zero_grad + forward + cross-entropy + backward + SGD-momentum update. Variants:

  eager            nn.Sequential of nn.Conv2d(padding_mode="circular") + nn.Tanh, torch.optim.SGD(momentum,
                   foreach); every activation stored
  eager_ckpt       the same, the stride-1 layers run through torch.utils.checkpoint.checkpoint_sequential
                   (ceil(sqrt(L)) segments)
  conv_ckpt        EnsembleCNN(impl="conv", checkpoint=True): the path the engine took before the conv stack
                   (grouped F.conv2d per layer, per-segment checkpointing) -- "today's path" of issue 15
  conv             EnsembleCNN(impl="conv", checkpoint=0)
  stack            EnsembleCNN(impl="stack", checkpoint=0): isometry.convstack, everything stored
  stack_ckpt       EnsembleCNN(impl="stack", checkpoint=True): segments recomputed inside the stack's backward
  auto             EnsembleCNN() with its defaults (impl and checkpointing chosen by the model)

The EnsembleCNN variants use the engine's optimizer (isometry.optim). Reported per depth: median seconds per step
(process CPU time and wall time; CPU time is the fair one-thread number on a shared machine), conv FLOP rate and its
fraction of the measured fp32 matmul peak of this core (``common.matmul_peak``), peak memory above the level before
the step (CPU: glibc malloc, ``isometry.memory.MallocPeak``; CUDA: ``max_memory_allocated``), the first loss (all
variants agree), and ratios against ``conv_ckpt``. JSON: bench/results/deep_cnn_<device>.json (with the machine).

    python bench/deep_cnn.py                   # CPU: L = 1000, C = 16, batch 32, 3x32x32 -> 4x4 hidden maps
    python bench/deep_cnn.py --grid            # CPU: stack vs conv over C x map x E (backs impl="auto")
    python bench/deep_cnn.py --quick           # seconds: tiny sizes, every variant, agreement check
    python bench/deep_cnn.py --device cuda --depths 1000 10000 --channels 128 --batch 128 --n-down 2
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint_sequential

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, interleave, machine, matmul_peak, median, ratio, sync, write_json  # noqa: E402

from isometry.cnn import EnsembleCNN  # noqa: E402
from isometry.convstack import conv_stack  # noqa: E402
from isometry.engine import cross_entropy  # noqa: E402
from isometry.memory import MallocPeak  # noqa: E402
from isometry.optim import BatchedOptimizer  # noqa: E402

SIGMA_W2, SIGMA_B2, LR, MOMENTUM = 1.05, 2.01e-5, 1e-3, 0.9
VARIANTS = ("eager", "eager_ckpt", "conv_ckpt", "conv", "stack", "stack_ckpt", "auto")


# ------------------------------------------------------------------------------------------------------ models
def fast_delta_orthogonal_(model: EnsembleCNN, generator: torch.Generator) -> None:
    """Critical delta-orthogonal weights for all layers at once (batched QR): the right *kind* of weights for a
    deep benchmark, without the engine's per-member, per-layer reproducible draw (10,000 QRs)."""
    dev, C, g = model.hidden_weight.device, model.channels, math.sqrt(SIGMA_W2)

    def haar(n_mat, rows, cols):
        a = torch.randn(n_mat, max(rows, cols), min(rows, cols), generator=generator)
        q, r = torch.linalg.qr(a)
        q = q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1)).unsqueeze(-2)
        return (q if rows >= cols else q.transpose(-1, -2)).to(dev)

    with torch.no_grad():
        for w in [*model.down_weights, model.hidden_weight]:
            w.zero_()
        for w in model.down_weights:                                    # (E, C, C_in, k, k)
            for e in range(model.E):
                w[e, :, :, 1, 1] = g * haar(1, C, w.shape[2])[0]
        for e in range(model.E):
            for s in range(0, model.depth, 1000):                       # bounded temporary memory
                n = min(1000, model.depth - s)
                model.hidden_weight[e, s:s + n, :, :, 1, 1] = g * haar(n, C, C)
        for b in [*model.down_biases, model.hidden_bias]:
            b.copy_(torch.randn(b.shape, generator=generator).to(dev) * math.sqrt(SIGMA_B2))
        for e in range(model.E):
            model.readout_weight[e] = haar(1, model.num_outputs, C)[0]
        model.readout_bias.zero_()


def eager_from(model: EnsembleCNN) -> tuple[nn.Sequential, nn.Sequential, nn.Sequential]:
    """Member 0 as plain PyTorch: (stem, hidden, head) nn.Sequentials of nn.Conv2d + nn.Tanh."""
    C, dev = model.channels, model.hidden_weight.device

    def conv(w, b, stride):
        m = nn.Conv2d(w.shape[1], w.shape[0], w.shape[-1], stride=stride, padding=w.shape[-1] // 2,
                      padding_mode=model.padding, device=dev)
        m.weight.copy_(w)
        m.bias.copy_(b)
        return m

    with torch.no_grad():
        stem = nn.Sequential(*[mod for w, b in zip(model.down_weights, model.down_biases)
                               for mod in (conv(w[0], b[0], 2), nn.Tanh())])
        hidden = nn.Sequential(*[mod for l in range(model.depth)
                                 for mod in (conv(model.hidden_weight[0, l], model.hidden_bias[0, l], 1), nn.Tanh())])
        lin = nn.Linear(C, model.num_outputs, device=dev)
        lin.weight.copy_(model.readout_weight[0])
        lin.bias.copy_(model.readout_bias[0])
    return stem, hidden, nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), lin)


def build(variant: str, ref: EnsembleCNN, x: torch.Tensor, y: torch.Tensor):
    """A step function (returns the loss) for ``variant``, on a copy of ``ref``'s weights."""
    if variant.startswith("eager"):
        stem, hidden, head = eager_from(ref)
        params = [p for m in (stem, hidden, head) for p in m.parameters()]
        opt = torch.optim.SGD(params, lr=LR, momentum=MOMENTUM, foreach=True)
        segments = max(1, math.ceil(math.sqrt(ref.depth)))

        def step():
            opt.zero_grad(set_to_none=True)
            h = stem(x)
            h = checkpoint_sequential(hidden, segments, h, use_reentrant=False) if variant == "eager_ckpt" \
                else hidden(h)
            loss = F.cross_entropy(head(h), y)
            loss.backward()
            opt.step()
            return loss.detach()
        return step
    kw = {"conv_ckpt": dict(impl="conv", checkpoint=True), "conv": dict(impl="conv", checkpoint=0),
          "stack": dict(impl="stack", checkpoint=0), "stack_ckpt": dict(impl="stack", checkpoint=True),
          "auto": {}}[variant]
    model = EnsembleCNN(ref.E, ref.input_shape, ref.num_outputs, channels=ref.channels, depth=ref.depth,
                        n_down=ref.n_down, padding=ref.padding, device=ref.hidden_weight.device, **kw)
    model.load_state_dict(ref.state_dict())
    opt = BatchedOptimizer(list(model.parameters()), "momentum", LR, momentum=MOMENTUM)

    def step():
        opt.zero_grad()
        loss = cross_entropy(model(x), y).sum()
        loss.backward()
        opt.step()
        return loss.detach()
    step.model = model
    return step


def peak_memory(step, device) -> float | None:
    """Peak bytes above the level before one step (GB)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        base = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        step()
        torch.cuda.synchronize(device)
        return (torch.cuda.max_memory_allocated(device) - base) / 1e9
    try:
        with MallocPeak() as mp:
            step()
        return (mp.peak - mp.base) / 1e9
    except (OSError, AttributeError):
        return None


# --------------------------------------------------------------------------------------------------- main run
def run_depth(L: int, args, device, peak: float) -> dict:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(args.batch, args.in_channels, args.image, args.image, generator=g).to(device)
    y = torch.randint(0, 10, (args.batch,), generator=g).to(device)
    ref = EnsembleCNN(1, (args.in_channels, args.image, args.image), 10, channels=args.channels, depth=L,
                      n_down=args.n_down, padding="circular", device=device)
    fast_delta_orthogonal_(ref, torch.Generator().manual_seed(1))
    flops = 3 * ref.conv_flops(args.batch)
    hw = (args.image,) * 2
    for _ in range(args.n_down):
        hw = ((hw[0] + 1) // 2, (hw[1] + 1) // 2)
    print(f"\nL={L}: C={args.channels}, batch {args.batch}, hidden maps {hw[0]}x{hw[1]}, "
          f"{flops / 1e9:.2f} GFLOP per step (conv, fwd+bwd); auto picks impl="
          f"{ref.resolved_impl(args.batch, hw)!r}, segment {ref.segment_length(args.batch, hw)}", flush=True)
    steps, first = {}, {}
    for v in args.variants:
        try:
            steps[v] = build(v, ref, x, y)
            first[v] = float(steps[v]())                    # also the warm-up step
        except torch.OutOfMemoryError:
            print(f"  {v}: out of memory", flush=True)
            steps.pop(v, None)
            if device.type == "cuda":
                torch.cuda.empty_cache()
    times = interleave(steps, device, rounds=args.rounds, warmup=args.warmup)
    mem = {v: peak_memory(f, device) for v, f in steps.items()}
    base = "conv_ckpt" if "conv_ckpt" in steps else next(iter(steps))
    rows = {}
    print(f"  {'variant':<11s} {'cpu s/step':>10s} {'wall s/step':>11s} {'GFLOP/s':>8s} {'of peak':>7s} "
          f"{'peak GB':>8s} {base + '/x':>13s}  first loss")
    for v in steps:
        cpu, wall = median(times[v]["cpu"]), median(times[v]["wall"])
        t = wall if device.type == "cuda" else cpu
        rows[v] = {"cpu_s": cpu, "wall_s": wall, "gflops": flops / t / 1e9, "fraction_of_peak": flops / t / peak,
                   "peak_gb": mem[v], "speedup_vs_" + base: ratio(times, base, v, "wall" if device.type == "cuda"
                                                                  else "cpu"),
                   "first_loss": first[v], "cpu_all": times[v]["cpu"], "wall_all": times[v]["wall"]}
        r = rows[v]
        print(f"  {v:<11s} {cpu:10.3f} {wall:11.3f} {r['gflops']:8.2f} {r['fraction_of_peak']:7.1%} "
              f"{'n/a' if mem[v] is None else f'{mem[v]:.3f}':>8s} {r['speedup_vs_' + base]:13.2f}  "
              f"{first[v]:.6f}", flush=True)
    spread = max(first.values()) - min(first.values())
    print(f"  first-step losses agree to {spread:.1e}", flush=True)
    return {"depth": L, "hidden_map": list(hw), "gflop_per_step": flops / 1e9, "baseline": base,
            "loss_spread": spread, "variants": rows,
            "auto": {"impl": ref.resolved_impl(args.batch, hw), "segment": ref.segment_length(args.batch, hw)}}


# ------------------------------------------------------------------------------------------------------- grid
def run_grid(args, device) -> list[dict]:
    """Hidden stack alone (L=100 layers, fwd+bwd and no-grad fwd), conv vs stack, over C x map x E."""
    from isometry.cnn import _make_block
    out, L = [], 100
    print(f"\ngrid: L={L} stride-1 layers, batch {args.batch}; ratio conv/stack (> 1: stack faster), CPU time")
    for E in (1, 4):
        for C in (8, 16, 32):
            for H in (4, 7):
                N = args.batch * H * H
                g = torch.Generator().manual_seed(0)
                x = torch.randn(E, N, C, generator=g).to(device).requires_grad_()
                w = (torch.randn(E, L, C, C, 3, 3, generator=g) / (3 * C ** 0.5)).to(device).requires_grad_()
                b = (0.01 * torch.randn(E, L, C, generator=g)).to(device).requires_grad_()
                xc = x.detach().view(E, args.batch, H, H, C).permute(1, 0, 4, 2, 3).reshape(args.batch, E * C, H, H)
                xc = xc.contiguous().requires_grad_()
                wc = w.detach().transpose(0, 1).contiguous().requires_grad_()
                bc = b.detach().transpose(0, 1).contiguous().requires_grad_()
                blk = _make_block(torch.tanh, "circular", E, 3)

                def nograd(f):
                    def g_():
                        with torch.no_grad():
                            f()
                    return g_
                fns = {"stack": lambda: conv_stack(x, w, b, (H, H)).sum().backward(),
                       "conv": lambda: blk(xc, wc, bc).sum().backward(),
                       "stack_eval": nograd(lambda: conv_stack(x, w, b, (H, H))),
                       "conv_eval": nograd(lambda: blk(xc, wc, bc))}
                t = interleave(fns, device, rounds=args.rounds, warmup=1)
                row = {"E": E, "channels": C, "map": H, "batch": args.batch,
                       "train_conv_over_stack": ratio(t, "conv", "stack"),
                       "eval_conv_over_stack": ratio(t, "conv_eval", "stack_eval"),
                       "stack_s_per_1000_layers": median(t["stack"]["cpu"]) * 1000 / L}
                out.append(row)
                print(f"  E={E} C={C:2d} {H}x{H}: train {row['train_conv_over_stack']:.2f}x, eval "
                      f"{row['eval_conv_over_stack']:.2f}x (stack {row['stack_s_per_1000_layers']:.3f} s per 1000 "
                      "layers fwd+bwd)", flush=True)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu")
    p.add_argument("--depths", type=int, nargs="+", default=None)
    p.add_argument("--channels", type=int, default=None)
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--image", type=int, default=None, help="input height = width")
    p.add_argument("--in-channels", type=int, default=3)
    p.add_argument("--n-down", type=int, default=None)
    p.add_argument("--variants", nargs="+", default=None, choices=VARIANTS)
    p.add_argument("--rounds", type=int, default=None, help="interleaved rounds (one step per variant each)")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=1, help="torch threads on the CPU (0: torch default)")
    p.add_argument("--quick", action="store_true", help="tiny sizes, every variant, a few seconds")
    p.add_argument("--grid", action="store_true", help="also the stack-vs-conv grid behind impl='auto'")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cpu" and args.threads:
        torch.set_num_threads(args.threads)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    quick = args.quick
    args.depths = args.depths or ([30] if quick else [1000])
    args.channels = args.channels or (8 if quick else 16)
    args.batch = args.batch or (8 if quick else 32)
    args.image = args.image or (16 if quick else 32)
    args.n_down = args.n_down or (2 if quick else 3)
    args.rounds = args.rounds or (3 if quick else 5)
    args.variants = args.variants or list(VARIANTS)
    peak = matmul_peak(device)
    print(f"deep_cnn on {device}: fp32 matmul peak {peak / 1e9:.1f} GFLOP/s ({torch.get_num_threads()} thread(s))")
    payload = {"benchmark": "deep_cnn", "machine": machine(device), "matmul_peak_gflops": peak / 1e9,
               "config": {k: v for k, v in vars(args).items() if k != "out"},
               "results": [run_depth(L, args, device, peak) for L in args.depths]}
    if args.grid:
        payload["grid"] = run_grid(args, device)
    tag = device.type + ("_quick" if quick else "")
    out = write_json(Path(args.out) if args.out else RESULTS / f"deep_cnn_{tag}.json", payload)
    print(f"wrote {out}")
    for r in payload["results"]:
        v = r["variants"]
        if "auto" in v:
            a = v["auto"]
            t = a["wall_s"] if device.type == "cuda" else a["cpu_s"]
            print(f"L={r['depth']}: default engine path {t:.3f} s/step ({a['fraction_of_peak']:.1%} of peak), "
                  f"{a['speedup_vs_' + r['baseline']]:.2f}x {r['baseline']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
