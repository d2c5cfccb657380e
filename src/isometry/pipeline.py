"""What a paper pipeline is made of, as Snakemake jobs: experiments (theory jobs and training sweeps cut into
shards), figures and checks, each declaring exactly which config keys it reads.

The DAG of one paper (DESIGN.md, "One picture")::

    config ─► Sweep.plan ─► shard jobs ─► results/<paper>/<exp>/shards/<shard>.csv ─► aggregate ─► results/<paper>/<exp>.csv
           └► Theory job ───────────────────────────────────────────────────────────────────────► results/<paper>/<exp>.csv
    results/<paper>/<exp>.csv ─► Figure jobs (figures/<paper>/<fig>.png)   and   ─► checks (results/<paper>/checks.csv)

**Scoped params.** Every job receives only the keys of its paper's config section that it declares in ``uses``
(dotted paths such as ``"train"``, ``"deep_cnn_curves"`` or ``"depth_sweep.figure"``), plus the globals ``paper``
and ``scale`` (experiments also get ``device``; a sweep's planner also gets ``max_ensemble``). A path that selects a
mapping brings it without its ``figure`` and ``checks`` sub-keys (those belong to the figure and the checks), unless
the path names them. Reading a key that exists in the config but was not declared raises ``KeyError`` (``Scoped``),
so a job cannot silently depend on something Snakemake does not track. Snakemake tracks each job's scoped params,
so editing a key reruns only the jobs that read it.

**Shards are content-addressed.** A shard's id is ``<key>-<sha1 of its spec>[:10]`` (``Shard.id``), and its CSV is
``results/<paper>/<exp>/shards/<id>.csv``: changing what a shard trains makes a new shard; adding a depth adds
shards and leaves the others alone. The aggregate concatenates the shards in plan order (and applies ``finish``).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence, Union

import pandas as pd

RESERVED = ("figure", "checks")          # sub-keys of an experiment section that belong to its figure / checks
PAPERS = ("saxe2014", "sussillo2014", "pennington2017", "xiao2018", "extras")
_KEY_RE = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.-]*$")


class PlanError(ValueError):
    """A pipeline cannot be planned from this config (the message names the config key)."""


# ------------------------------------------------------------------------------------------------- scoped params
class Scoped(dict):
    """A dict of declared keys that refuses, with ``KeyError``, keys the config has but the job did not declare.

    ``hidden`` holds the undeclared keys at this level (and ``Scoped`` children know theirs), so ``p["x"]`` and
    ``p.get("x", default)`` both fail loudly for an undeclared ``x`` instead of silently using a default.
    """

    def __init__(self, data: dict, hidden: Iterable[str] = (), where: str = ""):
        super().__init__(data)
        self._hidden = frozenset(hidden)
        self._where = where

    def _refuse(self, key):
        where = f"{self._where}." if self._where else ""
        raise KeyError(f"config key '{where}{key}' is not among this job's declared `uses` "
                       "(isometry.pipeline: declare it so that Snakemake reruns the job when it changes)")

    def __getitem__(self, key):
        if key in self._hidden and not dict.__contains__(self, key):
            self._refuse(key)
        return dict.__getitem__(self, key)

    def get(self, key, default=None):
        if key in self._hidden and not dict.__contains__(self, key):
            self._refuse(key)
        return dict.get(self, key, default)

    def __contains__(self, key):
        if key in self._hidden and not dict.__contains__(self, key):
            self._refuse(key)
        return dict.__contains__(self, key)

    def plain(self):
        """A plain, JSON-serialisable copy."""
        return _plain(self)


def _plain(v):
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in dict.items(v)}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


def _select(section: dict, path: str, paper: str):
    """(value, keys) of a dotted ``path`` in ``section``; mappings lose their reserved sub-keys unless named."""
    cur = section
    parts = path.split(".")
    for i, p in enumerate(parts):
        if not isinstance(cur, dict) or p not in cur:
            return None, False
        cur = cur[p]
    if isinstance(cur, dict) and parts[-1] not in RESERVED:
        cur = {k: v for k, v in cur.items() if k not in RESERVED}
    return cur, True


def _merge(dst: dict, parts: list[str], value):
    for p in parts[:-1]:
        dst = dst.setdefault(p, {})
    if isinstance(value, dict) and isinstance(dst.get(parts[-1]), dict):
        dst[parts[-1]].update(value)
    else:
        dst[parts[-1]] = value


def _wrap(scoped: dict, full: dict, where: str) -> Scoped:
    """Turn nested dicts into ``Scoped`` with the hidden keys = keys of ``full`` (the unscoped config) not kept."""
    out = {}
    for k, v in scoped.items():
        fv = full.get(k) if isinstance(full, dict) else None
        out[k] = _wrap(v, fv, f"{where}.{k}" if where else k) if isinstance(v, dict) and isinstance(fv, dict) else v
    hidden = set(full) - set(scoped) if isinstance(full, dict) else set()
    return Scoped(out, hidden, where)


def scope(config: dict, paper: str, uses: Sequence[str], *, extra_globals: Sequence[str] = ()) -> Scoped:
    """The params of one job: the declared paths of ``config[paper]`` plus ``paper``, ``scale`` and
    ``extra_globals`` (e.g. ``device``, ``max_ensemble``) from the top level. A declared path that the config
    lacks is simply absent (schemas fill defaults before planning)."""
    section = config.get(paper, {})
    out: dict = {}
    for path in uses:
        value, found = _select(section, path, paper)
        if found:
            _merge(out, path.split("."), json.loads(json.dumps(value)))
    out["paper"] = paper
    out["scale"] = config.get("scale", "quick")
    for g in extra_globals:
        if g in config:
            out[g] = json.loads(json.dumps(config[g]))
    full = dict(section)
    full.update({k: config[k] for k in ("scale", "device", "threads", "max_ensemble", "data") if k in config})
    return _wrap(out, full, paper)


# --------------------------------------------------------------------------------------------------- the pieces
@dataclass(frozen=True)
class Shard:
    """One training job of a sweep: one ensemble of same-shape members (at most ``max_ensemble``).

    key     readable part of the id (``d300-delta_orthogonal``): letters, digits, ``._-``
    spec    JSON-serialisable; everything ``Sweep.run`` needs (members, shape, steps, dataset names, recipe)
    data    names of the datasets it reads (``mnist``, ``fashion_mnist``, ``cifar10``)
    cost_s  estimated seconds on one CPU core (a cost model; SLURM time limits, ``isometry shards``)
    mem_mb  the experiment's estimate of the job's memory, with a 400 MB allowance for the process
            (``cost.ASSUMED_BASE_MB``); the job requests ``cost.job_memory_mb`` of it (measured process base,
            dataset, slack): ``PlannedShard.mem_request_mb``
    gpu     whether a GPU helps (the job then requests one)
    """

    key: str
    spec: dict
    data: tuple[str, ...] = ()
    cost_s: float = 60.0
    mem_mb: float = 1000.0
    gpu: bool = True

    def __post_init__(self):
        if not _KEY_RE.match(self.key):
            raise ValueError(f"shard key {self.key!r}: use letters, digits, '.', '_' and '-' only")

    @property
    def members(self) -> list:
        """The member rows of the shard's ensemble (``spec["members"]`` or ``spec["job"]["members"]``)."""
        spec = self.spec
        if isinstance(spec.get("members"), list):
            return spec["members"]
        job = spec.get("job")
        return job.get("members", []) if isinstance(job, dict) else []

    @property
    def digest(self) -> str:
        return hashlib.sha1(json.dumps(self.spec, sort_keys=True, default=str).encode()).hexdigest()[:10]

    @property
    def id(self) -> str:
        return f"{self.key}-{self.digest}"


