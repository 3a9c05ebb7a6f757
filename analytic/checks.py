"""Input validation shared by every public function of the toolkit.

Every check raises an error whose message starts with the argument's name, so a user sees at once which input
is wrong. Nothing here converts silently:

* NaN and inf are rejected (``ValueError``), not clipped;
* complex numbers (even with a zero imaginary part), strings, booleans used as numbers (``width=True``) and
  objects that are not real numbers are rejected with :class:`ArgumentTypeError`, a ``TypeError`` that is
  also a ``ValueError`` (so code that catches either keeps working);
* boolean ARRAYS pass :func:`finite_array` as 0/1 (masks), but not the numeric checks (:func:`positive`,
  :func:`nonnegative`, :func:`real_scalar`, :func:`probability_vector`, :func:`positive_int`).

>>> from analytic.checks import positive
>>> positive(0.1, "noise_std")
0.1
>>> positive(True, "noise_std")
Traceback (most recent call last):
...
analytic.checks.ArgumentTypeError: noise_std must be a real number, got the boolean True
"""
from __future__ import annotations

import numbers
import os
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

__all__ = ["ArgumentTypeError", "real_array", "finite_array", "positive", "nonnegative", "positive_int",
           "positive_scalar", "interval", "sorted_edges", "labels", "labels_for", "probability_vector",
           "real_scalar", "rng", "index", "selection", "index_sets", "file_path", "flag"]


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong kind (complex, string, boolean as a number, non-numeric object).

    A ``TypeError``; also a ``ValueError`` so that callers written against the earlier ``ValueError`` of these
    checks still catch it."""


def _is_real_number(v) -> bool:
    return (isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))) or (
        isinstance(v, np.generic) and v.dtype.kind in "iuf")


def real_array(x: ArrayLike, name: str, *, allow_bool: bool = False, dtype: DTypeLike = float) -> np.ndarray:
    """``x`` as a real array of ``dtype`` (no finiteness check), or :class:`ArgumentTypeError` naming ``name``.

    Rejects complex input (any imaginary part), strings and bytes, booleans (scalars always; arrays unless
    ``allow_bool``), and object arrays holding anything but real numbers.

    >>> real_array([1, 2.5], "w").tolist()
    [1.0, 2.5]
    >>> real_array(1 + 0j, "w")
    Traceback (most recent call last):
    ...
    analytic.checks.ArgumentTypeError: w must be real, got the complex value (1+0j)
    """
    if isinstance(x, (str, bytes, np.str_, np.bytes_)):
        raise ArgumentTypeError(f"{name} must be a real number or array, got the string {x!r}")
    if isinstance(x, (bool, np.bool_)):
        raise ArgumentTypeError(f"{name} must be a real number, got the boolean {x!r}")
    if isinstance(x, (complex, np.complexfloating)):
        raise ArgumentTypeError(f"{name} must be real, got the complex value {x!r}")
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:        # ragged nested lists and the like
        raise ArgumentTypeError(f"{name} must be a real number or array: {exc}") from None
    kind = arr.dtype.kind
    if kind == "c":
        raise ArgumentTypeError(f"{name} must be real, got complex values (dtype {arr.dtype})")
    if kind == "b" and not (allow_bool and arr.ndim > 0):
        raise ArgumentTypeError(f"{name} must be real numbers, got booleans (dtype bool)")
    if kind in "USV":
        raise ArgumentTypeError(f"{name} must be real numbers, got strings/bytes (dtype {arr.dtype})")
    if kind == "O":
        for v in arr.ravel():
            if not _is_real_number(v):
                raise ArgumentTypeError(f"{name} must contain real numbers only, got {type(v).__name__} {v!r}")
    elif kind not in "iufb":
        raise ArgumentTypeError(f"{name} must be real numbers, got dtype {arr.dtype}")
    try:
        return np.asarray(arr, dtype=dtype)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ArgumentTypeError(f"{name} must be real numbers: {exc}") from None


def finite_array(x: ArrayLike, name: str, *, ndim: int | None = None, min_ndim: int | None = None,
                 dtype: DTypeLike = float, allow_bool: bool = True) -> np.ndarray:
    """``x`` as a real float array with every entry finite (and the given number of dimensions).

    Type errors as in :func:`real_array` (boolean arrays pass as 0/1 unless ``allow_bool=False``; a boolean
    scalar never does); NaN or inf: ``ValueError``.

    >>> finite_array([0.5, float("nan")], "activity")
    Traceback (most recent call last):
    ...
    ValueError: activity contains NaN or inf
    """
    arr = real_array(x, name, allow_bool=allow_bool, dtype=dtype)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    if min_ndim is not None and arr.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s), got shape {arr.shape}")
    if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def positive(x: ArrayLike, name: str) -> float | NDArray[np.float64]:
    """``x`` (scalar or array) with every entry finite and > 0; returned as float or float array."""
    arr = finite_array(x, name, allow_bool=False)
    if np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0, got {x!r}" if arr.ndim == 0 else f"{name} must be > 0 everywhere")
    return float(arr) if arr.ndim == 0 else arr


def nonnegative(x: ArrayLike, name: str) -> float | NDArray[np.float64]:
    """``x`` with every entry finite and >= 0."""
    arr = finite_array(x, name, allow_bool=False)
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0, got {x!r}" if arr.ndim == 0 else f"{name} must be >= 0 everywhere")
    return float(arr) if arr.ndim == 0 else arr


def positive_int(x: object, name: str, minimum: int = 1) -> int:
    """``x`` as an int >= ``minimum`` (integer-valued floats such as ``2.0`` are accepted; booleans are not)."""
    if isinstance(x, (bool, np.bool_, str, bytes, complex, np.complexfloating)):
        raise ArgumentTypeError(f"{name} must be an integer, got {x!r}")
    if not isinstance(x, (int, np.integer)):
        if not isinstance(x, (float, np.floating)):
            raise ArgumentTypeError(f"{name} must be an integer, got {type(x).__name__} {x!r}")
        if float(x).is_integer():
            x = int(x)
        else:
            raise ValueError(f"{name} must be an integer, got {x!r}")
    if x < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {x}")
    return int(x)


def positive_scalar(x: object, name: str) -> float:
    """``x`` as a finite real float > 0: :func:`real_scalar` (so booleans, strings, complex and arrays are
    refused) and then :func:`positive`.

    >>> positive_scalar(0.5, "width")
    0.5
    """
    value = real_scalar(x, name)
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return value


def interval(x: ArrayLike, name: str) -> tuple[float, float]:
    """``x`` as a pair ``(lo, hi)`` of finite real floats with ``lo < hi``.

    >>> interval([0, 1], "value_range")
    (0.0, 1.0)
    """
    r = finite_array(x, name, allow_bool=False)
    if r.ndim != 1 or r.size != 2:
        raise ValueError(f"{name} must be a pair (lo, hi), got shape {r.shape}")
    if not r[0] < r[1]:
        raise ValueError(f"{name} must be (lo, hi) with lo < hi, got {x!r}")
    return float(r[0]), float(r[1])


def sorted_edges(edges: ArrayLike, name: str = "edges") -> NDArray[np.float64]:
    """Bin edges: 1-D, at least 1 entry, finite, strictly increasing (no duplicates)."""
    e = finite_array(edges, name, ndim=1, allow_bool=False)
    if e.size < 1:
        raise ValueError(f"{name} must contain at least one edge")
    if np.any(np.diff(e) <= 0):
        raise ValueError(f"{name} must be strictly increasing (sorted, no duplicates)")
    return e


def labels(y: ArrayLike, n_samples: int | None = None, name: str = "labels") -> np.ndarray:
    """Class labels: a 1-D array (of ``n_samples`` entries if given) of one kind — integers, booleans, finite
    floats or strings. Object arrays are accepted when they hold only real numbers (-> float) or only strings
    (-> str); complex values, NaN/inf and mixtures are refused. Integers stay integers.

    >>> labels(np.array(["a", "b"], dtype=object), 2).tolist()
    ['a', 'b']
    >>> labels([0, 1, 1], 2)
    Traceback (most recent call last):
    ...
    ValueError: labels must have shape (2,) to match the samples, got (3,)
    """
    if isinstance(y, (str, bytes)):
        raise ArgumentTypeError(f"{name} must be an array of class labels, got the string {y!r}")
    try:
        arr = np.asarray(y)
    except (TypeError, ValueError) as exc:
        raise ArgumentTypeError(f"{name} must be an array of class labels: {exc}") from None
    if arr.ndim != 1 or (n_samples is not None and arr.shape[0] != n_samples):
        want = f"({n_samples},) to match the samples" if n_samples is not None else "(samples,)"
        raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    if arr.dtype.kind == "O":
        items = arr.tolist()
        if all(isinstance(v, str) for v in items):
            arr = np.asarray(items, dtype=str)
        elif all(_is_real_number(v) for v in items):
            arr = np.asarray(items, dtype=float)
        else:
            raise ArgumentTypeError(f"{name} must be all real numbers or all strings, got an object array of "
                                    f"{sorted({type(v).__name__ for v in items})}")
    if arr.dtype.kind == "c":
        raise ArgumentTypeError(f"{name} must be real (class labels), got complex values")
    if arr.dtype.kind not in "biufUS":
        raise ArgumentTypeError(f"{name} must be integers, floats or strings, got dtype {arr.dtype}")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def labels_for(y: ArrayLike, n_samples: int, name: str = "labels") -> np.ndarray:
    """Labels of shape (n_samples,): :func:`labels` with the sample count required."""
    return labels(y, n_samples, name)


def probability_vector(p: ArrayLike, name: str, axis: int = -1, atol: float = 1e-9) -> NDArray[np.float64]:
    """Non-negative weights summing to 1 along ``axis``."""
    arr = finite_array(p, name, allow_bool=False)
    if np.any(arr < 0):
        raise ValueError(f"{name} must be non-negative")
    if not np.allclose(arr.sum(axis=axis), 1.0, atol=atol, rtol=0):
        raise ValueError(f"{name} must sum to 1 along axis {axis}")
    return arr


def real_scalar(x: object, name: str) -> float:
    """``x`` as a finite real float. Booleans, strings, complex numbers and arrays of size != 1 are rejected.

    >>> real_scalar(2, "lr")
    2.0
    """
    arr = real_array(x, name)
    if arr.ndim != 0:
        raise ArgumentTypeError(f"{name} must be a real scalar, got an array of shape {arr.shape}")
    value = float(arr)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def rng(seed: np.random.Generator | int | None, name: str = "seed") -> np.random.Generator:
    """A :class:`numpy.random.Generator` from ``seed``: None (fresh entropy), an int >= 0, or a Generator (used as is).

    The one way every function of the toolkit accepts random state.

    >>> int(rng(0).integers(10)) == int(rng(0).integers(10))
    True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise ArgumentTypeError(f"{name} must be None, an integer >= 0 or a numpy.random.Generator, got {seed!r}")
    if seed < 0:
        raise ValueError(f"{name} must be >= 0, got {seed}")
    return np.random.default_rng(int(seed))


