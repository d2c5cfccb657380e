"""Xiao, Bahri, Sohl-Dickstein, Schoenholz & Pennington 2018, "Dynamical isometry and a mean field theory of CNNs:
how to train 10,000-layer vanilla convolutional neural networks" (ICML 2018; tag XBSSP, papers.md).

Experiments (``experiments.py``; one tidy CSV each, results/xiao2018/<name>.csv; training sweeps are cut into
shards, one Snakemake job per ensemble), figures (``figures.py``; drawn from the CSVs only), checks (``checks.py``;
rows of results/xiao2018/checks.csv):

``deep_cnn_curves``         Fig. 1: critical tanh CNNs with delta-orthogonal kernels (Alg. 2) at several depths,
                            training / test accuracy vs step on MNIST and CIFAR-10; in the same ensembles Gaussian
                            kernels at the deepest depth (the contrast) and Alg. 1 orthogonal kernels on CIFAR-10.
``trainability_heatmap``    Fig. 2: training accuracy after several step budgets over (depth, sigma_w^2) at a tiny
                            sigma_b^2, Gaussian and delta-orthogonal kernels, with 6 xi_c from mean-field theory.
``fourier_modes``           sec. 2.4: per-Fourier-mode depth scales xi_{c,k} (uniform vs delta variance vector), theory
                            and random-CNN measurement.
``fc_reference``            the "FC Accuracy" line of the orthogonal-kernel depth figure (critical orthogonal MLPs).
``nonuniform_variance``     accuracy at one depth as the variance vector goes from delta to uniform.
``cnn_jacobian_spectrum``   Jacobian spectrum of delta-orthogonal CNNs vs the orthogonal free-probability density.

Figures: one per experiment except ``fc_reference``, plus ``orthogonal_depth`` (the paper's orthogonal-kernel depth
figure: the Alg. 1 runs of ``deep_cnn_curves`` with the FC line).
"""

from isometry.pipeline import Figure, Pipeline, run_functions

from .checks import CHECKS
from .experiments import EXPERIMENTS as EXPERIMENT_LIST
from .figures import FIGURE_INPUTS, FIGURES

PIPELINE = Pipeline(
    paper="xiao2018",
    experiments=EXPERIMENT_LIST,
    figures=tuple(Figure(name, FIGURE_INPUTS.get(name, (name,)), fn) for name, fn in FIGURES.items()),
    checks=CHECKS,
    checks_inputs=tuple(e.name for e in EXPERIMENT_LIST),
    checks_uses=("checks",),
)

EXPERIMENTS = run_functions(PIPELINE)     # {name: fn(params, inputs, output)} for library use

__all__ = ["PIPELINE", "EXPERIMENTS", "FIGURES", "CHECKS"]
