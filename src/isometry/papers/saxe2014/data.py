"""Data for the Saxe et al. 2014 pipeline: the hierarchical (binary-tree diffusion) data set and PCA-whitened MNIST.

Both are wrapped in :class:`ArrayDataset`, a :class:`isometry.data.Dataset` whose inputs are already float features
(``standardize`` is the identity), so that the batched engine trains on them unchanged.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from isometry.data import Dataset, load_dataset


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


def hierarchical_task(levels: int, features: int, flip_prob: float, seed: int):
    """(targets (P, N3), Sigma31 (N3, P), U, s, V) for one-hot inputs x^mu = e_mu and targets y^mu = f^mu/sqrt(N3).

    With the loss (1/2) sum_mu |y^mu - W32 W21 x^mu|^2 the input correlation is Sigma11 = sum_mu x x^T = I (the
    paper's whitened case, SMG eq. 2) and Sigma31 = sum_mu y x^T = Y^T = U S V^T.
    """
    rng = np.random.default_rng(seed)
    f = hierarchical_features(levels, features, flip_prob, rng)
    y = f / math.sqrt(features)
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


# ---------------------------------------------------------------------------------------------------------- MNIST
def pca_dataset(name: str, data_dir, n_train: int, n_test: int, dim: int, whiten: bool = True) -> ArrayDataset:
    """First ``n_train`` / ``n_test`` examples of a real data set, standardized pixels projected on the top ``dim``
    principal components of the training subset (and, with ``whiten``, scaled to unit variance per component, so
    that Sigma11 = I on the training subset: the whitened-input case of SMG section 2)."""
    ds = load_dataset(name, data_dir)
    xtr = ds.standardize(ds.train_x[:n_train], dtype=torch.float64).flatten(1)
    xte = ds.standardize(ds.test_x[:n_test], dtype=torch.float64).flatten(1)
    mean = xtr.mean(0)
    _, s, vt = torch.linalg.svd(xtr - mean, full_matrices=False)
    proj = vt[:dim].T
    if whiten:
        proj = proj / (s[:dim] / math.sqrt(len(xtr)))
    ztr = ((xtr - mean) @ proj).float()
    zte = ((xte - mean) @ proj).float()
    return ArrayDataset(ds.name, ds.variant, ztr, ds.train_y[:n_train].clone(), zte, ds.test_y[:n_test].clone(),
                        source=ds.source)


def least_squares_mse(ds: Dataset) -> tuple[float, float]:
    """(optimal, zero-predictor) value of the engine's ``mse`` loss (mean over examples and the K outputs, one-hot
    targets) for a bias-free linear map of the training inputs: the floor a deep linear net can reach."""
    x = ds.train_x.double()
    k = int(ds.train_y.max()) + 1
    y = torch.nn.functional.one_hot(ds.train_y, k).double()
    w = torch.linalg.lstsq(x, y).solution
    opt = float(((x @ w - y) ** 2).mean())
    zero = float((y ** 2).mean())
    return opt, zero
