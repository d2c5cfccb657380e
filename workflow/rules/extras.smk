# extras — beyond the four papers: shattered gradients + Looks-Linear (Balduzzi et al. 2017), He vs orthogonal vs
# random-walk vs Looks-Linear for deep ReLU nets, the FC trainability heat map with 6 xi_c (Schoenholz et al. 2017),
# orthogonality constraints / regularizers (Vorontsov et al. 2017; Bansal et al. 2018). One tidy CSV per figure
# (results/extras/<name>.csv), one figure each (figures/extras/<name>.png), the check rows
# (results/extras/checks.csv). All logic lives in isometry.papers.extras; the init advisor is `python -m isometry
# advise` (isometry.advisor).

EX_FIGURES = [
    "shattered_gradients",
    "relu_init_comparison",
    "trainability_heatmap_fc",
    "orthogonality_regularization",
    "orthogonality_regularizers_cnn",
]
EX_DATA = {
    "shattered_gradients": [],
    "relu_init_comparison": [dataset_file(config["extras"]["relu_init"]["dataset"])],
    "trainability_heatmap_fc": [dataset_file(config["extras"]["heatmap"]["dataset"])],
    "orthogonality_regularization": [dataset_file(config["extras"]["rnn"]["dataset"])],
    "orthogonality_regularizers_cnn": [dataset_file(config["extras"]["cnn"]["dataset"])],
}
EX_CHECKED = ["shattered_gradients", "relu_init_comparison", "trainability_heatmap_fc", "orthogonality_regularization"]

PAPER_TARGETS["extras"] += [f"figures/extras/{name}.png" for name in EX_FIGURES]


rule extras_experiment:
    input:
        lambda wildcards: EX_DATA[wildcards.name],
    output:
        "results/extras/{name}.csv",
    wildcard_constraints:
        name="|".join(EX_FIGURES),
    params:
        cfg=paper_params("extras"),
    resources:
        gpu=lambda wildcards: 0 if wildcards.name == "shattered_gradients" else TRAIN_GPUS,
    log:
        "logs/extras/{name}.log",
    benchmark:
        "benchmarks/extras/{name}.tsv"
    conda:
        "../../environment.yml"
    shell:
        "python -m isometry experiment extras.{wildcards.name} --params {params.cfg:q} --output {output} > {log} 2>&1"


rule extras_figure:
    input:
        "results/extras/{name}.csv",
    output:
        png=report(
            "figures/extras/{name}.png",
            caption="../report/figure.rst",
            category="extras",
            subcategory="{name}",
        ),
        pdf="figures/extras/{name}.pdf",
        caption="figures/extras/{name}.caption.txt",
    wildcard_constraints:
        name="|".join(EX_FIGURES),
    params:
        cfg=paper_params("extras"),
        inputs=lambda wildcards, input: cli_inputs(input),
    log:
        "logs/extras/figure_{name}.log",
    benchmark:
        "benchmarks/extras/figure_{name}.tsv"
    conda:
        "../../environment.yml"
    shell:
        "python -m isometry figure extras.{wildcards.name} --params {params.cfg:q} {params.inputs}"
        " --output {output.png} > {log} 2>&1"


rule extras_checks:
    input:
        expand("results/extras/{name}.csv", name=EX_CHECKED),
    output:
        "results/extras/checks.csv",
    params:
        cfg=paper_params("extras"),
        inputs=lambda wildcards, input: cli_inputs(input),
    log:
        "logs/extras/checks.log",
    benchmark:
        "benchmarks/extras/checks.tsv"
    conda:
        "../../environment.yml"
    shell:
        "python -m isometry checks extras --params {params.cfg:q} {params.inputs} --output {output} > {log} 2>&1"


rule extras:
    input:
        PAPER_TARGETS["extras"],
        "results/extras/checks.csv",
