"""Xiao, Bahri, Sohl-Dickstein, Schoenholz & Pennington 2018, "Dynamical isometry and a mean field theory of CNNs:
how to train 10,000-layer vanilla convolutional neural networks" (ICML 2018; tag XBSSP, papers.md).

Experiments (``experiments.py``; one tidy CSV each, results/xiao2018/<name>.csv), figures (``figures.py``; drawn
from the CSV only), checks (``checks.py``; rows of results/xiao2018/checks.csv):

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

from .checks import CHECKS
from .experiments import EXPERIMENTS
from .figures import FIGURES

__all__ = ["EXPERIMENTS", "FIGURES", "CHECKS"]
