"""The experiments of the saxe2014 pipeline (Saxe, McClelland & Ganguli 2014, arXiv:1312.6120), one CSV each.

==========================  =======  ========================================================================
experiment                  figure   what
==========================  =======  ========================================================================
vector_field                Fig. 2   one mode's (a, b) gradient-flow field (theory)
mode_dynamics               Fig. 3   mode strengths, analytic vs 3-layer linear / tanh nets; half-learning delay
depth_decoupled             Fig. 4   MNIST deep linear nets from decoupled u0 = 0.001: learning time, optimal lr
pretraining_consistency     Fig. 5   Sigma11 and V Sigma11 V^T submatrices (left, centre)
pretraining_curves          Fig. 5   5-layer net from Gaussian std 0.01 vs greedy pre-trained (right)
depth_inits                 Fig. 6A  Glorot uniform vs pre-trained vs random orthogonal, learning time vs depth
product_spectra             Fig. 6BC products of Gaussian matrices: singular values, complex eigenvalues
jacobian_spectra            Fig. 7   end-to-end Jacobian of orthogonal tanh nets over gain g x input variance q1
==========================  =======  ========================================================================
"""

from isometry.papers.saxe2014.experiments.mnist import (
    plan_depth_decoupled,
    plan_depth_inits,
    plan_pretraining_curves,
    pretraining_consistency,
    run_depth_decoupled,
    run_depth_inits,
    run_pretraining_curves,
)
from isometry.papers.saxe2014.experiments.modes import (
    analytic_half_time,
    finish_mode_dynamics,
    half_time,
    plan_mode_dynamics,
    run_mode_shard,
    vector_field,
)
from isometry.papers.saxe2014.experiments.spectra import (
    decade_fraction,
    excess_kurtosis,
    jacobian_spectra,
    product_spectra,
    radial_origin_fraction,
)
from isometry.pipeline import Sweep, Theory, dense_memory

EXPERIMENTS = (
    Theory("vector_field", vector_field, uses=("vector_field",)),
    Sweep("mode_dynamics", plan_mode_dynamics, run_mode_shard, uses=("mode_dynamics",), finish=finish_mode_dynamics,
          finish_uses=("mode_dynamics",)),
    Sweep("depth_decoupled", plan_depth_decoupled, run_depth_decoupled, uses=("mnist", "depth_decoupled")),
    Theory("pretraining_consistency", pretraining_consistency, uses=("mnist", "pretraining_consistency"),
           data=lambda p: (p["mnist"]["dataset"],)),
    Sweep("pretraining_curves", plan_pretraining_curves, run_pretraining_curves, uses=("mnist", "pretraining")),
    Sweep("depth_inits", plan_depth_inits, run_depth_inits, uses=("mnist", "depth_inits")),
    Theory("product_spectra", product_spectra, uses=("seed", "product_spectra"),
           memory=dense_memory("product_spectra.width")),
    Theory("jacobian_spectra", jacobian_spectra, uses=("seed", "jacobian_spectra"),
           memory=dense_memory("jacobian_spectra.width")),
)

__all__ = ["EXPERIMENTS", "analytic_half_time", "half_time", "decade_fraction", "excess_kurtosis",
           "radial_origin_fraction"]
