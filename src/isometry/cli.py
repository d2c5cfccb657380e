"""``python -m isometry …``: the commands the Snakemake rules call (rules stay thin; all logic lives here).

    python -m isometry data NAME [--data-dir data] [--mirror DIR ...] [--no-download] [--cifar10-source auto]
    python -m isometry experiment PAPER.NAME (--config FILE | --params JSON) --output CSV [--input CSV ...] [--threads N --jobs M]
    python -m isometry shard PAPER.SWEEP SHARD_ID --config FILE --output CSV
    python -m isometry aggregate PAPER.SWEEP --config FILE --output CSV
    python -m isometry shards PAPER [SWEEP] [--config FILE] [--members]
    python -m isometry figure PAPER.NAME (--config FILE | --params JSON) --output PNG --input CSV [...] [--threads N --jobs M]
    python -m isometry checks PAPER (--config FILE | --params JSON) --output CSV --input CSV [...]
    python -m isometry merge-checks --output results/checks.csv --input CSV [...]
    python -m isometry scorecard [results/checks.csv] [--all]
    python -m isometry validate-config FILE
    python -m isometry advise --nonlinearity relu --depth 100 --width 256 [...]

The workflow passes ``--config results/config/config-<hash>.yaml`` (the resolved config it was parsed with); each
job scopes its own params from it (``isometry.pipeline``: only the keys the job declares). ``--params`` (JSON of a
paper's config section plus the global keys) runs a job on params given by hand.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path


class UsageError(Exception):
    """Bad command-line input (a config, params or target that cannot be used): ``main`` prints it, exit 2."""


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
    threads x ``--jobs`` exceeds the cores: ``devices.set_threads``), the allocator (``devices.tune_allocator``:
    freed large blocks are reused instead of page-faulted in again every step), and the device: ``auto`` becomes a
    leased GPU (one per concurrent job) or ``cpu``."""
    from isometry.devices import resolve_device, set_threads, tune_allocator

    tune_allocator()
    set_threads(threads if threads is not None else params.get("threads", 1), jobs=jobs)
    if needs_device and "device" in params:
        params["device"] = resolve_device(params["device"])


def cmd_data(a) -> int:
    from isometry.data import DataError, prepare_dataset

    try:
        out = prepare_dataset(a.name, a.data_dir, a.mirror or (), download=not a.no_download,
                              cifar10_source=a.cifar10_source)
    except (DataError, OSError) as exc:     # OSError: a full disk (DiskFullError names the file), ...
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(out)
    return 0


def _load_params(a, kind: str, paper: str, name: str | None = None):
    """The job's params: scoped from ``--config FILE`` (what the workflow passes), or ``--params JSON`` as given.

    Returns (params, config or None). Bad JSON / config -> SystemExit(2) with the reason."""
    from isometry.config import ConfigError, load_config
    from isometry.pipeline import PlanError, load_pipeline
    from isometry import pipeline as P

    if getattr(a, "config", None):
        try:
            config = load_config(a.config)
            pipe = load_pipeline(paper)
            if kind == "experiment":
                exp = pipe.experiment(name)
                params = P.experiment_params(config, paper, exp)
            elif kind == "figure":
                params = P.figure_params(config, paper, pipe.figure(name))
            else:
                params = P.checks_params(config, paper, pipe)
        except (ConfigError, PlanError, OSError) as exc:
            raise SystemExit(f"error: {exc}") from exc
        params["data_dir"] = config["data"]["dir"]
        params["threads"] = config.get("threads", 1)
        return params, config
    try:
        params = json.loads(a.params) if a.params else {}
    except json.JSONDecodeError as exc:
        raise UsageError(f"--params is not valid JSON ({exc})") from exc
    if not isinstance(params, dict):
        raise UsageError("--params must be a JSON object")
    return params, None


