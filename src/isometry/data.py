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


def load_dataset(name: str, data_dir: str | Path = "data", verify: bool = True) -> Dataset:
    """Load a converted dataset (made by the ``data`` rule / ``python -m isometry data``).

    ``verify`` (default): the file's md5 must equal the one recorded in ``<name>.json`` at conversion time (see
    ``verify_converted``: hashed once, then remembered by size, mtime, ctime and inode, so a later load costs a
    ``stat``), and its contents must be well formed (uint8 images, int64 labels in ``0..classes-1``, matching
    lengths). A modified, truncated or corrupted file raises ``DatasetCorruptError`` naming the file and how to
    rebuild it.
    """
    path = dataset_path(name, data_dir)
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist: build it first with `snakemake {path}` or `python -m isometry data {name}`")
    if verify:
        verify_converted(path, name)
    try:
        d = torch.load(path, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - truncated zip ("failed finding central directory"), bad pickle, ...
        raise DatasetCorruptError(f"{path}: unreadable ({type(exc).__name__}: {str(exc).splitlines()[0][:120]}); "
                                  f"{_rebuild_hint(path, name)}") from exc
    _check_contents(d, path, name)
    return Dataset(d["name"], d["variant"], d["train_x"], d["train_y"], d["test_x"], d["test_y"], d.get("source", ""))


class DatasetCorruptError(RuntimeError, OSError):
    """A converted dataset file is modified, truncated or malformed (an ``OSError`` too, so that the CLI reports it
    as one error line)."""


def _rebuild_hint(path: Path, name: str) -> str:
    return (f"rebuild it with `python -m isometry data {name} --data-dir {path.parent.parent}` (or delete it and "
            f"rerun `snakemake {path}`)")


def _check_contents(d, path: Path, name: str) -> None:
    def bad(why):
        raise DatasetCorruptError(f"{path}: {why} (corrupt or not a converted {name} file); "
                                  f"{_rebuild_hint(path, name)}")

    if not isinstance(d, dict):
        bad("not a dict of tensors")
    missing = [k for k in ("train_x", "train_y", "test_x", "test_y", "name", "variant") if k not in d]
    if missing:
        bad(f"missing entries {missing}")
    n_classes = len(d.get("classes") or ()) or 10
    for split in ("train", "test"):
        x, y = d[f"{split}_x"], d[f"{split}_y"]
        if not (isinstance(x, torch.Tensor) and x.dtype == torch.uint8 and x.dim() == 4):
            bad(f"{split}_x is not a uint8 (N, C, H, W) tensor")
        if not (isinstance(y, torch.Tensor) and y.dtype == torch.int64 and y.dim() == 1):
            bad(f"{split}_y is not an int64 (N,) tensor")
        if len(x) != len(y) or len(y) == 0:
            bad(f"{len(x)} {split} images but {len(y)} labels")
        lo, hi = int(y.min()), int(y.max())
        if lo < 0 or hi >= n_classes:
            bad(f"{split} labels outside 0..{n_classes - 1} (found {lo}..{hi})")


_verified: dict = {}


def _cache_dir() -> Path:
    env = os.environ.get("ISOMETRY_CACHE_DIR")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "isometry"


def verify_converted(path: str | Path, name: str | None = None) -> None:
    """Check ``path`` against the md5 recorded in its ``.json`` summary; raise ``DatasetCorruptError`` if it differs.

    Cheap after the first time: a successful check is remembered, in this process and in
    ``$ISOMETRY_CACHE_DIR`` (default ``~/.cache/isometry/verified/``), under the file's (real path, device, inode,
    size, mtime, ctime). Any write to the file changes its ctime (which cannot be set back, unlike the mtime), so a
    file modified in place is hashed again. A file with no ``.json`` (hand-made test data) cannot be checked: a
    note says so once.
    """
    path = Path(path)
    name = name or path.stem
    summary = path.with_suffix(".json")
    st = path.stat()
    key = [str(path.resolve()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
    if tuple(key) in _verified:
        return
    try:
        want = json.loads(summary.read_text()).get("md5")
    except FileNotFoundError:
        want = None
    except (OSError, ValueError) as exc:
        raise DatasetCorruptError(f"{summary}: unreadable summary ({exc}); {_rebuild_hint(path, name)}") from exc
    if not want:
        _log(f"note: {path} has no recorded md5 ({summary} missing); its contents cannot be verified")
        _verified[tuple(key)] = True
        return
    stamp = _cache_dir() / "verified" / (hashlib.sha1(key[0].encode()).hexdigest() + ".json")
    try:
        if json.loads(stamp.read_text()) == {"key": key, "md5": want}:
            _verified[tuple(key)] = True
            return
    except (OSError, ValueError):
        pass
    got = md5sum(path)
    if got != want:
        raise DatasetCorruptError(
            f"{path}: checksum mismatch, md5 {got} != {want} recorded in {summary} at conversion: the file was "
            f"modified or corrupted; {_rebuild_hint(path, name)}")
    _verified[tuple(key)] = True
    with contextlib.suppress(OSError):
        write_text(json.dumps({"key": key, "md5": want}), stamp)


# --------------------------------------------------------------------------------------------------------------------
# Fetching and conversion
# --------------------------------------------------------------------------------------------------------------------

import contextlib  # noqa: E402
import gzip  # noqa: E402
import hashlib  # noqa: E402
import io as _io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
import tarfile  # noqa: E402
import tempfile  # noqa: E402

import numpy as np  # noqa: E402

from isometry.io import DiskFullError, atomic_path, is_disk_full, save_torch, write_text  # noqa: E402

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

# The JPEG image-folder copy of CIFAR-10 described in shared/data/SOURCES.md (lossy, quality 75).
CIFAR10_JPEG_ARCHIVE = ("cifar-10-jpeg.tar.gz", "ed34c0535b92b58275e7e60125140e53")

# Names under which a mirror may hold a dataset's files (besides its root).
_MIRROR_SUBDIRS = {
    "mnist": ("mnist", "MNIST", "MNIST/raw"),
    "fashion_mnist": ("fashion-mnist", "fashion_mnist", "FashionMNIST", "FashionMNIST/raw"),
    "cifar10": ("cifar10", "cifar-10", "CIFAR10"),
}


class DataError(RuntimeError):
    """A dataset could not be fetched or verified; the message lists every source tried and why it failed."""


def md5sum(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.md5()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def _log(msg: str) -> None:
    print(f"[isometry.data] {msg}", file=sys.stderr, flush=True)


def _mirror_candidates(name: str, filename: str, mirrors, problems: list[str]) -> list[Path]:
    """Existing files called ``filename`` in the mirrors (in order); unreadable mirrors are reported, not fatal."""
    found = []
    for m in mirrors or ():
        m = Path(m).expanduser()
        if not m.is_dir():
            problems.append(f"mirror {m}: does not exist or is not a directory (skipped)")
            continue
        if not os.access(m, os.R_OK | os.X_OK):
            problems.append(f"mirror {m}: not readable (skipped)")
            continue
        for sub in ("",) + _MIRROR_SUBDIRS[name]:
            p = m / sub / filename
            if p.is_file():
                found.append(p)
    return found


def fetch_file(name: str, filename: str, md5: str, urls: list[str], raw_dir: Path, mirrors, download: bool,
               problems: list[str]) -> Path | None:
    """Return a verified local copy of ``filename``: a mirror file whose md5 matches, else a verified download.

    A mirror file with the wrong checksum (corrupt or truncated) is reported and skipped, never used. Downloads go
    through torchvision's ``download_url`` (which verifies the md5) into a temporary name first.
    """
    for p in _mirror_candidates(name, filename, mirrors, problems):
        if not os.access(p, os.R_OK):
            problems.append(f"{p}: not readable")
            continue
        got = md5sum(p)
        if got == md5:
            _log(f"{filename}: using mirror copy {p} (md5 ok)")
            return p
        problems.append(f"{p}: checksum error, md5 {got} != expected {md5} (corrupt or truncated file; not used)")
    cached = raw_dir / filename
    if cached.is_file() and md5sum(cached) == md5:
        return cached
    if not download:
        problems.append(f"{filename}: not found in any mirror and downloading is disabled (data.download: false)")
        return None
    from torchvision.datasets.utils import download_url

    old_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(60)
    try:
        for url in urls:
            tmpdir = Path(tempfile.mkdtemp(prefix=".download.", dir=raw_dir))
            try:
                _log(f"downloading {url}")
                download_url(url, str(tmpdir), filename=filename, md5=md5)
                if md5sum(tmpdir / filename) != md5:
                    raise DataError("checksum error after download")
                os.replace(tmpdir / filename, cached)
                return cached
            except Exception as exc:  # network down, 404, checksum mismatch ...
                problems.append(f"{url}: {type(exc).__name__}: {exc}")
            finally:
                for f in tmpdir.glob("*"):
                    f.unlink()
                tmpdir.rmdir()
    finally:
        socket.setdefaulttimeout(old_timeout)
    return None


def _read_idx(path: Path) -> np.ndarray:
    """Parse an (optionally gzipped) IDX file (the MNIST format: magic, dims, big-endian uint8 payload)."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: cannot decompress ({exc}); corrupt or truncated archive") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{path}: not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise DataError(f"{path}: IDX payload has {data.size} bytes, header says {dims}")
    return data.reshape(dims)


def _idx_dataset(name: str, raw_dir: Path, mirrors, download: bool, problems: list[str]) -> dict:
    from torchvision.datasets import MNIST, FashionMNIST

    cls = MNIST if name == "mnist" else FashionMNIST
    paths = {}
    for filename, md5 in cls.resources:
        urls = [f"{m}{filename}" for m in cls.mirrors]
        p = fetch_file(name, filename, md5, urls, raw_dir, mirrors, download, problems)
        if p is None:
            raise DataError(f"{name}: could not obtain a verified copy of {filename}:\n  " + "\n  ".join(problems))
        paths[filename.split("-")[0] + "-" + filename.split("-")[1]] = p
    arrays = {k: _read_idx(p) for k, p in paths.items()}
    return {
        "train_x": torch.from_numpy(arrays["train-images"].copy()).unsqueeze(1),
        "train_y": torch.from_numpy(arrays["train-labels"].astype(np.int64)),
        "test_x": torch.from_numpy(arrays["t10k-images"].copy()).unsqueeze(1),
        "test_y": torch.from_numpy(arrays["t10k-labels"].astype(np.int64)),
        "variant": "official",
        "source": "; ".join(f"{Path(p).name}={p}" for p in paths.values()),
        "classes": list(cls.classes),
    }


def _cifar_official(raw_dir: Path, mirrors, download: bool, problems: list[str]) -> dict | None:
    """The official python-pickle CIFAR-10: an extracted ``cifar-10-batches-py`` folder in a mirror (every batch
    md5-checked) or the official archive (md5-checked before extraction)."""
    from torchvision.datasets import CIFAR10

    for m in mirrors or ():
        for sub in ("",) + _MIRROR_SUBDIRS["cifar10"]:
            folder = Path(m).expanduser() / sub / CIFAR10.base_folder
            if folder.is_dir():
                bad = [f for f, md5 in CIFAR10.train_list + CIFAR10.test_list
                       if not (folder / f).is_file() or md5sum(folder / f) != md5]
                if bad:
                    problems.append(f"{folder}: checksum error or missing batch in {bad} (not used)")
                    continue
                return _cifar_from_batches(folder.parent, f"official batches {folder}")
    archive = fetch_file("cifar10", CIFAR10.filename, CIFAR10.tgz_md5, [CIFAR10.url], raw_dir, mirrors, download,
                         problems)
    if archive is None:
        return None
    from torchvision.datasets.utils import extract_archive

    with tempfile.TemporaryDirectory(dir=raw_dir) as tmp:
        extract_archive(str(archive), tmp)
        return _cifar_from_batches(Path(tmp), f"official archive {archive}")


def _cifar_from_batches(root: Path, source: str) -> dict:
    from torchvision.datasets import CIFAR10

    out = {}
    for split, train in (("train", True), ("test", False)):
        ds = CIFAR10(str(root), train=train, download=False)  # checks every batch's md5 again
        out[f"{split}_x"] = torch.from_numpy(ds.data).permute(0, 3, 1, 2).contiguous()
        out[f"{split}_y"] = torch.tensor(ds.targets, dtype=torch.int64)
    out.update(variant="official", source=source, classes=list(CIFAR10_CLASSES))
    return out


#: images per class in the complete JPEG copy (SOURCES.md: train 0000-4999, test 0000-0999 per class)
CIFAR10_JPEG_PER_CLASS = {"train": 5000, "test": 1000}


def _cifar_jpeg(mirrors, problems: list[str]) -> dict | None:
    """The lossy JPEG image-folder copy: ``train/<class>/*.jpg`` and ``test/<class>/*.jpg``, as a folder or inside
    the ``cifar-10-jpeg.tar.gz`` archive of SOURCES.md (md5-checked before it is read).

    A copy is used only if it is complete: ``CIFAR10_JPEG_PER_CLASS`` images (5,000 train / 1,000 test) in every
    class of both splits, each decoding as a 32x32 image. An incomplete copy or an undecodable file is reported
    (naming the class and split, or the file) and the copy is not used; the next source is tried.

    Files are read in class order and numeric file order, then put in a fixed pseudo-random order (seed 0) so that
    a prefix subset holds every class. The official order cannot be recovered from the folder alone.
    """
    n_problems = len(problems)
    for source, load in _jpeg_candidates(mirrors, problems):
        n_problems = -1
        try:
            entries = load()
            return _jpeg_convert(source, entries)
        except DataError as exc:
            problems.append(f"{exc} (not used)")
        except (tarfile.TarError, OSError, EOFError) as exc:
            problems.append(f"{source}: unreadable ({exc}) (not used)")
    if n_problems == len(problems):        # no candidate at all (nor a bad archive)
        problems.append("no CIFAR-10 JPEG image folder (train/<class>/*.jpg) or cifar-10-jpeg.tar.gz in any mirror")
    return None


def _jpeg_candidates(mirrors, problems):
    """(source description, loader) for every JPEG copy in the mirrors, in order; a loader returns
    ``{split: [(class, index, name, bytes)]}``."""
    for m in mirrors or ():
        m = Path(m).expanduser()
        for sub in ("",) + _MIRROR_SUBDIRS["cifar10"]:
            archive = m / sub / CIFAR10_JPEG_ARCHIVE[0]
            if archive.is_file():
                got = md5sum(archive)
                if got != CIFAR10_JPEG_ARCHIVE[1]:
                    problems.append(f"{archive}: checksum error, md5 {got} != expected {CIFAR10_JPEG_ARCHIVE[1]} "
                                    "(corrupt or truncated archive; not used)")
                else:
                    def from_tar(archive=archive):
                        entries = {"train": [], "test": []}
                        with tarfile.open(archive, "r:gz") as tar:
                            for member in tar:
                                _add_jpeg(entries, member.name, f"{archive}:{member.name}",
                                          lambda mem=member: tar.extractfile(mem).read())
                        return entries
                    yield f"jpeg archive {archive} (md5 ok)", from_tar
            for folder in (m / sub / "cifar-10-jpeg", m / sub):
                if (folder / "train").is_dir() and (folder / "test").is_dir():
                    def from_folder(folder=folder):
                        entries = {"train": [], "test": []}
                        for p in sorted(folder.glob("*/*/*.jpg")):
                            _add_jpeg(entries, str(p.relative_to(folder)), str(p), p.read_bytes)
                        return entries
                    yield f"jpeg image folder {folder}", from_folder
                    break


def _jpeg_convert(source: str, entries: dict) -> dict:
    from PIL import Image

    def decode(name: str, blob: bytes) -> np.ndarray:
        try:
            img = Image.open(_io.BytesIO(blob)).convert("RGB")
        except Exception as exc:  # noqa: BLE001 - PIL: OSError (truncated), UnidentifiedImageError, ...
            raise DataError(f"{name}: cannot decode this image ({type(exc).__name__}: {exc}); corrupt or truncated "
                            f"file in {source}") from exc
        if img.size != (32, 32):
            raise DataError(f"{name}: image of size {img.size}, expected 32x32 (in {source})")
        return np.asarray(img, dtype=np.uint8)

    short = []
    for split, want in CIFAR10_JPEG_PER_CLASS.items():
        counts = np.bincount([c for c, *_ in entries[split]], minlength=len(CIFAR10_CLASSES))
        short += [f"{split}/{cls}: {n} images, expected {want}" for cls, n in zip(CIFAR10_CLASSES, counts)
                  if n != want]
    if short:
        raise DataError(f"{source}: incomplete copy of CIFAR-10 ({'; '.join(short[:5])}"
                        + (f"; and {len(short) - 5} more" if len(short) > 5 else "") + ")")
    out = {}
    for split in ("train", "test"):
        items = sorted(entries[split], key=lambda t: (t[0], t[1], t[2]))
        x = np.stack([decode(name, blob) for _, _, name, blob in items])
        y = np.array([c for c, *_ in items], dtype=np.int64)
        perm = np.random.default_rng(0).permutation(len(y))
        out[f"{split}_x"] = torch.from_numpy(x[perm]).permute(0, 3, 1, 2).contiguous()
        out[f"{split}_y"] = torch.from_numpy(y[perm])
    out.update(variant="jpeg", source=source, classes=list(CIFAR10_CLASSES))
    return out


def _add_jpeg(entries, relname: str, name: str, read) -> None:
    parts = Path(relname).parts
    if len(parts) < 3 or not parts[-1].endswith(".jpg"):
        return
    split, cls, fname = parts[-3], parts[-2], parts[-1]
    if split not in entries or cls not in CIFAR10_CLASSES:
        return
    stem = Path(fname).stem
    index = int(stem) if stem.isdigit() else 1 << 62     # non-numeric names after the numbered ones, by name
    entries[split].append((CIFAR10_CLASSES.index(cls), index, name, read()))


def prepare_dataset(name: str, data_dir: str | Path = "data", mirrors=(), download: bool = True,
                    cifar10_source: str = "auto") -> Path:
    """Fetch, verify and convert ``name`` into ``<data_dir>/<name>/<name>.pt`` (+ a ``.json`` summary).

    CIFAR-10 sources (``cifar10_source``): ``official`` (official pickles/archive: mirrors, then download),
    ``jpeg`` (the JPEG image-folder copy in a mirror), ``auto`` (official from a mirror, else the JPEG copy from a
    mirror, else the official download). Nothing is written unless the whole dataset verified and converted.
    """
    out = dataset_path(name, data_dir)
    raw_dir = out.parent / "raw"
    try:
        raw_dir.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out.parent, prefix=f".{out.name}.", suffix=".probe")
        probe.close()
    except OSError as exc:
        if is_disk_full(exc):
            raise DiskFullError(out.parent) from exc
        raise DataError(f"cannot write {out.parent}: {exc.strerror or exc} (choose a writable --data-dir, "
                        "config key 'data.dir')") from exc
    problems: list[str] = []
    if name in ("mnist", "fashion_mnist"):
        d = _idx_dataset(name, raw_dir, mirrors, download, problems)
    elif name == "cifar10":
        if cifar10_source not in ("auto", "official", "jpeg"):
            raise ValueError(f"data.cifar10_source: {cifar10_source!r} is not one of auto, official, jpeg")
        d = None
        if cifar10_source in ("auto", "official"):
            d = _cifar_official(raw_dir, mirrors, download=False, problems=problems)
        if d is None and cifar10_source in ("auto", "jpeg"):
            d = _cifar_jpeg(mirrors, problems)
        if d is None and cifar10_source in ("auto", "official") and download:
            d = _cifar_official(raw_dir, (), download=True, problems=problems)
        if d is None:
            raise DataError("cifar10: no verified source found:\n  " + "\n  ".join(problems))
    else:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    for p in problems:
        _log(f"note: {p}")
    d["name"] = name
    return save_converted(d, out)


def save_converted(d: dict, out: str | Path) -> Path:
    """Write a converted dataset ``d`` to ``out`` and its ``.json`` summary (shapes, label counts, md5: what
    ``load_dataset`` verifies the file against)."""
    out = Path(out)
    save_torch(d, out)
    summary = {
        "name": d["name"], "variant": d["variant"], "source": d.get("source", ""),
        "train_shape": list(d["train_x"].shape), "test_shape": list(d["test_x"].shape),
        "train_label_counts": torch.bincount(d["train_y"]).tolist(),
        "test_label_counts": torch.bincount(d["test_y"]).tolist(),
        "md5": md5sum(out),
    }
    write_text(json.dumps(summary, indent=2), out.with_suffix(".json"))
    return out
