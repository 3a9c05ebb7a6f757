"""Exact MI of a quantized layer (Lorenzen, Igel & Nielsen, ICLR 2022).

If a network computes with activations quantized to ``2**bits`` levels, T is discrete and a deterministic
function of X, so ``I(X;T) = H(T)`` exactly (no estimation), and ``I(T;Y) = H(T) - sum_y p(y) H(T|y)``, nats.
Here activity is quantized to ``2**bits`` evenly spaced levels over the layer range by rounding:
``q = round((h - lo) / (hi - lo) * (2**bits - 1))``. The range is ``value_range`` (e.g. the activation's range,
(-1, 1) for tanh), or else the min and max over the whole ``activity`` array passed (a layer's whole run).
The numbers are exact for the quantized network; applied post hoc to a float network they describe that
network's quantized copy.

>>> import numpy as np
>>> act = np.tanh(np.random.default_rng(0).normal(size=(100, 2)))
>>> i_xt, i_ty = quantized(act, np.arange(100) % 2, bits=8, value_range=(-1, 1))
>>> bool(i_xt <= np.log(100))
True
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sims.estimators._common import (check_activity, count, discrete_mi, enforce_range, label_codes, label_entropy,
                                     real_array, value_range_of)

__all__ = ["quantized", "quantize"]


def quantize(activity: ArrayLike, bits: int = 8, value_range: tuple[float, float] | None = None) -> NDArray[np.int64]:
    """Integer levels 0..2**bits-1 of ``activity`` over ``value_range`` (default: min-max of the array)."""
    b = count(bits, "bits")
    if b > 52:
        raise ValueError(f"bits must be <= 52 (float64 mantissa), got {b}")
    act = real_array(activity, "activity")
    lo, hi = value_range_of(value_range, act)
    if hi <= lo:
        return np.zeros(act.shape, dtype=np.int64)
    levels = 2 ** b - 1
    x = np.clip(act, lo, hi)
    if np.isfinite(hi - lo):
        q = np.rint((x - lo) / (hi - lo) * levels)
    else:                                                # range wider than float64: in halves (exact scaling)
        q = np.rint((x * 0.5 - lo * 0.5) / (hi * 0.5 - lo * 0.5) * levels)
    return q.astype(np.int64)


def quantized(activity: ArrayLike, labels: ArrayLike, bits: int = 8, value_range: tuple[float, float] | None = None
              ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(I(X;T), I(T;Y))`` in nats of the ``bits``-bit quantized layer; leading axes kept."""
    act, y, batch = check_activity(activity, labels)
    codes = quantize(act, bits, value_range)
    S, U = act.shape[-2:]
    h_t, i_ty = discrete_mi(codes.reshape(-1, S, U), y, 2 ** count(bits, "bits"))
    h_t, i_ty = enforce_range(h_t, i_ty, S, label_entropy(label_codes(y)[2]), "quantized")
    return h_t.reshape(batch), i_ty.reshape(batch)
