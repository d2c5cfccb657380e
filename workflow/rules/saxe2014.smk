# saxe2014 — Saxe, McClelland & Ganguli 2014, "Exact solutions to the nonlinear dynamics of learning in deep linear
# neural networks". Tidy CSVs in results/saxe2014/, one figure per CSV in figures/saxe2014/, check rows in
# results/saxe2014/checks.csv. All logic lives in isometry.papers.saxe2014.

SMG_FIGURES = [
    "vector_field",
    "mode_dynamics",
    "learning_time_vs_depth",
    "mnist_training_curves",
    "product_spectra",
    "nonlinear_gain",
]
# experiment -> its input files (datasets or run CSVs)
SMG_INPUTS = {
    "vector_field": [],
    "mode_dynamics": [],
    "product_spectra": [],
    "depth_runs": [dataset_file(config["saxe2014"]["depth_sweep"]["dataset"])],
    "nonlinear_gain": [dataset_file(config["saxe2014"]["nonlinear_gain"]["dataset"])],
    "learning_time_vs_depth": ["results/saxe2014/depth_runs.csv"],
    "mnist_training_curves": ["results/saxe2014/depth_runs.csv"],
}
SMG_TRAINING = ("depth_runs", "nonlinear_gain", "mode_dynamics")

PAPER_TARGETS["saxe2014"] += [f"figures/saxe2014/{name}.png" for name in SMG_FIGURES]


rule saxe2014_experiment:
    input:
        lambda wildcards: SMG_INPUTS[wildcards.name],
    output:
        "results/saxe2014/{name}.csv",
    wildcard_constraints:
        name="|".join(SMG_INPUTS),
    params:
        cfg=paper_params("saxe2014"),
        inputs=lambda wildcards, input: cli_inputs(f for f in input if f.endswith(".csv")),
    resources:
        gpu=lambda wildcards: TRAIN_GPUS if wildcards.name in SMG_TRAINING else 0,
    log:
        "logs/saxe2014/{name}.log",
    benchmark:
        "benchmarks/saxe2014/{name}.tsv"
    conda:
        "../../environment.yml"
    shell:
        "python -m isometry experiment saxe2014.{wildcards.name} --params {params.cfg:q} {params.inputs}"
        " --output {output} > {log} 2>&1"


rule saxe2014_figure:
    input:
        "results/saxe2014/{name}.csv",
    output:
        png=report(
            "figures/saxe2014/{name}.png",
            caption="../report/figure.rst",
            category="saxe2014",
            subcategory="{name}",
        ),
        pdf="figures/saxe2014/{name}.pdf",
        caption="figures/saxe2014/{name}.caption.txt",
    wildcard_constraints:
        name="|".join(SMG_FIGURES),
    params:
        cfg=paper_params("saxe2014"),
        inputs=lambda wildcards, input: cli_inputs(input),
    log:
        "logs/saxe2014/figure_{name}.log",
    benchmark:
        "benchmarks/saxe2014/figure_{name}.tsv"
    conda:
        "../../environment.yml"
    shell:
        "python -m isometry figure saxe2014.{wildcards.name} --params {params.cfg:q} {params.inputs}"
        " --output {output.png} > {log} 2>&1"


rule saxe2014_checks:
    input:
        expand(
            "results/saxe2014/{name}.csv",
            name=["mode_dynamics", "learning_time_vs_depth", "product_spectra", "nonlinear_gain"],
        ),
    output:
        "results/saxe2014/checks.csv",
    params:
        cfg=paper_params("saxe2014"),
        inputs=lambda wildcards, input: cli_inputs(input),
    log:
        "logs/saxe2014/checks.log",
    benchmark:
        "benchmarks/saxe2014/checks.tsv"
    conda:
        "../../environment.yml"
    shell:
        "python -m isometry checks saxe2014 --params {params.cfg:q} {params.inputs} --output {output} > {log} 2>&1"


rule saxe2014:
    input:
        PAPER_TARGETS["saxe2014"],
        "results/saxe2014/checks.csv",
