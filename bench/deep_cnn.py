"""Throughput of a 1,000-10,000-layer vanilla tanh CNN (Xiao et al. 2018): isometry.cnn vs plain eager PyTorch.

Both run IN THE SAME PROCESS on the same device, the same network (n_down stride-2 3x3 convs, then L stride-1 3x3
convs of C channels, circular padding, tanh, global average pool, linear readout) with the same weights
(critical delta-orthogonal: sigma_w2=1.05, sigma_b2=2.01e-5), the same batch and the same optimizer (SGD with
momentum, ``foreach``). One step = zero_grad + forward + cross-entropy + backward + optimizer step.

* ``eager``: the reference -- ``nn.Sequential`` of ``nn.Conv2d`` + ``nn.Tanh`` (one Parameter pair per layer) under
  bf16 autocast on CUDA (fp32 on CPU unless ``--amp``), everything stored for backward.
* ``isometry``: ``EnsembleCNN`` with E=1: one stacked (E, L, C, C, 3, 3) kernel parameter, activation
  checkpointing in segments of ``--segment`` layers (default sqrt(L)), bf16 autocast compute with fp32 params,
  channels_last on CUDA; ``--compile`` adds torch.compile of the per-segment function (CUDA only; the network
  is never compiled whole).

Reported per depth: seconds per step (median of ``--steps`` after ``--warmup``), achieved TFLOP/s counting only the
convolutions (2*B*H*W*C_in*C_out*9 per layer forward, x3 for forward + backward), and peak memory (CUDA:
``max_memory_allocated``; CPU: peak bytes in use by malloc during one extra step, Linux/glibc only). A
configuration that runs out of memory is reported as ``"oom"``. Results go to
``bench/results/deep_cnn_<device>.json``; the last line printed is the step-time ratio eager / isometry.

    python bench/deep_cnn.py                 # CUDA: L in {1000, 10000}, C=128, batch 128, 32x32 inputs
    python bench/deep_cnn.py --quick         # anywhere (CPU): tiny sizes, checks both models agree
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import platform
import re
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from isometry.cnn import EnsembleCNN
from isometry.memory import MallocPeak

SIGMA_W2, SIGMA_B2 = 1.05, 2.01e-5


# ------------------------------------------------------------------------------------------------------ models
def fast_delta_orthogonal_(model: EnsembleCNN, generator: torch.Generator) -> None:
    """Critical delta-orthogonal init for all layers at once (batched QR on the model's device).

    The bench needs the right *kind* of weights (a 10,000-layer network that neither vanishes nor explodes), not
    the engine's per-member reproducible draw, and 10,000 per-layer CPU QRs would dominate a quick run.
    """
    dev = model.hidden_weight.device
    g = math.sqrt(SIGMA_W2)
    C = model.channels

    def haar(n_mat, rows, cols):
        a = torch.randn(n_mat, max(rows, cols), min(rows, cols), generator=generator).to(dev)
        q, r = torch.linalg.qr(a)
        q = q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1)).unsqueeze(-2)
        return q if rows >= cols else q.transpose(-1, -2)

    with torch.no_grad():
        for w in [*model.down_weights, model.hidden_weight]:
            w.zero_()
        for w in model.down_weights:                                    # (1, C, C_in, k, k)
            w[0, :, :, 1, 1] = g * haar(1, C, w.shape[2])[0]
        L = model.depth
        for s in range(0, L, 1000):                                     # bounded temporary memory
            n = min(1000, L - s)
            model.hidden_weight[0, s:s + n, :, :, 1, 1] = g * haar(n, C, C)
        for b in [*model.down_biases, model.hidden_bias]:
            b.copy_(torch.randn(b.shape, generator=generator).to(dev) * math.sqrt(SIGMA_B2))
        model.readout_weight[0] = haar(1, model.num_outputs, C)[0]
        model.readout_bias.zero_()


def eager_from(model: EnsembleCNN) -> nn.Sequential:
    """The plain PyTorch network with member 0's weights: nn.Sequential of nn.Conv2d + nn.Tanh."""
    C, dev = model.channels, model.hidden_weight.device
    layers: list[nn.Module] = []
    with torch.no_grad():
        for i, (w, b) in enumerate(zip(model.down_weights, model.down_biases)):
            conv = nn.Conv2d(w.shape[2], C, 3, stride=2, padding=1, padding_mode=model.padding, device=dev)
            conv.weight.copy_(w[0])
            conv.bias.copy_(b[0])
            layers += [conv, nn.Tanh()]
        for l in range(model.depth):
            conv = nn.Conv2d(C, C, 3, padding=1, padding_mode=model.padding, device=dev)
            conv.weight.copy_(model.hidden_weight[0, l])
            conv.bias.copy_(model.hidden_bias[0, l])
            layers += [conv, nn.Tanh()]
        head = nn.Linear(C, model.num_outputs, device=dev)
        head.weight.copy_(model.readout_weight[0])
        head.bias.copy_(model.readout_bias[0])
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), head)


