"""xiao2018 pipeline (placeholder until its issue lands): no experiments, figures or checks yet."""

from isometry.papers.common import write_checks

EXPERIMENTS: dict = {}
FIGURES: dict = {}


def CHECKS(params, inputs, output):
    write_checks([], output)
