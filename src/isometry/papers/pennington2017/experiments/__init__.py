"""Experiments of the pennington2017 pipeline: each writes one tidy CSV (results/pennington2017/<name>.csv).

``theory``    phase_diagram (PSG Fig. 1), spectra (Fig. 2), smax_vs_depth (Fig. 3): no data set.
``training``  cifar10_learning (Fig. 4), learning_speed (Fig. 5(a)): CIFAR-10 sweeps cut into shards.
"""

from .theory import EXPERIMENTS as _THEORY
from .training import EXPERIMENTS as _TRAINING

EXPERIMENTS = _THEORY + _TRAINING

__all__ = ["EXPERIMENTS"]
