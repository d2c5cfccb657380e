"""Sweep throughput: one training step of E same-shape tanh MLPs (784 -> width x depth -> 10), the engine vs its peers.

Per shape, the engine is timed against each peer in an interleaved A/B pair, in ONE process (engine, peer, engine,
peer, ...; medians of per-round ratios), from the same initial weights on the same per-member batches, with SGD +
momentum 0.9 at one learning rate (the peers that cannot do per-member rates would otherwise differ):

  loop     a Python loop over E ``nn.Sequential`` (nn.Linear + nn.Tanh) + ``torch.optim.SGD(momentum)``
  vmap     ``torch.func.stack_module_state`` + ``vmap(grad(loss))`` over ``functional_call`` + a ``torch._foreach``
           momentum update
  bmm      weights (E, out, in) as plain parameters, ``baddbmm`` per layer, ``torch.optim.SGD(fused=True)``:
           what an expert writes in 30 lines
  engine   ``isometry.engine.update`` on an ``EnsembleMLP`` with the engine's optimizer (one call per step, exactly
           what ``engine.train`` runs between its log steps: data gather, forward, per-member loss, divergence mask,
           backward, update)

plus one more pair, engine with per-member learning rates (a real sweep: the per-member optimizer path) vs engine.

The ``ceiling`` column bounds what ANY implementation that does the same matrix products can gain over ``bmm``: the
bmm step is profiled (``torch.profiler``, a few steps) and its matrix-product kernels (bmm / baddbmm / mm / addmm)
are summed; ceiling = bmm step time / GEMM time. An engine with free non-GEMM work (zero-cost optimizer, activation,
loss) still runs those products, so it cannot beat bmm by more than the ceiling unless its products themselves run
faster (the ``gemm % peak`` column: their FLOP rate against the core's best square-matmul rate). Profiler overhead
inflates the non-GEMM share a little, so the ceiling is, if anything, too generous.
After each pair both sides have taken the same steps: their weights must agree (printed: max |difference|).
Numbers are process CPU time (one thread; fair on a shared machine) unless ``--clock wall``. The process runs with the
allocator the pipeline's jobs use (``devices.tune_allocator``: glibc keeps freed large blocks; it applies to every
contender alike); ``--allocator default`` measures with glibc's defaults.

    python bench/sweep_throughput.py             # E=32, batch 32, depth {2, 10, 50} x width {32, 128, 400}
    python bench/sweep_throughput.py --quick     # two small shapes, ~1 minute
    python bench/sweep_throughput.py --device cuda --members 64 --depths 10 100 --widths 128 400 --batch 128

Writes bench/results/sweep_throughput_<device>[_quick].json (with the machine description) and prints the table.
"""

from __future__ import annotations

import argparse
import copy
import gc
import math
import statistics
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, interleave, machine, matmul_peak, median, sync, write_json  # noqa: E402

from isometry.devices import tune_allocator  # noqa: E402
from isometry.engine import _mark_diverged, cross_entropy, update  # noqa: E402
from isometry.models import EnsembleMLP  # noqa: E402
from isometry.optim import make_optimizer  # noqa: E402
from isometry.spec import Member  # noqa: E402

LR, MOMENTUM, IN, K = 1e-3, 0.9, 784, 10
PEERS = ("loop", "vmap", "bmm")


class Setup:
    """Shared initial weights (E, out, in) / (E, out), data and per-step batch indices of one shape."""

    def __init__(self, E, depth, width, batch, device, n_data=4096, n_batches=64):
        g = torch.Generator().manual_seed(0)
        dims = [(width, IN)] + [(width, width)] * (depth - 1) + [(K, width)]
        self.ws = [torch.randn(E, o, i, generator=g) / math.sqrt(i) for o, i in dims]
        self.bs = [0.1 * torch.randn(E, o, generator=g) for o, _ in dims]
        self.X = torch.randn(n_data, IN, generator=g).to(device)
        self.Y = torch.randint(0, K, (n_data,), generator=g).to(device)
        self.idx = torch.randint(0, n_data, (n_batches, E, batch), generator=g).to(device)
        self.E, self.depth, self.width, self.batch, self.device = E, depth, width, batch, device

    def batch_at(self, s):
        idx = self.idx[s % len(self.idx)]
        return self.X.index_select(0, idx.reshape(-1)).view(*idx.shape, IN), self.Y.index_select(
            0, idx.reshape(-1)).view(idx.shape)