def cmd_run(kind: str, a) -> int:
    """Run a paper's experiment or figure. Experiments run inside ``checkpoint.experiment_checkpoints``: every
    ``engine.train`` call checkpoints into ``<output>.ckpt/`` (removed once the output is written), so a rerun after
    a crash or ``kill -9`` resumes instead of starting over (``ISOMETRY_CHECKPOINT_EVERY`` seconds, default 60).
    A sweep named as an experiment runs all its shards in this process, then aggregates (the workflow instead runs
    each shard as its own job: ``python -m isometry shard``)."""
    from isometry import pipeline as P

    paper, _, name = a.target.partition(".")
    params, config = _load_params(a, kind, paper, name)
    inputs, output = [Path(p) for p in a.input], Path(a.output)
    if kind == "figure":
        try:
            fn = P.load_pipeline(paper).figure(name).draw
        except P.PlanError:
            fn = _lookup("FIGURES", a.target)
        _setup_runtime(params, needs_device=False, threads=a.threads, jobs=a.jobs)
        figs = dict.get(params, "figures")            # scoped to this figure's entry, when it has one
        opts = figs.get(name, {}) if isinstance(figs, dict) else {}
        if opts.get("dpi"):
            import matplotlib

            matplotlib.rcParams["savefig.dpi"] = int(opts["dpi"])
        fn(params=params, inputs=inputs, output=output)
        return 0
    from isometry.checkpoint import experiment_checkpoints
    from isometry.config import ConfigError
    from isometry.process import die_with_parent

    die_with_parent()                      # a Snakemake job: stop when Snakemake is killed (even by kill -9)

    try:
        exp = P.load_pipeline(paper).experiment(name)
    except P.PlanError:
        exp = None                                  # e.g. the generic ``sweep.mlp`` experiment (no PIPELINE)
    ckpt = output.parent / f"{output.name}.ckpt"
    try:
        with experiment_checkpoints(output, a.target, params, inputs, every=params.get("checkpoint_every")):
            _setup_runtime(params, needs_device=True, threads=a.threads, jobs=a.jobs)
            if isinstance(exp, P.Sweep):
                cfg = config if config is not None else P.config_from_params(paper, params)
                P.run_sweep_inline(P.load_pipeline(paper), name, cfg, output, device=params.get("device", "cpu"),
                                   data_dir=params.get("data_dir"))
            else:
                fn = exp.run if exp is not None else _lookup("EXPERIMENTS", a.target)
                fn(params=params, inputs=inputs, output=output)
    except (ConfigError, P.PlanError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:                 # disk full, read-only file system, missing input, ...
        print(f"error: {a.target}: {exc}" + _resume_note(exc, ckpt), file=sys.stderr)
        return 1
    return 0


def _resume_note(exc: OSError, ckpt: Path) -> str:
    """How to resume, unless the checkpoint directory belongs to another live process (then it is not ours)."""
    from isometry.checkpoint import CheckpointInUseError

    if isinstance(exc, CheckpointInUseError) or not ckpt.is_dir():
        return ""
    return f"\nnote: finished work is kept in {ckpt}/; rerun the same command to resume from it"


def _load_config_or_exit(path):
    from isometry.config import ConfigError, load_config

    try:
        return load_config(path)
    except (ConfigError, OSError) as exc:
        raise UsageError(str(exc)) from exc


def cmd_shard(a) -> int:
    """Train one shard of a sweep: ``python -m isometry shard PAPER.EXP SHARD_ID --config FILE --output CSV``."""
    from isometry import pipeline as P
    from isometry.checkpoint import experiment_checkpoints

    from isometry.process import die_with_parent

    die_with_parent()                      # a Snakemake job: stop when Snakemake is killed (even by kill -9)
    paper, _, name = a.target.partition(".")
    config = _load_config_or_exit(a.config)
    output = Path(a.output)
    ckpt = output.parent / f"{output.name}.ckpt"
    try:
        pipe = P.load_pipeline(paper)
        planned = {p.id: p for p in P.plan_sweep(config, paper, pipe.experiment(name))} \
            if isinstance(pipe.experiment(name), P.Sweep) else {}
        if a.shard not in planned:
            raise P.PlanError(f"{a.target}: no shard {a.shard!r} in the plan of {a.config} "
                              f"({len(planned)} shards; list them with `python -m isometry shards {paper} {name} "
                              f"--config {a.config}`)")
        rt = {"threads": config.get("threads", 1), "device": config.get("device", "auto")}
        with experiment_checkpoints(output, f"{a.target}/{a.shard}", planned[a.shard].shard.spec, ()):
            _setup_runtime(rt, needs_device=True)
            P.run_shard(pipe, name, a.shard, config, output, device=rt["device"])
    except P.PlanError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {a.target} {a.shard}: {exc}" + _resume_note(exc, ckpt), file=sys.stderr)
        return 1
    return 0


def cmd_aggregate(a) -> int:
    """Concatenate a sweep's shard CSVs (plan order) into ``results/<paper>/<exp>.csv`` and apply its finish."""
    import pandas as pd

    from isometry import pipeline as P
    from isometry.io import write_csv

    paper, _, name = a.target.partition(".")
    config = _load_config_or_exit(a.config)
    output = Path(a.output)
    try:
        pipe = P.load_pipeline(paper)
        shards = P.plan_sweep(config, paper, pipe.experiment(name))
    except P.PlanError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    paths = [output.parent / name / "shards" / f"{s.id}.csv" for s in shards]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"error: {a.target}: {len(missing)} shard CSV(s) missing, e.g. {missing[0]}", file=sys.stderr)
        return 1
    df = P.aggregate(pipe, name, config, [pd.read_csv(p) for p in paths])
    write_csv(df, output)
    print(f"{output}: {len(df)} rows from {len(paths)} shard(s)")
    return 0


