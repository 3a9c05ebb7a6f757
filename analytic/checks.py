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

import numpy as np

__all__ = ["ArgumentTypeError", "real_array", "finite_array", "positive", "nonnegative", "positive_int",
           "sorted_edges", "labels_for", "probability_vector", "real_scalar", "rng"]


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong kind (complex, string, boolean as a number, non-numeric object).

    A ``TypeError``; also a ``ValueError`` so that callers written against the earlier ``ValueError`` of these
    checks still catch it."""


def _is_real_number(v) -> bool:
    return (isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))) or (
        isinstance(v, np.generic) and v.dtype.kind in "iuf")


def real_array(x, name: str, *, allow_bool: bool = False, dtype=float) -> np.ndarray:
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


def finite_array(x, name: str, *, ndim: int | None = None, min_ndim: int | None = None,
                 dtype=float, allow_bool: bool = True) -> np.ndarray:
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


def positive(x, name: str):
    """``x`` (scalar or array) with every entry finite and > 0; returned as float or float array."""
    arr = finite_array(x, name, allow_bool=False)
    if np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0, got {x!r}" if arr.ndim == 0 else f"{name} must be > 0 everywhere")
    return float(arr) if arr.ndim == 0 else arr


def nonnegative(x, name: str):
    """``x`` with every entry finite and >= 0."""
    arr = finite_array(x, name, allow_bool=False)
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0, got {x!r}" if arr.ndim == 0 else f"{name} must be >= 0 everywhere")
    return float(arr) if arr.ndim == 0 else arr


def positive_int(x, name: str, minimum: int = 1) -> int:
    """``x`` as an int >= ``minimum`` (integer-valued floats such as ``2.0`` are accepted; booleans are not)."""
    if isinstance(x, (bool, np.bool_, str, bytes, complex, np.complexfloating)):
        raise ArgumentTypeError(f"{name} must be an integer, got {x!r}")
    if not isinstance(x, (int, np.integer)):
        if isinstance(x, (float, np.floating)) and float(x).is_integer():
            x = int(x)
        else:
            raise ValueError(f"{name} must be an integer, got {x!r}")
    if x < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {x}")
    return int(x)


def sorted_edges(edges, name: str = "edges") -> np.ndarray:
    """Bin edges: 1-D, at least 1 entry, finite, strictly increasing (no duplicates)."""
    e = finite_array(edges, name, ndim=1, allow_bool=False)
    if e.size < 1:
        raise ValueError(f"{name} must contain at least one edge")
    if np.any(np.diff(e) <= 0):
        raise ValueError(f"{name} must be strictly increasing (sorted, no duplicates)")
    return e


def labels_for(labels, n_samples: int, name: str = "labels") -> np.ndarray:
    """Labels of shape (n_samples,), no NaN; returned as given dtype (ints stay ints)."""
    y = np.asarray(labels)
    if y.dtype.kind == "c":
        raise ArgumentTypeError(f"{name} must be real (class labels), got complex values")
    if y.ndim != 1 or y.shape[0] != n_samples:
        raise ValueError(f"{name} must have shape ({n_samples},) to match the samples, got {y.shape}")
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError(f"{name} contains NaN or inf")
    return y


def probability_vector(p, name: str, axis: int = -1, atol: float = 1e-9) -> np.ndarray:
    """Non-negative weights summing to 1 along ``axis``."""
    arr = finite_array(p, name, allow_bool=False)
    if np.any(arr < 0):
        raise ValueError(f"{name} must be non-negative")
    if not np.allclose(arr.sum(axis=axis), 1.0, atol=atol, rtol=0):
        raise ValueError(f"{name} must sum to 1 along axis {axis}")
    return arr


def real_scalar(x, name: str) -> float:
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


def rng(seed, name: str = "seed") -> np.random.Generator:
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
