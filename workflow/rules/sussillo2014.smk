# sussillo2014 — Sussillo & Abbott 2014, "Random walk initialization for training very deep feedforward networks".
# Four tidy CSVs (results/sussillo2014/<name>.csv), one figure each (figures/sussillo2014/<name>.png), and the
# check rows (results/sussillo2014/checks.csv). All logic lives in isometry.papers.sussillo2014.

SA_FIGURES = ["random_walks", "optimal_gain", "mnist_gain_sweep", "depth_sweep"]
SA_DATA = {
    "random_walks": [],
    "optimal_gain": [],
    "mnist_gain_sweep": [dataset_file(config["sussillo2014"]["gain_sweep"]["dataset"])],
    "depth_sweep": sorted({dataset_file(t["dataset"]) for t in config["sussillo2014"]["depth_sweep"]["tasks"]}),
}

PAPER_TARGETS["sussillo2014"] += [f"figures/sussillo2014/{name}.png" for name in SA_FIGURES]


rule sussillo2014_experiment:
    input:
        lambda wildcards: SA_DATA[wildcards.name],
    output:
        "results/sussillo2014/{name}.csv",
    wildcard_constraints:
        name="|".join(SA_FIGURES),
    params:
        cfg=paper_params("sussillo2014"),
    resources:
        gpu=lambda wildcards: TRAIN_GPUS if wildcards.name in ("mnist_gain_sweep", "depth_sweep") else 0,
    log:
        "logs/sussillo2014/{name}.log",
    benchmark:
        "benchmarks/sussillo2014/{name}.tsv"
    conda:
        "../../environment.yml"
    shell:
        "python -m isometry experiment sussillo2014.{wildcards.name} --params {params.cfg:q} --output {output}"
        " > {log} 2>&1"


rule sussillo2014_figure:
    input:
        "results/sussillo2014/{name}.csv",
    output:
        png=report(
            "figures/sussillo2014/{name}.png",
            caption="../report/figure.rst",
            category="sussillo2014",
            subcategory="{name}",
        ),
        pdf="figures/sussillo2014/{name}.pdf",
        caption="figures/sussillo2014/{name}.caption.txt",
    wildcard_constraints:
        name="|".join(SA_FIGURES),
    params:
        cfg=paper_params("sussillo2014"),
        inputs=lambda wildcards, input: cli_inputs(input),
    log:
        "logs/sussillo2014/figure_{name}.log",
    benchmark:
        "benchmarks/sussillo2014/figure_{name}.tsv"
    conda:
        "../../environment.yml"
    shell:
        "python -m isometry figure sussillo2014.{wildcards.name} --params {params.cfg:q} {params.inputs}"
        " --output {output.png} > {log} 2>&1"


rule sussillo2014_checks:
    input:
        expand("results/sussillo2014/{name}.csv", name=SA_FIGURES),
    output:
        "results/sussillo2014/checks.csv",
    params:
        cfg=paper_params("sussillo2014"),
        inputs=lambda wildcards, input: cli_inputs(input),
    log:
        "logs/sussillo2014/checks.log",
    benchmark:
        "benchmarks/sussillo2014/checks.tsv"
    conda:
        "../../environment.yml"
    shell:
        "python -m isometry checks sussillo2014 --params {params.cfg:q} {params.inputs} --output {output} > {log} 2>&1"


rule sussillo2014:
    input:
        PAPER_TARGETS["sussillo2014"],
        "results/sussillo2014/checks.csv",
