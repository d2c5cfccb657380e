"""Sweep throughput: a Python loop of ordinary PyTorch trainings vs the ensemble engine, in ONE run.

The same sweep (E tanh MLPs of one shape, different lr/seed) is trained
  (a) one network after the other: nn.Sequential of nn.Linear + nn.Tanh, torch.optim.SGD, F.cross_entropy;
  (b) all at once by isometry.engine.train (stacked weights, bmm, one batched SGD step, no per-step host sync).
Each side runs ``--warmup`` untimed steps, then ``--steps`` timed steps (per network for the loop; the loop's time
per sweep step is the sum over networks). Model construction, init and evaluation are not timed.

Writes bench/results/sweep_throughput_<device>.json (or ..._<device>_quick.json) and prints the speed-up as its
LAST line. Default: 64 members, depth 100, width 400, batch 128, MNIST-shaped random data (``--real`` uses
data/mnist if converted). ``--quick`` (32 members, depth 20, width 32, batch 32, one
thread for both sides: on a busy shared CPU, OpenMP spin-waiting makes 2 threads slower and noisier) takes ~15 s
on 2 CPU cores.

On a CPU the engine's advantage is overhead, not arithmetic: bmm over E members does the same FLOPs as E separate
GEMMs, so at width 400 x batch 128 (compute-bound) expect a ratio near 1; at small widths, where one network's step
is dominated by Python, autograd-node and per-parameter optimizer overheads, the engine pays those once per ensemble
instead of once per member. On a GPU the small per-member GEMMs also leave the device mostly idle, so batching
them pays at every size used here.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from isometry.data import Dataset, load_dataset
from isometry.engine import train
from isometry.models import EnsembleMLP
from isometry.spec import Member

RESULTS = Path(__file__).resolve().parent / "results"


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def get_data(real: bool, n: int) -> Dataset:
    if real:
        try:
            return load_dataset("mnist").subset(n, 1000)
        except FileNotFoundError:
            print("data/mnist not converted: using random MNIST-shaped data", file=sys.stderr)
    g = torch.Generator().manual_seed(0)
    return Dataset("mnist", "random-uint8", torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8, generator=g),
                   torch.randint(0, 10, (n,), generator=g),
                   torch.randint(0, 256, (1000, 1, 28, 28), dtype=torch.uint8, generator=g),
                   torch.randint(0, 10, (1000,), generator=g))


def loop_time(members, ds, args, device) -> float:
    """Seconds per sweep step when the networks are trained one after the other (sum over networks)."""
    X, Y = ds.standardize(ds.train_x).flatten(1).to(device), ds.train_y.to(device)
    g = torch.Generator().manual_seed(1)
    total = 0.0
    for m in members:
        torch.manual_seed(m.seed)
        dims = [X.shape[1]] + [args.width] * args.depth
        layers = []
        for i, o in zip(dims[:-1], dims[1:]):
            layers += [nn.Linear(i, o), nn.Tanh()]
        net = nn.Sequential(*layers, nn.Linear(args.width, 10)).to(device)
        opt = torch.optim.SGD(net.parameters(), lr=m.lr)
        idx = torch.randint(0, len(X), (args.warmup + args.steps, args.batch), generator=g).to(device)
        for s in range(args.warmup + args.steps):
            if s == args.warmup:
                sync(device)
                t0 = time.perf_counter()
            opt.zero_grad()
            F.cross_entropy(net(X[idx[s]]), Y[idx[s]]).backward()
            opt.step()
        sync(device)
        total += (time.perf_counter() - t0) / args.steps
    return total


def engine_time(members, ds, args, device) -> float:
    """Seconds per sweep step of the engine (the whole ensemble)."""
    model = EnsembleMLP(len(members), ds.input_shape, 10, depth=args.depth, width=args.width, nonlinearity="tanh")
    marks = {}

    def callback(step, model, opt):
        if step in (args.warmup, args.warmup + args.steps):
            sync(device)
            marks[step] = time.perf_counter()

    train(model, members, ds, steps=args.warmup + args.steps, batch_size=args.batch, log_at=[], eval_examples=256,
          device=device, callback=callback, progress=False)
    return (marks[args.warmup + args.steps] - marks[args.warmup]) / args.steps


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    full = dict(members=64, depth=100, width=400, batch=128, warmup=2, steps=5, threads=None)
    quick = dict(members=32, depth=20, width=32, batch=32, warmup=3, steps=10, threads=1)
    for k in full:
        p.add_argument(f"--{k}", type=int, default=None, help=f"default {full[k]} (--quick: {quick[k]})")
    p.add_argument("--quick", action="store_true", help="small sweep for 2 CPU cores: " +
                   ", ".join(f"{k}={v}" for k, v in quick.items()))
    p.add_argument("--real", action="store_true", help="use data/mnist (converted) instead of random data")
    p.add_argument("--device", default=None, help="cpu | cuda (default: cuda if available)")
    args = p.parse_args(argv)
    for k, v in (quick if args.quick else full).items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    ds = get_data(args.real, max(4 * args.batch, 2048))
    members = [Member(f"m{i}", init="gaussian", sigma_w2=1.0 + 0.01 * i, lr=1e-3 * (1 + i % 4), optimizer="sgd",
                      seed=i) for i in range(args.members)]

    t_engine = engine_time(members, ds, args, device)
    t_loop = loop_time(members, ds, args, device)
    speedup = t_loop / t_engine
    name = device.type + ("_quick" if args.quick else "")
    out = {"members": args.members, "depth": args.depth, "width": args.width, "batch": args.batch,
           "warmup_steps": args.warmup, "timed_steps": args.steps, "device": str(device),
           "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor(),
           "threads": torch.get_num_threads(), "torch": torch.__version__, "data": ds.label,
           "engine_s_per_step": t_engine, "loop_s_per_step": t_loop, "speedup": speedup}
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"sweep_throughput_{name}.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")
    print(f"speedup: {speedup:.1f}x (engine {t_engine:.4g} s/step vs loop {t_loop:.4g} s/step, "
          f"{args.members} members, depth {args.depth}, width {args.width}, batch {args.batch}, {device.type})")


if __name__ == "__main__":
    main()