# --------------------------------------------------------------------------------------------------- contenders
def make_loop(S: Setup):
    nets, opts = [], []
    for e in range(S.E):
        layers = []
        for l, (w, b) in enumerate(zip(S.ws, S.bs)):
            lin = nn.Linear(w.shape[2], w.shape[1], device=S.device)
            with torch.no_grad():
                lin.weight.copy_(w[e])
                lin.bias.copy_(b[e])
            layers += [lin] + ([nn.Tanh()] if l < S.depth else [])
        nets.append(nn.Sequential(*layers))
        opts.append(torch.optim.SGD(nets[-1].parameters(), lr=LR, momentum=MOMENTUM))
    state = {"s": 0}

    def step():
        x, y = S.batch_at(state["s"])
        state["s"] += 1
        for e in range(S.E):
            opts[e].zero_grad()
            F.cross_entropy(nets[e](x[e]), y[e]).backward()
            opts[e].step()
    step.weights = lambda: [torch.stack([n[2 * l].weight.detach() for n in nets]) for l in range(S.depth + 1)]
    step.nets = nets
    return step


def make_vmap(S: Setup):
    from torch.func import functional_call, grad, stack_module_state, vmap
    nets = make_loop(S).nets                                    # E nn.Sequential with the shared weights
    params, _ = stack_module_state(nets)                        # {name: (E, ...)} leaves
    base = copy.deepcopy(nets[0]).to("meta")
    del nets
    params = {k: v.detach() for k, v in params.items()}
    names = list(params)
    tensors = [params[n] for n in names]
    bufs = [torch.zeros_like(t) for t in tensors]

    def loss(p, x, y):
        return F.cross_entropy(functional_call(base, p, (x,)), y)
    grads_fn = vmap(grad(loss))
    state = {"s": 0}

    def step():
        x, y = S.batch_at(state["s"])
        state["s"] += 1
        g = grads_fn(dict(zip(names, tensors)), x, y)
        torch._foreach_mul_(bufs, MOMENTUM)
        torch._foreach_add_(bufs, [g[n] for n in names])
        torch._foreach_add_(tensors, bufs, alpha=-LR)
    step.weights = lambda: [params[f"{2 * l}.weight"] for l in range(S.depth + 1)]
    return step


def make_bmm(S: Setup):
    ws = [nn.Parameter(w.clone().to(S.device)) for w in S.ws]
    bs = [nn.Parameter(b.clone().to(S.device)) for b in S.bs]
    opt = torch.optim.SGD(ws + bs, lr=LR, momentum=MOMENTUM, fused=True)
    state = {"s": 0}

    def step():
        x, y = S.batch_at(state["s"])
        state["s"] += 1
        h = x.transpose(1, 2)                                   # (E, in, B): W @ h per layer
        for l, (w, b) in enumerate(zip(ws, bs)):
            h = torch.baddbmm(b.unsqueeze(2), w, h)
            if l < S.depth:
                h = torch.tanh(h)
        out = h.transpose(1, 2)
        loss = F.cross_entropy(out.reshape(-1, K), y.reshape(-1), reduction="none").view(S.E, -1).mean(1).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    step.weights = lambda: [w.detach() for w in ws]
    return step


def make_engine(S: Setup, per_member_lr: bool = False):
    model = EnsembleMLP(S.E, (IN,), K, depth=S.depth, width=S.width, nonlinearity="tanh").to(S.device)
    with torch.no_grad():
        for p, w in zip([*model.weights, *model.biases], [*S.ws, *S.bs]):
            p.copy_(w)
    lrs = [LR * (1 + 0.5 * (e % 3)) for e in range(S.E)] if per_member_lr else [LR] * S.E
    members = [Member(f"m{e}", lr=lrs[e], optimizer="momentum", momentum=MOMENTUM, seed=e) for e in range(S.E)]
    opt = make_optimizer(list(model.parameters()), members)
    diverged_at = torch.full((S.E,), -1, dtype=torch.long, device=S.device)
    state = {"s": 0}

    def step():
        x, y = S.batch_at(state["s"])
        state["s"] += 1
        s = state["s"]
        update(model, opt, x, y, cross_entropy,
               on_objective=lambda o: _mark_diverged(opt, diverged_at, ~torch.isfinite(o), s))
    step.weights = lambda: [w.detach() for w in model.weights]
    return step


