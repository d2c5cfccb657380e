# Every paper's jobs, generated from its plan (isometry.papers.<paper>.PIPELINE; isometry.pipeline):
#   <paper>_shard       one ensemble of a training sweep   results/<paper>/<sweep>/shards/<shard>.csv
#   <paper>_aggregate   the shards of a sweep, in order     results/<paper>/<sweep>.csv
#   <paper>_experiment  a theory (one-job) experiment       results/<paper>/<experiment>.csv
#   <paper>_figure      one figure, drawn from its CSVs     figures/<paper>/<figure>.png (+ .pdf, .caption.txt)
#   <paper>_checks      the paper's scorecard rows          results/<paper>/checks.csv
#   <paper>             everything of one paper
# Params are scoped per job (only the config keys it reads), so editing a key reruns only the jobs that use it.


def _shard(paper, wildcards):
    for s in PLAN[paper].shards[wildcards.experiment]:
        if s.id == wildcards.shard:
            return s
    raise ValueError(
        f"{paper}.{wildcards.experiment}: no shard {wildcards.shard} in this config's plan"
    )


def _csv(paper, names):
    return [f"results/{paper}/{n}.csv" for n in names]


for _paper, _plan in PLAN.items():
    _pipe = _plan.pipeline
    _sweeps = [e.name for e in _pipe.experiments if isinstance(e, P.Sweep)]
    _theory = [e.name for e in _pipe.experiments if isinstance(e, P.Theory)]

    if _sweeps:

        rule:
            name:
                f"{_paper}_shard"
            input:
                lambda wc, p=_paper: [dataset_file(d) for d in _shard(p, wc).shard.data],
            output:
                f"results/{_paper}/{{experiment}}/shards/{{shard}}.csv",
            log:
                f"logs/{_paper}/{{experiment}}/{{shard}}.log",
            benchmark:
                f"benchmarks/{_paper}/{{experiment}}/{{shard}}.tsv"
            wildcard_constraints:
                experiment="|".join(_sweeps),
            conda:
                "../../environment.yml"
            threads: THREADS
            resources:
                gpu=lambda wc, p=_paper: int(
                    _shard(p, wc).shard.gpu and config["device"] != "cpu"
                ),
                runtime=lambda wc, p=_paper: _shard(p, wc).runtime_min(),
                mem_mb=lambda wc, p=_paper: _shard(p, wc).mem_request_mb(),
            params:
                paper=_paper,
                device=config["device"],
                config=lambda wc, input: CONFIG_FILE,
            shell:
                "python -m isometry shard {params.paper}.{wildcards.experiment} {wildcards.shard}"
                " --config {params.config} --output {output} > {log} 2>&1"

        rule:
            name:
                f"{_paper}_aggregate"
            input:
                lambda wc, p=_paper: [
                    f"results/{p}/{wc.experiment}/shards/{s.id}.csv"
                    for s in PLAN[p].shards[wc.experiment]
                ],
            output:
                f"results/{_paper}/{{experiment}}.csv",
            log:
                f"logs/{_paper}/{{experiment}}.aggregate.log",
            wildcard_constraints:
                experiment="|".join(_sweeps),
            localrule: True
            conda:
                "../../environment.yml"
            params:
                paper=_paper,
                finish=lambda wc, p=_paper: P.finish_params(
                    config, p, PLAN[p].pipeline.experiment(wc.experiment)
                ).plain(),
                config=lambda wc, input: CONFIG_FILE,
            shell:
                "python -m isometry aggregate {params.paper}.{wildcards.experiment} --config {params.config}"
                " --output {output} > {log} 2>&1"

    if _theory:

        rule:
            name:
                f"{_paper}_experiment"
            input:
                data=lambda wc, p=_paper: [
                    dataset_file(d) for d in PLAN[p].data[wc.experiment]
                ],
                csv=lambda wc, p=_paper: _csv(
                    p, PLAN[p].pipeline.experiment(wc.experiment).inputs
                ),
            output:
                f"results/{_paper}/{{experiment}}.csv",
            log:
                f"logs/{_paper}/{{experiment}}.log",
            benchmark:
                f"benchmarks/{_paper}/{{experiment}}.tsv"
            wildcard_constraints:
                experiment="|".join(_theory),
            conda:
                "../../environment.yml"
            threads: THREADS
            resources:
                gpu=lambda wc, p=_paper: int(
                    PLAN[p].pipeline.experiment(wc.experiment).gpu
                    and config["device"] != "cpu"
                ),
            params:
                paper=_paper,
                scoped=lambda wc, p=_paper: P.experiment_params(
                    config, p, PLAN[p].pipeline.experiment(wc.experiment)
                ).plain(),
                config=lambda wc, input: CONFIG_FILE,
                inputs=lambda wc, input: cli_inputs(input.csv),
            shell:
                "python -m isometry experiment {params.paper}.{wildcards.experiment} --config {params.config}"
                " {params.inputs} --output {output} > {log} 2>&1"

    rule:
        name:
            f"{_paper}_figure"
        input:
            lambda wc, p=_paper: _csv(p, PLAN[p].pipeline.figure(wc.figure).inputs),
        output:
            png=report(
                f"figures/{_paper}/{{figure}}.png",
                caption="../report/figure.rst",
                category=_paper,
                subcategory="{figure}",
            ),
            pdf=f"figures/{_paper}/{{figure}}.pdf",
            caption=f"figures/{_paper}/{{figure}}.caption.txt",
        log:
            f"logs/{_paper}/figure_{{figure}}.log",
        benchmark:
            f"benchmarks/{_paper}/figure_{{figure}}.tsv"
        wildcard_constraints:
            figure="|".join(f.name for f in _pipe.figures),
        localrule: True
        conda:
            "../../environment.yml"
        params:
            paper=_paper,
            scoped=lambda wc, p=_paper: P.figure_params(
                config, p, PLAN[p].pipeline.figure(wc.figure)
            ).plain(),
            config=lambda wc, input: CONFIG_FILE,
            inputs=lambda wc, input: cli_inputs(input),
        shell:
            "python -m isometry figure {params.paper}.{wildcards.figure} --config {params.config} {params.inputs}"
            " --output {output.png} > {log} 2>&1"

    if _pipe.checks is not None:

        rule:
            name:
                f"{_paper}_checks"
            input:
                _csv(_paper, _pipe.checks_inputs),
            output:
                f"results/{_paper}/checks.csv",
            log:
                f"logs/{_paper}/checks.log",
            benchmark:
                f"benchmarks/{_paper}/checks.tsv"
            localrule: True
            conda:
                "../../environment.yml"
            params:
                paper=_paper,
                scoped=P.checks_params(config, _paper, _pipe).plain(),
                config=lambda wc, input: CONFIG_FILE,
                inputs=lambda wc, input: cli_inputs(input),
            shell:
                "python -m isometry checks {params.paper} --config {params.config} {params.inputs}"
                " --output {output} > {log} 2>&1"

    rule:
        name:
            _paper
        input:
            [f"figures/{_paper}/{f.name}.png" for f in _pipe.figures],
            [f"results/{_paper}/checks.csv"] if _pipe.checks is not None else [],
        localrule: True
