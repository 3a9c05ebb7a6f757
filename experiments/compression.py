r"""The ONE compression measure used by every claim, figure and table of this toolkit.

For one ensemble member and one layer, let :math:`I_0, \dots, I_{L-1}` be I(X;T) at the logged epochs
:math:`e_0 < \dots < e_{L-1}` (epoch 0 included). With a window of ``k`` logged epochs
(default :data:`WINDOW` = 5), the smoothed curve is the running mean

.. math::  \bar I_j = \frac1k \sum_{i=j}^{j+k-1} I_i ,\qquad j = 0, \dots, L-k,

and the compression is

.. math::  C = \max_j \bar I_j - \bar I_{L-k} \;\ge 0 :

the **peak** is the largest k-point running mean over the WHOLE run (epoch 0 included, so a layer that only falls
from its initial value counts as compressing), the **end** is the mean of the last ``k`` logged epochs. The running
mean keeps estimator noise from posing as compression: a noisy plateau gives about 0 (a few standard errors of a
k-point mean), a monotone rise gives exactly 0, a rise then fall gives the size of the fall.
``peak_epoch`` is the first logged epoch of the window where the peak is reached.

This is the quantity behind Saxe et al. (2018, Figs. 1, 4C-D, 5, 8) "compression phase" and behind
Goldfeld et al. (2019, Fig. 5) "I(X;T) falls"; claims report it in bits, mean ± sd over members.

>>> import numpy as np
>>> e = np.arange(20)
>>> float(compression(np.minimum(e, 10.0), e))           # rises then stays: no compression
0.0
>>> round(float(compression(np.r_[np.arange(10.0), 10 - np.arange(10.0)], e)), 3)   # rises to 10, falls to 1
5.8
>>> # peak: the running mean of (8, 9, 10, 9, 8) = 8.8; end: the mean of (5, 4, 3, 2, 1) = 3.0
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from analytic.checks import finite_array, positive_int

__all__ = ["WINDOW", "compression", "compression_detail", "Compression"]

#: Logged epochs averaged for the peak (running mean) and for the end (the last WINDOW logged epochs).
WINDOW = 5


@dataclass(frozen=True)
class Compression:
    """Per-member result of :func:`compression_detail`: ``drop`` = peak − end (same units as the input),
    ``peak``, ``end``, ``peak_epoch`` (first logged epoch of the peak window), arrays over the leading axes."""

    drop: np.ndarray
    peak: np.ndarray
    end: np.ndarray
    peak_epoch: np.ndarray


def compression_detail(curve: ArrayLike, epochs: ArrayLike, window: int = WINDOW) -> Compression:
    """Peak, end and drop of I(X;T) curves ``curve`` (..., L) logged at ``epochs`` (L,); see the module docstring.

    Raises ValueError for NaN/inf values, mismatched epochs, or fewer logged epochs than ``window``.
    """
    c = finite_array(curve, "curve", min_ndim=1)
    e = np.asarray(epochs)
    if e.ndim != 1 or e.shape[0] != c.shape[-1]:
        raise ValueError(f"epochs must have shape ({c.shape[-1]},) to match curve's last axis, got {e.shape}")
    k = positive_int(window, "window")
    L = c.shape[-1]
    if L < k:
        raise ValueError(f"window: {k} logged epochs needed, the curve has {L}")
    cs = np.cumsum(np.concatenate([np.zeros(c.shape[:-1] + (1,)), c], axis=-1), axis=-1)
    smooth = (cs[..., k:] - cs[..., :-k]) / k                      # (..., L - k + 1)
    j = smooth.argmax(axis=-1)
    peak = np.take_along_axis(smooth, j[..., None], axis=-1)[..., 0]
    end = smooth[..., -1]
    return Compression(drop=peak - end, peak=peak, end=end, peak_epoch=e[j])


def compression(curve: ArrayLike, epochs: ArrayLike, window: int = WINDOW) -> np.ndarray:
    """Compression peak − end of I(X;T) curves (..., L) at logged ``epochs`` (L,): array (...,), >= 0."""
    return compression_detail(curve, epochs, window).drop
