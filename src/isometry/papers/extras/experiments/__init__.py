"""The extras experiments: one theory job (shattered gradients) and four training sweeps (one shard = one ensemble).

``EXPERIMENTS`` lists them for ``isometry.papers.extras.PIPELINE``; each module documents its paper, setup and
deviations.
"""

from isometry.papers.extras.experiments import bansal, heatmap, relu_init, shattered, vorontsov
from isometry.pipeline import Sweep, Theory

EXPERIMENTS = (
    Theory("shattered_gradients", shattered.experiment, uses=("seed", "shattered")),
    Sweep(relu_init.EXPERIMENT, relu_init.plan, relu_init.run, uses=("relu_init",)),
    Sweep(heatmap.EXPERIMENT, heatmap.plan, heatmap.run, uses=("heatmap",), finish=heatmap.finish,
          finish_uses=("heatmap",)),
    Sweep(vorontsov.EXPERIMENT, vorontsov.plan, vorontsov.run, uses=("rnn",)),
    Sweep(bansal.EXPERIMENT, bansal.plan, bansal.run, uses=("cnn",)),
)

__all__ = ["EXPERIMENTS", "bansal", "heatmap", "relu_init", "shattered", "vorontsov"]
