# xiao2018 — Xiao, Bahri, Sohl-Dickstein, Schoenholz & Pennington 2018, "Dynamical isometry and a mean field theory of
# CNNs: how to train 10,000-layer vanilla convolutional neural networks".
# Six tidy CSVs (results/xiao2018/<name>.csv), one figure each (figures/xiao2018/<name>.png), and the check rows
# (results/xiao2018/checks.csv). All logic lives in isometry.papers.xiao2018.

XB_FIGURES = ["deep_cnn_curves", "trainability_heatmap", "fourier_modes", "orthogonal_vs_gaussian",
              "nonuniform_variance", "cnn_jacobian_spectrum"]
XB_TRAINING = ["deep_cnn_curves", "trainability_heatmap", "orthogonal_vs_gaussian", "nonuniform_variance"]
XB_CFG = config["xiao2018"]
XB_DATA = {
    "deep_cnn_curves": [dataset_file(d) for d in XB_CFG.get("deep_cnn_curves", {}).get("datasets", [])],
    "trainability_heatmap": [dataset_file(XB_CFG.get("trainability_heatmap", {}).get("dataset", "mnist"))],
    "fourier_modes": [],
    "orthogonal_vs_gaussian": [dataset_file(XB_CFG.get("orthogonal_vs_gaussian", {}).get("dataset", "cifar10"))],
    "nonuniform_variance": [dataset_file(XB_CFG.get("nonuniform_variance", {}).get("dataset", "cifar10"))],
    "cnn_jacobian_spectrum": [],
}

PAPER_TARGETS["xiao2018"] += [f"figures/xiao2018/{name}.png" for name in XB_FIGURES]


rule xiao2018_experiment:
    input:
        lambda wildcards: XB_DATA[wildcards.name],
    output:
        "results/xiao2018/{name}.csv",
    wildcard_constraints:
        name="|".join(XB_FIGURES),
    params:
        cfg=paper_params("xiao2018"),
    resources:
        gpu=lambda wildcards: TRAIN_GPUS if wildcards.name in XB_TRAINING else 0,
    log:
        "logs/xiao2018/{name}.log",
    benchmark:
        "benchmarks/xiao2018/{name}.tsv"
    conda:
        "../../environment.yml"
    shell:
        "python -m isometry experiment xiao2018.{wildcards.name} --params {params.cfg:q} --output {output} > {log} 2>&1"


rule xiao2018_figure:
    input:
        "results/xiao2018/{name}.csv",
    output:
        png=report(
            "figures/xiao2018/{name}.png",
            caption="../report/figure.rst",
            category="xiao2018",
            subcategory="{name}",
        ),
        pdf="figures/xiao2018/{name}.pdf",
        caption="figures/xiao2018/{name}.caption.txt",
    wildcard_constraints:
        name="|".join(XB_FIGURES),
    params:
        cfg=paper_params("xiao2018"),
        inputs=lambda wildcards, input: cli_inputs(input),
    log:
        "logs/xiao2018/figure_{name}.log",
    benchmark:
        "benchmarks/xiao2018/figure_{name}.tsv"
    conda:
        "../../environment.yml"
    shell:
        "python -m isometry figure xiao2018.{wildcards.name} --params {params.cfg:q} {params.inputs}"
        " --output {output.png} > {log} 2>&1"


rule xiao2018_checks:
    input:
        expand("results/xiao2018/{name}.csv", name=XB_FIGURES),
    output:
        "results/xiao2018/checks.csv",
    params:
        cfg=paper_params("xiao2018"),
        inputs=lambda wildcards, input: cli_inputs(input),
    log:
        "logs/xiao2018/checks.log",
    benchmark:
        "benchmarks/xiao2018/checks.tsv"
    conda:
        "../../environment.yml"
    shell:
        "python -m isometry checks xiao2018 --params {params.cfg:q} {params.inputs} --output {output} > {log} 2>&1"


rule xiao2018:
    input:
        PAPER_TARGETS["xiao2018"],
        "results/xiao2018/checks.csv",
