# isometry — rebuild every figure of the reproduced papers.
#   snakemake --cores all                          quick scale (default config/config.yaml)
#   snakemake --cores all --configfile config/paper.yaml   paper scale (GPU)
#   snakemake -n                                   show the DAG
#   snakemake data/mnist/mnist.pt                  fetch + verify + convert one dataset
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/saxe2014.smk"
include: "workflow/rules/sussillo2014.smk"
include: "workflow/rules/pennington2017.smk"
include: "workflow/rules/xiao2018.smk"
include: "workflow/rules/extras.smk"


rule all:
    input:
        expand(dataset_file("{name}"), name=["mnist", "fashion_mnist", "cifar10"]),
        paper_targets,
        "results/checks.csv",
    default_target: True


rule checks:
    input:
        paper_checks,
    output:
        report("results/checks.csv", caption="workflow/report/checks.rst", category="Scorecard"),
    params:
        inputs=lambda wildcards, input: cli_inputs(input),
    log:
        "logs/checks.log",
    conda:
        "environment.yml"
    shell:
        "python -m isometry merge-checks {params.inputs} --output {output} > {log} 2>&1"


# On a cluster (profiles/slurm) only experiments are submitted as jobs; data conversion, figures, checks and the
# aggregates run on the submitting node.
localrules:
    all,
    checks,
    dataset,
    saxe2014_figure,
    saxe2014_checks,
    saxe2014,
    sussillo2014_figure,
    sussillo2014_checks,
    sussillo2014,
    pennington2017_figure,
    pennington2017_checks,
    pennington2017,
    xiao2018_figure,
    xiao2018_checks,
    xiao2018,
    extras_figure,
    extras_checks,
    extras,
