"""actlab.data: file readers (IDX, CIFAR pickles), lookup errors, datasets, splits, seeds."""
from __future__ import annotations

import gzip
import math
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from actlab.data import ENV_VAR, load_dataset, parse_dataset_spec, read_cifar_batch, read_idx, target_function, write_idx
from actlab.data.dataset import validation_split
from actlab.errors import ActlabError

IDX_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def write_mnist_dir(directory: Path, n_train: int = 30, n_test: int = 12, gz: bool = True, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test).astype(np.uint8),
    }
    directory.mkdir(parents=True, exist_ok=True)
    for stem, arr in arrays.items():
        write_idx(directory / (stem + (".gz" if gz else "")), arr)
    return arrays


# --- IDX ---------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("shape,dtype", [((5, 28, 28), np.uint8), ((7,), np.uint8), ((3, 4), np.int16), ((2, 3), np.float32)])
def test_idx_round_trip(tmp_path, suffix, shape, dtype):
    arr = (np.arange(np.prod(shape)) % 251).astype(dtype).reshape(shape)
    path = write_idx(tmp_path / f"a.idx{suffix}", arr)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    back = read_idx(path)
    assert back.shape == shape and np.array_equal(back, arr)


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(0, 5), min_size=1, max_size=4), gz=st.booleans(), seed=st.integers(0, 2**16))
def test_idx_round_trip_any_shape(tmp_path_factory, shape, gz, seed):
    arr = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    path = write_idx(tmp_path_factory.mktemp("idx") / "a", arr, compress=gz)
    back = read_idx(path, ndim=len(shape))
    assert back.shape == tuple(shape) and np.array_equal(back, arr)


def test_idx_header_is_the_standard_one(tmp_path):
    path = write_idx(tmp_path / "x", np.zeros((2, 28, 28), np.uint8))
    assert path.read_bytes()[:16] == bytes.fromhex("00000803" "00000002" "0000001c" "0000001c")


def test_wrong_magic_number(tmp_path):
    labels = write_idx(tmp_path / "labels", np.zeros(4, np.uint8))
    with pytest.raises(ActlabError, match=r"magic number.*expected 0x00000803 \(2051\)"):
        read_idx(labels, ndim=3)
    (tmp_path / "junk").write_bytes(b"PK\x03\x04" + bytes(20))
    with pytest.raises(ActlabError, match="magic number"):
        read_idx(tmp_path / "junk")


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_file(tmp_path, gz):
    path = write_idx(tmp_path / "img", np.ones((3, 28, 28), np.uint8), compress=gz)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])
    with pytest.raises(ActlabError, match="truncated"):
        read_idx(path, ndim=3)
    path.write_bytes(data[:10] if not gz else gzip.compress(data[:10]))
    with pytest.raises(ActlabError, match="truncated"):
        read_idx(path, ndim=3)


# --- MNIST / Fashion-MNIST from a directory -----------------------------------------------

@pytest.mark.parametrize("gz", [False, True])
def test_mnist_loads_from_a_user_directory(tmp_path, gz):
    arrays = write_mnist_dir(tmp_path, gz=gz)
    ds = load_dataset("mnist", root=tmp_path)
    assert ds.task == "classification" and ds.num_classes == 10 and ds.input_shape == (1, 28, 28)
    assert ds.x_train.shape == (30, 1, 28, 28) and ds.x_test.shape == (12, 1, 28, 28)
    assert ds.x_train.dtype == torch.float32 and ds.y_train.dtype == torch.int64
    assert np.array_equal(ds.y_test.numpy(), arrays["t10k-labels-idx1-ubyte"])
    raw = (ds.x_train * ds.std + ds.mean) * 255
    assert torch.allclose(raw[:, 0], torch.from_numpy(arrays["train-images-idx3-ubyte"]).float(), atol=1e-3)
    assert abs(ds.x_train.mean().item()) < 1e-5 and abs(ds.x_train.std().item() - 1) < 1e-3
    assert str(tmp_path) in ds.source


