"""The GPU check: what a reviewer needs from one CUDA machine, in one JSON, in at most ~8 minutes.

Parts (each timed, each recorded even if a later one fails; the JSON is rewritten after every part):

  sweep      bench/sweep_throughput.py: engine vs loop and vs bmm + fused SGD, E=64, batch 128,
             depth {10, 100} x width {128, 400}
  deep_cnn   bench/deep_cnn.py at L = 10,000, C = 128, batch 128, 8x8 hidden maps, bf16 autocast: step time and peak
             memory of the engine's two hidden-stack implementations (conv = cuDNN per layer, stack =
             isometry.convstack) and of the default (``impl="auto"``, checkpointing by memory estimate), plus
             L = 1,000 with every variant (eager, eager + checkpoint_sequential, engine with/without checkpointing)
  train      a short deep-CNN training run through ``engine.train`` (L = 1,000, C = 128, critical delta-orthogonal,
             momentum SGD, synthetic class-dependent data): loss at steps 0 and N, wall time, diverged flags

    bash bench/gpu_check.sh                     # on the GPU machine -> bench/results/gpu_check_cuda.json
    bash bench/gpu_check.sh --cpu-smoke         # anywhere: the same code path, tiny sizes, ~1 minute on a CPU
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import RESULTS, machine, write_json  # noqa: E402

import deep_cnn  # noqa: E402
import sweep_throughput  # noqa: E402

from isometry.cnn import EnsembleCNN  # noqa: E402
from isometry.data import Dataset  # noqa: E402
from isometry.engine import train  # noqa: E402
from isometry.spec import Member  # noqa: E402


def synthetic(n_train: int, n_test: int, image: int, seed: int = 0) -> Dataset:
    """MNIST-shaped uint8 images whose class shifts the mean of a class-specific pixel block (learnable)."""
    g = torch.Generator().manual_seed(seed)

    def make(n):
        y = torch.randint(0, 10, (n,), generator=g)
        x = torch.randint(0, 128, (n, 1, image, image), generator=g)
        for c in range(10):
            r, col = (c // 5) * (image // 2), (c % 5) * (image // 5)
            x[y == c, :, r:r + image // 2, col:col + max(1, image // 5)] += 100
        return x.clamp(0, 255).to(torch.uint8), y
    (xt, yt), (xe, ye) = make(n_train), make(n_test)
    return Dataset("mnist", "synthetic", xt, yt, xe, ye)


def part_train(device, args) -> dict:
    ds = synthetic(args.train_n, 256, 28)
    members = [Member(f"s{i}", init="delta_orthogonal", sigma_w2=1.05, sigma_b2=2.01e-5, lr=0.25 / args.train_depth,
                      optimizer="momentum", seed=i) for i in range(2)]
    model = EnsembleCNN(2, (1, 28, 28), 10, channels=args.train_channels, depth=args.train_depth, n_down=2)
    mults = {n: (1.0 if n.startswith("hidden") else 100.0) for n, _ in model.named_parameters()}
    t0 = time.perf_counter()
    rows = train(model, members, ds, steps=args.train_steps, batch_size=args.train_batch,
                 log_at=[0, args.train_steps], eval_examples=256, data_seed=0, lr_multipliers=mults, device=device,
                 autocast_bf16=device.type == "cuda", progress=False)
    wall = time.perf_counter() - t0
    first = rows[rows.step == 0].set_index("run_id").train_loss.to_dict()
    last = rows[rows.step == args.train_steps].set_index("run_id").train_loss.to_dict()
    return {"depth": args.train_depth, "channels": args.train_channels, "batch": args.train_batch,
            "steps": args.train_steps, "wall_s": wall, "loss_step0": first, "loss_last": last,
            "diverged": bool(rows.diverged.any()), "impl": model.resolved_impl(args.train_batch, (7, 7), device)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cpu-smoke", action="store_true", help="tiny sizes on the CPU (checks the script end to end)")
    p.add_argument("--parts", nargs="+", default=["sweep", "deep_cnn", "train"])
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    smoke = args.cpu_smoke
    if not smoke and not torch.cuda.is_available():
        print("no CUDA device: run with --cpu-smoke to check the script on a CPU", file=sys.stderr)
        return 2
    device = torch.device("cpu" if smoke else "cuda")
    if smoke:
        torch.set_num_threads(1)
    args.train_depth, args.train_channels, args.train_batch, args.train_steps, args.train_n = \
        (12, 4, 8, 3, 64) if smoke else (1000, 128, 128, 60, 8192)
    out = Path(args.out) if args.out else RESULTS / f"gpu_check_{'cpu_smoke' if smoke else 'cuda'}.json"
    payload = {"benchmark": "gpu_check", "machine": machine(device), "cpu_smoke": smoke, "parts": {}}
    tmp = Path(tempfile.mkdtemp(prefix="gpu_check_"))          # the parts' own JSON files, embedded below
    t_all = time.perf_counter()
    for part in args.parts:
        t0 = time.perf_counter()
        print(f"=== {part}", flush=True)
        try:
            if part == "sweep":
                sub = tmp / "sweep.json"
                a = ["--device", str(device), "--out", str(sub), "--peers", "loop", "bmm"]
                a += (["--members", "4", "--batch", "8", "--depths", "2", "--widths", "16", "--rounds", "1",
                       "--min-time", "0"] if smoke else
                      ["--members", "64", "--batch", "128", "--depths", "10", "100", "--widths", "128", "400",
                       "--rounds", "3"])
                sweep_throughput.main(a)
                res = json.loads(sub.read_text())
            elif part == "deep_cnn":
                sub = tmp / "deep_cnn.json"
                a = ["--device", str(device), "--out", str(sub), "--warmup", "1"]
                a += (["--depths", "12", "--channels", "4", "--batch", "4", "--image", "16", "--n-down", "2",
                       "--rounds", "1"] if smoke else
                      ["--depths", "1000", "--channels", "128", "--batch", "128", "--image", "32", "--n-down", "2",
                       "--rounds", "3"])
                deep_cnn.main(a)
                a_big = ["--device", str(device), "--out", str(tmp / "deep_cnn_10k.json"), "--warmup", "1",
                         "--variants", "conv", "stack", "auto"]
                a_big += (["--depths", "40", "--channels", "4", "--batch", "4", "--image", "16", "--n-down", "2",
                           "--rounds", "1"] if smoke else
                          ["--depths", "10000", "--channels", "128", "--batch", "128", "--image", "32",
                           "--n-down", "2", "--rounds", "2"])
                deep_cnn.main(a_big)
                res = {"all_variants": json.loads(sub.read_text()),
                       "depth_10000": json.loads((tmp / "deep_cnn_10k.json").read_text())}
            elif part == "train":
                res = part_train(device, args)
            else:
                raise ValueError(f"unknown part {part!r}")
            payload["parts"][part] = {"ok": True, "seconds": time.perf_counter() - t0, "result": res}
        except Exception as exc:                                  # record and go on with the next part
            traceback.print_exc()
            payload["parts"][part] = {"ok": False, "seconds": time.perf_counter() - t0, "error": repr(exc)}
        payload["total_seconds"] = time.perf_counter() - t_all
        write_json(out, payload)
    print(f"wrote {out} ({payload['total_seconds']:.0f} s); parts ok: "
          + ", ".join(f"{k}={v['ok']}" for k, v in payload["parts"].items()))
    return 0 if all(v["ok"] for v in payload["parts"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
