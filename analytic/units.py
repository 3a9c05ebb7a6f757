"""Units. The toolkit computes in nats; these convert on request.

>>> round(to_bits(np.log(2.0)), 12)
1.0
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from analytic.checks import real_array

__all__ = ["LN2", "to_bits", "to_nats"]

LN2 = float(np.log(2.0))


def to_bits(nats: ArrayLike, name: str = "nats") -> float | NDArray[np.float64]:
    """Nats -> bits (divide by ln 2), elementwise. Complex, strings and booleans are rejected naming ``name``; so
    is a NaN scalar. Inside arrays NaN marks a missing value (an epoch or layer that was not evaluated, as in
    the information-plane arrays) and stays NaN; inf (the information of a continuous variable) stays inf.

    >>> to_bits(float("nan"))
    Traceback (most recent call last):
    ...
    ValueError: nats contains NaN
    """
    x = _real(nats, name)
    return x / LN2 if x.ndim else float(x) / LN2


def to_nats(bits: ArrayLike, name: str = "bits") -> float | NDArray[np.float64]:
    """Bits -> nats (multiply by ln 2); validated as :func:`to_bits`."""
    x = _real(bits, name)
    return x * LN2 if x.ndim else float(x) * LN2


def _real(x, name):
    arr = real_array(x, name)
    if arr.ndim == 0 and np.isnan(arr):
        raise ValueError(f"{name} contains NaN")
    return arr
