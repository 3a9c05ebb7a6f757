"""Activation functions, defined once for the whole toolkit.

Each :class:`Activation` carries

* ``value(x)`` and ``derivative(x)``: elementwise, for NumPy arrays *and* torch tensors (the
  simulator's torch backend runs the very same objects; the namespace is picked from the input). Floating
  NumPy input keeps its dtype (float32 stays float32); anything else is computed in float64;
* ``derivative_from_value(f)``: f'(z) written through the value f = f(z) by an exact identity
  (tanh' = 1 - f^2, sigmoid' = f(1 - f), softplus' = 1 - e^{-f}, softsign' = (1 - |f|)^2, ...), which saves
  backprop one transcendental function per unit;
* ``inverse(y)``: the inverse on the open range, where one exists (``None`` otherwise);
* ``generalized_inverse(y)`` = inf{x : f(x) >= y}, defined for *every* non-decreasing activation,
  with -inf / +inf where y lies at or below / above the range. It turns bin edges into
  input-space thresholds exactly: for non-decreasing f, ``f(x) < y  <=>  x < generalized_inverse(y)``.
  This is what makes binned mutual information exact for ReLU's atom at 0 and hardtanh's two atoms;
* ``range``: the closure of the image, ``(lo, hi)`` (possibly infinite);
* ``atoms``: the values f takes on a set of positive length (ReLU: 0; hardtanh: -1 and 1);
* ``sympy(x)``: a sympy expression for symbolic work (limits, the loss-derivative identity).

All activations here are non-decreasing; ``strictly_increasing`` says whether f is injective
(Goldfeld et al. 2019, Prop. 1 needs that).

Example
-------
>>> from analytic.activations import get_activation
>>> f = get_activation("leaky_relu", slope=0.2)
>>> float(f.value(-1.0)), float(f.generalized_inverse(-0.2))
(-0.2, -1.0)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import scipy.special as sc
import sympy as sp

from analytic.fast_tanh import fast_tanh, numpy_float64_tanh_is_vectorized

__all__ = ["Activation", "get_activation", "ACTIVATION_NAMES", "tanh", "relu", "sigmoid", "linear",
           "leaky_relu", "softsign", "softplus", "hardtanh"]


def _is_torch(x) -> bool:
    return type(x).__module__.startswith("torch")


#: float64 tanh of NumPy arrays with >= 4096 values goes through :func:`analytic.fast_tanh.fast_tanh` (within 3
#: ulp) where NumPy's own float64 tanh is not vectorized (x86 without AVX-512: 3.5x faster there); decided once,
#: from NumPy's dispatch report, so a machine always computes tanh the same way. Set it to False to always use
#: np.tanh (results then change by at most a few ulp).
FAST_FLOAT64_TANH = not numpy_float64_tanh_is_vectorized()
_FAST_TANH_MIN_SIZE = 4096   # below this, np.tanh's lower call overhead wins (measured crossover ~2-3k values)


class _NumpyOps:
    @staticmethod
    def tanh(x):
        """np.tanh, or :func:`analytic.fast_tanh.fast_tanh` for large float64 arrays (see ``FAST_FLOAT64_TANH``)."""
        if FAST_FLOAT64_TANH and x.dtype == np.float64 and x.size >= _FAST_TANH_MIN_SIZE:
            return fast_tanh(x)
        return np.tanh(x)

    sigmoid = staticmethod(sc.expit)
    exp = staticmethod(np.exp)
    expm1 = staticmethod(np.expm1)
    abs = staticmethod(np.abs)
    where = staticmethod(np.where)

    @staticmethod
    def relu(x):
        return np.maximum(x, 0.0)

    @staticmethod
    def clip(x, lo, hi):
        return np.clip(x, lo, hi)

    @staticmethod
    def softplus(x):
        return np.logaddexp(0.0, x)

    @staticmethod
    def ones_like(x):
        return np.ones_like(x)

    @staticmethod
    def step(x):  # 1 where x > 0 else 0, in x's dtype
        return (x > 0).astype(x.dtype)

    @staticmethod
    def inside(x, lo, hi):  # 1 where lo < x < hi else 0, in x's dtype
        return ((x > lo) & (x < hi)).astype(x.dtype)


class _TorchOps:
    @staticmethod
    def _t():
        import torch
        return torch

    def __getattr__(self, name):  # tanh, sigmoid, exp, expm1, abs, where, relu
        return getattr(self._t(), name)

    def clip(self, x, lo, hi):
        return self._t().clamp(x, lo, hi)

    def softplus(self, x):
        return self._t().nn.functional.softplus(x)

    def ones_like(self, x):
        return self._t().ones_like(x)

    def step(self, x):
        return (x > 0).to(x.dtype)

    def inside(self, x, lo, hi):
        return ((x > lo) & (x < hi)).to(x.dtype)


_NP, _TORCH = _NumpyOps(), _TorchOps()


def _ops(x):
    return _TORCH if _is_torch(x) else _NP


def _as_float(x):
    """Torch tensors pass through; NumPy input keeps a floating dtype (float32 stays float32), else float64."""
    if _is_torch(x):
        return x
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(float)


@dataclass(frozen=True)
class Activation:
    """A non-decreasing elementwise nonlinearity with the pieces exact computations need."""

    name: str
    _value: Callable = field(repr=False)
    _derivative: Callable = field(repr=False)
    _generalized_inverse: Callable = field(repr=False)
    _sympy: Callable = field(repr=False)
    _derivative_from_value: Callable = field(repr=False, default=None)
    range: tuple[float, float] = (-np.inf, np.inf)
    atoms: tuple[float, ...] = ()
    strictly_increasing: bool = True
    params: tuple = ()

    def value(self, x):
        """f(x), elementwise (NumPy array or torch tensor in, same kind out)."""
        x = _as_float(x)
        return self._value(x, _ops(x))

    __call__ = value

    def derivative(self, x):
        """f'(x) elementwise (at kinks f' takes the value of the open piece's boundary rule: 0 for ReLU at 0,
        0 for hardtanh at -+1)."""
        x = _as_float(x)
        return self._derivative(x, _ops(x))

    def derivative_from_value(self, f):
        """f'(z) from the value ``f = self.value(z)`` (exact identity; same conventions as :meth:`derivative`)."""
        f = _as_float(f)
        return self._derivative_from_value(f, _ops(f))

    def generalized_inverse(self, y):
        """inf{x : f(x) >= y} elementwise, in [-inf, +inf]; NumPy only.

        For non-decreasing f this is the exact threshold with ``f(x) < y <=> x < g(y)``.
        """
        y = np.asarray(y, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out = np.asarray(self._generalized_inverse(y), dtype=float)
        return out

    def inverse(self, y):
        """f^{-1}(y) for y strictly inside the range (strictly increasing f only)."""
        if not self.strictly_increasing:
            raise ValueError(f"activation {self.name!r} is not invertible")
        return self.generalized_inverse(y)

    def sympy(self, x):
        """A sympy expression of f at the sympy expression ``x``."""
        return self._sympy(x)

    @property
    def bounded(self) -> bool:
        return bool(np.isfinite(self.range[0]) and np.isfinite(self.range[1]))

    @property
    def double_saturating(self) -> bool:
        """Saturates on both sides (tanh, sigmoid, softsign, hardtanh): the case Saxe et al. tie to compression."""
        return self.bounded


def _gi_open(inv, lo, hi):
    """Generalized inverse of a strictly increasing f with open range (lo, hi)."""
    def g(y):
        inside = (y > lo) & (y < hi)
        safe = np.where(inside, y, 0.5 * (lo + hi) if np.isfinite(lo + hi) else 1.0)
        return np.where(inside, inv(safe), np.where(y <= lo, -np.inf, np.inf))
    return g


tanh = Activation(
    "tanh",
    lambda x, o: o.tanh(x),
    lambda x, o: 1.0 - o.tanh(x) ** 2,
    _gi_open(np.arctanh, -1.0, 1.0),
    sp.tanh,
    lambda f, o: 1.0 - f * f,
    range=(-1.0, 1.0),
)

sigmoid = Activation(
    "sigmoid",
    lambda x, o: o.sigmoid(x),
    lambda x, o: o.sigmoid(x) * (1.0 - o.sigmoid(x)),
    _gi_open(sc.logit, 0.0, 1.0),
    lambda x: 1 / (1 + sp.exp(-x)),
    lambda f, o: f * (1.0 - f),
    range=(0.0, 1.0),
)

linear = Activation(
    "linear",
    lambda x, o: 1.0 * x,
    lambda x, o: o.ones_like(x),
    lambda y: y,
    lambda x: x,
    lambda f, o: o.ones_like(f),
)

relu = Activation(
    "relu",
    lambda x, o: o.relu(x),
    lambda x, o: o.step(x),
    lambda y: np.where(y <= 0.0, -np.inf, y),
    lambda x: sp.Max(0, x),
    lambda f, o: o.step(f),  # relu(z) > 0 <=> z > 0
    range=(0.0, np.inf),
    atoms=(0.0,),
    strictly_increasing=False,
)

softsign = Activation(
    "softsign",
    lambda x, o: x / (1.0 + o.abs(x)),
    lambda x, o: 1.0 / (1.0 + o.abs(x)) ** 2,
    _gi_open(lambda y: y / (1.0 - np.abs(y)), -1.0, 1.0),
    lambda x: x / (1 + sp.Abs(x)),
    lambda f, o: (1.0 - o.abs(f)) ** 2,  # 1 - |softsign(z)| = 1 / (1 + |z|)
    range=(-1.0, 1.0),
)

softplus = Activation(
    "softplus",
    lambda x, o: o.softplus(x),
    lambda x, o: o.sigmoid(x),
    # log(e^y - 1) = y + log(1 - e^-y), stable for large y
    _gi_open(lambda y: y + np.log(-np.expm1(-y)), 0.0, np.inf),
    lambda x: sp.log(1 + sp.exp(x)),
    lambda f, o: -o.expm1(-f),  # sigmoid(z) = 1 - e^{-softplus(z)}
    range=(0.0, np.inf),
)

hardtanh = Activation(
    "hardtanh",
    lambda x, o: o.clip(x, -1.0, 1.0),
    lambda x, o: o.inside(x, -1.0, 1.0),
    lambda y: np.where(y <= -1.0, -np.inf, np.where(y > 1.0, np.inf, y)),
    lambda x: sp.Max(-1, sp.Min(1, x)),
    lambda f, o: o.inside(f, -1.0, 1.0),  # -1 < clip(z) < 1 <=> -1 < z < 1
    range=(-1.0, 1.0),
    atoms=(-1.0, 1.0),
    strictly_increasing=False,
)


def leaky_relu(slope: float = 0.1) -> Activation:
    """max(x, slope*x) for 0 < slope < 1 (Kong uses slope 0.1: max(x, x/10))."""
    slope = float(slope)
    if not (0.0 < slope < 1.0) or not np.isfinite(slope):
        raise ValueError(f"slope must lie in (0, 1), got {slope!r}")
    return Activation(
        "leaky_relu",
        lambda x, o: o.where(x > 0, x, slope * x),
        lambda x, o: o.where(x > 0, o.ones_like(x), slope * o.ones_like(x)),
        lambda y: np.where(y >= 0, y, y / slope),
        lambda x: sp.Max(x, sp.Rational(str(slope)) * x),
        lambda f, o: o.where(f > 0, o.ones_like(f), slope * o.ones_like(f)),
        params=(("slope", slope),),
    )


_FIXED = {a.name: a for a in (tanh, relu, sigmoid, linear, softsign, softplus, hardtanh)}
ACTIVATION_NAMES = tuple(sorted([*_FIXED, "leaky_relu"]))


def get_activation(activation, **params) -> Activation:
    """Return an :class:`Activation` from a name (``"tanh"``, ``"leaky_relu"``, ...) or pass one through.

    ``params`` go to parametrized activations (``slope`` for leaky_relu).
    """
    if isinstance(activation, Activation):
        if params:
            raise ValueError("activation: parameters can only be given with an activation name")
        return activation
    if not isinstance(activation, str):
        raise ValueError(f"activation must be a name or an Activation, got {type(activation).__name__}")
    key = activation.lower().replace("-", "_")
    if key in ("leakyrelu", "leaky_relu"):
        return leaky_relu(**params)
    if key == "identity":
        key = "linear"
    if key not in _FIXED:
        raise ValueError(f"activation: unknown name {activation!r}; choose from {', '.join(ACTIVATION_NAMES)}")
    if params:
        raise ValueError(f"activation: {activation!r} takes no parameters, got {sorted(params)}")
    return _FIXED[key]
