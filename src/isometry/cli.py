"""``python -m isometry …``: the commands the Snakemake rules call (rules stay thin; all logic lives here).

    python -m isometry data NAME [--data-dir data] [--mirror DIR ...] [--no-download] [--cifar10-source auto]
    python -m isometry experiment PAPER.NAME --params JSON --output CSV [--input CSV ...] [--threads N --jobs M]
    python -m isometry figure PAPER.NAME --params JSON --output PNG --input CSV [...] [--threads N --jobs M]
    python -m isometry checks PAPER --params JSON --output CSV --input CSV [...]
    python -m isometry merge-checks --output results/checks.csv --input CSV [...]
    python -m isometry validate-config FILE
    python -m isometry advise --nonlinearity relu --depth 100 --width 256 [...]

``--params`` is the JSON of the paper's config section plus the global keys (scale, device, data, ...): the rules
pass it so that Snakemake reruns a job when its parameters change.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path


def _paper_module(paper: str):
    try:
        return importlib.import_module(f"isometry.papers.{paper}")
    except ModuleNotFoundError as exc:
        raise SystemExit(f"error: unknown paper pipeline {paper!r} ({exc})") from exc


def _lookup(table_name: str, dotted: str):
    paper, _, name = dotted.partition(".")
    mod = _paper_module(paper)
    table = getattr(mod, table_name, {})
    if name not in table:
        raise SystemExit(f"error: {paper} has no {table_name[:-1].lower()} {name!r}; known: {', '.join(table)}")
    return table[name]


def _setup_runtime(params: dict, needs_device: bool = True, threads: int | None = None,
                   jobs: int | None = None) -> None:
    """Threads (``--threads``, else the config's ``threads``, else 1; 0 = PyTorch's default; a warning when
    threads x ``--jobs`` exceeds the cores: ``devices.set_threads``), and the device: ``auto`` becomes a leased GPU
    (one per concurrent job) or ``cpu``."""
    from isometry.devices import resolve_device, set_threads

    set_threads(threads if threads is not None else params.get("threads", 1), jobs=jobs)
    if needs_device and "device" in params:
        params["device"] = resolve_device(params["device"])


def cmd_data(a) -> int:
    from isometry.data import DataError, prepare_dataset

    try:
        out = prepare_dataset(a.name, a.data_dir, a.mirror or (), download=not a.no_download,
                              cifar10_source=a.cifar10_source)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(out)
    return 0


def cmd_run(kind: str, a) -> int:
    """Run a paper's experiment or figure. Experiments run inside ``checkpoint.experiment_checkpoints``: every
    ``engine.train`` call checkpoints into ``<output>.ckpt/`` (removed once the output is written), so a rerun after
    a crash or ``kill -9`` resumes instead of starting over (``ISOMETRY_CHECKPOINT_EVERY`` seconds, default 60)."""
    try:
        params = json.loads(a.params) if a.params else {}
    except json.JSONDecodeError as exc:
        print(f"error: --params is not valid JSON ({exc})", file=sys.stderr)
        return 2
    if not isinstance(params, dict):
        print("error: --params must be a JSON object", file=sys.stderr)
        return 2
    inputs, output = [Path(p) for p in a.input], Path(a.output)
    fn = _lookup({"experiment": "EXPERIMENTS", "figure": "FIGURES"}[kind], a.target)
    if kind == "figure":
        _setup_runtime(params, needs_device=False, threads=a.threads, jobs=a.jobs)
        fn(params=params, inputs=inputs, output=output)
        return 0
    from isometry.checkpoint import experiment_checkpoints
    from isometry.config import ConfigError

    ckpt = output.parent / f"{output.name}.ckpt"
    try:
        with experiment_checkpoints(output, a.target, params, inputs, every=params.get("checkpoint_every")):
            _setup_runtime(params, needs_device=True, threads=a.threads, jobs=a.jobs)
            fn(params=params, inputs=inputs, output=output)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:                 # disk full, read-only file system, missing input, ...
        print(f"error: {a.target}: {exc}" + (f"\nnote: finished work is kept in {ckpt}/; rerun the same command "
                                              "to resume from it" if ckpt.is_dir() else ""), file=sys.stderr)
        return 1
    return 0


def cmd_checks(a) -> int:
    params = json.loads(a.params) if a.params else {}
    mod = _paper_module(a.paper)
    mod.CHECKS(params=params, inputs=[Path(p) for p in a.input], output=Path(a.output))
    return 0


def cmd_merge_checks(a) -> int:
    import pandas as pd

    from isometry.checks import CHECK_COLUMNS
    from isometry.io import write_csv

    frames = [pd.read_csv(p) for p in a.input]
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=CHECK_COLUMNS)
    write_csv(df.reindex(columns=CHECK_COLUMNS), a.output)
    n, ok = len(df), int(df["passed"].astype(bool).sum()) if len(df) else 0
    print(f"checks: {ok}/{n} passed")
    return 0


def cmd_validate_config(a) -> int:
    from isometry.config import ConfigError, load_config

    try:
        cfg = load_config(a.file)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(cfg, indent=2))
    return 0


def cmd_advise(a) -> int:
    from isometry.advisor import main as advise_main

    return advise_main(a.rest)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m isometry", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    d = sub.add_parser("data", help="fetch, verify and convert a dataset")
    d.add_argument("name", choices=["mnist", "fashion_mnist", "cifar10"])
    d.add_argument("--data-dir", default="data")
    d.add_argument("--mirror", action="append", help="local mirror directory (repeatable, tried in order)")
    d.add_argument("--no-download", action="store_true")
    d.add_argument("--cifar10-source", default="auto", choices=["auto", "official", "jpeg"])

    for kind in ("experiment", "figure"):
        e = sub.add_parser(kind, help=f"run a paper's {kind} (PAPER.NAME)")
        e.add_argument("target")
        e.add_argument("--params", default="{}")
        e.add_argument("--input", action="append", default=[])
        e.add_argument("--output", required=True)
        e.add_argument("--threads", type=int, default=None,
                       help="torch CPU threads (default: the config's threads, else 1; 0: PyTorch's default)")
        e.add_argument("--jobs", type=int, default=None,
                       help="jobs running at once on this machine, for the oversubscription warning "
                            "(default $ISOMETRY_CONCURRENT_JOBS or 1)")

    c = sub.add_parser("checks", help="compute a paper's rows of results/checks.csv")
    c.add_argument("paper")
    c.add_argument("--params", default="{}")
    c.add_argument("--input", action="append", default=[])
    c.add_argument("--output", required=True)

    m = sub.add_parser("merge-checks", help="concatenate per-paper check tables")
    m.add_argument("--input", action="append", default=[])
    m.add_argument("--output", required=True)

    v = sub.add_parser("validate-config", help="validate a config file and print it with defaults filled in")
    v.add_argument("file")

    adv = sub.add_parser("advise", help="what should my initial weights be? (see --help)", add_help=False)
    adv.add_argument("rest", nargs=argparse.REMAINDER)

    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["advise"]:  # the advisor has its own argument parser
        from isometry.advisor import main as advise_main

        rest = argv[1:]
        return advise_main(rest[1:] if rest[:1] == ["--"] else rest)
    a = p.parse_args(argv)
    if a.cmd == "data":
        return cmd_data(a)
    if a.cmd in ("experiment", "figure"):
        return cmd_run(a.cmd, a)
    if a.cmd == "checks":
        return cmd_checks(a)
    if a.cmd == "merge-checks":
        return cmd_merge_checks(a)
    if a.cmd == "validate-config":
        return cmd_validate_config(a)
    if a.cmd == "advise":
        return cmd_advise(a)
    return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