def index(i: object, n: int, name: str, what: str = "entries") -> int:
    """One position among ``n``: an integer in ``[-n, n - 1]`` (negative counts from the end), returned in
    ``[0, n - 1]``; never wraps.

    >>> index(-1, 3, "layer")
    2
    """
    if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)):
        raise ArgumentTypeError(f"{name} must be an integer in [{-n}, {n - 1}] (one of the {n} {what}), got {i!r}")
    if not -n <= i < n:
        raise ValueError(f"{name} must be an integer in [{-n}, {n - 1}] (one of the {n} {what}), got {i}")
    return int(i) % n


def selection(index: object, n: int, name: str, what: str = "entries", *, scalar: bool = False) -> np.ndarray:
    """Positions among ``n`` (e.g. logged epochs, ensemble members) selected by ``index``: None (all), an int in
    ``[-n, n - 1]``, a slice, a sequence of such ints or a boolean mask of length ``n``. Returns a 1-D int array
    (0-D for an int when ``scalar``); never wraps out-of-range indices, never selects nothing.

    >>> selection([0, -1], 3, "members").tolist()
    [0, 2]
    >>> selection([3], 3, "members", "ensemble members")
    Traceback (most recent call last):
    ...
    ValueError: members: [3] does not select ensemble members among 3 (valid: integers in [-3, 2], ...
    """
    if index is None:
        return np.arange(n)
    if isinstance(index, (bool, np.bool_)):
        raise ArgumentTypeError(f"{name} must be an int, slice, sequence of indices or boolean mask, got {index!r}")
    try:
        sel = np.arange(n)[index]
    except (IndexError, TypeError, ValueError) as exc:
        raise ValueError(f"{name}: {index!r} does not select {what} among {n} (valid: integers in [{-n}, {n - 1}], "
                         f"a slice or a boolean mask of length {n}): {exc}") from None
    if np.ndim(sel) > 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {np.shape(index)}")
    if not scalar:
        sel = np.atleast_1d(sel)
    if np.ndim(sel) == 1 and sel.size == 0:
        raise ValueError(f"{name}: {index!r} selects none of the {n} {what}")
    return sel


