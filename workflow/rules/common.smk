# Config loading + schema validation, the plan of every paper's jobs, and helpers shared by the rules.
import shlex

from snakemake.utils import validate

from isometry.config import validate_config
from isometry import pipeline as P

# Our validator first: it names the offending key in plain words (and checks 'module:function' init schemes
# import). Then Snakemake's own validate() on the same schema.
validate_config(config)
validate(config, "../schemas/config.schema.yaml")

DATA_DIR = config["data"]["dir"]
# The plan: every paper's experiments, sweep shards (content-addressed ids), figures and checks, with each job's
# scoped params (isometry.pipeline). Planning is pure Python (no data, no torch work): it runs at every parse.
PLAN = P.plan_workflow(config)
PAPERS = list(PLAN)
# The resolved config every job reads (`--config`); content-addressed, so a command line names exactly the config
# it ran with. It is passed through a derived param (not tracked): a job reruns only when its own params change.
CONFIG_FILE = str(P.write_resolved_config(config))
THREADS = max(int(config["threads"]), 1)


def dataset_file(name):
    return f"{DATA_DIR}/{name}/{name}.pt"


def cli_inputs(files):
    return " ".join(f"--input {shlex.quote(str(f))}" for f in files)


def paper_targets(wildcards):
    out = []
    for paper, plan in PLAN.items():
        out += [f"figures/{paper}/{f.name}.png" for f in plan.pipeline.figures]
        if plan.pipeline.checks is not None:
            out.append(f"results/{paper}/checks.csv")
    return out


def paper_checks(wildcards):
    return [
        f"results/{p}/checks.csv"
        for p, plan in PLAN.items()
        if plan.pipeline.checks is not None
    ]
