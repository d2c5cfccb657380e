# saxe2014 pipeline (placeholder: its experiments, figures and checks are added by the saxe2014 issue).
# Append final outputs to PAPER_TARGETS["saxe2014"]; the checks rule below lists this paper's rows of results/checks.csv.


rule saxe2014_checks:
    input:
        PAPER_TARGETS["saxe2014"],
    output:
        "results/saxe2014/checks.csv",
    params:
        cfg=paper_params("saxe2014"),
        inputs=lambda wildcards, input: cli_inputs(input),
    log:
        "logs/saxe2014/checks.log",
    conda:
        "../../environment.yml"
    shell:
        "python -m isometry checks saxe2014 --params {params.cfg:q} {params.inputs} --output {output} > {log} 2>&1"


rule saxe2014:
    input:
        PAPER_TARGETS["saxe2014"],
        "results/saxe2014/checks.csv",
