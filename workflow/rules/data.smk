import os

# Download (mirror first) + md5 verification + conversion of the datasets into compact uint8 tensors.


rule dataset:
    output:
        f"{DATA_DIR}/{{dataset}}/{{dataset}}.pt",
        f"{DATA_DIR}/{{dataset}}/{{dataset}}.json",
    log:
        "logs/data/{dataset}.log",
    benchmark:
        "benchmarks/data/{dataset}.tsv"
    wildcard_constraints:
        dataset="mnist|fashion_mnist|cifar10",
    localrule: True
    conda:
        "../../environment.yml"
    params:
        data_dir=lambda wildcards, output: os.path.dirname(os.path.dirname(output[0])),
        mirrors=" ".join(
            f"--mirror {shlex.quote(m)}" for m in config["data"]["mirrors"]
        ),
        download="" if config["data"]["download"] else "--no-download",
        source=config["data"]["cifar10_source"],
    shell:
        "python -m isometry data {wildcards.dataset} --data-dir {params.data_dir} {params.mirrors} {params.download}"
        " --cifar10-source {params.source} > {log} 2>&1"
