# Config loading + schema validation and helpers shared by all rules.
import json
import shlex

from snakemake.utils import validate

from isometry.config import validate_config

# Our validator first: it names the offending key in plain words (and checks 'module:function' init schemes
# import). Then Snakemake's own validate() on the same schema.
validate_config(config)
validate(config, "../schemas/config.schema.yaml")

DATA_DIR = config["data"]["dir"]
# GPUs a training job requests (resources: gpu=TRAIN_GPUS): none when the config pins the CPU. Locally Snakemake
# only counts them against --resources gpu=N; on SLURM (profiles/slurm) they become the job's GPU request.
TRAIN_GPUS = 0 if config["device"] == "cpu" else 1
PAPERS = [p for p in config["papers"] if config[p].get("enabled", True)]


def dataset_file(name):
    return f"{DATA_DIR}/{name}/{name}.pt"


def paper_params(paper):
    """JSON of a paper's config section plus the global keys, passed to the CLI (and tracked by Snakemake)."""
    p = dict(config[paper])
    p.update(
        paper=paper,
        scale=config["scale"],
        device=config["device"],
        threads=config["threads"],
        max_ensemble=config["max_ensemble"],
        data_dir=DATA_DIR,
    )
    return json.dumps(p, sort_keys=True)


def cli_inputs(files):
    return " ".join(f"--input {shlex.quote(str(f))}" for f in files)


# Each paper's rule file appends its final outputs (figures) to PAPER_TARGETS[paper].
PAPER_TARGETS = {p: [] for p in ["saxe2014", "sussillo2014", "pennington2017", "xiao2018", "extras"]}


def paper_targets(wildcards):
    return [f for p in PAPERS for f in PAPER_TARGETS[p]] + [f"results/{p}/checks.csv" for p in PAPERS]


def paper_checks(wildcards):
    return [f"results/{p}/checks.csv" for p in PAPERS]
