"""Datasets for the simulator: the 12-bit task, MNIST, and seeded synthetic sets.

Every loader returns a :class:`Dataset`: a train set, a test set, and the *analysis set* on which layer activity
is recorded and mutual information is estimated (Shwartz-Ziv & Tishby 2017 and Saxe et al. 2018 estimate MI over
all 4096 patterns of the 12-bit task; Saxe et al. use the 10,000 MNIST test images).

Loaders
-------
* :func:`tishby_12bit` -- the 12-bit task shipped in the package (``sims/data/var_u.mat``, sha256 checked).
* :func:`mnist` -- the four official IDX files, found locally or downloaded with sha256 verification.
* :func:`gaussian`, :func:`gaussian_mixture` -- Kong (2019) style continuous inputs with sign labels.
* :func:`discrete`, :func:`goldfeld_four_points`, :func:`kong_eight_points` -- finite input alphabets
  (Goldfeld et al. 2019; Kong 2019).
* :func:`linear_teacher`, :func:`relevant_irrelevant` -- the student-teacher task of Saxe et al. (2018) §3, §5.

Labels are integer class labels of shape ``(n,)`` (classification) or float targets of shape ``(n, k)``
(regression). :meth:`Dataset.with_targets` turns class labels into float regression targets, e.g. the ±1
targets that Goldfeld and Kong fit with a tanh output and squared error.

Example
-------
>>> from sims import datasets
>>> data = datasets.tishby_12bit(train_fraction=0.8, seed=0)
>>> data.x_train.shape, data.x_test.shape, data.x_analysis.shape, int(data.y_analysis.sum())
((3277, 12), (819, 12), (4096, 12), 2118)
"""
from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io as _io
import os
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Sequence

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from analytic import checks
from sims.io import atomic_path

__all__ = [
    "Dataset", "ChecksumError", "tishby_12bit", "mnist", "mnist_search_dirs", "gaussian", "gaussian_mixture",
    "discrete", "goldfeld_four_points", "kong_eight_points", "linear_teacher", "relevant_irrelevant",
    "VAR_U_SHA256", "MNIST_FILES", "MNIST_SHA256", "MNIST_MIRRORS",
]

_SPLITS = ("train", "test", "analysis")


class ChecksumError(ValueError):
    """A data file's sha256 differs from the known value (corrupted, truncated or not the official file)."""


