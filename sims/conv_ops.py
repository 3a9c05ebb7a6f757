"""Ensemble convolution and max-pooling kernels (forward and adjoint) for the NumPy and torch backends.

Layout: an activity of E ensemble members on S samples with C channels of H x W pixels is an array with the
logical axes **(E, S, C, H, W)** (channels first). A layer's input may also be *shared* by all members (the network
input, (S, C, H, W)). Kernels are (E, O, C, kh, kw) (output channel, input channel, kernel row, column), biases
(E, O). The arrays returned are possibly strided views with these logical axes (NumPy: memory ordered
(E, C, H, W, S), batch last, so that every product below is one plain GEMM per member and every elementwise pass
and window shift runs over long contiguous rows of samples; torch: memory (S, E, C, H, W), the layout of one
grouped convolution, or (E, S, C, H, W) after a per-member one); every consumer goes through their logical axes.

Convolution (cross-correlation, as Keras ``Conv2D`` and ``torch.nn.functional.conv2d``), stride s, input padded by
(top, bottom, left, right) zeros:

    z[e, n, o, i, j] = b[e, o] + sum_{c, p, q} W[e, o, c, p, q] x_pad[e, n, c, s i + p, s j + q].

NumPy (:class:`NumpyConvOps`), two routes:

* **im2col** (any kernel, stride, padding): the patches are gathered ONCE per layer with
  :func:`numpy.lib.stride_tricks.sliding_window_view` into P[e] of shape (C kh kw, Ho Wo S), so that
  z[e] = W[e] P[e], dL/dW[e] = dL/dz[e] P[e]^T, dL/dP[e] = W[e]^T dL/dz[e] are single BLAS products per member,
  and dL/dx is dL/dP scattered back ("col2im", a loop over the kh kw kernel offsets only, never over samples or
  pixels);
* **Winograd F(2x2, 3x3)** (Lavin & Gray 2016, "Fast algorithms for convolutional neural networks", with their
  matrices B, G, A; 3x3 kernels, stride 1, at least :data:`WINOGRAD_MIN_CHANNELS` input channels, as the CNN
  thesis network's second convolution): the output is cut into 2x2 tiles, each computed from a 4x4 input tile d as
  Y = A^T [(G g G^T) . (B^T d B)] A, and the channel sums of the 16 transformed products are 16 GEMMs over all
  tiles and samples: 2.25x fewer multiplications than im2col. The adjoint is the same algebra transposed
  (dL/dW = G^T [sum over tiles of (B^T d B) . (A dY A^T)] G, dL/dx = B [(G g G^T) . (A dY A^T)] B^T
  overlap-added). The transforms are additions and halvings only; the result agrees with im2col to rounding
  (tested against torch autograd to 1e-12 in float64). Measured on this project's 2-core CPU (float32, batch
  128, one thread, the thesis's 32 -> 64 convolution): 7 % less CPU time per training step than im2col.

Torch (:class:`TorchConvOps`): on CUDA the E members are ONE grouped convolution (``groups=E``) of
(S, E C, H, W); on CPU one ordinary convolution per member, stacked (faster there; ``ensemble_conv``); the adjoint
is ``aten.convolution_backward`` (the kernel torch's own autograd calls).

Max-pooling over p x p windows with stride s (Keras ``MaxPooling2D``, "valid"): y = max over the window; the
gradient goes to the first maximal entry of the window in row-major order (torch's rule, so that ties, frequent
after ReLU, are routed alike on both backends).

>>> import numpy as np
>>> ops = NumpyConvOps()
>>> x = np.arange(2 * 1 * 4 * 4, dtype=float).reshape(1, 2, 1, 4, 4)   # E=1, S=2, C=1, 4x4
>>> W = np.ones((1, 3, 1, 2, 2)); b = np.zeros((1, 3))
>>> z, cache = ops.conv2d(x, W, b, 1, (0, 0, 0, 0)); z.shape, float(z[0, 0, 0, 0, 0])
((1, 2, 3, 3, 3), 10.0)
>>> y, _ = ops.maxpool2d(x, 2, 2); y[0, 0, 0].tolist()
[[5.0, 7.0], [13.0, 15.0]]
"""
from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

