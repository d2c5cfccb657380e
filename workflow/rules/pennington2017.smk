# pennington2017 pipeline (placeholder: its experiments, figures and checks are added by the pennington2017 issue).
# Append final outputs to PAPER_TARGETS["pennington2017"]; the checks rule below lists this paper's rows of results/checks.csv.


rule pennington2017_checks:
    input:
        PAPER_TARGETS["pennington2017"],
    output:
        "results/pennington2017/checks.csv",
    params:
        cfg=paper_params("pennington2017"),
        inputs=lambda wildcards, input: cli_inputs(input),
    log:
        "logs/pennington2017/checks.log",
    conda:
        "../../environment.yml"
    shell:
        "python -m isometry checks pennington2017 --params {params.cfg:q} {params.inputs} --output {output} > {log} 2>&1"


rule pennington2017:
    input:
        PAPER_TARGETS["pennington2017"],
        "results/pennington2017/checks.csv",
