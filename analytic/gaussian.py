"""Closed-form entropy of a Gaussian, the conditional term of every noisy-channel MI in the toolkit.

h(N(mu, var * I_dim)) = (dim / 2) ln(2 pi e var)  nats  (Cover & Thomas, Thm. 8.4.1).

>>> import numpy as np
>>> bool(np.isclose(gaussian_entropy(1.0), 0.5 * np.log(2 * np.pi * np.e)))
True
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from analytic.checks import positive, positive_int

__all__ = ["gaussian_entropy", "gaussian_entropy_std"]


def gaussian_entropy(var: ArrayLike, dim: int = 1) -> float | NDArray[np.float64]:
    """Differential entropy (nats) of N(mu, var * I_dim); ``var`` is a variance (> 0, arrays broadcast), ``dim``
    a positive integer. Invalid input raises an error naming the argument (a variance of 0 or below has no
    entropy, rather than -inf or NaN).

    >>> gaussian_entropy(0.0)
    Traceback (most recent call last):
    ...
    ValueError: var must be > 0, got 0.0
    """
    v = positive(var, "var")
    d = positive_int(dim, "dim")
    return 0.5 * d * (np.log(2.0 * np.pi * np.e) + np.log(v))


def gaussian_entropy_std(std: ArrayLike, dim: int = 1) -> float | NDArray[np.float64]:
    """The same entropy from a STANDARD DEVIATION: ``dim * (1/2 ln(2 pi e) + ln std)``, finite for every positive
    float ``std`` (``std**2`` would overflow at 1e200 and underflow at 1e-200).

    >>> bool(np.isclose(gaussian_entropy_std(1e200), gaussian_entropy(1.0) + 200 * np.log(10)))
    True
    """
    s = positive(std, "std")
    d = positive_int(dim, "dim")
    return d * (0.5 * np.log(2.0 * np.pi * np.e) + np.log(s))
