"""Datasets: fetch (mirror first, then the official source) with checksum verification, convert once into a compact
uint8 tensor file, load in well under a second.

Converted file: ``<data_dir>/<name>/<name>.pt``, a dict saved with ``torch.save``::

    train_x  uint8 (N, C, H, W)     test_x  uint8 (M, C, H, W)
    train_y  int64 (N,)             test_y  int64 (M,)
    name, variant, source, classes

``variant`` says which copy of the data it is: ``official`` (byte-identical to the official files, md5-verified)
or, for CIFAR-10 only, ``jpeg`` (the lossy JPEG image-folder copy). Every CSV and caption that uses a dataset names
its variant (``Dataset.label``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch

DATASETS = ("mnist", "fashion_mnist", "cifar10")

# Per-channel mean/std of the official training sets (pixel values in [0, 1]); used to standardize inputs.
_MEAN_STD = {
    "mnist": ((0.1307,), (0.3081,)),
    "fashion_mnist": ((0.2860,), (0.3530,)),
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
}


def dataset_path(name: str, data_dir: str | Path = "data") -> Path:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    return Path(data_dir) / name / f"{name}.pt"


@dataclass
class Dataset:
    name: str
    variant: str
    train_x: torch.Tensor   # uint8 (N, C, H, W)
    train_y: torch.Tensor   # int64 (N,)
    test_x: torch.Tensor
    test_y: torch.Tensor
    source: str = ""

    @property
    def label(self) -> str:
        """Name + variant, e.g. ``cifar10 (jpeg)``: what CSVs and captions print."""
        return f"{self.name} ({self.variant})"

    @property
    def num_classes(self) -> int:
        return int(self.train_y.max().item()) + 1

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.train_x.shape[1:])

    def subset(self, n_train: int | None = None, n_test: int | None = None) -> "Dataset":
        """The first ``n_train`` / ``n_test`` examples (the official order), for quick-scale runs."""
        return Dataset(self.name, self.variant,
                       self.train_x[:n_train], self.train_y[:n_train],
                       self.test_x[:n_test], self.test_y[:n_test], self.source)

    def standardize(self, x: torch.Tensor, dtype=torch.float32) -> torch.Tensor:
        """uint8 images -> float, per-channel zero mean / unit variance (official-train statistics)."""
        mean, std = _MEAN_STD[self.name]
        shape = (1, -1) + (1,) * (x.dim() - 2)
        mean = torch.tensor(mean, dtype=dtype).view(shape)
        std = torch.tensor(std, dtype=dtype).view(shape)
        return (x.to(dtype) / 255.0 - mean) / std


def load_dataset(name: str, data_dir: str | Path = "data") -> Dataset:
    """Load a converted dataset (made by the ``data`` rule / ``python -m isometry data``)."""
    path = dataset_path(name, data_dir)
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist: build it first with `snakemake {path}` or `python -m isometry data {name}`")
    d = torch.load(path, weights_only=True)
    return Dataset(d["name"], d["variant"], d["train_x"], d["train_y"], d["test_x"], d["test_y"], d.get("source", ""))