# ----------------------------------------------------------------------------------------------------- measure
def _sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def measure(net: nn.Module, x, y, *, ensemble: bool, amp: bool, steps: int, warmup: int, lr: float = 1e-3):
    """Median step time (s), peak memory (GB) and the losses of every step, for one network."""
    dev = x.device
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, foreach=True)
    ctx = (lambda: torch.autocast(dev.type, dtype=torch.bfloat16)) if amp else contextlib.nullcontext

    def step():
        opt.zero_grad(set_to_none=True)
        with ctx():
            out = net(x)
        out = out[0] if ensemble else out
        loss = F.cross_entropy(out.float(), y)
        loss.backward()
        opt.step()
        return loss.detach()

    losses, times = [], []
    for i in range(warmup + steps):
        if dev.type == "cuda" and i == warmup:
            torch.cuda.reset_peak_memory_stats(dev)
        _sync(dev)
        t0 = time.perf_counter()
        losses.append(step())
        _sync(dev)
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    if dev.type == "cuda":
        peak = torch.cuda.max_memory_allocated(dev) / 1e9
    else:
        try:
            with MallocPeak() as mp:
                losses.append(step())
            peak = (mp.peak - mp.base) / 1e9     # on top of what was in use before (params, grads, momenta)
        except (OSError, AttributeError):
            peak = None
    del opt
    return statistics.median(times), peak, [float(v) for v in losses]