if TYPE_CHECKING:
    from sims.backend import Backend

__all__ = ["NumpyConvOps", "TorchConvOps", "conv_ops", "conv_output_size", "WINOGRAD_MIN_CHANNELS"]


def conv_output_size(n: int, k: int, stride: int, padding: str) -> tuple[int, int, int]:
    """(output size, padding before, padding after) along one axis of length ``n`` for a window ``k``.

    "valid": floor((n - k) / s) + 1, no padding; "same": ceil(n / s), padded by max((out - 1) s + k - n, 0) zeros
    split as TensorFlow/Keras do (the odd one after).

    >>> conv_output_size(28, 3, 1, "valid"), conv_output_size(28, 3, 2, "same"), conv_output_size(5, 4, 1, "same")
    ((26, 0, 0), (14, 0, 1), (5, 1, 2))
    """
    if padding == "valid":
        return (n - k) // stride + 1, 0, 0
    out = -(-n // stride)
    total = max((out - 1) * stride + k - n, 0)
    return out, total // 2, total - total // 2

def _batch_last(x):
    """The memory-order view (E, C, H, W, S) of an activity with logical axes (E, S, C, H, W); a shared input
    (S, C, H, W) is copied to (C, H, W, S) (one small copy per step)."""
    if x.ndim == 4:
        return np.ascontiguousarray(x.transpose(1, 2, 3, 0))
    return x.transpose(0, 2, 3, 4, 1)


_SCRATCH = threading.local()


def _scratch(name, shape, dtype):
    """A reusable temporary of ``shape`` for this thread (its contents are garbage). The 20-100 MB temporaries of a
    training step, allocated afresh, would cost a page fault per 4 kB at every step (measured: ~10^6 faults and
    2.3 s of system time in a benchmark-length run); buffers kept per thread cost none after the first step."""
    bufs = getattr(_SCRATCH, "bufs", None)
    if bufs is None:
        bufs = _SCRATCH.bufs = {}
    n, dtype = math.prod(shape), np.dtype(dtype)
    buf = bufs.get((name, dtype))
    if buf is None or buf.size < n:
        buf = bufs[(name, dtype)] = np.empty(n, dtype)
    return buf[:n].reshape(shape)


def _like(ref, a):
    """A copy of ``a`` in the memory order of ``ref`` (same shape)."""
    out = np.empty_like(ref, dtype=a.dtype)
    np.copyto(out, a)
    return out


def _pad_hw(xm, top, bottom, left, right):
    """Zero padding of the H and W axes of a batch-last array (..., H, W, S)."""
    if top or bottom or left or right:
        return np.pad(xm, [(0, 0)] * (xm.ndim - 3) + [(top, bottom), (left, right), (0, 0)])
    return xm


# ---------------------------------------------------------------- Winograd F(2x2, 3x3) (Lavin & Gray 2016)
#: Input channels from which a 3x3 stride-1 convolution takes the Winograd route (fewer: im2col is cheaper).
WINOGRAD_MIN_CHANNELS = 4
_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])


def _winograd_ok(wshape, stride: int, C: int) -> bool:
    return wshape[-1] == wshape[-2] == 3 and stride == 1 and C >= WINOGRAD_MIN_CHANNELS


def _bt(d, out):
    """out[k] = (B^T d)[k] for d = (d0, d1, d2, d3), B^T = [[1,0,-1,0], [0,1,1,0], [0,-1,1,0], [0,1,0,-1]]."""
    np.subtract(d[0], d[2], out=out[0])
    np.add(d[1], d[2], out=out[1])
    np.subtract(d[2], d[1], out=out[2])
    np.subtract(d[1], d[3], out=out[3])


def _at(m, out):
    """out[k] = (A^T m)[k] for m = (m0, m1, m2, m3), A^T = [[1,1,1,0], [0,1,-1,-1]]."""
    np.add(m[0], m[1], out=out[0])
    out[0] += m[2]
    np.subtract(m[1], m[2], out=out[1])
    out[1] -= m[3]


