"""Sussillo & Abbott 2014, "Random walk initialization for training very deep feedforward networks" (tag SA).

Experiments (one tidy CSV each, ``results/sussillo2014/<name>.csv``):

* ``random_walks``     Monte-Carlo ln(|delta_{D-k}|^2/|delta_D|^2) through random linear / ReLU / tanh nets at several
                       widths, at g* and at the biased gains (identity 1, He sqrt 2), with the exact per-step
                       mean/variance (SA eqs. 4-9): unbiased at g*, variance ~ D/N (the abstract's two claims).
* ``optimal_gain``     g*(N) for linear, ReLU, tanh: Monte-Carlo zero of the simulated drift, the exact digamma /
                       Binomial-mixture optimum (SA eqs. 7, 9) and the paper's fits (SA eqs. 8, 10); plus the drift
                       (mean ln z per layer) versus g at one width (SA Fig. 2).
* ``mnist_gain_sweep`` training error on MNIST versus g at two depths (deep tanh / ReLU, fixed parameter budget,
                       SA Fig. 3).
* ``depth_sweep``      training error versus depth (2 .. 128) at the random-walk g: MNIST classification, MNIST
                       auto-encoder, Fashion-MNIST (in place of TIMIT, which is licensed) (SA Fig. 4).

Figures are drawn from those CSVs only; ``CHECKS`` compares them with the paper's claims.
"""

from isometry.papers.sussillo2014.checks import CHECKS
from isometry.papers.sussillo2014.experiments import EXPERIMENTS as EXPERIMENT_LIST
from isometry.papers.sussillo2014.figures import FIGURES
from isometry.pipeline import Figure, Pipeline, run_functions

PIPELINE = Pipeline(
    paper="sussillo2014",
    experiments=EXPERIMENT_LIST,
    figures=tuple(Figure(name, (name,), fn) for name, fn in FIGURES.items()),     # drawn from the CSVs only
    checks=CHECKS,
    checks_inputs=tuple(e.name for e in EXPERIMENT_LIST),
    checks_uses=("checks",),
)

EXPERIMENTS = run_functions(PIPELINE)     # {name: fn(params, inputs, output)} for library use

__all__ = ["PIPELINE", "EXPERIMENTS", "FIGURES", "CHECKS"]