@dataclass(frozen=True)
class RunContext:
    """What a shard's ``run`` gets besides its spec: where data lives and which device to train on."""

    data_dir: str = "data"
    device: str = "cpu"

    def dataset(self, name: str):
        from isometry.data import load_dataset

        return load_dataset(name, self.data_dir)


@dataclass(frozen=True)
class Sweep:
    """A training sweep: ``plan(params) -> [Shard]`` (pure, cheap, no data; runs when Snakemake parses the
    workflow), ``run(spec, ctx) -> DataFrame`` (one shard), ``finish(df, params) -> DataFrame`` (optional, on the
    concatenation of the shards in plan order)."""

    name: str
    plan: Callable[[dict], list[Shard]]
    run: Callable[[dict, RunContext], pd.DataFrame]
    uses: tuple[str, ...] = ()
    finish: Callable[[pd.DataFrame, dict], pd.DataFrame] | None = None
    finish_uses: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()            # other experiments' CSVs the plan needs (rare; none today)


@dataclass(frozen=True)
class Theory:
    """One job: ``run(params, inputs, output)`` writes ``results/<paper>/<name>.csv``. ``inputs`` are other
    experiments of the same paper whose CSVs it reads; ``data`` the datasets; ``memory(params)`` optionally returns
    (estimated MB, the config key that drives it) so that an absurd size is refused before the job starts."""

    name: str
    run: Callable
    uses: tuple[str, ...] = ()
    data: tuple[str, ...] | Callable[[dict], Sequence[str]] = ()
    inputs: tuple[str, ...] = ()
    gpu: bool = False
    memory: Callable[[dict], tuple[float, str]] | None = None


