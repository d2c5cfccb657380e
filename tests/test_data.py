"""Dataset fetching/verification/conversion on tiny generated files in the official formats."""

import gzip
import hashlib
import io
import pickle
import tarfile

import numpy as np
import pytest
import torch
from PIL import Image

from isometry import data as D


def _md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


def _idx_bytes(arr: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return header + arr.astype(np.uint8).tobytes()


@pytest.fixture
def tiny_mnist_mirror(tmp_path, monkeypatch):
    """A mirror folder holding tiny idx.gz files, with torchvision's expected md5s patched to match them."""
    from torchvision.datasets import MNIST

    rng = np.random.default_rng(0)
    mirror = tmp_path / "mirror" / "mnist"
    mirror.mkdir(parents=True)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (20, 28, 28)),
        "train-labels-idx1-ubyte.gz": np.arange(20) % 10,
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (10, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": np.arange(10) % 10,
    }
    resources = []
    for name, arr in arrays.items():
        (mirror / name).write_bytes(gzip.compress(_idx_bytes(arr)))
        resources.append((name, _md5(mirror / name)))
    monkeypatch.setattr(MNIST, "resources", resources)
    return tmp_path / "mirror", arrays


def test_idx_conversion_roundtrip(tiny_mnist_mirror, tmp_path):
    mirror, arrays = tiny_mnist_mirror
    out = D.prepare_dataset("mnist", tmp_path / "data", [mirror], download=False)
    ds = D.load_dataset("mnist", tmp_path / "data")
    assert ds.variant == "official" and ds.label == "mnist (official)"
    assert ds.train_x.dtype == torch.uint8 and ds.train_x.shape == (20, 1, 28, 28)
    assert torch.equal(ds.train_x[:, 0], torch.from_numpy(arrays["train-images-idx3-ubyte.gz"].astype(np.uint8)))
    assert ds.test_y.tolist() == list(range(10))
    assert out.with_suffix(".json").is_file()


def test_corrupt_mirror_file_is_a_checksum_error_and_writes_nothing(tiny_mnist_mirror, tmp_path):
    mirror, _ = tiny_mnist_mirror
    f = mirror / "mnist" / "train-images-idx3-ubyte.gz"
    f.write_bytes(f.read_bytes()[:-50])  # truncate
    with pytest.raises(D.DataError, match="checksum error"):
        D.prepare_dataset("mnist", tmp_path / "data", [mirror], download=False)
    assert not D.dataset_path("mnist", tmp_path / "data").exists()
    assert not list((tmp_path / "data" / "mnist").glob("*.pt*"))


def test_missing_mirror_is_reported_not_fatal(tiny_mnist_mirror, tmp_path):
    mirror, _ = tiny_mnist_mirror
    out = D.prepare_dataset("mnist", tmp_path / "data", [tmp_path / "does-not-exist", mirror], download=False)
    assert out.exists()


def test_no_source_names_every_problem(tmp_path):
    with pytest.raises(D.DataError) as err:
        D.prepare_dataset("fashion_mnist", tmp_path / "data", [tmp_path / "nowhere"], download=False)
    msg = str(err.value)
    assert "does not exist" in msg and "downloading is disabled" in msg


def _cifar_rows(n, rng):
    return rng.integers(0, 256, (n, 3072)).astype(np.uint8), list(rng.integers(0, 10, n))


