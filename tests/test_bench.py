"""The benchmarks run end to end (tiny sizes): the GPU check's --cpu-smoke path exercises all three of them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


def test_gpu_check_cpu_smoke(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    sys.modules.pop("gpu_check", None)
    import gpu_check
    out = tmp_path / "gpu_check.json"
    assert gpu_check.main(["--cpu-smoke", "--out", str(out)]) == 0
    d = json.loads(out.read_text())
    assert d["cpu_smoke"] and set(d["parts"]) == {"sweep", "deep_cnn", "train"}
    assert all(p["ok"] for p in d["parts"].values())
    sweep = d["parts"]["sweep"]["result"]["rows"][0]
    assert sweep["loop"]["max_weight_diff"] < 1e-5 and sweep["bmm"]["max_weight_diff"] < 1e-5
    deep = d["parts"]["deep_cnn"]["result"]["all_variants"]["results"][0]
    assert deep["loss_spread"] < 1e-5 and {"eager", "stack", "conv_ckpt", "auto"} <= set(deep["variants"])
    assert d["parts"]["train"]["result"]["diverged"] is False
    bound = sweep["bmm_gemm_bound"]                 # the GEMM ceiling column (CPU only)
    assert 0 < bound["gemm_fraction"] <= 1 and abs(bound["ceiling"] * bound["gemm_fraction"] - 1) < 1e-9
    E, B, L, w = sweep["members"], sweep["batch"], sweep["depth"], sweep["width"]
    per = [2 * E * B * o * i for o, i in [(w, 784)] + [(w, w)] * (L - 1) + [(10, w)]]
    assert bound["gemm_flops"] == 2 * sum(per) + sum(per[1:])    # fwd + weight grads + input grads (not layer 1)
