"""Image datasets: digits (embedded), Fashion-MNIST, MNIST (IDX files), CIFAR-10 (pickles)."""
from __future__ import annotations

import os

import numpy as np

from ..errors import ActlabError
from .cifar import TEST_FILE, TRAIN_FILES, read_cifar_batch
from .dataset import RawSplit
from .idx import read_idx
from .locate import find_files, search_dirs

FASHION_SYSTEM_DIRS = ("/usr/share/datasets/fashion-mnist",)


def _idx_names(stem: str) -> list[str]:
    # The canonical name, gzipped or not, and the dotted variant some mirrors use.
    dotted = stem.replace("-idx", ".idx", 1)
    return [f"{stem}.gz", stem, f"{dotted}.gz", dotted]


IDX_FILES = {
    "train_images": _idx_names("train-images-idx3-ubyte"),
    "train_labels": _idx_names("train-labels-idx1-ubyte"),
    "test_images": _idx_names("t10k-images-idx3-ubyte"),
    "test_labels": _idx_names("t10k-labels-idx1-ubyte"),
}


def _checked_labels(name: str, labels: np.ndarray, n_images: int, where: str, num_classes: int) -> np.ndarray:
    if len(labels) != n_images:
        raise ActlabError(f"{name}: {where} has {n_images} images but {len(labels)} labels")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ActlabError(f"{name}: {where} labels outside 0..{num_classes - 1}")
    return labels.astype(np.int64)


def load_idx_dataset(name: str, root: str | os.PathLike | None, system_dirs=(), subdirs=()) -> RawSplit:
    """MNIST-format IDX files: 28x28 uint8 images, labels 0..9, the standard 60k/10k split."""
    files = find_files(name, IDX_FILES, search_dirs(root, system_dirs, subdirs))
    x = {split: read_idx(files[f"{split}_images"], ndim=3) for split in ("train", "test")}
    y = {
        split: _checked_labels(name, read_idx(files[f"{split}_labels"], ndim=1), len(x[split]),
                               str(files[f"{split}_labels"]), 10)
        for split in ("train", "test")
    }
    return RawSplit(
        x["train"][:, None], y["train"], x["test"][:, None], y["test"], "classification", 10,
        source=str(files["train_images"].parent), scale=255.0,
    )


def fashion_mnist(root=None) -> RawSplit:
    """Fashion-MNIST (Xiao et al. 2017): 60,000 + 10,000 grey 28x28 images of 10 clothing classes."""
    return load_idx_dataset("fashion_mnist", root, FASHION_SYSTEM_DIRS,
                            ("fashion-mnist", "fashion_mnist", "FashionMNIST/raw"))


def mnist(root=None) -> RawSplit:
    """MNIST (LeCun et al. 1998): 60,000 + 10,000 grey 28x28 handwritten digits."""
    return load_idx_dataset("mnist", root, (), ("mnist", "MNIST/raw"))


def cifar10(root=None) -> RawSplit:
    """CIFAR-10 (Krizhevsky 2009): 50,000 + 10,000 colour 32x32 images of 10 classes."""
    names = {f: [f] for f in (*TRAIN_FILES, TEST_FILE)}
    files = find_files("cifar10", names, search_dirs(root, (), ("cifar-10-batches-py",)))
    parts = [read_cifar_batch(files[f]) for f in TRAIN_FILES]
    x_test, y_test = read_cifar_batch(files[TEST_FILE])
    y_train = np.concatenate([p[1] for p in parts])
    x_train = np.concatenate([p[0] for p in parts])
    for labels, where in ((y_train, "data_batch_*"), (y_test, TEST_FILE)):
        _checked_labels("cifar10", labels, len(labels), where, 10)
    return RawSplit(x_train, y_train, x_test, y_test, "classification", 10,
                    source=str(files[TEST_FILE].parent), scale=255.0)


def digits(seed: int = 0, test_fraction: float = 0.2) -> RawSplit:
    """scikit-learn's bundled 8x8 digits (1,797 images, values 0..16), a stratified seeded split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if not 0 < test_fraction < 1:
        raise ActlabError(f"digits: test_fraction must be in (0, 1), got {test_fraction}")
    bunch = load_digits()
    images = bunch.images.astype(np.uint8)[:, None]
    x_train, x_test, y_train, y_test = train_test_split(
        images, bunch.target.astype(np.int64), test_size=test_fraction, random_state=seed, stratify=bunch.target
    )
    return RawSplit(x_train, y_train, x_test, y_test, "classification", 10, source="sklearn.datasets.load_digits",
                    scale=16.0)
