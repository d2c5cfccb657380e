# isometry — rebuild every figure of the reproduced papers.
#   snakemake --cores all                                  default scale (config/config.yaml)
#   snakemake --cores all --configfile config/paper.yaml   paper scale (GPUs: add --resources gpu=N)
#   snakemake -n                                           show the DAG (shard jobs, aggregates, figures, checks)
#   snakemake data/mnist/mnist.pt                          fetch + verify + convert one dataset
#   python -m isometry shards xiao2018                     list a paper's sweep shards (rerun one with --forcerun)
from snakemake.utils import min_version

from isometry.config import load_config_file

min_version("9.0")

# Our reader first: a YAML/JSON error, a duplicate key or a missing file is named with file and line (Snakemake's
# own message names neither). Files given with --configfile were already read by Snakemake; they are re-read here
# for duplicate keys.
for _cfgfile in list(workflow.overwrite_configfiles) or ["config/config.yaml"]:
    load_config_file(_cfgfile)


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/papers.smk"


rule all:
    default_target: True
    input:
        expand(dataset_file("{name}"), name=["mnist", "fashion_mnist", "cifar10"]),
        paper_targets,
        "results/checks.csv",
    localrule: True


rule checks:
    input:
        paper_checks,
    output:
        report(
            "results/checks.csv",
            caption="workflow/report/checks.rst",
            category="Scorecard",
        ),
    log:
        "logs/checks.log",
    localrule: True
    conda:
        "environment.yml"
    params:
        inputs=lambda wildcards, input: cli_inputs(input),
    shell:
        "python -m isometry merge-checks {params.inputs} --output {output} > {log} 2>&1"