def index_sets(idx: ArrayLike, n: int, name: str = "batches") -> NDArray[np.int64]:
    """Sets of positions among ``n`` of one size, e.g. minibatches: a non-empty 2-D integer array (n_sets, size)
    with every entry in ``[0, n - 1]`` (no negative positions, no wrapping).

    >>> index_sets([[0, 1], [2, 3]], 4).shape
    (2, 2)
    >>> index_sets([[0, 4]], 4)
    Traceback (most recent call last):
    ...
    ValueError: batches must be an integer array (n_sets, size) of positions in 0..3, got entries in 0..4
    """
    try:
        arr = np.asarray(idx)
    except (TypeError, ValueError) as exc:
        raise ArgumentTypeError(f"{name} must be an integer array (n_sets, size): {exc}") from None
    if arr.dtype.kind not in "iu":
        raise ArgumentTypeError(f"{name} must be an integer array (n_sets, size) of positions, got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty integer array (n_sets, size), got shape {arr.shape}")
    if arr.min() < 0 or arr.max() >= n:
        raise ValueError(f"{name} must be an integer array (n_sets, size) of positions in 0..{n - 1}, got entries "
                         f"in {arr.min()}..{arr.max()}")
    return arr.astype(np.int64, copy=False)


def file_path(path: object, name: str = "path") -> Path:
    """``path`` (a str or os.PathLike, not empty or blank) as a :class:`pathlib.Path`.

    >>> file_path("run.npz").name
    'run.npz'
    >>> file_path("")
    Traceback (most recent call last):
    ...
    ValueError: path must be a non-empty file path, got ''
    """
    if path is None or isinstance(path, bool) or not isinstance(path, (str, os.PathLike)):
        raise ArgumentTypeError(f"{name} must be a file path (str or os.PathLike), got {type(path).__name__}")
    text = os.fspath(path)
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{name} must be a non-empty file path, got {text!r}")
    return Path(text)


def flag(x: object, name: str) -> bool:
    """``x`` as a bool: only ``True`` / ``False`` (or numpy booleans); 0, 1, strings and None are refused, so that
    ``shuffle="no"`` does not silently mean True.

    >>> flag(False, "shuffle")
    False
    >>> flag("no", "shuffle")
    Traceback (most recent call last):
    ...
    analytic.checks.ArgumentTypeError: shuffle must be True or False, got 'no'
    """
    if not isinstance(x, (bool, np.bool_)):
        raise ArgumentTypeError(f"{name} must be True or False, got {x!r}")
    return bool(x)
