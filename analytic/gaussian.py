"""Closed-form entropy of a Gaussian, the conditional term of every noisy-channel MI in the toolkit.

h(N(mu, var * I_dim)) = (dim / 2) ln(2 pi e var)  nats  (Cover & Thomas, Thm. 8.4.1).

>>> import numpy as np
>>> bool(np.isclose(gaussian_entropy(1.0), 0.5 * np.log(2 * np.pi * np.e)))
True
"""
from __future__ import annotations

import numpy as np

__all__ = ["gaussian_entropy"]


def gaussian_entropy(var, dim=1):
    """Differential entropy (nats) of N(mu, var * I_dim); ``var`` is a variance, arrays broadcast."""
    return 0.5 * np.asarray(dim) * np.log(2.0 * np.pi * np.e * np.asarray(var, dtype=float))
