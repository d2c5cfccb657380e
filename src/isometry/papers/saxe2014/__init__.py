"""Saxe, McClelland & Ganguli 2014, "Exact solutions to the nonlinear dynamics of learning in deep linear neural
networks" (arXiv:1312.6120, ICLR 2014; tag SMG, papers.md section 2).

Experiments (one tidy CSV each, ``results/saxe2014/<name>.csv``):

* ``vector_field``            one mode's gradient-flow field in the (a, b) plane, hyperbolic trajectories (SMG Fig. 2).
* ``mode_dynamics``           u_alpha(t) on hierarchical data: analytic vs 3-layer linear vs tanh nets (SMG Fig. 3).
* ``depth_runs``              the run CSV of the deep-linear MNIST sweep (depth x lr x init, batched engine).
* ``learning_time_vs_depth``  epochs to criterion at the best lr versus depth, optimal lr, theory (SMG Figs. 4-6).
* ``mnist_training_curves``   training curves of the three inits at one depth (SMG Figs. 5-6).
* ``product_spectra``         squared singular values of products of Gaussian vs orthogonal matrices (SMG section 4).
* ``nonlinear_gain``          deep tanh nets on MNIST: training speed versus gain g, orthogonal vs Gaussian.

Figures are drawn from those CSVs only; ``CHECKS`` compares them with the paper's claims.
"""

from isometry.papers.saxe2014.checks import CHECKS
from isometry.papers.saxe2014.experiments import EXPERIMENTS as EXPERIMENT_LIST
from isometry.papers.saxe2014.figures import FIGURES
from isometry.pipeline import Figure, Pipeline, run_functions

PIPELINE = Pipeline(
    paper="saxe2014",
    experiments=EXPERIMENT_LIST,
    figures=tuple(Figure(name, (name,), fn, uses=("depth_sweep",) if name == "learning_time_vs_depth" else ())
                  for name, fn in FIGURES.items()),
    checks=CHECKS,
    checks_inputs=("mode_dynamics", "learning_time_vs_depth", "product_spectra", "nonlinear_gain"),
    checks_uses=("depth_sweep",),
)

EXPERIMENTS = run_functions(PIPELINE)     # {name: fn(params, inputs, output)} for library use

__all__ = ["PIPELINE", "EXPERIMENTS", "FIGURES", "CHECKS"]
