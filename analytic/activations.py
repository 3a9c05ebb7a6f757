"""Activation functions, defined once for the whole toolkit.

Each :class:`Activation` carries

* ``value(x, xp=None)`` and ``derivative(x, xp=None)``: elementwise, written once against a small array
  namespace ``xp`` (the operations of :class:`NumpyOps`: tanh, sigmoid, exp, expm1, abs, where, relu, clip,
  softplus, ones_like, step, inside). The simulator passes its backend (:mod:`sims.backend`, NumPy or
  torch) explicitly; without ``xp`` NumPy input uses :data:`NUMPY_OPS` and a tensor-like input (torch) uses
  its own methods (:data:`TENSOR_METHOD_OPS`; this module never imports torch). Floating NumPy input keeps
  its dtype (float32 stays float32); anything else is computed in float64;
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
* ``sympy(x)``: a sympy expression for symbolic work (limits, the loss-derivative identity); sympy is
  imported only when this is called.

All activations here are non-decreasing; ``strictly_increasing`` says whether f is injective
(Goldfeld et al. 2019, Prop. 1 needs that). Activations are built from module-level functions, so
they pickle (and compare equal by name and parameters).

Example
-------
>>> from analytic.activations import get_activation
>>> f = get_activation("leaky_relu", slope=0.2)
>>> float(f.value(-1.0)), float(f.generalized_inverse(-0.2))
(-0.2, -1.0)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray
import scipy.special as sc

from analytic.checks import real_scalar

if TYPE_CHECKING:  # sympy is imported where it is used (an optional, slow import)
    import sympy as sp

__all__ = ["Activation", "get_activation", "ACTIVATION_NAMES", "NumpyOps", "NUMPY_OPS", "TENSOR_METHOD_OPS",
           "tanh", "relu", "sigmoid", "linear", "leaky_relu", "softsign", "softplus", "hardtanh"]


# ---------------------------------------------------------------------------------------------- namespaces
class NumpyOps:
    """The elementwise operations activations are written against, for NumPy arrays.

    :class:`sims.backend.NumpyBackend` extends this (with the optional fast float64 tanh of
    :mod:`analytic.fast_tanh`); :class:`sims.backend.TorchBackend` provides the same names in torch.
    """

    tanh = staticmethod(np.tanh)
    sigmoid = staticmethod(sc.expit)
    exp = staticmethod(np.exp)
    expm1 = staticmethod(np.expm1)
    abs = staticmethod(np.abs)
    where = staticmethod(np.where)

    @staticmethod
    def relu(x: NDArray[np.floating]) -> NDArray[np.floating]:
        return np.maximum(x, 0.0)

    @staticmethod
    def clip(x: NDArray[np.floating], lo: float, hi: float) -> NDArray[np.floating]:
        return np.clip(x, lo, hi)

    @staticmethod
    def softplus(x: NDArray[np.floating]) -> NDArray[np.floating]:
        return np.logaddexp(0.0, x)

    @staticmethod
    def ones_like(x: NDArray[np.floating]) -> NDArray[np.floating]:
        return np.ones_like(x)

    @staticmethod
    def step(x: NDArray[np.floating]) -> NDArray[np.floating]:
        """1 where x > 0 else 0, in x's dtype."""
        return (x > 0).astype(x.dtype)

    @staticmethod
    def inside(x: NDArray[np.floating], lo: float, hi: float) -> NDArray[np.floating]:
        """1 where lo < x < hi else 0, in x's dtype."""
        return ((x > lo) & (x < hi)).astype(x.dtype)


class _TensorMethodOps:
    """The same operations through the methods of a tensor-like input (torch tensors), importing nothing."""

    @staticmethod
    def tanh(x):
        return x.tanh()

    @staticmethod
    def sigmoid(x):
        return x.sigmoid()

    @staticmethod
    def exp(x):
        return x.exp()

    @staticmethod
    def expm1(x):
        return x.expm1()

    @staticmethod
    def abs(x):
        return x.abs()

    @staticmethod
    def where(cond, a, b):
        return a.where(cond, b)

    @staticmethod
    def relu(x):
        return x.relu()

    @staticmethod
    def clip(x, lo, hi):
        return x.clamp(lo, hi)

    @staticmethod
    def softplus(x):
        return x.logaddexp(x.new_zeros(()))   # exact log(1 + e^x) (no threshold approximation)

    @staticmethod
    def ones_like(x):
        return x.new_ones(x.shape)

    @staticmethod
    def step(x):
        return (x > 0).to(x.dtype)

    @staticmethod
    def inside(x, lo, hi):
        return ((x > lo) & (x < hi)).to(x.dtype)


