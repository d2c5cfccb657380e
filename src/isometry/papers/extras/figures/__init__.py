"""The extras figures, one module per figure; each draws only from its experiments' CSVs."""

from isometry.papers.extras.figures import bansal, heatmap, looks_linear, relu_init, shattered, vorontsov
from isometry.pipeline import Figure

FIGURES = (
    Figure("shattered_gradients", ("shattered_gradients",), shattered.draw),
    Figure("looks_linear_depth", ("relu_init_comparison",), looks_linear.draw, uses=("relu_init.figure",)),
    Figure("relu_init_comparison", ("relu_init_comparison",), relu_init.draw, uses=("relu_init.figure",)),
    Figure("trainability_heatmap_fc", ("trainability_heatmap_fc",), heatmap.draw, uses=("checks",)),
    Figure("orthogonality_regularization", ("orthogonality_regularization",), vorontsov.draw),
    Figure("orthogonality_regularizers_cnn", ("orthogonality_regularizers_cnn",), bansal.draw),
)

__all__ = ["FIGURES"]
