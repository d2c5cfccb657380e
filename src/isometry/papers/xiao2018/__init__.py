"""Xiao, Bahri, Sohl-Dickstein, Schoenholz & Pennington 2018, "Dynamical isometry and a mean field theory of CNNs:
how to train 10,000-layer vanilla convolutional neural networks" (ICML 2018; tag XBSSP, papers.md).

Experiments (``experiments.py``; one tidy CSV each, results/xiao2018/<name>.csv; training sweeps are cut into
shards, one Snakemake job per ensemble), figures (``figures.py``; drawn from the CSV only), checks (``checks.py``;
rows of results/xiao2018/checks.csv):

``deep_cnn_curves``         Fig. 1: critical tanh CNNs with delta-orthogonal kernels (Alg. 2) at several depths,
                            training / test accuracy vs step on MNIST and CIFAR-10 (batched engine).
``trainability_heatmap``    Fig. 2: accuracy after a fixed budget over (depth, sigma_w^2), Gaussian and
                            delta-orthogonal kernels, with 6 xi_c from mean-field theory.
``fourier_modes``           sec. 2.4: per-Fourier-mode depth scales xi_{c,k} (uniform vs delta variance vector), theory
                            and random-CNN measurement.
``orthogonal_vs_gaussian``  delta-orthogonal vs block-orthogonal (Alg. 1) vs Gaussian kernels at one large depth,
                            with the measured singular values of the kernels' circular convolutions.
``nonuniform_variance``     accuracy at one large depth as the variance vector goes from delta to uniform.
``cnn_jacobian_spectrum``   Jacobian spectrum of delta-orthogonal CNNs vs the orthogonal free-probability density.
"""

from isometry.pipeline import Figure, Pipeline, run_functions

from .checks import CHECKS
from .experiments import EXPERIMENTS as EXPERIMENT_LIST
from .figures import FIGURES

_ARCH = ("model", "train")
_FIGURE_USES = {"deep_cnn_curves": _ARCH, "trainability_heatmap": _ARCH + ("trainability_heatmap",),
                "orthogonal_vs_gaussian": _ARCH, "nonuniform_variance": _ARCH}

PIPELINE = Pipeline(
    paper="xiao2018",
    experiments=EXPERIMENT_LIST,
    figures=tuple(Figure(name, (name,), fn, uses=_FIGURE_USES.get(name, ())) for name, fn in FIGURES.items()),
    checks=CHECKS,
    checks_inputs=tuple(e.name for e in EXPERIMENT_LIST),
    checks_uses=("checks", "trainability_heatmap"),
)

EXPERIMENTS = run_functions(PIPELINE)     # {name: fn(params, inputs, output)} for library use

__all__ = ["PIPELINE", "EXPERIMENTS", "FIGURES", "CHECKS"]
