"""extras (work in progress)."""
from isometry.papers.extras import shattered

EXPERIMENTS = {"shattered_gradients": shattered.experiment}
FIGURES = {"shattered_gradients": shattered.figure}


def CHECKS(params, inputs, output):
    from isometry.papers.common import write_checks
    write_checks([], output)