def _a(d, out):
    """out[k] = (A d)[k] for d = (d0, d1), A = [[1,0], [1,1], [1,-1], [0,-1]] (the adjoint of A^T)."""
    out[0][...] = d[0]
    np.add(d[0], d[1], out=out[1])
    np.subtract(d[0], d[1], out=out[2])
    np.negative(d[1], out=out[3])


def _b_overlap_add(v, out, n, axis):
    """The adjoint of the input transform along ``axis``: out[2 t + k] = sum over tiles t < n of (B v_t)[k],
    k = 0..3 (tiles overlap by two; B = (B^T)^T: (B v)[0] = v0, [1] = v1 - v2 + v3, [2] = -v0 + v1 + v2,
    [3] = -v3). ``out`` has 2 n + 2 entries along ``axis``."""
    def sl(start):
        idx = [slice(None)] * out.ndim
        idx[axis] = slice(start, start + 2 * n - 1, 2)
        return tuple(idx)
    last = [slice(None)] * out.ndim
    last[axis] = slice(2 * n, 2 * n + 2)
    out[tuple(last)] = 0.0
    np.copyto(out[sl(0)], v[0])                                  # rows 2t
    np.subtract(v[1], v[2], out=out[sl(1)])                      # rows 2t + 1
    out[sl(1)] += v[3]
    t = np.add(v[1], v[2])
    t -= v[0]
    out[sl(2)] += t                                              # rows 2t + 2
    out[sl(3)] -= v[3]                                           # rows 2t + 3


def _tile_axes(a, E, F, nti, ntj, S, shared):
    """A GEMM operand or result of the Winograd route, memory (E, 16, F, T) (shared input: (16, [E] F, T)), with
    T = (tile row, tile column, sample), as the view (4, 4, [E,] F, nti, ntj, S)."""
    if shared:
        return a.reshape(4, 4, *(() if E is None else (E,)), F, nti, ntj, S)
    return a.reshape(E, 4, 4, F, nti, ntj, S).transpose(1, 2, 0, 3, 4, 5, 6)


