"""extras: results beyond the four main papers (the init advisor, ``isometry.advisor``, is separate).

Experiments (one tidy CSV each, ``results/extras/<name>.csv``) and their figures (``figures/extras/<name>.png``):

* ``shattered_gradients``            Balduzzi et al. 2017: df/dx along a 1-D input grid for plain ReLU (He), residual
                                     and Looks-Linear CReLU nets and white / brown noise references; autocorrelation
                                     and spectral exponent versus depth (theory job, no data).
* ``relu_init_comparison``           deep ReLU MLPs on MNIST: Xavier, He, orthogonal x sqrt2, random-walk gain,
                                     Looks-Linear CReLU; the 30-layer He-vs-Xavier contrast (He et al. 2015) and the
                                     Looks-Linear depth study (figure ``looks_linear_depth``).
* ``trainability_heatmap_fc``        Schoenholz et al. 2017: training accuracy over (sigma_w^2, log depth) for tanh
                                     MLPs at sigma_b^2 = 0.05 with xi_c ... 6 xi_c overlaid.
* ``orthogonality_regularization``   Vorontsov et al. 2017 singular-value margins and seed 003's gain-adjusted soft
                                     penalty, tanh RNN on row-by-row sequential MNIST.
* ``orthogonality_regularizers_cnn`` Bansal et al. 2018: SO, DSO, MC, SRIP on a deep plain CNN on CIFAR-10 (the JPEG
                                     copy when that is what ``data/`` holds; the CSV and caption name the variant).

Inner plan: ``experiments`` (one module per experiment), ``figures`` (one module per figure), ``checks`` (the
scorecard rows, ``paper`` = extras with the source paper in ``source``).
"""

from isometry.papers.extras.checks import CHECKS
from isometry.papers.extras.experiments import EXPERIMENTS as EXPERIMENT_LIST
from isometry.papers.extras.figures import FIGURES
from isometry.pipeline import Pipeline, run_functions

PIPELINE = Pipeline(
    paper="extras",
    experiments=EXPERIMENT_LIST,
    figures=FIGURES,
    checks=CHECKS,
    checks_inputs=("shattered_gradients", "relu_init_comparison", "trainability_heatmap_fc",
                   "orthogonality_regularization", "orthogonality_regularizers_cnn"),
    checks_uses=("checks",),
)

EXPERIMENTS = run_functions(PIPELINE)     # {name: fn(params, inputs, output)} for library use

__all__ = ["PIPELINE", "EXPERIMENTS", "FIGURES", "CHECKS"]
