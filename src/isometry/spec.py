"""What one run is: the per-member hyper-parameters of a sweep, and the tidy run-CSV schema.

A sweep table has one row per run (``Member``). The engine trains every member of a *group* (same model shape:
architecture, nonlinearity, depth, width, ...) together, weights stacked on a leading ensemble dimension E.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# DESIGN.md: these run-CSV column names are not optional (extra columns are fine).
RUN_COLUMNS = [
    "paper", "experiment", "run_id", "init", "nonlinearity", "depth", "width", "sigma_w2", "sigma_b2", "lr",
    "optimizer", "seed", "dataset", "step", "train_loss", "train_acc", "test_loss", "test_acc", "diverged", "wall_s",
]

OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")


@dataclass
class Member:
    """Hyper-parameters of one run (one member of an ensemble).

    ``sigma_w2`` is the weight variance scale (gain squared, DESIGN.md: gain = sigma_w); ``None`` lets the init
    scheme choose its own (He: 2, critical: the critical point for ``sigma_b2``, random_walk: g*^2, ...).
    """

    run_id: str
    init: str = "gaussian"
    sigma_w2: float | None = 1.0
    sigma_b2: float = 0.0
    lr: float = 1e-2
    optimizer: str = "sgd"
    momentum: float = 0.9          # used by "momentum" (and as RMSProp's momentum when > 0 is wanted explicitly)
    beta1: float = 0.9             # Adam
    beta2: float = 0.999           # Adam; also RMSProp's smoothing constant alpha
    eps: float = 1e-8
    seed: int = 0
    extra: dict = field(default_factory=dict)   # paper-specific columns copied into the run CSV

    def as_row(self) -> dict:
        row = asdict(self)
        row.update(row.pop("extra"))
        return row