def _winograd_conv2d(x, W, b, pads, keep):
    """z = W * x + b by Winograd's F(2x2, 3x3) (Lavin & Gray 2016): per 4x4 input tile d (stride 2) and
    2x2 output tile Y, Y = A^T [(G g G^T) . (B^T d B)] A; the elementwise product summed over input channels is
    16 GEMMs (one per tile frequency) over all tiles of all samples, 2.25x fewer multiplications than im2col."""
    E, O, C, _, _ = W.shape
    shared = x.ndim == 4
    xm = _batch_last(x)
    H, Wd, S = xm.shape[-3:]
    pt, pb, pl, pr = pads
    Ho, Wo = H + pt + pb - 2, Wd + pl + pr - 2
    nti, ntj = -(-Ho // 2), -(-Wo // 2)                   # tiles; an odd output gets one padded row/column
    xm = _pad_hw(xm, pt, pb + 2 * nti - Ho, pl, pr + 2 * ntj - Wo)
    T = nti * ntj * S
    rows = _scratch("rows", (4, *xm.shape[:-3], nti, xm.shape[-2], S), xm.dtype)
    _bt([xm[..., k:k + 2 * nti - 1:2, :, :] for k in range(4)], rows)
    V = np.empty(((16, C, T) if shared else (E, 16, C, T)), dtype=xm.dtype)
    Vt = _tile_axes(V, None if shared else E, C, nti, ntj, S, shared)
    _bt([rows[..., k:k + 2 * ntj - 1:2, :] for k in range(4)], Vt.swapaxes(0, 1))
    G = _G.astype(W.dtype)
    U = np.einsum("xp,yq,eocpq->exyoc", G, G, W).reshape(E, 16, O, C)
    if shared:       # (16, E O, C) @ (16, C, T): one GEMM per frequency for the whole ensemble
        U2 = U.transpose(1, 0, 2, 3).reshape(16, E * O, C)
        M = np.matmul(U2, V, out=_scratch("M", (16, E * O, T), np.result_type(U, V)))
    else:
        M = np.matmul(U, V, out=_scratch("M", (E, 16, O, T), np.result_type(U, V)))
    half = _scratch("half", (2, 4, E, O, nti, ntj, S), M.dtype)
    _at(_tile_axes(M, E, O, nti, ntj, S, shared), half)
    z = np.empty((E, O, 2 * nti, 2 * ntj, S), dtype=xm.dtype)
    zt = z.reshape(E, O, nti, 2, ntj, 2, S)
    for r in range(2):
        _at(half[r], [zt[:, :, :, r, :, 0], zt[:, :, :, r, :, 1]])
    z += b[:, :, None, None, None]
    cache = ("winograd", V, U, W.shape, xm.shape, pads, (Ho, Wo, nti, ntj), shared) if keep else None
    return z[:, :, :Ho, :Wo].transpose(0, 4, 1, 2, 3), cache


def _winograd_conv2d_backward(dz, cache, need_dx):
    """The adjoint of :func:`_winograd_conv2d`: dM = A dY A^T per tile; dL/dU = dM V^T and dL/dV = U^T dM (16
    GEMMs each); dL/dW = G^T (dL/dU) G; dL/dx = B (dL/dV) B^T, overlap-added over the tiles."""
    _, V, U, wshape, xpshape, pads, (Ho, Wo, nti, ntj), shared = cache
    E, O, C, _, _ = wshape
    S = dz.shape[1]
    T = nti * ntj * S
    dzm = dz.transpose(0, 2, 3, 4, 1)                           # (E, O, Ho, Wo, S)
    db = dzm.sum(axis=(2, 3, 4))
    dzt = _pad_hw(dzm, 0, 2 * nti - Ho, 0, 2 * ntj - Wo).reshape(E, O, nti, 2, ntj, 2, S)
    half = _scratch("half", (4, 2, E, O, nti, ntj, S), dz.dtype)
    for c in range(2):
        _a([dzt[:, :, :, 0, :, c], dzt[:, :, :, 1, :, c]], half[:, c])
    dM = _scratch("dM", ((16, E * O, T) if shared else (E, 16, O, T)), dz.dtype)
    dMt = _tile_axes(dM, E, O, nti, ntj, S, shared)
    for k in range(4):
        _a(half[k], dMt[k])
    G = _G.astype(dz.dtype)
    dU = np.matmul(dM, V.swapaxes(-1, -2))
    if shared:
        dU = dU.reshape(16, E, O, C).transpose(1, 0, 2, 3)
    dW = np.einsum("xp,yq,exyoc->eocpq", G, G, dU.reshape(E, 4, 4, O, C))
    if not need_dx or shared:
        return None, dW, db
    dV = np.matmul(U.swapaxes(-1, -2), dM, out=_scratch("dV", (E, 16, C, T), np.result_type(U, dM)))
    dVt = _tile_axes(dV, E, C, nti, ntj, S, False)              # (4, 4, E, C, nti, ntj, S)
    Hp, Wp = xpshape[-3], xpshape[-2]
    q = _scratch("q", (4, E, C, Hp, ntj, S), dz.dtype)          # B applied along the rows, per column frequency
    _b_overlap_add(dVt, q, nti, axis=-3)
    dxp = np.empty((E, C, Hp, Wp, S), dtype=dz.dtype)
    _b_overlap_add(q, dxp, ntj, axis=-2)
    pt, pb, pl, pr = pads
    dx = dxp[:, :, pt:pt + Ho + 2 - pt - pb, pl:pl + Wo + 2 - pl - pr]
    return dx.transpose(0, 4, 1, 2, 3), dW, db


class NumpyConvOps:
    """Convolution and pooling on NumPy arrays (im2col or Winograd + BLAS; see the module docstring)."""

    @staticmethod
    def conv2d(x: np.ndarray, W: np.ndarray, b: np.ndarray, stride: int, pads: tuple[int, int, int, int],
               keep: bool = True) -> tuple[np.ndarray, tuple | None]:
        """z (E, S, O, Ho, Wo) and the cache for :meth:`conv2d_backward` (None unless ``keep``)."""
        E, O, C, kh, kw = W.shape
        if _winograd_ok(W.shape, stride, C):
            return _winograd_conv2d(x, W, b, pads, keep)
        shared = x.ndim == 4
        xm = _pad_hw(_batch_last(x), *pads)                      # ([E,] C, Hp, Wp, S)
        win = sliding_window_view(xm, (kh, kw), axis=(-3, -2))[..., ::stride, ::stride, :, :, :]
        Ho, Wo, S = win.shape[-5:-2]
        K, N = C * kh * kw, Ho * Wo * S
        Wm = W.reshape(E, O, K)
        if shared:                       # win (C, Ho, Wo, S, kh, kw) -> P (C, kh, kw, Ho, Wo, S) = (K, N)
            P = np.ascontiguousarray(win.transpose(0, 4, 5, 1, 2, 3)).reshape(K, N)
            z = (Wm.reshape(E * O, K) @ P).reshape(E, O, Ho, Wo, S)
        else:                            # win (E, C, Ho, Wo, S, kh, kw) -> P (E, C, kh, kw, Ho, Wo, S)
            P = np.ascontiguousarray(win.transpose(0, 1, 5, 6, 2, 3, 4)).reshape(E, K, N)
            z = np.matmul(Wm, P).reshape(E, O, Ho, Wo, S)
        z += b[:, :, None, None, None]
        cache = ("im2col", P, W.shape, xm.shape, stride, pads, Ho, Wo) if keep else None
        return z.transpose(0, 4, 1, 2, 3), cache

    @staticmethod
    def conv2d_backward(dz: np.ndarray, W: np.ndarray, cache: tuple, need_dx: bool = True
                        ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
        """(dL/dx or None, dL/dW (E, O, C, kh, kw), dL/db (E, O)) from dL/dz (E, S, O, Ho, Wo)."""
        if cache[0] == "winograd":
            return _winograd_conv2d_backward(dz, cache, need_dx)
        _, P, wshape, xpshape, stride, pads, Ho, Wo = cache
        E, O, C, kh, kw = wshape
        S = dz.shape[1]
        dzt = dz.transpose(0, 2, 3, 4, 1).reshape(E, O, Ho * Wo * S)     # free when dz came from z's memory
        db = dzt.sum(-1)
        if P.ndim == 2:
            dW = (dzt.reshape(E * O, -1) @ P.T).reshape(wshape)
        else:
            dW = np.matmul(dzt, P.swapaxes(-1, -2)).reshape(wshape)
        if not need_dx:
            return None, dW, db
        dP = np.matmul(W.reshape(E, O, -1).swapaxes(-1, -2), dzt, out=_scratch("dP", (E, C * kh * kw, dzt.shape[-1]),
                       np.result_type(W, dzt))).reshape(E, C, kh, kw, Ho, Wo, S)
        Hp, Wp = xpshape[-3], xpshape[-2]
        dxp = np.zeros((E, C, Hp, Wp, S), dtype=dP.dtype)
        hs, ws = stride * (Ho - 1) + 1, stride * (Wo - 1) + 1
        for p in range(kh):                   # col2im: a loop over the kernel offsets only
            for q in range(kw):
                dxp[:, :, p:p + hs:stride, q:q + ws:stride] += dP[:, :, p, q]
        pt, pb, pl, pr = pads
        dx = dxp[:, :, pt:Hp - pb, pl:Wp - pr]
        return dx.transpose(0, 4, 1, 2, 3), dW, db

    @staticmethod
    def _offsets(shape, size, stride):
        """The size x size window offsets (p, q), row-major, each with the strided slices of the input that it
        contributes to every output pixel."""
        H, W = shape[-2:]
        Ho, Wo = (H - size) // stride + 1, (W - size) // stride + 1
        hs, ws = stride * (Ho - 1) + 1, stride * (Wo - 1) + 1
        return [(np.s_[..., p:p + hs:stride, q:q + ws:stride]) for p in range(size) for q in range(size)]

    @staticmethod
    def maxpool2d(x: np.ndarray, size: int, stride: int, keep: bool = True) -> tuple[np.ndarray, tuple | None]:
        """y (..., C, Ho, Wo) = max over size x size windows, as size^2 - 1 elementwise maxima of strided views
        of ``x`` (no window copy); the cache keeps x and y."""
        offs = NumpyConvOps._offsets(x.shape, size, stride)
        y = x[offs[0]].copy(order="K")          # x's memory order (batch last after a conv)
        for o in offs[1:]:
            np.maximum(y, x[o], out=y)
        return y, ((x, y, size, stride) if keep else None)

    @staticmethod
    def maxpool2d_backward(dy: np.ndarray, cache: tuple) -> np.ndarray:
        """dL/dx: each window's dL/dy to its first maximal entry (row-major), summed where windows overlap."""
        x, y, size, stride = cache
        dx = np.zeros_like(x, dtype=dy.dtype)     # x's memory order: the next conv's adjoint reshapes it freely
        if dy.strides != y.strides:               # one copy into y's memory order (dy from a Flatten is C order)
            dy = _like(y, dy)
        taken = np.zeros_like(y, dtype=bool)
        for o in NumpyConvOps._offsets(x.shape, size, stride):
            hit = x[o] == y
            hit &= ~taken
            taken |= hit
            if stride >= size:
                np.multiply(dy, hit, out=dx[o])
            else:
                dx[o] += dy * hit
        return dx


class TorchConvOps:
    """Convolution and pooling on torch tensors (module docstring).

    ``ensemble_conv``: how a convolution of E > 1 members with their own inputs is computed. ``"grouped"``: ONE
    grouped convolution (``groups=E``) of (S, E C, H, W); ``"members"``: one ordinary convolution per member,
    stacked (E, S, O, Ho, Wo); ``"auto"`` (default): members on CPU, grouped elsewhere. On this project's CPU
    (float32, one thread, the CNN thesis's 32 -> 64 3x3 convolution, E = 10, batch 128) torch's grouped kernels
    took 66 ms per member for forward + backward against 47 ms for ordinary ones; CUDA is left on the grouped
    kernel (one launch for the ensemble). Both give the same numbers to rounding (tested).
    """

    def __init__(self, torch: Any, ensemble_conv: str = "auto") -> None:
        if ensemble_conv not in ("auto", "grouped", "members"):
            raise ValueError(f"ensemble_conv must be 'auto', 'grouped' or 'members', got {ensemble_conv!r}")
        self.torch = torch
        self.F = torch.nn.functional
        self.ensemble_conv = ensemble_conv

    def _pad(self, x, pads):
        pt, pb, pl, pr = pads
        return self.F.pad(x, (pl, pr, pt, pb)) if (pt or pb or pl or pr) else x

    def _per_member(self, x, E):
        if x.ndim == 4 or E == 1 or self.ensemble_conv == "grouped":
            return False
        return self.ensemble_conv == "members" or x.device.type == "cpu"

    def conv2d(self, x: Any, W: Any, b: Any, stride: int, pads: tuple[int, int, int, int], keep: bool = True
               ) -> tuple[Any, tuple | None]:
        E, O, C, kh, kw = W.shape
        if self._per_member(x, E):                         # one ordinary convolution per member, stacked
            xs = [self._pad(x[e], pads) for e in range(E)]
            z = self.torch.stack([self.F.conv2d(xe, W[e], b[e], stride=stride) for e, xe in enumerate(xs)])
            return z, ((xs, W, None, stride, pads, False) if keep else None)
        if x.ndim == 4:                                    # shared input: an ordinary convolution, E*O filters
            xs, groups = self._pad(x, pads), 1
        else:
            S = x.shape[1]
            xs, groups = self._pad(x.transpose(0, 1).reshape(S, E * C, *x.shape[-2:]), pads), E
        w = W.reshape(E * O, C, kh, kw)
        z = self.F.conv2d(xs, w, b.reshape(E * O), stride=stride, groups=groups)
        S, _, Ho, Wo = z.shape
        cache = (xs, w, groups, stride, pads, x.ndim == 4) if keep else None
        return z.view(S, E, O, Ho, Wo).transpose(0, 1), cache

    def _unpad(self, gi, pads):
        pt, pb, pl, pr = pads
        Hp, Wp = gi.shape[-2:]
        return gi[..., pt:Hp - pb, pl:Wp - pr]

    def conv2d_backward(self, dz: Any, W: Any, cache: tuple, need_dx: bool = True) -> tuple[Any | None, Any, Any]:
        xs, w, groups, stride, pads, shared = cache
        E, S, O, Ho, Wo = dz.shape
        backward = self.torch.ops.aten.convolution_backward
        if groups is None:                                 # per member (conv2d's "members" route)
            outs = [backward(dz[e], xe, w[e], [O], [stride, stride], [0, 0], [1, 1], False, [0, 0], 1,
                             [bool(need_dx), True, True]) for e, xe in enumerate(xs)]
            dW, db = self.torch.stack([o[1] for o in outs]), self.torch.stack([o[2] for o in outs])
            if not need_dx:
                return None, dW, db
            return self._unpad(self.torch.stack([o[0] for o in outs]), pads), dW, db
        dzs = dz.transpose(0, 1).reshape(S, E * O, Ho, Wo)
        gi, gw, gb = backward(dzs, xs, w, [E * O], [stride, stride], [0, 0], [1, 1], False, [0, 0], groups,
                              [bool(need_dx and not shared), True, True])
        dW, db = gw.reshape(W.shape), gb.reshape(E, O)
        if gi is None or not need_dx or shared:
            return None, dW, db
        gi = self._unpad(gi, pads)
        C = gi.shape[1] // E
        return gi.reshape(S, E, C, *gi.shape[-2:]).transpose(0, 1), dW, db

    def maxpool2d(self, x: Any, size: int, stride: int, keep: bool = True) -> tuple[Any, tuple | None]:
        members_major = x.ndim == 5 and x.is_contiguous()     # (E, S, ...) in memory: pool (E S, C, H, W)
        if x.ndim == 5:
            E, S, C, H, W_ = x.shape
            xs = x.view(E * S, C, H, W_) if members_major else x.transpose(0, 1).reshape(S, E * C, H, W_)
        else:
            xs = x
        y, idx = self.F.max_pool2d(xs, size, stride, return_indices=True)
        cache = (xs, idx, size, stride, x.shape, members_major) if keep else None
        if x.ndim == 5:
            y = (y.view(E, S, C, *y.shape[-2:]) if members_major
                 else y.view(S, E, C, *y.shape[-2:]).transpose(0, 1))
        return y, cache

    def maxpool2d_backward(self, dy: Any, cache: tuple) -> Any:
        xs, idx, size, stride, xshape, members_major = cache
        if dy.ndim == 5:
            E, S, C = dy.shape[:3]
            dys = (dy.reshape(E * S, C, *dy.shape[-2:]) if members_major
                   else dy.transpose(0, 1).reshape(S, E * C, *dy.shape[-2:]))
        else:
            dys = dy
        dx = self.torch.ops.aten.max_pool2d_with_indices_backward(dys, xs, [size, size], [stride, stride], [0, 0],
                                                                   [1, 1], False, idx)
        if dy.ndim == 5:
            dx = (dx.view(E, S, C, *dx.shape[-2:]) if members_major
                  else dx.view(S, E, C, *dx.shape[-2:]).transpose(0, 1))
        return dx


_NUMPY_OPS = NumpyConvOps()


def conv_ops(be: Backend) -> NumpyConvOps | TorchConvOps:
    """The kernels for the backend ``be`` (:class:`sims.backend.Backend`): NumPy or torch."""
    if be.name == "torch":
        return TorchConvOps(be.torch)
    return _NUMPY_OPS
