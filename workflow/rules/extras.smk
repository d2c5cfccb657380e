# extras pipeline (placeholder: its experiments, figures and checks are added by the extras issue).
# Append final outputs to PAPER_TARGETS["extras"]; the checks rule below lists this paper's rows of results/checks.csv.


rule extras_checks:
    input:
        PAPER_TARGETS["extras"],
    output:
        "results/extras/checks.csv",
    params:
        cfg=paper_params("extras"),
        inputs=lambda wildcards, input: cli_inputs(input),
    log:
        "logs/extras/checks.log",
    conda:
        "../../environment.yml"
    shell:
        "python -m isometry checks extras --params {params.cfg:q} {params.inputs} --output {output} > {log} 2>&1"


rule extras:
    input:
        PAPER_TARGETS["extras"],
        "results/extras/checks.csv",
