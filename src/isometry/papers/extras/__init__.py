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

EXPERIMENTS = {
    "shattered_gradients": shattered.experiment,
    "relu_init_comparison": relu_init.experiment,
    "trainability_heatmap_fc": heatmap.experiment,
    "orthogonality_regularization": orthogonality.rnn_experiment,
    "orthogonality_regularizers_cnn": orthogonality.cnn_experiment,
}
FIGURES = {
    "shattered_gradients": shattered.figure,
    "relu_init_comparison": relu_init.figure,
    "trainability_heatmap_fc": heatmap.figure,
    "orthogonality_regularization": orthogonality.rnn_figure,
    "orthogonality_regularizers_cnn": orthogonality.cnn_figure,
}

__all__ = ["EXPERIMENTS", "FIGURES", "CHECKS"]