def cmd_shards(a) -> int:
    """List a paper's shards (id, members, estimated cost) for the config."""
    from isometry import pipeline as P

    config = _load_config_or_exit(a.config)
    try:
        pipe = P.load_pipeline(a.paper)
        sweeps = [e for e in pipe.experiments if isinstance(e, P.Sweep) and (not a.experiment or e.name == a.experiment)]
        if a.experiment and not sweeps:
            pipe.experiment(a.experiment)          # raises with the known names if unknown
            print(f"{a.paper}.{a.experiment} is a theory experiment (one job, no shards)")
            return 0
        for exp in sweeps:
            shards = P.plan_sweep(config, a.paper, exp)
            total = sum(s.shard.cost_s for s in shards)
            print(f"{a.paper}.{exp.name}: {len(shards)} shard(s), estimated {total / 60:.1f} CPU-core minutes")
            for s in shards:
                members = s.shard.members
                print(f"  {s.id}  members={len(members)}  est={s.shard.cost_s / 60:.1f} min  "
                      f"mem~{s.mem_request_mb()} MB  data={','.join(s.shard.data) or '-'}")
                if a.members:
                    for m in members:
                        print("      " + json.dumps(m, sort_keys=True))
            if sweeps and exp is sweeps[0] and shards:
                print(f"  rerun one: snakemake --cores 1 --forcerun results/{a.paper}/{exp.name}/shards/"
                      f"{shards[0].id}.csv")
    except P.PlanError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_checks(a) -> int:
    from isometry import pipeline as P

    params, _ = _load_params(a, "checks", a.paper)
    try:
        fn = P.load_pipeline(a.paper).checks
    except P.PlanError:
        fn = _paper_module(a.paper).CHECKS
    fn(params=params, inputs=[Path(p) for p in a.input], output=Path(a.output))
    return 0


def cmd_merge_checks(a) -> int:
    """Concatenate the per-paper check tables into the scorecard and print its headline (paper rows only)."""
    import pandas as pd

    from isometry.checks import CHECK_COLUMNS, headline
    from isometry.io import write_csv

    if not a.input:
        print("error: merge-checks needs at least one --input (a results/<paper>/checks.csv)", file=sys.stderr)
        return 2
    frames = []
    for path in a.input:
        try:
            df = pd.read_csv(path)
        except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            print(f"error: cannot read check table {path}: {exc}", file=sys.stderr)
            return 1
        missing = [c for c in ("claim", "paper", "passed") if c not in df.columns]
        if missing:
            print(f"error: {path} is not a check table (no column(s) {', '.join(missing)}; "
                  f"expected {', '.join(CHECK_COLUMNS)})", file=sys.stderr)
            return 2
        frames.append(df)
    df = pd.concat(frames, ignore_index=True).reindex(columns=CHECK_COLUMNS)
    df["kind"] = df["kind"].fillna("theory")
    write_csv(df, a.output)
    print(f"checks: {headline(df)}")
    return 0