Experiment = Union[Sweep, Theory]


def dense_memory(key: str, matrices: float = 16.0, bytes_per: int = 8) -> Callable[[dict], tuple[float, str]]:
    """A ``Theory.memory`` estimate for jobs that hold a few dense N x N matrices (Jacobians, products of random
    matrices): ``matrices`` x N^2 x ``bytes_per`` bytes, N = the config value at ``key`` (dotted, inside the paper's
    section; the largest value when it is a list)."""

    def estimate(params: dict) -> tuple[float, str]:
        v: object = params
        for part in key.split("."):
            v = v[part]                                    # type: ignore[index]
        n = max(v) if isinstance(v, (list, tuple)) else v  # type: ignore[arg-type]
        return matrices * float(n) ** 2 * bytes_per / 1e6, key

    return estimate


@dataclass(frozen=True)
class Figure:
    """``draw(params, inputs, output)``: ``inputs`` are the CSV paths of the experiments named in ``inputs``."""

    name: str
    inputs: tuple[str, ...]
    draw: Callable
    uses: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pipeline:
    paper: str
    experiments: tuple[Experiment, ...]
    figures: tuple[Figure, ...]
    checks: Callable | None = None          # checks(params, inputs, output) -> writes the paper's check rows
    checks_inputs: tuple[str, ...] = ()
    checks_uses: tuple[str, ...] = ()

    def experiment(self, name: str) -> Experiment:
        for e in self.experiments:
            if e.name == name:
                return e
        raise PlanError(f"{self.paper} has no experiment {name!r}; known: {', '.join(self.names)}")

    def figure(self, name: str) -> Figure:
        for f in self.figures:
            if f.name == name:
                return f
        raise PlanError(f"{self.paper} has no figure {name!r}; known: {', '.join(f.name for f in self.figures)}")

    @property
    def names(self) -> list[str]:
        return [e.name for e in self.experiments]


def load_pipeline(paper: str) -> Pipeline:
    try:
        mod = importlib.import_module(f"isometry.papers.{paper}")
    except ModuleNotFoundError as exc:
        raise PlanError(f"unknown paper pipeline {paper!r} ({exc})") from exc
    pipe = getattr(mod, "PIPELINE", None)
    if not isinstance(pipe, Pipeline):
        raise PlanError(f"isometry.papers.{paper} defines no PIPELINE")
    return pipe


# --------------------------------------------------------------------------------------------------- planning
def experiment_params(config: dict, paper: str, exp: Experiment) -> Scoped:
    extra = ("device", "max_ensemble") if isinstance(exp, Sweep) else ("device",)
    return scope(config, paper, exp.uses, extra_globals=extra)


def finish_params(config: dict, paper: str, exp: Sweep) -> Scoped:
    return scope(config, paper, exp.finish_uses)


def figure_params(config: dict, paper: str, fig: Figure) -> Scoped:
    """The figure's declared keys plus its drawing options ``figures.<name>`` (e.g. ``dpi``)."""
    return scope(config, paper, tuple(fig.uses) + (f"figures.{fig.name}",))


def checks_params(config: dict, paper: str, pipe: Pipeline) -> Scoped:
    return scope(config, paper, pipe.checks_uses)


@dataclass
class PlannedShard:
    paper: str
    experiment: str
    shard: Shard
    device: str

    @property
    def id(self) -> str:
        return self.shard.id

    def mem_request_mb(self) -> int:
        """Memory requested from Snakemake / SLURM (MB): ``cost.job_memory_mb`` of the shard's estimate and data."""
        from isometry.cost import job_memory_mb
        return int(math.ceil(job_memory_mb(self.shard.mem_mb, self.shard.data)))

    def runtime_min(self) -> int:
        """SLURM time limit (minutes): 2x the cost model on a CPU core, divided by ``GPU_SPEEDUP`` on a GPU, at
        least 5."""
        s = 2.0 * self.shard.cost_s / (GPU_SPEEDUP if (self.shard.gpu and self.device != "cpu") else 1.0)
        return max(5, int(math.ceil(s / 60.0)))