MAKERS = {"loop": make_loop, "vmap": make_vmap, "bmm": make_bmm, "engine": make_engine,
          "engine_sweep": lambda S: make_engine(S, per_member_lr=True)}


# ---------------------------------------------------------------------------------------------------------- run
def repeated(step, n):
    def f():
        for _ in range(n):
            step()
    f.weights = step.weights
    return f


GEMM_OPS = ("aten::bmm", "aten::baddbmm", "aten::mm", "aten::addmm")


def gemm_flops(S: Setup) -> float:
    """FLOPs of the matrix products of one training step: forward, weight gradients, input gradients (not of
    layer 1, whose input needs none)."""
    dims = [(S.width, IN)] + [(S.width, S.width)] * (S.depth - 1) + [(K, S.width)]
    per = [2 * S.E * S.batch * o * i for o, i in dims]
    return 2 * sum(per) + sum(per[1:])


def gemm_ceiling(S: Setup, peak: float, steps: int = 5, repeats: int = 3) -> dict:
    """Profile the bmm baseline: the share of its step spent in matrix products, and the bound it puts on any
    speed-up over it (see the module docstring). Median over ``repeats`` profiles of ``steps`` steps each."""
    from torch.profiler import ProfilerActivity, profile
    f = make_bmm(S)
    f(), f()
    totals, gemms = [], []
    for _ in range(repeats):
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(steps):
                f()
        events = prof.key_averages()
        totals.append(sum(e.self_cpu_time_total for e in events) / steps * 1e-6)     # seconds per step
        gemms.append(sum(e.self_cpu_time_total for e in events if e.key in GEMM_OPS) / steps * 1e-6)
    ceiling = statistics.median(t / g for t, g in zip(totals, gemms))
    gemm = statistics.median(gemms)
    return {"bmm_profiled_s": statistics.median(totals), "gemm_s": gemm, "gemm_fraction": 1 / ceiling,
            "ceiling": ceiling, "gemm_flops": gemm_flops(S), "gemm_fraction_of_peak": gemm_flops(S) / gemm / peak}


