"""extras: results beyond the four main papers, plus the init advisor (``isometry.advisor``).

Experiments (one tidy CSV each, ``results/extras/<name>.csv``) and their figures (``figures/extras/<name>.png``):

* ``shattered_gradients``          Balduzzi et al. 2017: df/dx along a 1-D input grid for plain ReLU (He), residual
                                   and Looks-Linear CReLU nets; gradient autocorrelation versus depth and lag, with the
                                   mean-field prediction for plain ReLU nets (``shattered``).
* ``relu_init_comparison``         deep ReLU MLPs on MNIST: Xavier, He, orthogonal x sqrt2, random-walk gain,
                                   Looks-Linear CReLU (parameter-matched); signal/gradient per layer at init, and
                                   training curves (batched engine) (``relu_init``).
* ``trainability_heatmap_fc``      Schoenholz et al. 2017: training accuracy over (sigma_w^2, depth) for tanh MLPs at
                                   sigma_b^2 = 0.05 with 6 xi_c overlaid (``heatmap``).
* ``orthogonality_regularization`` Vorontsov et al. 2017 / gain-adjusted soft orthogonality: tanh RNN on sequential
                                   MNIST, none / soft / gain-adjusted / hard (Stiefel) / singular-value margin
                                   (``orthogonality``).
* ``orthogonality_regularizers_cnn`` Bansal et al. 2018: SO, DSO, MC, SRIP on a plain CNN on CIFAR-10 (the JPEG copy
                                   when that is what ``data/`` holds; the CSV and caption name the variant).

``CHECKS`` compares the CSVs with the papers' claims (``checks``).
"""

from isometry.papers.extras import heatmap, orthogonality, relu_init, shattered
from isometry.papers.extras.checks import CHECKS
from isometry.pipeline import Figure, Pipeline, Theory, run_functions

# One job each for now (TODO(issue 19): the training experiments become sharded Sweeps).
EXPERIMENT_LIST = (
    Theory("shattered_gradients", shattered.experiment, uses=("seed", "shattered")),
    Theory("relu_init_comparison", relu_init.experiment, uses=("seed", "relu_init"),
           data=lambda p: (p["relu_init"]["dataset"],), gpu=True),
    Theory("trainability_heatmap_fc", heatmap.experiment, uses=("seed", "heatmap"),
           data=lambda p: (p["heatmap"]["dataset"],), gpu=True),
    Theory("orthogonality_regularization", orthogonality.rnn_experiment, uses=("seed", "rnn"),
           data=lambda p: (p["rnn"]["dataset"],), gpu=True),
    Theory("orthogonality_regularizers_cnn", orthogonality.cnn_experiment, uses=("seed", "cnn"),
           data=lambda p: (p["cnn"]["dataset"],), gpu=True),
)
FIGURES = {
    "shattered_gradients": shattered.figure,
    "relu_init_comparison": relu_init.figure,
    "trainability_heatmap_fc": heatmap.figure,
    "orthogonality_regularization": orthogonality.rnn_figure,
    "orthogonality_regularizers_cnn": orthogonality.cnn_figure,
}
_FIGURE_USES = {"trainability_heatmap_fc": ("heatmap",), "orthogonality_regularization": ("rnn",),
                "orthogonality_regularizers_cnn": ("cnn",), "shattered_gradients": ("shattered",)}

PIPELINE = Pipeline(
    paper="extras",
    experiments=EXPERIMENT_LIST,
    figures=tuple(Figure(name, (name,), fn, uses=_FIGURE_USES.get(name, ())) for name, fn in FIGURES.items()),
    checks=CHECKS,
    checks_inputs=("shattered_gradients", "relu_init_comparison", "trainability_heatmap_fc",
                   "orthogonality_regularization"),
    checks_uses=("checks", "shattered"),
)

EXPERIMENTS = run_functions(PIPELINE)     # {name: fn(params, inputs, output)} for library use

__all__ = ["PIPELINE", "EXPERIMENTS", "FIGURES", "CHECKS"]
