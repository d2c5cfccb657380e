"""What the default-scale run cost, shard by shard, against the cost model: CPU time vs ``cost_s`` (and the SLURM
time limit of 2 x that), max RSS vs the memory request (``PlannedShard.mem_request_mb``).

Reads the Snakemake benchmark files of a finished run (``benchmarks/<paper>/<experiment>/<shard>.tsv``) and plans
the same config with the current code, so the comparison is always against today's estimates.

    snakemake --cores all                                   # the default run (writes benchmarks/)
    python bench/default_run.py                             # -> bench/results/default_run_cpu.json + a table
    python bench/default_run.py --run /path/to/clone --config config/config.yaml

``tests/test_cost.py`` replays the recorded rows: every shard's request must cover its measured max RSS, and its
measured CPU time must fit its SLURM time limit.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, machine, write_json  # noqa: E402

from isometry import pipeline as P  # noqa: E402
from isometry.config import load_config  # noqa: E402

def measured_shards(run: Path, config: dict) -> pd.DataFrame:
    rows = []
    for paper in P.PAPERS:
        for exp in P.load_pipeline(paper).experiments:
            if not isinstance(exp, P.Sweep):
                continue
            for s in P.plan_sweep(config, paper, exp):
                f = run / "benchmarks" / paper / exp.name / f"{s.id}.tsv"
                if not f.exists():
                    continue
                b = pd.read_csv(f, sep="\t").iloc[0]
                rows.append({"paper": paper, "experiment": exp.name, "shard": s.id, "members": len(s.shard.members),
                             "cost_s": round(s.shard.cost_s, 2), "limit_s": 60 * s.runtime_min(),
                             "cpu_s": float(b["cpu_time"]), "wall_s": float(b["s"]),
                             "mem_request_mb": s.mem_request_mb(), "max_rss_mb": float(b["max_rss"])})
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", default=".", help="the folder snakemake ran in (holds benchmarks/)")
    p.add_argument("--config", default="config/config.yaml")
    p.add_argument("--out", default=str(RESULTS / "default_run_cpu.json"))
    a = p.parse_args(argv)
    run = Path(a.run)
    df = measured_shards(run, load_config(run / a.config if not Path(a.config).is_absolute() else a.config))
    if df.empty:
        print(f"error: no shard benchmark files under {run / 'benchmarks'}", file=sys.stderr)
        return 1
    df["cpu_over_cost"] = df.cpu_s / df.cost_s
    df["rss_over_request"] = df.max_rss_mb / df.mem_request_mb
    g = df.groupby(["paper", "experiment"]).agg(
        shards=("shard", "size"), cost_min=("cost_s", lambda x: x.sum() / 60), cpu_min=("cpu_s", lambda x: x.sum() / 60),
        cpu_over_cost=("cpu_over_cost", "median"), max_cpu_over_cost=("cpu_over_cost", "max"),
        max_rss_over_request=("rss_over_request", "max"))
    pd.set_option("display.width", 200)
    print(g.round(2).to_string())
    summary = {"shards": len(df), "cost_min": df.cost_s.sum() / 60, "cpu_min": df.cpu_s.sum() / 60,
               "cpu_over_cost_median": float(df.cpu_over_cost.median()),
               "cpu_over_cost_range": [float(df.cpu_over_cost.min()), float(df.cpu_over_cost.max())],
               "over_time_limit": int((df.cpu_s > df.limit_s).sum()),
               "rss_over_request_max": float(df.rss_over_request.max()),
               "over_memory_request": int((df.max_rss_mb > df.mem_request_mb).sum())}
    print(f"{summary['shards']} shards: cost model {summary['cost_min']:.1f} CPU-min, measured {summary['cpu_min']:.1f}; "
          f"measured / estimated CPU median {summary['cpu_over_cost_median']:.2f} "
          f"({summary['cpu_over_cost_range'][0]:.2f}-{summary['cpu_over_cost_range'][1]:.2f}); over the SLURM time "
          f"limit: {summary['over_time_limit']}; max RSS / memory request at most {summary['rss_over_request_max']:.2f}; "
          f"over the request: {summary['over_memory_request']}")
    out = write_json(Path(a.out), {"benchmark": "default_run", "machine": machine(__import__("torch").device("cpu")),
                                   "config": a.config, "summary": summary, "rows": df.to_dict(orient="records")})
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
