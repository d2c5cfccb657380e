# xiao2018 pipeline (placeholder: its experiments, figures and checks are added by the xiao2018 issue).
# Append final outputs to PAPER_TARGETS["xiao2018"]; the checks rule below lists this paper's rows of results/checks.csv.


rule xiao2018_checks:
    input:
        PAPER_TARGETS["xiao2018"],
    output:
        "results/xiao2018/checks.csv",
    params:
        cfg=paper_params("xiao2018"),
        inputs=lambda wildcards, input: cli_inputs(input),
    log:
        "logs/xiao2018/checks.log",
    conda:
        "../../environment.yml"
    shell:
        "python -m isometry checks xiao2018 --params {params.cfg:q} {params.inputs} --output {output} > {log} 2>&1"


rule xiao2018:
    input:
        PAPER_TARGETS["xiao2018"],
        "results/xiao2018/checks.csv",
