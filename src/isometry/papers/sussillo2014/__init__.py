"""Sussillo & Abbott 2014, "Random walk initialization for training very deep feedforward networks" (tag SA).

Experiments (one tidy CSV each, ``results/sussillo2014/<name>.csv``):

* ``random_walks``     Monte-Carlo ln(|delta_{D-k}|^2/|delta_D|^2) through random linear / ReLU nets at g* and at the
                       biased gains (identity 1, He sqrt 2), with the exact per-step mean/variance (SA eqs. 4-9).
* ``optimal_gain``     g*(N) for linear, ReLU, tanh: Monte-Carlo zero of the simulated drift, the exact digamma /
                       Binomial-mixture optimum (SA eqs. 7, 9) and the paper's fits (SA eqs. 8, 10); plus the drift
                       (mean ln z per layer) versus g at one width (SA Fig. 2).
* ``mnist_gain_sweep`` training error on MNIST versus g (deep tanh / ReLU, fixed parameter budget, SA Fig. 3).
* ``depth_sweep``      training error versus depth at fixed g: MNIST classification, MNIST auto-encoder,
                       Fashion-MNIST (in place of TIMIT, which is licensed) (SA Fig. 4).

Figures are drawn from those CSVs only; ``CHECKS`` compares them with the paper's claims.
"""

from isometry.papers.sussillo2014.checks import CHECKS
from isometry.papers.sussillo2014.experiments import EXPERIMENTS as EXPERIMENT_LIST
from isometry.papers.sussillo2014.figures import FIGURES
from isometry.pipeline import Figure, Pipeline, run_functions

_FIGURE_USES = {"mnist_gain_sweep": ("recipe", "gain_sweep"), "depth_sweep": ("recipe", "depth_sweep")}
PIPELINE = Pipeline(
    paper="sussillo2014",
    experiments=EXPERIMENT_LIST,
    figures=tuple(Figure(name, (name,), fn, uses=_FIGURE_USES.get(name, ())) for name, fn in FIGURES.items()),
    checks=CHECKS,
    checks_inputs=tuple(e.name for e in EXPERIMENT_LIST),
    checks_uses=("checks", "walks", "optimal_gain", "gain_sweep", "depth_sweep"),
)

EXPERIMENTS = run_functions(PIPELINE)     # {name: fn(params, inputs, output)} for library use

__all__ = ["PIPELINE", "EXPERIMENTS", "FIGURES", "CHECKS"]
