"""Pennington, Schoenholz & Ganguli 2017, "Resurrecting the sigmoid in deep learning through dynamical isometry:
theory and practice" (NIPS 2017; tag PSG; shared/reference/verified.md sec. 2).

Experiments (``experiments/``; one tidy CSV each, results/pennington2017/<name>.csv; training sweeps are cut into
shards, one Snakemake job each), figures (``figures/``; drawn from the CSVs only), checks (``checks.py``; rows of
results/pennington2017/checks.csv, the paper's numbers in ``reference.py``):

``phase_diagram``     Fig. 1: tanh order/chaos diagram, chi_1 = sigma_w^2 E[phi'(sqrt(q*) z)^2] (PSG eq. 5), the
                      critical line with q* along it.
``spectra``           Fig. 2: density of the singular values of J = prod_l D^l W^l at criticality, free-probability
                      theory (PSG eq. 12) against exact spectra of random networks: the paper's three curves (linear
                      Gaussian, ReLU orthogonal, hard-tanh orthogonal at q* = 1/4) at L = 2, 8, 32, 128, plus tanh.
``smax_vs_depth``     Fig. 3: the largest singular value and the spread sigma^2_{JJ^T} versus depth, Gaussian vs
                      orthogonal tanh at several q*, with the finite-N theory of the largest eigenvalue.
``cifar10_learning``  Fig. 4: CIFAR-10 test accuracy vs step, depth-200 networks, tanh 1.05 / tanh 2 / ReLU,
                      orthogonal vs Gaussian, SGD / Momentum / ADAM / RMSProp, learning rates from a pilot.
``learning_speed``    Fig. 5(a): steps to a test accuracy vs eta L for orthogonal tanh at several depths.
"""

from isometry.pipeline import Figure, Pipeline, run_functions

from .checks import CHECKS
from .common import PAPER
from .experiments import EXPERIMENTS as EXPERIMENT_LIST
from .figures import FIGURES as _FIGURES

FIGURES = {name: fn for name, (fn, _, _) in _FIGURES.items()}

PIPELINE = Pipeline(
    paper=PAPER,
    experiments=EXPERIMENT_LIST,
    figures=tuple(Figure(name, inputs, fn, uses=uses) for name, (fn, inputs, uses) in _FIGURES.items()),
    checks=CHECKS,
    checks_inputs=tuple(e.name for e in EXPERIMENT_LIST),
    checks_uses=("checks", "analysis", "cifar10_learning.configs", "spectra.width"),
)

EXPERIMENTS = run_functions(PIPELINE)     # {name: fn(params, inputs, output)} for library use

__all__ = ["PIPELINE", "EXPERIMENTS", "FIGURES", "CHECKS"]