def test_cifar_official_pickles(tmp_path, monkeypatch):
    from torchvision.datasets import CIFAR10

    rng = np.random.default_rng(1)
    folder = tmp_path / "mirror" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    train_list, test_list, rows = [], [], {}
    for name in ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"]:
        x, y = _cifar_rows(4, rng)
        rows[name] = (x, y)
        with open(folder / name, "wb") as fh:
            pickle.dump({"data": x, "labels": y}, fh)
        (test_list if name == "test_batch" else train_list).append([name, _md5(folder / name)])
    with open(folder / "batches.meta", "wb") as fh:
        pickle.dump({"label_names": list(D.CIFAR10_CLASSES)}, fh)
    monkeypatch.setattr(CIFAR10, "train_list", train_list)
    monkeypatch.setattr(CIFAR10, "test_list", test_list)
    monkeypatch.setattr(CIFAR10, "meta", {"filename": "batches.meta", "key": "label_names",
                                          "md5": _md5(folder / "batches.meta")})
    D.prepare_dataset("cifar10", tmp_path / "data", [tmp_path / "mirror"], download=False)
    ds = D.load_dataset("cifar10", tmp_path / "data")
    assert ds.variant == "official"
    assert ds.train_x.shape == (20, 3, 32, 32) and ds.test_x.shape == (4, 3, 32, 32)
    # official row layout: 1024 R, 1024 G, 1024 B
    x0 = rows["data_batch_1"][0][0]
    assert torch.equal(ds.train_x[0], torch.from_numpy(x0.reshape(3, 32, 32)))

    # a corrupted batch is rejected with a checksum error
    (folder / "data_batch_3").write_bytes(b"garbage")
    with pytest.raises(D.DataError, match="checksum error"):
        D.prepare_dataset("cifar10", tmp_path / "data2", [tmp_path / "mirror"], download=False,
                          cifar10_source="official")


def _jpeg_bytes(rng):
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (32, 32, 3)).astype(np.uint8)).save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def _make_image_folder(root, rng, per_class=(3, 2)):
    for split, n in zip(("train", "test"), per_class):
        for cls in D.CIFAR10_CLASSES:
            (root / split / cls).mkdir(parents=True, exist_ok=True)
            for i in range(n):
                (root / split / cls / f"{i:04d}.jpg").write_bytes(_jpeg_bytes(rng))


def test_cifar_image_folder_and_tarball(tmp_path, monkeypatch):
    monkeypatch.setattr(D, "CIFAR10_JPEG_PER_CLASS", {"train": 3, "test": 2})   # a complete (tiny) copy
    rng = np.random.default_rng(2)
    folder = tmp_path / "src" / "cifar-10-jpeg"
    _make_image_folder(folder, rng)
    # 1. plain image folder
    D.prepare_dataset("cifar10", tmp_path / "d1", [tmp_path / "src"], download=False, cifar10_source="jpeg")
    ds = D.load_dataset("cifar10", tmp_path / "d1")
    assert ds.variant == "jpeg" and ds.label == "cifar10 (jpeg)"
    assert ds.train_x.shape == (30, 3, 32, 32) and ds.test_x.shape == (20, 3, 32, 32)
    assert torch.bincount(ds.train_y).tolist() == [3] * 10
    # 2. the same inside a .tar.gz with a verified md5
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    archive = mirror / "cifar-10-jpeg.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-jpeg")
    monkeypatch.setattr(D, "CIFAR10_JPEG_ARCHIVE", ("cifar-10-jpeg.tar.gz", _md5(archive)))
    D.prepare_dataset("cifar10", tmp_path / "d2", [mirror], download=False)
    ds2 = D.load_dataset("cifar10", tmp_path / "d2")
    assert torch.equal(ds.train_x, ds2.train_x) and torch.equal(ds.test_y, ds2.test_y)
    # 3. a truncated archive: checksum error, nothing written
    archive.write_bytes(archive.read_bytes()[:1000])
    with pytest.raises(D.DataError, match="checksum error"):
        D.prepare_dataset("cifar10", tmp_path / "d3", [mirror], download=False)
    assert not D.dataset_path("cifar10", tmp_path / "d3").exists()


def test_standardize_and_subset():
    x = torch.full((4, 1, 2, 2), 255, dtype=torch.uint8)
    ds = D.Dataset("mnist", "official", x, torch.arange(4), x[:2], torch.arange(2))
    z = ds.standardize(ds.train_x)
    assert z.dtype == torch.float32 and torch.allclose(z, torch.full_like(z, (1 - 0.1307) / 0.3081))
    assert ds.subset(3, 1).train_x.shape[0] == 3