def run_one(label, build, x, y, *, ensemble, amp, args, flops):
    dev = x.device
    try:
        net = build()
        t, peak, losses = measure(net, x, y, ensemble=ensemble, amp=amp, steps=args.steps, warmup=args.warmup)
        res = {"step_s": t, "tflops": 3 * flops / t / 1e12, "peak_gb": peak, "loss_first": losses[0],
               "loss_last": losses[-1], "finite": all(math.isfinite(v) for v in losses)}
    except torch.OutOfMemoryError:
        res = {"step_s": "oom"}
    finally:
        net = None
        if dev.type == "cuda":
            torch.cuda.empty_cache()
    print(f"  {label:<28s} " + (f"{res['step_s'] * 1e3:9.1f} ms/step  {res['tflops']:8.3g} TFLOP/s  peak "
                                 f"{res['peak_gb'] if res['peak_gb'] is None else round(res['peak_gb'], 3)} GB"
                                 if res["step_s"] != "oom" else "out of memory"), flush=True)
    return res


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="tiny sizes that run on a CPU in seconds")
    p.add_argument("--device", default=None, help="default: cuda if available, else cpu")
    p.add_argument("--depths", type=int, nargs="+", default=None)
    p.add_argument("--channels", type=int, default=None)
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--image", type=int, default=None, help="input height = width (3 channels)")
    p.add_argument("--n-down", type=int, default=2)
    p.add_argument("--padding", default="circular", choices=["circular", "zeros"])
    p.add_argument("--segment", type=int, default=0, help="checkpoint segment length (0: ceil(sqrt(L)))")
    p.add_argument("--compile", action="store_true", help="also run isometry + per-segment torch.compile (CUDA)")
    p.add_argument("--amp", action="store_true", help="bf16 autocast on CPU too (always on on CUDA)")
    p.add_argument("--no-eager", action="store_true", help="skip the eager reference")
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--warmup", type=int, default=None)
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch default)")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)

    dev = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if args.threads:
        torch.set_num_threads(args.threads)
    cuda = dev.type == "cuda"
    big = not args.quick
    args.depths = args.depths or ([1000, 10000] if big else [30, 100])
    args.channels = args.channels or (128 if big else 8)
    args.batch = args.batch or (128 if big else 8)
    args.image = args.image or (32 if big else 8)
    args.steps = args.steps or (5 if big else 3)
    args.warmup = args.warmup if args.warmup is not None else (2 if big else 1)
    amp = cuda or args.amp
    if cuda:
        torch.backends.cudnn.benchmark = True
    dev_name = torch.cuda.get_device_name(dev) if cuda else (platform.processor() or platform.machine() or "cpu")
    dev_tag = re.sub(r"[^a-z0-9]+", "_", (dev_name if cuda else "cpu").lower()).strip("_")
    out = Path(args.out or Path(__file__).resolve().parent / "results" / f"deep_cnn_{dev_tag}.json")

    g = torch.Generator().manual_seed(0)
    x = torch.randn(args.batch, 3, args.image, args.image, generator=g).to(dev)
    y = torch.randint(0, 10, (args.batch,), generator=g).to(dev)
    print(f"deep_cnn on {dev_name}: C={args.channels} batch={args.batch} image={args.image} n_down={args.n_down} "
          f"padding={args.padding} amp={'bf16' if amp else 'off'} steps={args.steps} warmup={args.warmup}",
          flush=True)

    results = []
    for L in args.depths:
        seg = args.segment or math.ceil(math.sqrt(L))

        def build_iso(compile_blocks=False, L=L, seg=seg):
            m = EnsembleCNN(1, (3, args.image, args.image), 10, channels=args.channels, depth=L,
                            n_down=args.n_down, padding=args.padding, checkpoint=seg, channels_last=cuda,
                            compile_blocks=compile_blocks, device=dev)
            fast_delta_orthogonal_(m, torch.Generator().manual_seed(1))
            return m

        # forward conv FLOPs per step (2 per multiply-add), from the model's own layer shapes
        flops = EnsembleCNN(1, (3, args.image, args.image), 10, channels=args.channels, depth=L, n_down=args.n_down,
                            device="meta").conv_flops(args.batch)
        print(f"L={L}: {flops / 1e12:.3f} TFLOP forward per step, checkpoint segment {seg}", flush=True)
        row = {"depth": L, "segment": seg, "fwd_tflop": flops / 1e12}
        if args.quick:   # both implementations compute the same function
            m = build_iso()
            ref = eager_from(m)
            with torch.no_grad():
                torch.testing.assert_close(m(x)[0], ref(x), rtol=1e-4, atol=1e-4)
            del m, ref
        row["isometry"] = run_one("isometry (ckpt, stacked)", build_iso, x, y, ensemble=True, amp=amp, args=args,
                                  flops=flops)
        if args.compile and cuda:
            row["isometry_compile"] = run_one("isometry + block compile", lambda: build_iso(True), x, y,
                                              ensemble=True, amp=amp, args=args, flops=flops)
        if not args.no_eager:
            row["eager"] = run_one("eager nn.Sequential", lambda: eager_from(build_iso()), x, y, ensemble=False,
                                   amp=amp, args=args, flops=flops)
        results.append(row)

    parts = []
    for r in results:
        iso, ref = r["isometry"]["step_s"], r.get("eager", {}).get("step_s")
        if ref is None:
            parts.append(f"L={r['depth']}: isometry {iso if iso == 'oom' else f'{iso:.4f}'} s/step")
        elif iso == "oom" or ref == "oom":
            parts.append(f"L={r['depth']}: eager {ref} / isometry {iso}")
        else:
            r["ratio"] = ref / iso
            parts.append(f"L={r['depth']}: {ref / iso:.2f}x")
    payload = {"benchmark": "deep_cnn", "device": dev_name, "torch": torch.__version__,
               "config": {k: v for k, v in vars(args).items() if k != "out"}, "amp": "bf16" if amp else "off",
               "results": results}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2))
    tmp.replace(out)
    print(f"wrote {out}", flush=True)

    print("step-time ratio eager/isometry (>1: isometry faster): " + ", ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
