"""Figures of the pennington2017 pipeline (drawn from the experiments' CSVs only)."""

from .theory import fig_phase_diagram, fig_smax_vs_depth, fig_spectra, fig_spectra_all
from .training import fig_cifar10_learning, fig_learning_speed

#: figure name -> (draw function, the experiment CSVs it reads, the config keys it reads)
FIGURES = {
    "phase_diagram": (fig_phase_diagram, ("phase_diagram",), ()),
    "spectra": (fig_spectra, ("spectra",), ()),
    "spectra_all": (fig_spectra_all, ("spectra",), ()),
    "smax_vs_depth": (fig_smax_vs_depth, ("smax_vs_depth",), ()),
    "cifar10_learning": (fig_cifar10_learning, ("cifar10_learning",),
                         ("cifar10_learning.configs", "cifar10_learning.n_test", "cifar10_learning.n_train",
                          "cifar10_learning.pilot_steps", "cifar10_learning.batch_size")),
    "learning_speed": (fig_learning_speed, ("learning_speed",),
                       ("learning_speed.q_star", "learning_speed.optimizer", "learning_speed.batch_size",
                        "learning_speed.n_test", "analysis")),
}

__all__ = ["FIGURES"]
