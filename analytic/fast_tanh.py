"""A vectorized float64 tanh, accurate to a few ulp, for the simulator's default NumPy path.

Why this exists: NumPy (2.4 on AVX2 CPUs) evaluates float64 ``np.tanh`` with the scalar C library, about
30 ns per value, which made it 55-65 % of a training step of the ensemble simulator (``BENCHMARKS.md``). Its
float32 tanh is vectorized; its float64 one is not. This module evaluates tanh with a handful of vectorized
NumPy passes instead (about 3-4x faster on arrays of a few thousand values or more; see ``benchmarks``).

The math (table lookup plus the addition theorem):

* clip x to [-20, 20]: tanh(20) = 1 - 8.5e-18 rounds to 1.0 in float64, so nothing changes;
* n = rint(256 x), u = 256 x - n in [-1/2, 1/2] (both exact: 256 x is a power-of-two scaling, the rounding is
  done with the constant 1.5 * 2^52, and the difference is exact by Sterbenz' lemma);
* with a = n / 256 and b = u / 256 (|b| <= 1/512), the addition theorem gives

      tanh(x) = (tanh a + tanh b) / (1 + tanh a tanh b),

  where tanh a is read from a table of the 10,241 values tanh(k / 256), |k| <= 5120, rounded correctly from
  mpmath at 30 digits (built once, on first use, in about 0.1 s), and tanh b is its Taylor polynomial
  b - b^3 / 3 + 2 b^5 / 15, whose remainder is below 17/315 |b|^7 <= 3.1e-18 |b|.

The table holds -0.0 for tanh(0) so that the sign of zero is kept (tanh(-0.0) = -0.0). NaN gives NaN, +-inf
gives +-1. Measured against mpmath at 40 digits (``tests/test_fast_tanh.py``): at most 3 ulp, mostly 0 or 1;
np.tanh is within 1 ulp. The two agree to within 8e-16 relative, far below anything the simulator resolves.

Example
-------
>>> import numpy as np
>>> from analytic.fast_tanh import fast_tanh
>>> x = np.linspace(-3, 3, 7)
>>> bool(np.allclose(fast_tanh(x), np.tanh(x), rtol=1e-15, atol=0))
True
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["fast_tanh"]

_N = 256                              # table step 1/256
_XMAX = 20.0                          # tanh(x) rounds to +-1.0 in float64 beyond |x| = 19.06
_K = int(_XMAX * _N)                  # table index offset: entry j holds tanh((j - K) / N)
_ROUND = 1.5 * 2.0**52                # adding it rounds a float of magnitude < 2^51 to an integer
_ROUND_K = _ROUND + _K                # ... and shifts that integer by K (still exact)
_ROUND_BITS = np.array(_ROUND).view(np.int64)   # bit pattern of _ROUND: (bits of y + _ROUND_K) - this = rint(y) + K
# tanh(u / N) = u (c0 + c1 u^2 + c2 u^4) with c0 = 1/N, c1 = -1/(3 N^3), c2 = 2/(15 N^5)
_C0, _C1, _C2 = 1.0 / _N, -1.0 / (3.0 * _N**3), 2.0 / (15.0 * _N**5)
_CHUNK = 1 << 14                      # values per pass: the work buffers (4 x 128 KiB) stay in the L2 cache


@lru_cache(maxsize=1)
def _table() -> np.ndarray:
    """tanh(k / 256) for k = -5120 .. 5120, correctly rounded (mpmath, 30 digits); tanh(0) stored as -0.0."""
    import mpmath as mp

    with mp.workdps(30):
        half = np.array([float(mp.tanh(mp.mpf(k) / _N)) for k in range(_K + 1)])
    table = np.concatenate([-half[:0:-1], half])
    table[_K] = -0.0
    table.setflags(write=False)
    return table


def fast_tanh(x, out=None) -> np.ndarray:
    """tanh of a float64 array by table lookup and the addition theorem (module docstring), within 3 ulp.

    ``x``: array-like, computed in float64. ``out``: optional float64 array of x's shape (may be ``x`` itself).
    """
    x = np.asarray(x, dtype=np.float64)
    if out is None:
        out = np.empty_like(x)
    elif out.shape != x.shape or out.dtype != np.float64:
        raise ValueError(f"out: must be a float64 array of shape {x.shape}, got {out.dtype} {out.shape}")
    if x.size == 0:
        return out
    table = _table()
    xf = x.reshape(-1) if x.flags.c_contiguous else x.ravel()
    of = out.reshape(-1) if out.flags.c_contiguous else np.empty(x.size)
    c = min(_CHUNK, xf.size)
    xn, s, ta = np.empty((3, c))
    idx = np.empty(c, np.int64)
    for i in range(0, xf.size, c):
        j = min(xf.size, i + c)
        m = j - i
        _kernel(table, xf[i:j], of[i:j], xn[:m], s[:m], ta[:m], idx[:m])
    if not out.flags.c_contiguous:
        out[...] = of.reshape(x.shape)
    return out


def _kernel(table, x, out, xn, s, ta, idx):
    """One chunk: ``out = tanh(x)``; ``xn``, ``s``, ``ta``, ``idx`` are work buffers of x's length."""
    np.maximum(x, -_XMAX, out=xn)              # clip to [-20, 20] (NaN stays NaN)
    np.minimum(xn, _XMAX, out=xn)
    xn *= _N                                   # 256 x, exact
    np.add(xn, _ROUND_K, out=s)                # s = 1.5 2^52 + K + rint(256 x)
    np.subtract(s.view(np.int64), _ROUND_BITS, out=idx)   # rint(256 x) + K, read off the mantissa bits
    np.take(table, idx, out=ta, mode="clip")   # tanh(a); "clip" only matters for NaN input
    s -= _ROUND_K                              # rint(256 x), exact
    xn -= s                                    # u = 256 x - rint(256 x), exact, |u| <= 1/2
    np.multiply(xn, xn, out=s)                 # u^2
    np.multiply(s, _C2, out=out)
    out += _C1
    out *= s
    out += _C0
    out *= xn                                  # tanh(b), b = u / 256
    np.multiply(out, ta, out=s)
    s += 1.0                                   # 1 + tanh(a) tanh(b)
    out += ta                                  # tanh(a) + tanh(b)  (-0.0 table entry keeps tanh(-0.0) = -0.0)
    out /= s