GPU_SPEEDUP = 20.0     # a rough CPU-core -> one modern GPU factor for the batched engine (runtime estimates only)


def plan_sweep(config: dict, paper: str, exp: Sweep) -> list[PlannedShard]:
    params = experiment_params(config, paper, exp)
    try:
        shards = exp.plan(params)
    except KeyError as exc:
        raise PlanError(f"{paper}.{exp.name}: {exc.args[0] if exc.args else exc}") from exc
    seen: dict[str, Shard] = {}
    for s in shards:
        if s.id in seen:
            raise PlanError(f"{paper}.{exp.name}: two shards with the same content ({s.id})")
        seen[s.id] = s
    device = str(config.get("device", "auto"))
    return [PlannedShard(paper, exp.name, s, device) for s in shards]


def check_memory(config: dict, paper: str, shards: Iterable[PlannedShard] = (), theory: Iterable = ()) -> None:
    """Refuse jobs whose memory estimate exceeds ``max_job_memory_gb`` (default: this machine's RAM)."""
    limit_gb = config.get("max_job_memory_gb") or machine_memory_gb()
    limit_mb = 1024.0 * float(limit_gb)
    for s in shards:
        mb = s.mem_request_mb()
        if mb > limit_mb:
            raise PlanError(f"config section '{paper}.{s.experiment}': shard {s.id} needs an estimated "
                            f"{mb / 1024:.1f} GB, more than max_job_memory_gb = {limit_gb:g} GB; "
                            "reduce its sizes (width, depth, members, batch) or raise max_job_memory_gb")
    for exp, params in theory:
        if exp.memory is None:
            continue
        mb, key = exp.memory(params)
        if mb > limit_mb:
            raise PlanError(f"config key '{paper}.{key}': the {exp.name} job needs an estimated {mb / 1024:.1f} GB, "
                            f"more than max_job_memory_gb = {limit_gb:g} GB; reduce it or raise max_job_memory_gb")


def machine_memory_gb() -> float:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 64.0


def experiment_data(config: dict, paper: str, exp: Experiment, shards: Sequence[PlannedShard] = ()) -> list[str]:
    if isinstance(exp, Sweep):
        return sorted({d for s in shards for d in s.shard.data})
    data = exp.data(experiment_params(config, paper, exp)) if callable(exp.data) else exp.data
    return sorted(set(data))


# ------------------------------------------------------------------------------------------------ running jobs
def run_shard(pipe: Pipeline, exp_name: str, shard_id: str, config: dict, output, *, data_dir: str | None = None,
              device: str | None = None) -> pd.DataFrame:
    """Train one shard (found by id in the plan of ``config``) and write its CSV (the ``shard`` job)."""
    from isometry.io import write_csv

    exp = pipe.experiment(exp_name)
    if not isinstance(exp, Sweep):
        raise PlanError(f"{pipe.paper}.{exp_name} is not a sweep (it has no shards)")
    planned = {p.id: p for p in plan_sweep(config, pipe.paper, exp)}
    if shard_id not in planned:
        raise PlanError(f"{pipe.paper}.{exp_name}: no shard {shard_id!r} in this config's plan "
                        f"({len(planned)} shards; list them with `python -m isometry shards {pipe.paper} {exp_name}`)")
    ctx = RunContext(data_dir=data_dir or config.get("data", {}).get("dir", "data"), device=device or "cpu")
    df = exp.run(planned[shard_id].shard.spec, ctx)
    df = df.copy()
    df["shard"] = shard_id
    write_csv(df, output)
    return df


def shard_paths(results_dir, paper: str, exp_name: str, shards: Sequence[PlannedShard]) -> list[Path]:
    return [Path(results_dir) / paper / exp_name / "shards" / f"{s.id}.csv" for s in shards]