# ----------------------------------------------------------------------------------------------------------------
# The Dataset container
# ----------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """Train, test and analysis sets of one task (immutable container; the arrays are shared, not copied).

    Attributes
    ----------
    x_train, x_test, x_analysis : float arrays ``(n, d)`` (or ``(n, *shape)``, e.g. MNIST with ``flatten=False``).
        float32 and float64 inputs keep their dtype; any other dtype is converted to float64.
    y_train, y_test, y_analysis : integer class labels ``(n,)`` (classification) or float targets ``(n, k)``
        (regression). The kind is decided by the number of dimensions; it must be the same for all three sets.
    x_analysis, y_analysis : the set on which activity is recorded and MI estimated. Both or neither may be given;
        neither means the concatenation of train and test (in that order).
    n_classes : number of classes (classification; inferred as ``max label + 1`` when None), must be None for
        regression.
    name : short name; info : provenance (files, sha256, seeds, split indices, generating parameters).

    Validation (``ValueError`` naming the field): x must have at least 2 dimensions and finite entries, all sets
    must share the feature shape, labels must match their samples in number, class labels must be integers in
    ``[0, n_classes)``, targets finite and of one width ``k``. Every set must hold at least one sample.

    Use :func:`dataclasses.replace` to change a field (validation runs again), e.g. a different analysis set.

    >>> import numpy as np
    >>> d = Dataset(np.zeros((4, 2)), np.array([0, 1, 1, 0]), np.ones((2, 2)), np.array([1, 0]))
    >>> d.n_features, d.n_classes, d.x_analysis.shape, d.is_classification
    (2, 2, (6, 2), True)
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    x_analysis: np.ndarray | None = None
    y_analysis: np.ndarray | None = None
    n_classes: int | None = None
    name: str = ""
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731  (frozen dataclass)
        if (self.x_analysis is None) != (self.y_analysis is None):
            missing = "y_analysis" if self.y_analysis is None else "x_analysis"
            raise ValueError(f"{missing} must be given together with "
                             f"{'x_analysis' if missing == 'y_analysis' else 'y_analysis'} (or neither)")
        xs = {s: _check_x(getattr(self, f"x_{s}"), f"x_{s}") for s in ("train", "test")}
        if self.x_analysis is not None:
            xs["analysis"] = _check_x(self.x_analysis, "x_analysis")
        shape = xs["train"].shape[1:]
        for s, x in xs.items():
            if x.shape[1:] != shape:
                raise ValueError(f"x_{s} has feature shape {x.shape[1:]}, but x_train has {shape}")

        ys_raw = {s: getattr(self, f"y_{s}") for s in xs}
        ndims = {s: np.ndim(y) for s, y in ys_raw.items()}
        if ndims["train"] not in (1, 2):
            raise ValueError(f"y_train must be class labels (n,) or regression targets (n, k), "
                             f"got shape {np.shape(ys_raw['train'])}")
        for s, nd in ndims.items():
            if nd != ndims["train"]:
                raise ValueError(f"y_{s} has {nd} dimension(s) but y_train has {ndims['train']}: all label sets "
                                 f"must be class labels (n,) or all regression targets (n, k)")
        classification = ndims["train"] == 1
        ys = {s: (_check_labels if classification else _check_targets)(y, xs[s].shape[0], f"y_{s}")
              for s, y in ys_raw.items()}
        if classification:
            top = max(int(y.max()) for y in ys.values())
            if self.n_classes is None:
                set_("n_classes", max(top + 1, 2))
            else:
                nc = checks.positive_int(self.n_classes, "n_classes", minimum=2)
                if top >= nc:
                    raise ValueError(f"n_classes is {nc} but a label equals {top}; labels must lie in [0, {nc})")
                set_("n_classes", nc)
        else:
            if self.n_classes is not None:
                raise ValueError("n_classes must be None for regression targets y of shape (n, k)")
            k = ys["train"].shape[1]
            for s, y in ys.items():
                if y.shape[1] != k:
                    raise ValueError(f"y_{s} has {y.shape[1]} target columns but y_train has {k}")
        if "analysis" not in xs:
            xs["analysis"] = np.concatenate([xs["train"], xs["test"]])
            ys["analysis"] = np.concatenate([ys["train"], ys["test"]])
        for s in _SPLITS:
            set_(f"x_{s}", xs[s])
            set_(f"y_{s}", ys[s])
        if not isinstance(self.name, str):
            raise ValueError(f"name must be a string, got {self.name!r}")
        if not isinstance(self.info, dict):
            raise ValueError(f"info must be a dict, got {type(self.info).__name__}")

    # -- convenience ------------------------------------------------------------------------------------------
    @property
    def is_classification(self) -> bool:
        """True for integer class labels ``(n,)``, False for regression targets ``(n, k)``."""
        return self.y_train.ndim == 1

    @property
    def n_features(self) -> int:
        """Number of input features (product of the feature shape)."""
        return int(np.prod(self.x_train.shape[1:]))

    @property
    def n_outputs(self) -> int:
        """Output units a network needs: ``n_classes`` (classification) or ``k`` (regression)."""
        return int(self.n_classes) if self.is_classification else int(self.y_train.shape[1])

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.x_test.shape[0])

    @property
    def n_analysis(self) -> int:
        return int(self.x_analysis.shape[0])

    def __repr__(self) -> str:
        kind = f"n_classes={self.n_classes}" if self.is_classification else f"targets={self.y_train.shape[1]}"
        return (f"Dataset({self.name or 'unnamed'}: train {self.x_train.shape}, test {self.x_test.shape}, "
                f"analysis {self.x_analysis.shape}, {kind}, x dtype {self.x_train.dtype})")

    def subset(self, n_train: int | None = None, n_test: int | None = None, n_analysis: int | None = None,
               seed: np.random.Generator | int | None = 0) -> "Dataset":
        """A smaller Dataset: ``n_*`` samples of each set drawn without replacement (kept in their original
        order); ``None`` keeps a set whole. Useful for quick runs (e.g. 1,000 MNIST analysis images).

        >>> d = tishby_12bit().subset(n_train=100, n_analysis=512)
        >>> d.n_train, d.n_test, d.n_analysis
        (100, 819, 512)
        """
        rng = checks.rng(seed, "seed")
        new = {}
        for s, n in (("train", n_train), ("test", n_test), ("analysis", n_analysis)):
            x, y = getattr(self, f"x_{s}"), getattr(self, f"y_{s}")
            if n is not None:
                n = checks.positive_int(n, f"n_{s}")
                if n > x.shape[0]:
                    raise ValueError(f"n_{s} must be <= {x.shape[0]} (the size of the {s} set), got {n}")
                idx = np.sort(rng.choice(x.shape[0], size=n, replace=False))
                x, y = x[idx], y[idx]
            new[f"x_{s}"], new[f"y_{s}"] = x, y
        info = dict(self.info, subset={"n_train": n_train, "n_test": n_test, "n_analysis": n_analysis,
                                       "seed": seed if not isinstance(seed, np.random.Generator) else "Generator"})
        return dataclasses.replace(self, **new, info=info)

    def with_targets(self, values: ArrayLike) -> "Dataset":
        """The same inputs with class label ``c`` replaced by the float target ``values[c]`` (regression).

        ``values`` has shape ``(n_classes,)`` (targets of width 1) or ``(n_classes, k)``. Goldfeld et al. (2019) and
        Kong (2019) fit ±1 with a tanh output and squared error: ``goldfeld_four_points().with_targets([-1, 1])``;
        Kong's eight-point set uses ``[0, 0.25]``. The class labels stay in ``info["class_labels"]``.

        >>> d = goldfeld_four_points().with_targets([-1.0, 1.0])
        >>> d.y_train.ravel().tolist()
        [-1.0, -1.0, -1.0, 1.0]
        """
        if not self.is_classification:
            raise ValueError("with_targets needs class labels; this Dataset already has regression targets")
        v = checks.finite_array(values, "values")
        if v.ndim not in (1, 2) or v.shape[0] != self.n_classes:
            raise ValueError(f"values must have shape ({self.n_classes},) or ({self.n_classes}, k), got {v.shape}")
        v = v.reshape(self.n_classes, -1)
        info = dict(self.info, class_labels={s: getattr(self, f"y_{s}") for s in _SPLITS}, target_values=v)
        return dataclasses.replace(self, y_train=v[self.y_train], y_test=v[self.y_test],
                                   y_analysis=v[self.y_analysis], n_classes=None, info=info)