def cmd_scorecard(a) -> int:
    """Print the scorecard as Markdown: the headline, paper / theory counts per paper, and one line per ``paper`` row
    (``--all``: every row) with the paper's value, ours, and the verdict. What the README's scorecard section shows."""
    import pandas as pd

    from isometry.checks import headline

    try:
        df = pd.read_csv(a.file)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        print(f"error: cannot read the scorecard {a.file}: {exc} (run snakemake first)", file=sys.stderr)
        return 1
    missing = [c for c in ("paper", "kind", "claim", "passed") if c not in df.columns]
    if missing:
        print(f"error: {a.file} is not a scorecard (no column(s) {', '.join(missing)})", file=sys.stderr)
        return 2
    ok = df["passed"].astype(str).str.lower().isin(["true", "1"])
    print(f"**{headline(df)}**\n")
    print("| paper | paper claims reproduced | theory checks passing |\n|---|---|---|")
    for paper, g in df.groupby("paper", sort=False):
        p, t = g["kind"] == "paper", g["kind"] == "theory"
        print(f"| {paper} | {int(ok[g.index][p].sum())} / {int(p.sum())} | {int(ok[g.index][t].sum())} / {int(t.sum())} |")
    rows = df if a.all else df[df["kind"] == "paper"]
    print("\n| paper | figure | claim | source | paper value | ours | tolerance | reproduced |\n|---|---|---|---|---|---|---|---|")

    def cell(v):
        if isinstance(v, float):
            return "" if v != v else f"{v:.4g}"
        return str(v).replace("|", "\\|").replace("\n", " ")

    for i, r in rows.iterrows():
        print("| " + " | ".join(cell(r.get(c, "")) for c in ("paper", "figure", "claim", "source", "paper_value",
                                                            "reproduced_value", "tolerance"))
              + f" | {'yes' if ok[i] else '**no**'} |")
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
        src = e.add_mutually_exclusive_group()
        src.add_argument("--config", help="config file (the job's params are scoped from it)")
        src.add_argument("--params", default="{}", help="the params as JSON (unscoped)")
        e.add_argument("--input", action="append", default=[])
        e.add_argument("--output", required=True)
        e.add_argument("--threads", type=int, default=None,
                       help="torch CPU threads (default: the config's threads, else 1; 0: PyTorch's default)")
        e.add_argument("--jobs", type=int, default=None,
                       help="jobs running at once on this machine, for the oversubscription warning "
                            "(default $ISOMETRY_CONCURRENT_JOBS or 1)")

    sh = sub.add_parser("shard", help="train one shard of a sweep (PAPER.EXPERIMENT SHARD_ID)")
    sh.add_argument("target")
    sh.add_argument("shard")
    sh.add_argument("--config", required=True)
    sh.add_argument("--output", required=True)

    ag = sub.add_parser("aggregate", help="concatenate a sweep's shard CSVs into results/<paper>/<exp>.csv")
    ag.add_argument("target")
    ag.add_argument("--config", required=True)
    ag.add_argument("--output", required=True)

    ls = sub.add_parser("shards", help="list a paper's sweep shards (ids, members, estimated cost)")
    ls.add_argument("paper")
    ls.add_argument("experiment", nargs="?")
    ls.add_argument("--config", default="config/config.yaml")
    ls.add_argument("--members", action="store_true", help="print every member of every shard")

    c = sub.add_parser("checks", help="compute a paper's rows of results/checks.csv")
    c.add_argument("paper")
    csrc = c.add_mutually_exclusive_group()
    csrc.add_argument("--config")
    csrc.add_argument("--params", default="{}")
    c.add_argument("--input", action="append", default=[])
    c.add_argument("--output", required=True)

    m = sub.add_parser("merge-checks", help="concatenate per-paper check tables")
    m.add_argument("--input", action="append", default=[])
    m.add_argument("--output", required=True)

    sc = sub.add_parser("scorecard", help="print the scorecard (results/checks.csv) as Markdown")
    sc.add_argument("file", nargs="?", default="results/checks.csv")
    sc.add_argument("--all", action="store_true", help="every row, not only the paper rows")

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
    try:
        return _dispatch(a)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _dispatch(a) -> int:
    if a.cmd == "data":
        return cmd_data(a)
    if a.cmd in ("experiment", "figure"):
        return cmd_run(a.cmd, a)
    if a.cmd == "shard":
        return cmd_shard(a)
    if a.cmd == "aggregate":
        return cmd_aggregate(a)
    if a.cmd == "shards":
        return cmd_shards(a)
    if a.cmd == "checks":
        return cmd_checks(a)
    if a.cmd == "merge-checks":
        return cmd_merge_checks(a)
    if a.cmd == "scorecard":
        return cmd_scorecard(a)
    if a.cmd == "validate-config":
        return cmd_validate_config(a)
    if a.cmd == "advise":
        return cmd_advise(a)
    return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