def aggregate(pipe: Pipeline, exp_name: str, config: dict, frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate shard frames (plan order) and apply the sweep's ``finish``."""
    exp = pipe.experiment(exp_name)
    df = pd.concat(list(frames), ignore_index=True) if frames else pd.DataFrame()
    if "shard" in df.columns:
        df = df.drop(columns="shard")
    if exp.finish is not None:
        df = exp.finish(df, finish_params(config, pipe.paper, exp))
    return df


def run_sweep_inline(pipe: Pipeline, exp_name: str, config: dict, output, *, data_dir: str | None = None,
                     device: str = "cpu") -> pd.DataFrame:
    """All shards of a sweep in this process, then the aggregate (library/test use; the workflow runs shards as
    separate jobs). Same rows as the shard jobs + aggregate job."""
    from isometry.io import write_csv

    exp = pipe.experiment(exp_name)
    ctx = RunContext(data_dir=data_dir or config.get("data", {}).get("dir", "data"), device=device)
    frames = [exp.run(p.shard.spec, ctx) for p in plan_sweep(config, pipe.paper, exp)]
    df = aggregate(pipe, exp_name, config, frames)
    write_csv(df, output)
    return df


def config_from_params(paper: str, params: dict) -> dict:
    """A config around one paper's unscoped params (its section plus the globals, as ``--params`` JSON carries
    them): what a sweep needs to plan itself when run by hand rather than from a config file."""
    glob = ("scale", "device", "threads", "max_ensemble")
    section = {k: v for k, v in params.items() if k not in glob + ("data_dir", "paper")}
    return {**{k: params[k] for k in glob if k in params}, "max_ensemble": params.get("max_ensemble", 64),
            "data": {"dir": params.get("data_dir", "data")}, paper: section}


def run_functions(pipe: Pipeline) -> dict[str, Callable]:
    """``{name: fn(params, inputs, output)}`` for every experiment (library and test use, unscoped params): a theory
    experiment is its own function; a sweep plans itself from ``params`` and runs every shard in this process."""
    def sweep_fn(name):
        def run(params, inputs, output):
            cfg = config_from_params(pipe.paper, dict(params))
            dev = params.get("device", "cpu")
            return run_sweep_inline(pipe, name, cfg, output, device="cpu" if dev == "auto" else dev,
                                    data_dir=params.get("data_dir"))
        return run

    return {e.name: (sweep_fn(e.name) if isinstance(e, Sweep) else e.run) for e in pipe.experiments}


# --------------------------------------------------------------------------------------------- the whole plan
@dataclass
class PaperPlan:
    paper: str
    pipeline: Pipeline
    shards: dict[str, list[PlannedShard]] = field(default_factory=dict)      # sweep name -> shards
    data: dict[str, list[str]] = field(default_factory=dict)                 # experiment name -> datasets


def plan_paper(config: dict, paper: str) -> PaperPlan:
    pipe = load_pipeline(paper)
    plan = PaperPlan(paper, pipe)
    known = {f.name for f in pipe.figures}
    for name in config.get(paper, {}).get("figures", {}) or {}:
        if name not in known:
            raise PlanError(f"config key '{paper}.figures.{name}': {paper} has no figure {name!r}; "
                            f"known: {', '.join(sorted(known))}")
    theory = []
    for exp in pipe.experiments:
        if isinstance(exp, Sweep):
            plan.shards[exp.name] = plan_sweep(config, paper, exp)
        else:
            theory.append((exp, experiment_params(config, paper, exp)))
        plan.data[exp.name] = experiment_data(config, paper, exp, plan.shards.get(exp.name, ()))
    check_memory(config, paper, [s for v in plan.shards.values() for s in v], theory)
    return plan


def enabled_papers(config: dict) -> list[str]:
    return [p for p in config.get("papers", PAPERS) if config.get(p, {}).get("enabled", True)]


def plan_workflow(config: dict) -> dict[str, PaperPlan]:
    return {p: plan_paper(config, p) for p in enabled_papers(config)}


def resolved_config_path(config: dict, directory: str = "results/config") -> Path:
    """Where the resolved (validated, defaults filled) config is written for the jobs to read: content-addressed,
    so a job's command line names exactly the config it ran with."""
    text = json.dumps(config, sort_keys=True, default=str)
    return Path(directory) / f"config-{hashlib.sha1(text.encode()).hexdigest()[:10]}.yaml"


def write_resolved_config(config: dict, directory: str = "results/config") -> Path:
    import yaml

    from isometry.io import atomic_path

    path = resolved_config_path(config, directory)
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            Path(tmp).write_text("# resolved configuration (validated, defaults filled) written by the workflow;\n"
                                 "# jobs read it: python -m isometry <command> ... --config THIS_FILE\n"
                                 + yaml.safe_dump(json.loads(json.dumps(config, default=str)), sort_keys=False))
    return path
