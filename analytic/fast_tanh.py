"""A vectorized float64 tanh, accurate to a few ulp, for the simulator's default NumPy path.

Why this exists: on x86 CPUs without AVX-512, NumPy's float64 ``np.tanh`` runs at about 30 ns per value
(measured with NumPy 2.4 on an AVX2 AMD EPYC), which made it 55-65 % of a training step of the ensemble
simulator (``BENCHMARKS.md``). This module evaluates tanh with a handful of vectorized NumPy passes instead:
8-9.5 ns per value there (3.5-4x faster) on arrays of a few thousand values or more. Where NumPy dispatches its
float64 tanh to AVX-512 code it is faster than this (2.3 ns against 10.8 ns per value, measured with NumPy 2.5
on an AVX-512 Xeon), so :func:`numpy_float64_tanh_is_vectorized` tells the toolkit which one to use
(``python -m benchmarks fast_tanh``).

The math (table lookup plus the addition theorem):

* clip x to [-20, 20]: tanh(20) = 1 - 8.5e-18 rounds to 1.0 in float64, so nothing changes;
* a = x rounded to the nearest multiple of 1/256, by adding 1.5 * 2^44 (where floats are spaced 1/256 apart)
  and subtracting it again; b = x - a, |b| <= 1/512 (both exact), and 256 a is read off the sum's bits;
* the addition theorem gives

      tanh(x) = (tanh a + tanh b) / (1 + tanh a tanh b),

  where tanh a is read from a table of the 10,241 values tanh(k / 256), |k| <= 5120, rounded correctly from
  mpmath at 30 digits (built once, on first use, in about 0.1 s), and tanh b is its Taylor polynomial
  b (1 - b^2 / 3 + 2 b^4 / 15), whose remainder is below 17/315 |b|^7 <= 3.1e-18 |b|.

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
from numpy.typing import ArrayLike, NDArray

__all__ = ["fast_tanh", "numpy_float64_tanh_is_vectorized"]

_N = 256                              # table step 1/256
_XMAX = 20.0                          # tanh(x) rounds to +-1.0 in float64 beyond |x| = 19.06
_K = int(_XMAX * _N)                  # table index offset: entry j holds tanh((j - K) / N)
_ROUND = 1.5 * 2.0**44                # floats in [2^44, 2^45) are spaced 2^-8 = 1/N apart: adding _ROUND
_ROUND_X = _ROUND + _XMAX             # (+ XMAX, to make the index non-negative) rounds x to the nearest k/N
_ROUND_BITS = np.array(_ROUND).view(np.int64)   # int64 bits of (x + _ROUND_X) minus these = N x rounded + K
# tanh(b) = b (1 + b^2 (c1 + c2 b^2)) + O(b^7), with c1 = -1/3, c2 = 2/15 (Taylor)
_C1, _C2 = -1.0 / 3.0, 2.0 / 15.0
_PAD = 40                             # values (320 bytes) between work buffers
_CHUNK = 1 << 17                      # values per pass: the fastest measured (6.5-7.5 ns per value; 2^14-2^18 tried)


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


def numpy_float64_tanh_is_vectorized() -> bool:
    """Whether NumPy runs its float64 tanh loop in AVX-512 (x86) or on a non-x86 CPU, where its own SIMD tanh is
    used; read from NumPy's public dispatch report (``numpy.lib.introspect.opt_func_info``, NumPy >= 2.0).

    False means the AVX2/baseline x86 loop (about 30 ns per value), where :func:`fast_tanh` is faster."""
    import platform

    if platform.machine().lower() not in ("x86_64", "amd64", "i386", "i686", "x86"):
        return True
    try:
        from numpy.lib.introspect import opt_func_info
    except ImportError:       # NumPy < 2.0: no SIMD float64 tanh below AVX-512 either
        return False
    current = opt_func_info(func_name="^tanh$").get("tanh", {}).get("dd", {}).get("current", "")
    return "AVX512" in current or "X86_V4" in current


def fast_tanh(x: ArrayLike, out: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
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
    work = np.empty(3 * c + 2 * _PAD)            # three buffers at offsets that are not powers of two apart:
    xc, s, ta = (work[k * (c + _PAD):k * (c + _PAD) + c] for k in range(3))   # avoids cache-set conflicts
    idx = np.empty(c, np.int64)
    for i in range(0, xf.size, c):
        j = min(xf.size, i + c)
        m = j - i
        _kernel(table, xf[i:j], of[i:j], xc[:m], s[:m], ta[:m], idx[:m])
    if not out.flags.c_contiguous:
        out[...] = of.reshape(x.shape)
    return out


def _kernel(table, x, out, xc, s, ta, idx):
    """One chunk: ``out = tanh(x)``; ``xc``, ``s``, ``ta``, ``idx`` are work buffers of x's length."""
    np.clip(x, -_XMAX, _XMAX, out=xc)          # NaN stays NaN, +-inf -> +-20
    np.add(xc, _ROUND_X, out=s)                # s = 1.5 2^44 + 20 + a, a = x rounded to a multiple of 1/256
    np.subtract(s.view(np.int64), _ROUND_BITS, out=idx)   # 256 a + K, read off the mantissa bits
    np.take(table, idx, out=ta, mode="clip")   # tanh(a); "clip" only matters for NaN input
    s -= _ROUND_X                              # a, exact
    xc -= s                                    # b = x - a, exact, |b| <= 1/512
    np.multiply(xc, xc, out=s)                 # b^2
    np.multiply(s, _C2, out=out)
    out += _C1
    out *= s
    out += 1.0
    out *= xc                                  # tanh(b) (a product, so tanh(-0.0) keeps its sign)
    np.multiply(out, ta, out=s)
    s += 1.0                                   # 1 + tanh(a) tanh(b)
    out += ta                                  # tanh(a) + tanh(b)  (-0.0 table entry keeps tanh(-0.0) = -0.0)
    out /= s