def _check_x(x, name):
    """Inputs: real (0/1 booleans allowed, float32 kept, anything else float64), (n >= 1, ...), finite."""
    dtype = getattr(x, "dtype", None)
    arr = checks.real_array(x, name, allow_bool=True,
                            dtype=dtype if dtype in (np.float32, np.float64) else np.float64)
    if arr.ndim < 2:
        raise ValueError(f"{name} must have shape (n_samples, n_features), got shape {arr.shape}"
                         + (" (use x.reshape(-1, 1) for one feature)" if arr.ndim == 1 else ""))
    if arr.shape[0] < 1:
        raise ValueError(f"{name} must hold at least one sample, got shape {arr.shape}")
    # A finite sum proves every entry finite (NaN and inf propagate); only an overflowing or non-finite sum needs
    # the elementwise check. The sum reads the array once without allocating, ~4x faster on MNIST-sized input.
    with np.errstate(over="ignore", invalid="ignore"):
        total = arr.sum()
    if not np.isfinite(total) and not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def _check_labels(y, n, name):
    """Integer class labels >= 0 of shape (n,) (checks.labels_for, then integer-valued)."""
    y = checks.labels_for(y, n, name)
    if y.dtype.kind in "iub":
        out = y.astype(np.int64, copy=False)
    elif y.dtype.kind == "f":
        out = y.astype(np.int64)
        if not np.array_equal(out, y):
            raise ValueError(f"{name} must hold integer class labels (regression targets need shape (n, k))")
    else:
        raise ValueError(f"{name} must hold integer class labels, got dtype {y.dtype}")
    if out.min() < 0:
        raise ValueError(f"{name} must hold class labels >= 0, got {out.min()}")
    return out


def _check_targets(y, n, name):
    y = checks.finite_array(y, name, ndim=2)
    if y.shape[0] != n:
        raise ValueError(f"{name} has {y.shape[0]} rows but there are {n} samples")
    if y.shape[1] < 1:
        raise ValueError(f"{name} must have at least one target column, got shape {y.shape}")
    return y