def test_lookup_in_subdirectory_and_env_var(tmp_path, monkeypatch):
    write_mnist_dir(tmp_path / "MNIST" / "raw")
    assert load_dataset("mnist", root=tmp_path).n_train == 30
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert load_dataset("mnist").n_test == 12
    write_mnist_dir(tmp_path / "fashion-mnist", n_train=9, n_test=4)
    assert load_dataset("fashion_mnist").n_train == 9


def test_missing_file_error_names_files_and_places(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    write_mnist_dir(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(ActlabError) as err:
        load_dataset("mnist", root=tmp_path)
    msg = str(err.value)
    for stem in IDX_NAMES:
        assert stem in msg
    assert str(tmp_path) in msg and "root=" in msg and ENV_VAR in msg and "has only" in msg
    with pytest.raises(ActlabError, match="ACTLAB_DATA"):
        load_dataset("mnist")


def test_corrupt_files_inside_a_dataset(tmp_path):
    write_mnist_dir(tmp_path, gz=False)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ActlabError, match="truncated.*train-images|train-images.*truncated"):
        load_dataset("mnist", root=tmp_path)
    write_mnist_dir(tmp_path, gz=False)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(5, np.uint8))  # 12 images, 5 labels
    with pytest.raises(ActlabError, match="12 images but 5 labels"):
        load_dataset("mnist", root=tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.full(12, 10, np.uint8))
    with pytest.raises(ActlabError, match=r"labels outside 0\.\.9"):
        load_dataset("mnist", root=tmp_path)


FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(not (FASHION_DIR / "train-images-idx3-ubyte.gz").exists(), reason="dataset-fashion-mnist not installed")
def test_fashion_mnist_from_the_debian_package(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    ds = load_dataset("fashion_mnist")
    assert (ds.n_train, ds.n_test) == (60000, 10000)
    assert ds.source == str(FASHION_DIR)
    assert torch.equal(torch.bincount(ds.y_train), torch.full((10,), 6000))
    assert torch.equal(torch.bincount(ds.y_test), torch.full((10,), 1000))
    small = load_dataset("fashion_mnist", subset=(500, 100), seed=3)
    assert small.x_train.shape == (500, 1, 28, 28) and small.n_test == 100


# --- CIFAR-10 -------------------------------------------------------------------------------

def write_cifar_dir(directory: Path, n: int = 4, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"batch_label": name.encode(), b"labels": rng.integers(0, 10, n).tolist(),
                 b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"filenames": [b"x.png"] * n}
        with open(directory / name, "wb") as fh:
            pickle.dump(batch, fh)
        batches[name] = batch
    return batches


def test_cifar_round_trip(tmp_path):
    batches = write_cifar_dir(tmp_path / "cifar-10-batches-py")
    ds = load_dataset("cifar10", root=tmp_path)
    assert ds.x_train.shape == (20, 3, 32, 32) and ds.x_test.shape == (4, 3, 32, 32)
    assert ds.input_shape == (3, 32, 32) and ds.mean.shape == (3, 1, 1)
    assert ds.y_train.tolist() == sum((batches[f"data_batch_{i}"][b"labels"] for i in range(1, 6)), [])
    raw = ((ds.x_test * ds.std + ds.mean) * 255).round().to(torch.uint8)
    expected = batches["test_batch"][b"data"]
    # Row layout: 1024 red values, then green, then blue, each a 32x32 image in row-major order.
    assert np.array_equal(raw[1, 0].numpy().ravel(), expected[1, :1024])
    assert np.array_equal(raw[1, 2, 5].numpy(), expected[1, 2048 + 5 * 32 : 2048 + 6 * 32])
    per_channel = ds.x_train.mean(dim=(0, 2, 3))
    assert torch.allclose(per_channel, torch.zeros(3), atol=1e-5)


def test_cifar_errors(tmp_path):
    write_cifar_dir(tmp_path)
    (tmp_path / "data_batch_3").unlink()
    with pytest.raises(ActlabError, match="data_batch_3.*looked in|cifar-10-batches-py"):
        load_dataset("cifar10", root=tmp_path)
    bad = tmp_path / "data_batch_1"
    bad.write_bytes(bad.read_bytes()[:100])
    with pytest.raises(ActlabError, match="corrupt or truncated"):
        read_cifar_batch(bad)

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    bad.write_bytes(pickle.dumps({b"data": Evil(), b"labels": []}))
    with pytest.raises(ActlabError, match="not allowed"):
        read_cifar_batch(bad)
    with open(bad, "wb") as fh:
        pickle.dump({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, fh)
    with pytest.raises(ActlabError, match="malformed"):
        read_cifar_batch(bad)


# --- embedded and generated datasets -----------------------------------------------------------

def test_digits_shapes_split_and_determinism():
    a, b, c = load_dataset("digits", seed=0), load_dataset("digits", seed=0), load_dataset("digits", seed=1)
    assert a.x_train.shape == (1437, 1, 8, 8) and a.x_test.shape == (360, 1, 8, 8)
    assert a.n_train + a.n_test == 1797 and a.num_classes == 10
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
    assert not torch.equal(a.y_train, c.y_train)
    assert torch.bincount(a.y_test).min() >= 35  # stratified: ~36 of each class
    assert abs(a.x_train.mean().item()) < 1e-5 and abs(a.x_train.std().item() - 1) < 1e-3
    assert load_dataset("digits", test_fraction=0.5).n_test == 899


def test_subset_is_seeded_and_checked():
    a = load_dataset("digits", subset=(100, 50), seed=4)
    b = load_dataset("digits", subset=(100, 50), seed=4)
    assert (a.n_train, a.n_test) == (100, 50) and torch.equal(a.x_train, b.x_train)
    assert load_dataset("digits", subset=(None, 20)).n_train == 1437
    with pytest.raises(ActlabError, match="subset train size"):
        load_dataset("digits", subset=(5000, 10))


def test_mnist1d_is_deterministic_by_seed_and_learnable():
    a, b, c = (load_dataset("mnist1d", seed=s) for s in (0, 0, 1))
    assert a.x_train.shape == (4000, 1, 40) and a.x_test.shape == (1000, 1, 40)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_train, b.y_train)
    assert not torch.allclose(a.x_train, c.x_train)
    assert torch.equal(torch.bincount(torch.cat([a.y_train, a.y_test])), torch.full((10,), 500))
    from sklearn.neighbors import KNeighborsClassifier

    knn = KNeighborsClassifier(5).fit(a.x_train.flatten(1).numpy(), a.y_train.numpy())
    assert 0.4 < knn.score(a.x_test.flatten(1).numpy(), a.y_test.numpy()) < 0.9  # learnable, not trivial


@pytest.mark.parametrize("target,dim", [("xyz", 3), ("x2y2", 2), ("deg4", 4), ("sin", 2)])
def test_synthetic_targets(target, dim):
    ds = load_dataset("poly", target=target, n_train=200, n_test=100, seed=2)
    assert ds.task == "regression" and ds.num_classes is None and ds.mean is None
    assert ds.x_train.shape == (200, dim) and ds.y_train.shape == (200, 1) and ds.y_test.dtype == torch.float32
    x = ds.x_test.double().numpy()
    assert x.min() >= -1 and x.max() <= 1
    f = target_function(target)
    np.testing.assert_allclose(ds.y_test[:, 0].numpy(), f(x), atol=1e-5)
    np.testing.assert_allclose(ds.y_train[:, 0].numpy(), f(ds.x_train.double().numpy()), atol=1e-5)


def test_synthetic_formulas_and_noise():
    x = np.array([[0.5, -2.0, 3.0, 0.25]])
    assert target_function("xyz")(x)[0] == 0.5 * -2.0 * 3.0
    assert target_function("x2y2")(x)[0] == 0.25 + 4.0
    assert target_function("deg4")(x)[0] == pytest.approx(0.0625 - 36.0 + 0.5 * -2 * 3 * 0.25 + 0.0625 + 1.0)
    assert target_function("sin")(x)[0] == pytest.approx(np.sin(np.pi * 0.5) * np.cos(-2 * np.pi))
    noisy = load_dataset("poly(target=x2y2, noise=0.1, low=0, high=2)", n_train=500)
    f = target_function("x2y2")
    assert noisy.x_train.min() >= 0 and noisy.x_train.max() <= 2
    train_err = noisy.y_train[:, 0].numpy() - f(noisy.x_train.double().numpy())
    assert 0.07 < train_err.std() < 0.13
    np.testing.assert_allclose(noisy.y_test[:, 0].numpy(), f(noisy.x_test.double().numpy()), atol=1e-5)
    assert load_dataset("poly", target="xyz", normalize=True).x_train.std(0).sub(1).abs().max() < 1e-3


def test_loader_batches_and_seeded_shuffle():
    ds = load_dataset("digits", subset=(100, 30))
    batches = list(ds.loader("train", batch_size=32, seed=5))
    assert [len(x) for x, _ in batches] == [32, 32, 32, 4]
    again = next(iter(ds.loader("train", batch_size=32, seed=5)))[1]
    assert torch.equal(batches[0][1], again)
    x_test, y_test = next(iter(ds.loader("test", batch_size=1000)))
    assert torch.equal(x_test, ds.x_test) and torch.equal(y_test, ds.y_test)
    assert ds.input_dim == 64 and ds.output_dim == 10
    with pytest.raises(ActlabError, match="split"):
        ds.loader("valid")


def test_names_specs_and_option_errors():
    assert parse_dataset_spec("poly(target=xyz, n_train=10, noise=0.5)") == (
        "poly", {"target": "xyz", "n_train": 10, "noise": 0.5})
    assert load_dataset("MNIST-1D", n_train=20, n_test=10).name == "mnist1d"
    with pytest.raises(ActlabError, match="unknown dataset.*known: cifar10, digits"):
        load_dataset("imagenet")
    with pytest.raises(ActlabError, match="no option targt; allowed: target"):
        load_dataset("poly", targt="xyz")
    with pytest.raises(ActlabError, match="unknown target"):
        load_dataset("poly(target=cube)")
    with pytest.raises(ActlabError, match="both"):
        load_dataset("poly(target=xyz)", target="sin")
    with pytest.raises(ActlabError, match="malformed dataset spec"):
        load_dataset("poly(target)")


def test_validation_split_is_carved_from_train_seeded_and_leaves_test_alone():
    plain = load_dataset("digits", seed=3)
    ds = load_dataset("digits", seed=3, val_fraction=0.25)
    assert ds.n_val == round(0.25 * plain.n_train) and ds.n_train + ds.n_val == plain.n_train
    assert torch.equal(ds.y_test, plain.y_test) and ds.n_test == plain.n_test
    again = load_dataset("digits", seed=3, val_fraction=0.25)
    assert torch.equal(ds.x_val, again.x_val) and torch.equal(ds.y_train, again.y_train)
    assert not torch.equal(load_dataset("digits", seed=4, val_fraction=0.25).y_val[:50], ds.y_val[:50])
    # normalised with the remaining training examples only
    assert ds.x_train.mean().abs() < 1e-4 and ds.x_val.mean().abs() > 1e-4
    keep, held = validation_split(plain.n_train, 0.25, 3)
    assert not set(keep) & set(held) and len(keep) + len(held) == plain.n_train
    assert "val=" in repr(ds) and len(list(ds.loader("val", batch_size=64))) == math.ceil(ds.n_val / 64)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 2, True])
def test_validation_fraction_outside_0_1_is_an_error(fraction):
    with pytest.raises(ActlabError, match=r"val_fraction must be a number in \(0, 1\)"):
        load_dataset("digits", val_fraction=fraction)


def test_input_shapes_known_without_loading_match_the_loaders():
    from actlab.data.registry import dataset_input_shape

    for name in ("digits", "mnist1d(length=24)", "poly(target=x2y2)", "poly"):
        assert dataset_input_shape(name) == load_dataset(name).input_shape, name
