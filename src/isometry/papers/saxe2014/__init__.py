"""Saxe, McClelland & Ganguli 2014, "Exact solutions to the nonlinear dynamics of learning in deep linear neural
networks" (arXiv:1312.6120, ICLR 2014; tag SMG; verified.md section 4).

The paper's figures, each from its own experiment CSV (``results/saxe2014/<name>.csv``, see ``experiments``):
Fig. 2 ``vector_field``, Fig. 3 ``mode_dynamics``, Fig. 4 ``depth_decoupled``, Fig. 5 ``pretraining_consistency`` +
``pretraining_curves``, Fig. 6A ``depth_inits`` (+ the orthogonal eigenvalues of ``product_spectra``), Fig. 6B/C
``product_spectra``, Fig. 7 ``jacobian_spectra``. The deep linear MNIST experiments train by batch gradient
descent on the correlation matrices (``deep_linear``, SMG eq. 13, as the paper's Supp. C does). ``CHECKS`` compares
the CSVs with the paper's claims.
"""

from isometry.papers.saxe2014.checks import CHECK_INPUTS, CHECKS
from isometry.papers.saxe2014.experiments import EXPERIMENTS as EXPERIMENT_LIST
from isometry.papers.saxe2014.figures import FIGURES
from isometry.pipeline import Figure, Pipeline, run_functions

PIPELINE = Pipeline(
    paper="saxe2014",
    experiments=EXPERIMENT_LIST,
    figures=tuple(Figure(name, inputs, fn) for name, (fn, inputs) in FIGURES.items()),
    checks=CHECKS,
    checks_inputs=CHECK_INPUTS,
    checks_uses=(),
)

EXPERIMENTS = run_functions(PIPELINE)     # {name: fn(params, inputs, output)} for library use

__all__ = ["PIPELINE", "EXPERIMENTS", "FIGURES", "CHECKS"]