def _sha256_bytes(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


# ----------------------------------------------------------------------------------------------------------------
# The 12-bit task
# ----------------------------------------------------------------------------------------------------------------

#: sha256 of Shwartz-Ziv & Tishby's ``var_u.mat`` (the file shipped as ``sims/data/var_u.mat``).
VAR_U_SHA256 = "0ba9551878a855396a8de0cbaae620788ede1e7b1eb2b8373bbe017d5ea02036"
_VAR_U_PATH = Path(__file__).resolve().parent / "data" / "var_u.mat"


def _split_indices(labels, train_fraction, rng, stratify):
    n = labels.shape[0]
    if not stratify:
        perm = rng.permutation(n)
        n_train = int(np.rint(train_fraction * n))
        return perm[:n_train], perm[n_train:]
    train, test = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        k = int(np.rint(train_fraction * idx.size))
        train.append(idx[:k])
        test.append(idx[k:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def tishby_12bit(train_fraction: float = 0.8, seed: np.random.Generator | int | None = 0, *, stratify: bool = False,
                 path: str | os.PathLike | None = None) -> Dataset:
    """Shwartz-Ziv & Tishby's (2017) 12-bit task; also Saxe et al. (2018) Figs. 1, 4C-D, 7-12.

    The file ``var_u.mat`` holds ``F`` (4096 x 12): every 12-bit pattern, in binary counting order, as 0/1 inputs,
    and ``y`` (1 x 4096): the binary label, 1 for 2118 patterns; the labels are invariant under the icosahedral
    symmetry of the 12 inputs. The class label here is ``y`` itself (the IDNNs code one-hot encodes it as
    ``[y, 1 - y]``, which does not change any information quantity). The file's sha256 is checked on every load
    (:class:`ChecksumError` on mismatch).

    Split: a seeded random permutation ``numpy.random.default_rng(seed).permutation(4096)``; the first
    ``rint(train_fraction * 4096)`` patterns train, the rest test. This is the convention of the IDNNs code
    (``data_shuffle``: shuffle all patterns, cut at ``rint(percent * n / 100)``), **not stratified** by label, so the
    class balance of a split varies with the seed. (The permutation itself comes from a numpy Generator, so it is
    not the same draw as IDNNs' global ``np.random``. For ``train_fraction > 0.8`` IDNNs reuses the last 20 % as the
    test set, overlapping the training set; here train and test never overlap.) ``stratify=True`` instead
    permutes each class separately and takes ``rint(train_fraction * n_c)`` of each.

    Sizes: ``train_fraction=0.8`` gives 3277 / 819 (the 80/20 split of Shwartz-Ziv & Tishby); ``0.3`` gives
    1229 / 2867 (Saxe et al.'s "30% of the data", Fig. 4C-D).

    Analysis set: all 4096 patterns in file order with their true labels (MI over equiprobable inputs).
    ``info`` holds the file, its sha256, ``seed``, ``train_fraction``, ``stratify`` and ``train_idx`` /
    ``test_idx`` (indices into file order).

    >>> d = tishby_12bit(train_fraction=0.3, seed=1)
    >>> d.n_train, d.n_test, d.n_classes
    (1229, 2867, 2)
    """
    import scipy.io

    frac = checks.real_scalar(train_fraction, "train_fraction")
    if not 0.0 < frac < 1.0:
        raise ValueError(f"train_fraction must lie strictly between 0 and 1, got {train_fraction!r}")
    rng = checks.rng(seed, "seed")
    path = _VAR_U_PATH if path is None else checks.file_path(path, "path")
    if not path.is_file():
        raise FileNotFoundError(f"path: the 12-bit task file {path} does not exist")
    raw = path.read_bytes()
    digest = _sha256_bytes(raw)
    if digest != VAR_U_SHA256:
        raise ChecksumError(f"path: {path} has sha256 {digest}, expected {VAR_U_SHA256} (the official var_u.mat); "
                            f"the file is corrupted or not the 12-bit task")
    mat = scipy.io.loadmat(_io.BytesIO(raw))
    x = np.asarray(mat["F"], dtype=np.float64)
    y = np.asarray(mat["y"]).reshape(-1).astype(np.int64)
    n = x.shape[0]
    tr, te = _split_indices(y, frac, rng, bool(stratify))
    if tr.size == 0 or te.size == 0:
        raise ValueError(f"train_fraction={train_fraction!r} leaves an empty train or test set of {n} patterns")
    info = {"source": "Shwartz-Ziv & Tishby (2017) var_u.mat", "file": str(path), "sha256": digest,
            "seed": seed if not isinstance(seed, np.random.Generator) else "Generator",
            "train_fraction": frac, "stratify": bool(stratify), "train_idx": tr, "test_idx": te,
            "analysis": "all 4096 patterns in file order"}
    return Dataset(x[tr], y[tr], x[te], y[te], x, y, n_classes=2, name="tishby_12bit", info=info)


# ----------------------------------------------------------------------------------------------------------------
# MNIST
# ----------------------------------------------------------------------------------------------------------------

#: The four official MNIST files (LeCun, Cortes & Burges), in the order train images, train labels, test images,
#: test labels.
MNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
#: sha256 of the official gzip files (as distributed by the mirrors below).
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
#: Base URLs tried in order when downloading (each file is fetched as ``base + name``).
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)


def _default_cache_dir() -> Path:
    return Path.home() / ".cache" / "ibtoolkit" / "mnist"


def mnist_search_dirs(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The folders :func:`mnist` searches, in order: ``data_dir``, ``$IBT_DATA_DIR``, ``$IBT_DATA_DIR/mnist``,
    ``~/.cache/ibtoolkit/mnist``."""
    dirs = []
    if data_dir is not None:
        dirs.append(Path(data_dir).expanduser())
    env = os.environ.get("IBT_DATA_DIR")
    if env:
        dirs += [Path(env).expanduser(), Path(env).expanduser() / "mnist"]
    dirs.append(_default_cache_dir())
    out = []
    for d in dirs:
        if d not in out:
            out.append(d)
    return out


def _download(name: str, target: Path, mirrors, timeout: float) -> list[str]:
    """Fetch ``name`` into ``target`` (temp file, sha256 check, then rename). Returns the errors met; [] = ok."""
    errors = []
    for base in mirrors:
        url = base + name
        try:
            with atomic_path(target / name) as tmp:
                h = hashlib.sha256()
                with urllib.request.urlopen(url, timeout=timeout) as resp, open(tmp, "wb") as fh:
                    while chunk := resp.read(1 << 20):
                        h.update(chunk)
                        fh.write(chunk)
                if h.hexdigest() != MNIST_SHA256[name]:
                    raise ChecksumError(f"sha256 {h.hexdigest()} != {MNIST_SHA256[name]}")
            return []
        except (OSError, ValueError) as exc:  # URLError/HTTPError/timeouts are OSErrors; ChecksumError a ValueError
            errors.append(f"{url}: {exc}")
    return errors


def _parse_idx(raw: bytes, name: str, ndim: int) -> np.ndarray:
    """An IDX file (big-endian header: two zero bytes, type code 0x08 = uint8, ndim, then ndim uint32 sizes)."""
    if len(raw) < 4 + 4 * ndim or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or raw[3] != ndim:
        raise ValueError(f"{name}: not an IDX uint8 file with {ndim} dimension(s)")
    dims = tuple(int(v) for v in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    offset = 4 + 4 * ndim
    if len(raw) - offset != int(np.prod(dims)):
        raise ValueError(f"{name}: header says {dims} but holds {len(raw) - offset} bytes of data")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(dims)


def mnist(data_dir: str | os.PathLike | None = None, download: bool = True, flatten: bool = True, scale: bool = True,
          dtype: DTypeLike = np.float64, *, mirrors: Sequence[str] = MNIST_MIRRORS, timeout: float = 60.0) -> Dataset:
    """MNIST (LeCun et al. 1998) from the four official IDX ``.gz`` files; Saxe et al. (2018) Fig. 1C-D, App. C.

    Lookup: the first folder of :func:`mnist_search_dirs` (``data_dir``, ``$IBT_DATA_DIR``, ``$IBT_DATA_DIR/mnist``,
    ``~/.cache/ibtoolkit/mnist``) that holds all four :data:`MNIST_FILES`. If none does and ``download`` is True,
    the missing files are fetched from :data:`MNIST_MIRRORS` into ``data_dir`` (or ``~/.cache/ibtoolkit/mnist``),
    each into a temporary file that is renamed into place only after its sha256 matched. Otherwise
    ``FileNotFoundError`` names the four files and the folders searched.

    Every load checks the sha256 of each file against :data:`MNIST_SHA256` (:class:`ChecksumError` on mismatch;
    a corrupted local file is reported, never silently replaced).

    Values: ``scale=True`` gives pixels / 255 in [0, 1] (Saxe et al.: "pixels/255"); ``scale=False`` the raw
    0..255 values as floats. ``dtype`` float64 by default (the simulator's convention); the full set then takes
    (70,000 x 784 x 8 B) = 439 MB, float32 half of that. ``flatten=False`` keeps images as ``(n, 28, 28)``.
    Labels are integers 0..9. Loading takes about 1 s (gunzip + conversion; see BENCHMARKS.md), so no decoded
    cache is written.

    Analysis set: the 10,000 test images (the same arrays as the test set, not a copy).

    >>> d = mnist(download=False)            # doctest: +SKIP
    >>> d.x_train.shape, d.x_analysis.shape  # doctest: +SKIP
    ((60000, 784), (10000, 784))
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    if isinstance(mirrors, str):
        mirrors = (mirrors,)
    dirs = mnist_search_dirs(data_dir)
    found = next((d for d in dirs if all((d / f).is_file() for f in MNIST_FILES)), None)
    if found is None:
        listing = "\n  ".join(str(d) for d in dirs)
        files = ", ".join(MNIST_FILES)
        if not download:
            raise FileNotFoundError(
                f"MNIST files not found: need all four of {files} in one folder; searched:\n  {listing}\n"
                f"Pass data_dir=..., set IBT_DATA_DIR, or call mnist(download=True).")
        found = Path(data_dir).expanduser() if data_dir is not None else _default_cache_dir()
        found.mkdir(parents=True, exist_ok=True)
        errors = []
        for f in MNIST_FILES:
            if not (found / f).is_file():
                errors += _download(f, found, mirrors, timeout)
                if not (found / f).is_file():
                    break
        missing = [f for f in MNIST_FILES if not (found / f).is_file()]
        if missing:
            raise FileNotFoundError(
                f"MNIST files not found and download failed for {', '.join(missing)} (need all four of {files}); "
                f"searched:\n  {listing}\ndownload target {found}; errors:\n  " + "\n  ".join(errors))

    raws, digests = {}, {}
    for f in MNIST_FILES:  # all four checksums before any decoding
        raws[f] = (found / f).read_bytes()
        digests[f] = _sha256_bytes(raws[f])
        if digests[f] != MNIST_SHA256[f]:
            raise ChecksumError(f"{found / f} has sha256 {digests[f]}, expected {MNIST_SHA256[f]} (the official "
                                f"file); it is corrupted or not MNIST: delete it to download it again")
    arrays = {f: _parse_idx(gzip.decompress(raws.pop(f)), f, nd) for f, nd in zip(MNIST_FILES, (3, 1, 3, 1))}

    def images(a):
        out = np.empty(a.shape, dtype=dtype)
        if scale:
            np.divide(a, dtype.type(255), out=out, dtype=dtype)
        else:
            out[...] = a
        return out.reshape(a.shape[0], -1) if flatten else out

    x_tr, x_te = images(arrays[MNIST_FILES[0]]), images(arrays[MNIST_FILES[2]])
    y_tr, y_te = arrays[MNIST_FILES[1]].astype(np.int64), arrays[MNIST_FILES[3]].astype(np.int64)
    if x_tr.shape[0] != y_tr.shape[0] or x_te.shape[0] != y_te.shape[0]:
        raise ValueError(f"MNIST files in {found} disagree on the number of images and labels")
    info = {"source": "MNIST (LeCun, Cortes & Burges)", "directory": str(found),
            "files": {f: str(found / f) for f in MNIST_FILES}, "sha256": digests, "scale": bool(scale),
            "analysis": "the 10,000 test images"}
    return Dataset(x_tr, y_tr, x_te, y_te, x_te, y_te, n_classes=10, name="mnist", info=info)


# ----------------------------------------------------------------------------------------------------------------
# Synthetic sets
# ----------------------------------------------------------------------------------------------------------------

def _sign_labels(x):
    """Class 1 where the coordinates sum to > 0 (for one feature: x > 0), else 0 (Kong 2019's sign rule)."""
    return (x.reshape(x.shape[0], -1).sum(axis=1) > 0).astype(np.int64)


def _n_test(n_test, n):
    return n if n_test is None else checks.positive_int(n_test, "n_test")


def gaussian(n: int, d: int = 1, mu: ArrayLike = 0.0, sd: ArrayLike = 1.0, seed: np.random.Generator | int | None = 0,
             *, n_test: int | None = None) -> Dataset:
    """Gaussian inputs ``X ~ N(mu, diag(sd^2))`` with sign labels (Kong 2019, §2: X ~ N(0, 0.25), labels ±1 by sign).

    ``sd`` is a **standard deviation** (scalar or per dimension): Kong's ``N(0, 0.25)`` states a variance of 0.25
    ("mean 0 and variance 0.25"), i.e. ``sd=0.5``. Class label 1 where the coordinates sum to > 0 (d = 1: x > 0),
    else 0; ``.with_targets([-1, 1])`` gives Kong's ±1 targets. Train ``n`` and test ``n_test`` (default ``n``)
    samples are independent draws (train first, from one Generator); the analysis set is train + test.

    >>> d = gaussian(1000, sd=0.5, seed=0)
    >>> d.x_train.shape, d.n_test, sorted(set(d.y_train.tolist()))
    ((1000, 1), 1000, [0, 1])
    """
    n = checks.positive_int(n, "n")
    d = checks.positive_int(d, "d")
    n_te = _n_test(n_test, n)
    mu = checks.finite_array(mu, "mu", allow_bool=False)
    sd = np.asarray(checks.positive(sd, "sd"), dtype=float)
    for name, v in (("mu", mu), ("sd", sd)):
        if v.ndim > 1 or (v.ndim == 1 and v.shape[0] != d):
            raise ValueError(f"{name} must be a scalar or have shape ({d},), got shape {v.shape}")
    rng = checks.rng(seed, "seed")
    x = mu + sd * rng.standard_normal((n + n_te, d))
    y = _sign_labels(x)
    info = {"distribution": "gaussian", "mu": mu, "sd": sd, "seed": seed, "labels": "1 if sum(x) > 0"}
    return Dataset(x[:n], y[:n], x[n:], y[n:], n_classes=2, name="gaussian", info=info)


def gaussian_mixture(n: int, means: ArrayLike = (-1.0, 1.0), sd: ArrayLike = 0.5, weights: ArrayLike | None = None,
                     seed: np.random.Generator | int | None = 0, *, n_test: int | None = None,
                     labels: Literal["sign", "component"] = "sign") -> Dataset:
    """Gaussian mixture ``sum_k w_k N(means_k, sd^2 I)`` (Kong 2019, §3: ½N(−1, 0.25) + ½N(1, 0.25)).

    ``sd`` is a **standard deviation** shared by all components (scalar or per dimension). Kong's 0.25 is a variance
    (his single-Gaussian set is stated as "mean 0 and variance 0.25" in the same notation), so his mixture is the
    default: ``means=(-1, 1), sd=0.5``. ``means`` is ``(m,)`` (1-D inputs) or ``(m, d)``; ``weights`` ``(m,)``
    sums to 1 (default uniform). Components are drawn by ``Generator.choice``, then ``x = means[c] + sd * z``.

    ``labels="sign"`` (Kong): class 1 where the coordinates sum to > 0; ``labels="component"``: the component index.
    ``info["component_train"]`` / ``["component_test"]`` hold the drawn components either way.

    >>> d = gaussian_mixture(2000, seed=1)
    >>> d.x_train.shape, d.n_classes
    ((2000, 1), 2)
    """
    n = checks.positive_int(n, "n")
    n_te = _n_test(n_test, n)
    means = checks.finite_array(means, "means", allow_bool=False)
    if means.ndim == 1:
        means = means[:, None]
    if means.ndim != 2 or means.shape[0] < 1:
        raise ValueError(f"means must have shape (m,) or (m, d), got {np.shape(means)}")
    m, d = means.shape
    sd = np.asarray(checks.positive(sd, "sd"), dtype=float)
    if sd.ndim > 1 or (sd.ndim == 1 and sd.shape[0] != d):
        raise ValueError(f"sd must be a scalar or have shape ({d},), got shape {sd.shape}")
    w = np.full(m, 1.0 / m) if weights is None else checks.probability_vector(weights, "weights")
    if w.shape != (m,):
        raise ValueError(f"weights must have shape ({m},) to match means, got {w.shape}")
    if labels not in ("sign", "component"):
        raise ValueError(f"labels must be 'sign' or 'component', got {labels!r}")
    rng = checks.rng(seed, "seed")
    comp = rng.choice(m, size=n + n_te, p=w)
    x = means[comp] + sd * rng.standard_normal((n + n_te, d))
    y = _sign_labels(x) if labels == "sign" else comp.astype(np.int64)
    info = {"distribution": "gaussian_mixture", "means": means, "sd": sd, "weights": w, "seed": seed,
            "labels": labels, "component_train": comp[:n], "component_test": comp[n:]}
    return Dataset(x[:n], y[:n], x[n:], y[n:], n_classes=max(2, m) if labels == "component" else 2,
                   name="gaussian_mixture", info=info)


def discrete(points: ArrayLike, labels: ArrayLike, n_repeat: int | None = None, probs: ArrayLike | None = None, *,
             n: int | None = None, n_test: int | None = None, seed: np.random.Generator | int | None = 0,
             name: str = "discrete") -> Dataset:
    """A finite input alphabet ``points`` (``(m,)`` or ``(m, d)``, distinct) with integer class ``labels`` ``(m,)``.

    Two modes:

    * ``n_repeat=r`` (default 1): the training set is every point ``r`` times (``np.tile`` order: blocks of all m
      points), the empirical distribution exactly uniform -- Goldfeld et al. (2019) and Kong (2019) train on the
      alphabet itself. The test set is the m points once.
    * ``probs=p`` with ``n``: ``n`` training and ``n_test`` (default ``n``) test inputs drawn i.i.d. from ``p``.

    The analysis set is the m distinct points once each, in the given order; ``info["probs"]`` holds their
    probabilities (uniform or ``p``), the weights for exact MI over this input distribution.
    Float targets (e.g. ±1, or 0 / 0.25) come from :meth:`Dataset.with_targets`.

    >>> d = discrete([-3, -1, 1, 3], [0, 0, 0, 1], n_repeat=2)
    >>> d.x_train.ravel().tolist(), d.x_analysis.ravel().tolist()
    ([-3.0, -1.0, 1.0, 3.0, -3.0, -1.0, 1.0, 3.0], [-3.0, -1.0, 1.0, 3.0])
    """
    pts = checks.finite_array(points, "points", allow_bool=False)
    rng = checks.rng(seed, "seed")            # checked even when unused (n_repeat mode draws nothing)
    if pts.ndim == 1:
        pts = pts[:, None]
    if pts.ndim != 2 or pts.shape[0] < 1:
        raise ValueError(f"points must have shape (m,) or (m, d), got {np.shape(points)}")
    m = pts.shape[0]
    if np.unique(pts, axis=0).shape[0] != m:
        raise ValueError("points must be distinct")
    lab = _check_labels(labels, m, "labels")
    if n_repeat is not None and probs is not None:
        raise ValueError("give n_repeat or probs, not both")
    if probs is None:
        if n is not None or n_test is not None:
            raise ValueError("n and n_test are for sampling with probs; with n_repeat the sets are fixed")
        r = 1 if n_repeat is None else checks.positive_int(n_repeat, "n_repeat")
        p = np.full(m, 1.0 / m)
        idx_tr, idx_te = np.tile(np.arange(m), r), np.arange(m)
        mode = {"n_repeat": r}
    else:
        p = checks.probability_vector(probs, "probs")
        if p.shape != (m,):
            raise ValueError(f"probs must have shape ({m},) to match points, got {p.shape}")
        if n is None:
            raise ValueError("n (the number of samples to draw) is required with probs")
        n_tr = checks.positive_int(n, "n")
        n_te = _n_test(n_test, n_tr)
        idx = rng.choice(m, size=n_tr + n_te, p=p)
        idx_tr, idx_te = idx[:n_tr], idx[n_tr:]
        mode = {"n": n_tr, "n_test": n_te, "seed": seed}
    info = {"points": pts, "labels": lab, "probs": p, "train_idx": idx_tr, "test_idx": idx_te, **mode}
    return Dataset(pts[idx_tr], lab[idx_tr], pts[idx_te], lab[idx_te], pts, lab,
                   n_classes=max(2, int(lab.max()) + 1), name=name, info=info)


def goldfeld_four_points(n_repeat: int = 1) -> Dataset:
    """Goldfeld et al. (2019) single-neuron task: X uniform on {−3, −1, 1, 3}, class 1 only for X = 3.

    (Kong 2019 §1 prints the positive set as "{1}", a typo for {3}: the poster of Goldfeld et al. (ICML 2019) has X_{y=1} = {3}.)
    Their ±1 targets: ``goldfeld_four_points().with_targets([-1.0, 1.0])``.

    >>> goldfeld_four_points().y_analysis.tolist()
    [0, 0, 0, 1]
    """
    return discrete([-3.0, -1.0, 1.0, 3.0], [0, 0, 0, 1], n_repeat=n_repeat, name="goldfeld_four_points")


def kong_eight_points(n_repeat: int = 1) -> Dataset:
    """Kong (2019) §1 eight-value set: X uniform on {1, ..., 8}, class 0 for 1-4 and class 1 for 5-8.

    Kong's regression targets 0 and 0.25: ``kong_eight_points().with_targets([0.0, 0.25])``.

    >>> kong_eight_points().with_targets([0.0, 0.25]).y_analysis.ravel().tolist()
    [0.0, 0.0, 0.0, 0.0, 0.25, 0.25, 0.25, 0.25]
    """
    return discrete(np.arange(1.0, 9.0), [0] * 4 + [1] * 4, n_repeat=n_repeat, name="kong_eight_points")


def linear_teacher(n_in: int, n_out: int, n_train: int, n_test: int = 1000, *, snr: float | None = None,
                   noise_std: float | None = None, weight_std: float = 1.0, relevant: ArrayLike | None = None,
                   seed: np.random.Generator | int | None = 0) -> Dataset:
    """Student-teacher regression of Saxe et al. (2018) §3, §5 (after Advani & Saxe 2017).

    ``X ~ N(0, I / n_in)`` (rows of ``x``), teacher ``W_o`` of shape ``(n_out, n_in)`` with entries
    ``N(0, weight_std^2)``, targets ``Y = W_o X + eps`` with ``eps ~ N(0, noise_std^2 I)``, i.e.
    ``y = x @ W_o.T + eps`` row-wise. **SNR = weight_std^2 / noise_std^2** (σ_w² / σ_ε², Saxe et al. 2018, Sec. 5), so give either
    ``snr`` (then ``noise_std = weight_std / sqrt(snr)``) or ``noise_std``; neither means ``snr = 1``. With the
    1/n_in input variance each output's signal variance ``||W_o[j]||^2 / n_in`` has mean ``weight_std^2``.

    ``relevant``: optional boolean mask ``(n_in,)``; teacher weights on inputs outside it are zero (the
    task-irrelevant inputs of Saxe et al. Fig. 6). The signal variance is then ``weight_std^2 * n_relevant / n_in``
    on average; ``info["effective_snr"]`` states that ratio to the noise variance.

    Draw order from one Generator: ``W_o``, then the ``n_train + n_test`` inputs, then the noise.
    ``info``: ``teacher_weights`` (n_out, n_in), ``noise_std``, ``noise_var``, ``snr``, ``weight_std``,
    ``input_var`` (= 1/n_in, so Σ_x = I/n_in), ``relevant_mask``, ``effective_snr``, ``seed``.
    The analysis set is train + test.

    >>> d = linear_teacher(100, 1, 100, snr=1.0, seed=0)
    >>> d.x_train.shape, d.y_train.shape, d.info["teacher_weights"].shape, d.info["noise_var"]
    ((100, 100), (100, 1), (1, 100), 1.0)
    """
    n_in = checks.positive_int(n_in, "n_in")
    n_out = checks.positive_int(n_out, "n_out")
    n_train = checks.positive_int(n_train, "n_train")
    n_test = checks.positive_int(n_test, "n_test")
    weight_std = checks.positive_scalar(weight_std, "weight_std")
    if snr is not None and noise_std is not None:
        raise ValueError("give snr or noise_std, not both (snr = weight_std**2 / noise_std**2)")
    if noise_std is None:
        snr = 1.0 if snr is None else checks.positive_scalar(snr, "snr")
        noise_std = weight_std / np.sqrt(snr)
    else:
        noise_std = checks.nonnegative(checks.real_scalar(noise_std, "noise_std"), "noise_std")
        snr = np.inf if noise_std == 0 else weight_std ** 2 / noise_std ** 2
    if relevant is None:
        mask = np.ones(n_in, dtype=bool)
    else:
        mask = np.asarray(relevant)
        if mask.dtype != bool or mask.shape != (n_in,):
            raise ValueError(f"relevant must be a boolean mask of shape ({n_in},), got {mask.dtype} {mask.shape}")
    rng = checks.rng(seed, "seed")
    w = rng.normal(0.0, weight_std, size=(n_out, n_in)) * mask
    n = n_train + n_test
    x = rng.standard_normal((n, n_in)) / np.sqrt(n_in)
    y = x @ w.T + noise_std * rng.standard_normal((n, n_out))
    noise_var = float(noise_std) ** 2
    eff = np.inf if noise_var == 0 else weight_std ** 2 * mask.sum() / n_in / noise_var
    info = {"teacher_weights": w, "noise_std": float(noise_std), "noise_var": noise_var, "snr": float(snr),
            "weight_std": weight_std, "input_var": 1.0 / n_in, "relevant_mask": mask, "effective_snr": float(eff),
            "seed": seed}
    return Dataset(x[:n_train], y[:n_train], x[n_train:], y[n_train:], name="linear_teacher", info=info)


def relevant_irrelevant(n_in: int = 100, n_relevant: int = 30, *, n_train: int, n_out: int = 1, n_test: int = 1000,
                        snr: float = 1.0, weight_std: float = 1.0, which: Literal["first", "random"] = "first",
                        seed: np.random.Generator | int | None = 0) -> Dataset:
    """Saxe et al. (2018) Fig. 6: a linear teacher that uses only ``n_relevant`` of ``n_in`` inputs.

    The relevant inputs are the first ``n_relevant`` (``which="first"``) or a seeded random choice
    (``which="random"``, drawn before the teacher). Teacher weights on the others are exactly zero; the mask is
    ``info["relevant_mask"]`` (boolean ``(n_in,)``; pass ``~mask`` rows to the simulator's ``mask`` to freeze
    student weights, or use it to split X into X_rel / X_irr for subspace MI). All other parameters as in
    :func:`linear_teacher` (``snr`` is per teacher entry, σ_w²/σ_ε²). Reproducing Saxe et al. (2018, Fig. 6) needs P > n_in to see the
    effect, so ``n_train`` is required.

    >>> d = relevant_irrelevant(n_train=200, seed=0)
    >>> int(d.info["relevant_mask"].sum()), bool((d.info["teacher_weights"][:, 30:] == 0).all())
    (30, True)
    """
    n_in = checks.positive_int(n_in, "n_in")
    n_relevant = checks.positive_int(n_relevant, "n_relevant")
    if n_relevant > n_in:
        raise ValueError(f"n_relevant must be <= n_in = {n_in}, got {n_relevant}")
    rng = checks.rng(seed, "seed")
    mask = np.zeros(n_in, dtype=bool)
    if which == "first":
        mask[:n_relevant] = True
    elif which == "random":
        mask[rng.choice(n_in, size=n_relevant, replace=False)] = True
    else:
        raise ValueError(f"which must be 'first' or 'random', got {which!r}")
    d = linear_teacher(n_in, n_out, n_train, n_test, snr=snr, weight_std=weight_std, relevant=mask, seed=rng)
    info = dict(d.info, n_relevant=n_relevant, which=which, seed=seed)
    return dataclasses.replace(d, name="relevant_irrelevant", info=info)