def run_pair(S: Setup, a: str, b: str, args) -> dict:
    fa, fb = MAKERS[a](S), MAKERS[b](S)
    fa(), fb()                                                   # warm-up
    t = interleave({a: fa, b: fb}, S.device, rounds=1, warmup=0)[a]["wall"][0]   # one more step each: calibration
    reps = max(1, min(50, round(args.min_time / max(t, 1e-6))))
    times = interleave({a: repeated(fa, reps), b: repeated(fb, reps)}, S.device, rounds=args.rounds, warmup=0)
    diff = max(float((wa - wb).abs().max()) for wa, wb in zip(fa.weights(), fb.weights()))
    clock = args.clock
    r = statistics.median(x / y for x, y in zip(times[b][clock], times[a][clock]))
    out = {"ratio": r, f"{a}_s": median(times[a][clock]) / reps, f"{b}_s": median(times[b][clock]) / reps,
           "steps_per_timing": reps, "max_weight_diff": diff}
    del fa, fb
    gc.collect()
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu")
    p.add_argument("--members", type=int, default=32)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--depths", type=int, nargs="+", default=None)
    p.add_argument("--widths", type=int, nargs="+", default=None)
    p.add_argument("--peers", nargs="+", default=list(PEERS), choices=PEERS)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--min-time", type=float, default=0.05, help="seconds per timed call (small shapes repeat)")
    p.add_argument("--clock", default="cpu", choices=["cpu", "wall"])
    p.add_argument("--threads", type=int, default=1, help="torch threads on the CPU (0: torch default)")
    p.add_argument("--allocator", default="tuned", choices=["tuned", "default"],
                   help="glibc malloc as the pipeline's jobs run (tuned: isometry.devices.tune_allocator) or as is")
    p.add_argument("--quick", action="store_true", help="depth 10 x width {32, 128}, 3 rounds")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    device = torch.device(args.device)
    args.allocator_tuned = tune_allocator(args.allocator == "tuned")
    if device.type == "cpu" and args.threads:
        torch.set_num_threads(args.threads)
    if device.type == "cuda":
        args.clock = "wall"
    if args.quick:
        args.depths, args.widths, args.rounds = args.depths or [10], args.widths or [32, 128], min(args.rounds, 3)
    args.depths, args.widths = args.depths or [2, 10, 50], args.widths or [32, 128, 400]
    print(f"sweep_throughput on {device}: E={args.members}, batch {args.batch}, SGD momentum, "
          f"{args.clock} time, allocator {'tuned' if args.allocator_tuned else 'default'}, ratios = peer time / engine "
          f"time (> 1: engine faster)", flush=True)
    peak = matmul_peak(device) if device.type == "cpu" else None
    if peak:
        print(f"core matmul peak (best square fp32 mm): {peak / 1e9:.1f} GFLOP/s", flush=True)
    head = f"{'depth':>5s} {'width':>5s} " + " ".join(f"{'/'.join((q, 'eng')):>9s}" for q in args.peers) + \
        f" {'engine s':>9s} {'sweep/eng':>9s} {'max |dw|':>9s}" + (f" {'ceiling':>8s} {'gemm %pk':>8s}" if peak else "")
    print(head, flush=True)
    rows = []
    for depth in args.depths:
        for width in args.widths:
            S = Setup(args.members, depth, width, args.batch, device)
            row = {"depth": depth, "width": width, "members": args.members, "batch": args.batch}
            for q in args.peers:
                row[q] = run_pair(S, "engine", q, args)
            row["engine_sweep"] = run_pair(S, "engine", "engine_sweep", args)
            row["engine_s"] = median([row[q]["engine_s"] for q in args.peers])
            diff = max(row[q]["max_weight_diff"] for q in args.peers)
            if peak:
                row["bmm_gemm_bound"] = gemm_ceiling(S, peak)
            rows.append(row)
            bound = row.get("bmm_gemm_bound")
            print(f"{depth:5d} {width:5d} " + " ".join(f"{row[q]['ratio']:9.2f}" for q in args.peers) +
                  f" {row['engine_s']:9.4f} {row['engine_sweep']['ratio']:9.2f} {diff:9.1e}" +
                  (f" {bound['ceiling']:8.2f} {100 * bound['gemm_fraction_of_peak']:7.0f}%" if bound else ""),
                  flush=True)
            del S
            gc.collect()
    summary = {q: {"median": median([r[q]["ratio"] for r in rows]), "min": min(r[q]["ratio"] for r in rows)}
               for q in args.peers}
    mid = rows[len(rows) // 2]
    payload = {"benchmark": "sweep_throughput", "machine": machine(device), "matmul_peak_flops": peak, "config": vars(args), "rows": rows,
               "summary": summary, "middle_shape": {"depth": mid["depth"], "width": mid["width"]}}
    tag = device.type + ("_quick" if args.quick else "")
    out = write_json(Path(args.out) if args.out else RESULTS / f"sweep_throughput_{tag}.json", payload)
    print(f"wrote {out}")
    print("engine speed-up, median (min) over shapes: " +
          ", ".join(f"vs {q} {s['median']:.2f}x ({s['min']:.2f}x)" for q, s in summary.items()) +
          f"; middle shape depth {mid['depth']} width {mid['width']}: " +
          ", ".join(f"vs {q} {mid[q]['ratio']:.2f}x" for q in args.peers) +
          (f"; ceiling over bmm there (bmm step / its GEMM time): {mid['bmm_gemm_bound']['ceiling']:.2f}x"
           if "bmm_gemm_bound" in mid else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
