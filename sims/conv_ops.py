"""Ensemble convolution and max-pooling kernels (forward and adjoint) for the NumPy and torch backends.

Layout: an activity of E ensemble members on S samples with C channels of H x W pixels is an array with the
logical axes **(E, S, C, H, W)** (channels first). A layer's input may also be *shared* by all members (the network
input, (S, C, H, W)). Kernels are (E, O, C, kh, kw) (output channel, input channel, kernel row, column), biases
(E, O). The arrays returned are possibly strided views with these logical axes (NumPy: memory ordered
(E, C, S, H, W), so that every product below is one plain GEMM per member; torch: memory (S, E, C, H, W), the
layout of one grouped convolution); every consumer goes through their logical axes.

Convolution (cross-correlation, as Keras ``Conv2D`` and ``torch.nn.functional.conv2d``), stride s, input padded by
(top, bottom, left, right) zeros:

    z[e, n, o, i, j] = b[e, o] + sum_{c, p, q} W[e, o, c, p, q] x_pad[e, n, c, s i + p, s j + q].

NumPy (:class:`NumpyConvOps`): the patches are gathered ONCE per layer with
:func:`numpy.lib.stride_tricks.sliding_window_view` into P[e] of shape (C kh kw, S Ho Wo) ("im2col"), so that
z[e] = W[e] P[e], dL/dW[e] = dL/dz[e] P[e]^T, dL/dP[e] = W[e]^T dL/dz[e] are single BLAS products per member, and
dL/dx is dL/dP scattered back ("col2im", a loop over the kh kw kernel offsets only, never over samples or pixels).
Torch (:class:`TorchConvOps`): the E members are ONE grouped convolution (``groups=E``) of (S, E C, H, W), and its
adjoint is ``aten.convolution_backward`` (the kernel torch's own autograd calls), on CPU or CUDA.

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

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

if TYPE_CHECKING:
    from sims.backend import Backend

__all__ = ["NumpyConvOps", "TorchConvOps", "conv_ops", "conv_output_size"]


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


class NumpyConvOps:
    """Convolution and pooling on NumPy arrays (im2col + BLAS; see the module docstring)."""

    @staticmethod
    def conv2d(x: np.ndarray, W: np.ndarray, b: np.ndarray, stride: int, pads: tuple[int, int, int, int],
               keep: bool = True) -> tuple[np.ndarray, tuple | None]:
        """z (E, S, O, Ho, Wo) and the cache for :meth:`conv2d_backward` (None unless ``keep``)."""
        E, O, C, kh, kw = W.shape
        shared = x.ndim == 4
        pt, pb, pl, pr = pads
        if pt or pb or pl or pr:
            x = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(pt, pb), (pl, pr)])
        win = sliding_window_view(x, (kh, kw), axis=(-2, -1))[..., ::stride, ::stride, :, :]
        Ho, Wo = win.shape[-4], win.shape[-3]
        K = C * kh * kw
        Wm = W.reshape(E, O, K)
        if shared:                       # win (S, C, Ho, Wo, kh, kw) -> P (C, kh, kw, S, Ho, Wo) = (K, S Ho Wo)
            S = x.shape[0]
            P = np.ascontiguousarray(win.transpose(1, 4, 5, 0, 2, 3)).reshape(K, S * Ho * Wo)
            z = (Wm.reshape(E * O, K) @ P).reshape(E, O, S, Ho, Wo)
        else:                            # win (E, S, C, Ho, Wo, kh, kw) -> P (E, C, kh, kw, S, Ho, Wo)
            S = x.shape[1]
            P = np.ascontiguousarray(win.transpose(0, 2, 5, 6, 1, 3, 4)).reshape(E, K, S * Ho * Wo)
            z = np.matmul(Wm, P).reshape(E, O, S, Ho, Wo)
        z += b[:, :, None, None, None]
        cache = (P, W.shape, x.shape, stride, pads, Ho, Wo) if keep else None
        return z.transpose(0, 2, 1, 3, 4), cache

    @staticmethod
    def conv2d_backward(dz: np.ndarray, W: np.ndarray, cache: tuple, need_dx: bool = True
                        ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
        """(dL/dx or None, dL/dW (E, O, C, kh, kw), dL/db (E, O)) from dL/dz (E, S, O, Ho, Wo)."""
        P, wshape, xshape, stride, pads, Ho, Wo = cache
        E, O, C, kh, kw = wshape
        S = dz.shape[1]
        dzt = dz.transpose(0, 2, 1, 3, 4).reshape(E, O, S * Ho * Wo)     # free when dz came from z's memory
        db = dzt.sum(-1)
        if P.ndim == 2:
            dW = (dzt.reshape(E * O, -1) @ P.T).reshape(wshape)
        else:
            dW = np.matmul(dzt, P.swapaxes(-1, -2)).reshape(wshape)
        if not need_dx:
            return None, dW, db
        dP = np.matmul(W.reshape(E, O, -1).swapaxes(-1, -2), dzt).reshape(E, C, kh, kw, S, Ho, Wo)
        Hp, Wp = xshape[-2], xshape[-1]
        dxp = np.zeros((E, C, S, Hp, Wp), dtype=dP.dtype)
        hs, ws = stride * (Ho - 1) + 1, stride * (Wo - 1) + 1
        for p in range(kh):                   # col2im: a loop over the kernel offsets only
            for q in range(kw):
                dxp[:, :, :, p:p + hs:stride, q:q + ws:stride] += dP[:, :, p, q]
        pt, pb, pl, pr = pads
        dx = dxp[:, :, :, pt:Hp - pb, pl:Wp - pr]
        return dx.transpose(0, 2, 1, 3, 4), dW, db

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
        y = x[offs[0]].copy()
        for o in offs[1:]:
            np.maximum(y, x[o], out=y)
        return y, ((x, y, size, stride) if keep else None)

    @staticmethod
    def maxpool2d_backward(dy: np.ndarray, cache: tuple) -> np.ndarray:
        """dL/dx: each window's dL/dy to its first maximal entry (row-major), summed where windows overlap."""
        x, y, size, stride = cache
        dx = np.zeros_like(x, dtype=dy.dtype)     # x's memory order: the next conv's adjoint reshapes it freely
        taken = np.zeros(y.shape, dtype=bool)
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
    """Convolution and pooling on torch tensors: one grouped convolution over the ensemble (module docstring)."""

    def __init__(self, torch: Any) -> None:
        self.torch = torch
        self.F = torch.nn.functional

    def _pad(self, x, pads):
        pt, pb, pl, pr = pads
        return self.F.pad(x, (pl, pr, pt, pb)) if (pt or pb or pl or pr) else x

    def conv2d(self, x: Any, W: Any, b: Any, stride: int, pads: tuple[int, int, int, int], keep: bool = True
               ) -> tuple[Any, tuple | None]:
        E, O, C, kh, kw = W.shape
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

    def conv2d_backward(self, dz: Any, W: Any, cache: tuple, need_dx: bool = True) -> tuple[Any | None, Any, Any]:
        xs, w, groups, stride, pads, shared = cache
        E, S, O, Ho, Wo = dz.shape
        dzs = dz.transpose(0, 1).reshape(S, E * O, Ho, Wo)
        gi, gw, gb = self.torch.ops.aten.convolution_backward(
            dzs, xs, w, [E * O], [stride, stride], [0, 0], [1, 1], False, [0, 0], groups,
            [bool(need_dx and not shared), True, True])
        dW, db = gw.reshape(W.shape), gb.reshape(E, O)
        if gi is None or not need_dx or shared:
            return None, dW, db
        pt, pb, pl, pr = pads
        Hp, Wp = gi.shape[-2:]
        gi = gi[:, :, pt:Hp - pb, pl:Wp - pr]
        C = gi.shape[1] // E
        return gi.reshape(S, E, C, *gi.shape[-2:]).transpose(0, 1), dW, db

    def maxpool2d(self, x: Any, size: int, stride: int, keep: bool = True) -> tuple[Any, tuple | None]:
        if x.ndim == 5:
            E, S, C, H, W_ = x.shape
            xs = x.transpose(0, 1).reshape(S, E * C, H, W_)
        else:
            xs = x
        y, idx = self.F.max_pool2d(xs, size, stride, return_indices=True)
        cache = (xs, idx, size, stride, x.shape) if keep else None
        if x.ndim == 5:
            y = y.view(S, E, C, *y.shape[-2:]).transpose(0, 1)
        return y, cache

    def maxpool2d_backward(self, dy: Any, cache: tuple) -> Any:
        xs, idx, size, stride, xshape = cache
        if dy.ndim == 5:
            E, S, C = dy.shape[:3]
            dys = dy.transpose(0, 1).reshape(S, E * C, *dy.shape[-2:])
        else:
            dys = dy
        dx = self.torch.ops.aten.max_pool2d_with_indices_backward(dys, xs, [size, size], [stride, stride], [0, 0],
                                                                   [1, 1], False, idx)
        if dy.ndim == 5:
            dx = dx.view(S, E, C, *dx.shape[-2:]).transpose(0, 1)
        return dx


_NUMPY_OPS = NumpyConvOps()


def conv_ops(be: Backend) -> NumpyConvOps | TorchConvOps:
    """The kernels for the backend ``be`` (:class:`sims.backend.Backend`): NumPy or torch."""
    if be.name == "torch":
        return TorchConvOps(be.torch)
    return _NUMPY_OPS
