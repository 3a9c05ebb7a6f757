"""Input validation shared by every public function of the toolkit.

Every check raises ``ValueError`` whose message starts with the argument's name, so a user sees
at once which input is wrong. Nothing here converts silently: NaN and inf are rejected, not clipped.

>>> from analytic.checks import positive
>>> positive(0.1, "noise_std")
0.1
"""
from __future__ import annotations

import numpy as np

__all__ = ["finite_array", "positive", "nonnegative", "positive_int", "sorted_edges", "labels_for",
           "probability_vector", "real_scalar", "rng"]


def finite_array(x, name: str, *, ndim: int | None = None, min_ndim: int | None = None,
                 dtype=float) -> np.ndarray:
    """``x`` as a float array with every entry finite (and the given number of dimensions)."""
    try:
        arr = np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    if min_ndim is not None and arr.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def positive(x, name: str):
    """``x`` (scalar or array) with every entry finite and > 0; returned as float or float array."""
    arr = finite_array(x, name)
    if np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0, got {x!r}" if arr.ndim == 0 else f"{name} must be > 0 everywhere")
    return float(arr) if arr.ndim == 0 else arr


def nonnegative(x, name: str):
    """``x`` with every entry finite and >= 0."""
    arr = finite_array(x, name)
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0, got {x!r}" if arr.ndim == 0 else f"{name} must be >= 0 everywhere")
    return float(arr) if arr.ndim == 0 else arr


def positive_int(x, name: str, minimum: int = 1) -> int:
    """``x`` as an int >= ``minimum``."""
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
        if isinstance(x, (float, np.floating)) and float(x).is_integer():
            x = int(x)
        else:
            raise ValueError(f"{name} must be an integer, got {x!r}")
    if x < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {x}")
    return int(x)


def sorted_edges(edges, name: str = "edges") -> np.ndarray:
    """Bin edges: 1-D, at least 1 entry, finite, strictly increasing (no duplicates)."""
    e = finite_array(edges, name, ndim=1)
    if e.size < 1:
        raise ValueError(f"{name} must contain at least one edge")
    if np.any(np.diff(e) <= 0):
        raise ValueError(f"{name} must be strictly increasing (sorted, no duplicates)")
    return e


def labels_for(labels, n_samples: int, name: str = "labels") -> np.ndarray:
    """Labels of shape (n_samples,), no NaN; returned as given dtype (ints stay ints)."""
    y = np.asarray(labels)
    if y.ndim != 1 or y.shape[0] != n_samples:
        raise ValueError(f"{name} must have shape ({n_samples},) to match the samples, got {y.shape}")
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError(f"{name} contains NaN or inf")
    return y


def probability_vector(p, name: str, axis: int = -1, atol: float = 1e-9) -> np.ndarray:
    """Non-negative weights summing to 1 along ``axis``."""
    arr = finite_array(p, name)
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
    if isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{name} must be a real number, got the boolean {x!r}")
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be a real number, got the string {x!r}")
    if isinstance(x, (complex, np.complexfloating)) or np.iscomplexobj(x):
        raise TypeError(f"{name} must be real, got the complex value {x!r}")
    arr = np.asarray(x)
    if arr.dtype.kind not in "iuf" or arr.ndim != 0:
        raise TypeError(f"{name} must be a real scalar, got {x!r}")
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
        raise TypeError(f"{name} must be None, an integer >= 0 or a numpy.random.Generator, got {seed!r}")
    if seed < 0:
        raise ValueError(f"{name} must be >= 0, got {seed}")
    return np.random.default_rng(int(seed))
