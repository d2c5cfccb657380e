# sussillo2014 pipeline (placeholder: its experiments, figures and checks are added by the sussillo2014 issue).
# Append final outputs to PAPER_TARGETS["sussillo2014"]; the checks rule below lists this paper's rows of results/checks.csv.


rule sussillo2014_checks:
    input:
        PAPER_TARGETS["sussillo2014"],
    output:
        "results/sussillo2014/checks.csv",
    params:
        cfg=paper_params("sussillo2014"),
        inputs=lambda wildcards, input: cli_inputs(input),
    log:
        "logs/sussillo2014/checks.log",
    conda:
        "../../environment.yml"
    shell:
        "python -m isometry checks sussillo2014 --params {params.cfg:q} {params.inputs} --output {output} > {log} 2>&1"


rule sussillo2014:
    input:
        PAPER_TARGETS["sussillo2014"],
        "results/sussillo2014/checks.csv",