NUMPY_OPS = NumpyOps()
TENSOR_METHOD_OPS = _TensorMethodOps()


def _is_numpy_like(x) -> bool:
    return not type(x).__module__.startswith("torch")


def _prepare(x, xp):
    """(x, namespace): with ``xp`` given, x as it is; else NumPy input as a floating array (float32 stays
    float32, anything else float64) with :data:`NUMPY_OPS`, a tensor with :data:`TENSOR_METHOD_OPS`."""
    if xp is not None:
        return x, xp
    if not _is_numpy_like(x):
        return x, TENSOR_METHOD_OPS
    x = np.asarray(x)
    return (x if x.dtype.kind == "f" else x.astype(float)), NUMPY_OPS


# ---------------------------------------------------------------------------------------------- the class
@dataclass(frozen=True, eq=False)
class Activation:
    """A non-decreasing elementwise nonlinearity with the pieces exact computations need.

    The callables take ``(x, ops)`` (value, derivative, derivative_from_value), ``(y)`` (generalized inverse)
    or a sympy expression (sympy form). Two activations are equal when their names and parameters are.
    """

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

    def __eq__(self, other):
        return isinstance(other, Activation) and (self.name, self.params) == (other.name, other.params)

    def __hash__(self):
        return hash((self.name, self.params))

    def value(self, x: Any, xp: Any = None) -> Any:
        """f(x), elementwise, computed with the namespace ``xp`` (see the module docstring)."""
        x, o = _prepare(x, xp)
        return self._value(x, o)

    __call__ = value

    def derivative(self, x: Any, xp: Any = None) -> Any:
        """f'(x) elementwise (at kinks f' takes the value of the open piece's boundary rule: 0 for ReLU at 0,
        0 for hardtanh at -+1)."""
        x, o = _prepare(x, xp)
        return self._derivative(x, o)

    def derivative_from_value(self, f: Any, xp: Any = None) -> Any:
        """f'(z) from the value ``f = self.value(z)`` (exact identity; same conventions as :meth:`derivative`)."""
        f, o = _prepare(f, xp)
        return self._derivative_from_value(f, o)

    def generalized_inverse(self, y: ArrayLike) -> NDArray[np.float64]:
        """inf{x : f(x) >= y} elementwise, in [-inf, +inf]; NumPy only.

        For non-decreasing f this is the exact threshold with ``f(x) < y <=> x < g(y)``.
        """
        y = np.asarray(y, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out = np.asarray(self._generalized_inverse(y), dtype=float)
        return out

    def inverse(self, y: ArrayLike) -> NDArray[np.float64]:
        """f^{-1}(y) for y strictly inside the range (strictly increasing f only)."""
        if not self.strictly_increasing:
            raise ValueError(f"activation {self.name!r} is not invertible")
        return self.generalized_inverse(y)

    def sympy(self, x: sp.Expr) -> sp.Expr:
        """A sympy expression of f at the sympy expression ``x``."""
        return self._sympy(x)

    @property
    def bounded(self) -> bool:
        return bool(np.isfinite(self.range[0]) and np.isfinite(self.range[1]))

    @property
    def double_saturating(self) -> bool:
        """Saturates on both sides (tanh, sigmoid, softsign, hardtanh): the case Saxe et al. tie to compression."""
        return self.bounded


class _OpenInverse:
    """Generalized inverse of a strictly increasing f with open range (lo, hi) and inverse ``inv`` inside."""

    def __init__(self, inv, lo, hi):
        self.inv, self.lo, self.hi = inv, lo, hi

    def __call__(self, y):
        lo, hi = self.lo, self.hi
        inside = (y > lo) & (y < hi)
        safe = np.where(inside, y, 0.5 * (lo + hi) if np.isfinite(lo + hi) else 1.0)
        return np.where(inside, self.inv(safe), np.where(y <= lo, -np.inf, np.inf))


# ---------------------------------------------------------------------------------------------- the functions
# (module-level, so that activations pickle; sympy is imported only inside the sympy forms)
def _tanh(x, o):
    return o.tanh(x)


def _tanh_d(x, o):
    return 1.0 - o.tanh(x) ** 2


def _tanh_df(f, o):
    d = f * f          # 1 - f^2 with one temporary: -(f^2) + 1 rounds exactly as 1 - f^2
    d *= -1.0
    d += 1.0
    return d


def _tanh_sp(x):
    import sympy as sp
    return sp.tanh(x)


def _sigmoid(x, o):
    return o.sigmoid(x)


def _sigmoid_d(x, o):
    s = o.sigmoid(x)
    return s * (1.0 - s)


def _sigmoid_df(f, o):
    d = 1.0 - f        # f (1 - f) with one temporary
    d *= f
    return d


def _sigmoid_sp(x):
    import sympy as sp
    return 1 / (1 + sp.exp(-x))


def _linear(x, o):
    return 1.0 * x


def _ones(x, o):
    return o.ones_like(x)


def _identity(y):
    return y


def _relu(x, o):
    return o.relu(x)


def _step(x, o):
    return o.step(x)   # also the derivative from the value: relu(z) > 0 <=> z > 0


def _relu_gi(y):
    return np.where(y <= 0.0, -np.inf, y)


def _relu_sp(x):
    import sympy as sp
    return sp.Max(0, x)


def _softsign(x, o):
    return x / (1.0 + o.abs(x))


def _softsign_d(x, o):
    return 1.0 / (1.0 + o.abs(x)) ** 2


def _softsign_df(f, o):
    return (1.0 - o.abs(f)) ** 2   # 1 - |softsign(z)| = 1 / (1 + |z|)


def _softsign_inv(y):
    return y / (1.0 - np.abs(y))


def _softsign_sp(x):
    import sympy as sp
    return x / (1 + sp.Abs(x))


def _softplus(x, o):
    return o.softplus(x)


def _softplus_df(f, o):
    return -o.expm1(-f)   # sigmoid(z) = 1 - e^{-softplus(z)}


def _softplus_inv(y):
    return y + np.log(-np.expm1(-y))   # log(e^y - 1) = y + log(1 - e^-y), stable for large y


def _softplus_sp(x):
    import sympy as sp
    return sp.log(1 + sp.exp(x))


def _hardtanh(x, o):
    return o.clip(x, -1.0, 1.0)


def _inside_unit(x, o):
    return o.inside(x, -1.0, 1.0)   # also from the value: -1 < clip(z) < 1 <=> -1 < z < 1


def _hardtanh_gi(y):
    return np.where(y <= -1.0, -np.inf, np.where(y > 1.0, np.inf, y))


def _hardtanh_sp(x):
    import sympy as sp
    return sp.Max(-1, sp.Min(1, x))


def _leaky(x, o, slope):
    return o.where(x > 0, x, slope * x)


def _leaky_d(x, o, slope):
    one = o.ones_like(x)
    return o.where(x > 0, one, slope * one)   # also from the value: sign is kept


def _leaky_gi(y, slope):
    return np.where(y >= 0, y, y / slope)


def _leaky_sp(x, slope):
    import sympy as sp
    return sp.Max(x, sp.Rational(str(slope)) * x)


tanh = Activation("tanh", _tanh, _tanh_d, _OpenInverse(np.arctanh, -1.0, 1.0), _tanh_sp, _tanh_df,
                  range=(-1.0, 1.0))
sigmoid = Activation("sigmoid", _sigmoid, _sigmoid_d, _OpenInverse(sc.logit, 0.0, 1.0), _sigmoid_sp, _sigmoid_df,
                     range=(0.0, 1.0))
linear = Activation("linear", _linear, _ones, _identity, _identity, _ones)
relu = Activation("relu", _relu, _step, _relu_gi, _relu_sp, _step, range=(0.0, np.inf), atoms=(0.0,),
                  strictly_increasing=False)
softsign = Activation("softsign", _softsign, _softsign_d, _OpenInverse(_softsign_inv, -1.0, 1.0), _softsign_sp,
                      _softsign_df, range=(-1.0, 1.0))
softplus = Activation("softplus", _softplus, _sigmoid, _OpenInverse(_softplus_inv, 0.0, np.inf), _softplus_sp,
                      _softplus_df, range=(0.0, np.inf))
hardtanh = Activation("hardtanh", _hardtanh, _inside_unit, _hardtanh_gi, _hardtanh_sp, _inside_unit,
                      range=(-1.0, 1.0), atoms=(-1.0, 1.0), strictly_increasing=False)


def leaky_relu(slope: float = 0.1) -> Activation:
    """max(x, slope*x) for 0 < slope < 1 (Kong uses slope 0.1: max(x, x/10))."""
    slope = real_scalar(slope, "slope")
    if not 0.0 < slope < 1.0:
        raise ValueError(f"slope must lie in (0, 1), got {slope!r}")
    return Activation("leaky_relu", partial(_leaky, slope=slope), partial(_leaky_d, slope=slope),
                      partial(_leaky_gi, slope=slope), partial(_leaky_sp, slope=slope),
                      partial(_leaky_d, slope=slope), params=(("slope", slope),))


_FIXED = {a.name: a for a in (tanh, relu, sigmoid, linear, softsign, softplus, hardtanh)}
ACTIVATION_NAMES = tuple(sorted([*_FIXED, "leaky_relu"]))


def get_activation(activation: str | Activation, **params: float) -> Activation:
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
