"""Data for the Saxe et al. 2014 pipeline: the hierarchical (binary-tree diffusion) data set of Fig. 3.

It is wrapped in :class:`ArrayDataset`, a :class:`isometry.data.Dataset` whose inputs are already float features
(``standardize`` is the identity), so that the batched engine trains on it unchanged. (MNIST's correlation matrices
for the deep linear experiments are in :mod:`isometry.papers.saxe2014.deep_linear`.)
"""

from __future__ import annotations

import math

import numpy as np
import torch

from isometry.data import Dataset


class ArrayDataset(Dataset):
    """A Dataset holding float feature vectors (already preprocessed): ``standardize`` only casts the dtype."""

    def standardize(self, x: torch.Tensor, dtype=torch.float32) -> torch.Tensor:
        return x.to(dtype)


# --------------------------------------------------------------------------------------------------- hierarchical
def hierarchical_features(levels: int, features: int, flip_prob: float, rng: np.random.Generator) -> np.ndarray:
    """Items x features (+-1) from a diffusion process on a binary tree (Saxe et al. 2013/2014, SMG Fig. 3).

    Every feature is drawn independently: the root takes a random sign; going down the tree each child copies its
    parent's value and flips it with probability ``flip_prob``. The ``2**levels`` leaves are the items. Items that
    share a deep ancestor share most features, which gives the input-output correlation its hierarchical SVD
    (one mode for the root, one for the first split, two for the second, ...).
    """
    vals = rng.choice(np.array([-1.0, 1.0]), size=(1, features))
    for _ in range(levels):
        vals = np.repeat(vals, 2, axis=0)
        vals = np.where(rng.random(vals.shape) < flip_prob, -vals, vals)
    return vals


def hierarchical_task(levels: int, features: int, flip_prob: float, seed: int, scale: float | None = None):
    """(targets (P, N3), Sigma31 (N3, P), U, s, V) for one-hot inputs x^mu = e_mu and targets y^mu = f^mu / scale.

    ``scale`` None divides the +-1 features by sqrt(N3) (unit-norm targets); 1.0 keeps them as they are (the paper's
    Fig. 3 units, where lambda = 0.5e-3). With the loss (1/2) sum_mu |y^mu - W32 W21 x^mu|^2 the input correlation
    is Sigma11 = sum_mu x x^T = I (the paper's whitened case, SMG eq. 2) and Sigma31 = sum_mu y x^T = Y^T = U S V^T.
    """
    rng = np.random.default_rng(seed)
    f = hierarchical_features(levels, features, flip_prob, rng)
    y = f / (math.sqrt(features) if scale is None else float(scale))
    sigma31 = y.T
    u, s, vt = np.linalg.svd(sigma31, full_matrices=False)
    # fix the SVD's sign ambiguity deterministically (largest |entry| of each right singular vector positive)
    sign = np.sign(vt[np.arange(len(s)), np.abs(vt).argmax(1)])
    u, vt = u * sign, vt * sign[:, None]
    return y, sigma31, u, s, vt.T


def hierarchical_dataset(y: np.ndarray, label: str) -> ArrayDataset:
    """The P items as a data set: inputs one-hot (P, P), labels = item index (the loss looks the target up)."""
    p = y.shape[0]
    x = torch.eye(p)
    idx = torch.arange(p)
    return ArrayDataset("hierarchy", label, x, idx, x, idx, source="synthetic")
