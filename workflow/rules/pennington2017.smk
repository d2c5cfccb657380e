# pennington2017: Pennington, Schoenholz & Ganguli 2017, "Resurrecting the sigmoid ... dynamical isometry".
# Thin rules: every experiment is `python -m isometry experiment pennington2017.<name>` writing one tidy CSV, every
# figure is drawn from its CSV only. Training experiments (CIFAR-10, batched engine) declare gpu=1.

P17_THEORY = ["phase_diagram", "spectra", "smax_vs_depth"]
P17_TRAIN = ["cifar10_learning", "speed_sweep"]
P17_FIGURES = {
    "phase_diagram": "phase_diagram",
    "spectra": "spectra",
    "smax_vs_depth": "smax_vs_depth",
    "cifar10_learning": "cifar10_learning",
    "speed_vs_spread": "speed_sweep",
}


rule pennington2017_theory:
    output:
        "results/pennington2017/{name}.csv",
    wildcard_constraints:
        name="|".join(P17_THEORY),
    params:
        cfg=paper_params("pennington2017"),
    log:
        "logs/pennington2017/{name}.log",
    benchmark:
        "benchmarks/pennington2017/{name}.tsv"
    conda:
        "../../environment.yml"
    shell:
        "python -m isometry experiment pennington2017.{wildcards.name} --params {params.cfg:q}"
        " --output {output} > {log} 2>&1"


rule pennington2017_train:
    input:
        dataset_file("cifar10"),
    output:
        "results/pennington2017/{name}.csv",
    wildcard_constraints:
        name="|".join(P17_TRAIN),
    params:
        cfg=paper_params("pennington2017"),
        inputs=lambda wildcards, input: cli_inputs(input),
    resources:
        gpu=TRAIN_GPUS,
    log:
        "logs/pennington2017/{name}.log",
    benchmark:
        "benchmarks/pennington2017/{name}.tsv"
    conda:
        "../../environment.yml"
    shell:
        "python -m isometry experiment pennington2017.{wildcards.name} --params {params.cfg:q} {params.inputs}"
        " --output {output} > {log} 2>&1"


rule pennington2017_figure:
    input:
        lambda wildcards: f"results/pennington2017/{P17_FIGURES[wildcards.fig]}.csv",
    output:
        png=report(
            "figures/pennington2017/{fig}.png",
            caption="../report/figure.rst",
            category="pennington2017",
            subcategory="{fig}",
        ),
        pdf="figures/pennington2017/{fig}.pdf",
        caption="figures/pennington2017/{fig}.caption.txt",
    wildcard_constraints:
        fig="|".join(P17_FIGURES),
    params:
        cfg=paper_params("pennington2017"),
        inputs=lambda wildcards, input: cli_inputs(input),
    log:
        "logs/pennington2017/figure_{fig}.log",
    benchmark:
        "benchmarks/pennington2017/figure_{fig}.tsv"
    conda:
        "../../environment.yml"
    shell:
        "python -m isometry figure pennington2017.{wildcards.fig} --params {params.cfg:q} {params.inputs}"
        " --output {output.png} > {log} 2>&1"


PAPER_TARGETS["pennington2017"] += [f"figures/pennington2017/{f}.png" for f in P17_FIGURES]


rule pennington2017_checks:
    input:
        [f"results/pennington2017/{n}.csv" for n in P17_THEORY + P17_TRAIN],
    output:
        "results/pennington2017/checks.csv",
    params:
        cfg=paper_params("pennington2017"),
        inputs=lambda wildcards, input: cli_inputs(input),
    log:
        "logs/pennington2017/checks.log",
    benchmark:
        "benchmarks/pennington2017/checks.tsv"
    conda:
        "../../environment.yml"
    shell:
        "python -m isometry checks pennington2017 --params {params.cfg:q} {params.inputs} --output {output} > {log} 2>&1"


rule pennington2017:
    input:
        PAPER_TARGETS["pennington2017"],
        "results/pennington2017/checks.csv",
