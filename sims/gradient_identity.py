r"""The loss-derivative identity, checked numerically with the simulator's exact backprop.

Gradient flow gives :math:`dL/dt = -\alpha\|\nabla L\|^2` exactly (:func:`analytic.loss_identity.loss_identity`).
A discrete step of size :math:`\alpha` obeys it to first order:

.. math::  \Delta L = L(\theta - \alpha g) - L(\theta) = -\alpha\,\nabla L\cdot g + \tfrac{\alpha^2}{2}\, g^\top H g + O(\alpha^3).

* :func:`step_identity` takes :math:`g = \nabla L` (full batch): the remainder
  :math:`\Delta L + \alpha\|\nabla L\|^2` scales as :math:`\alpha^2` (slope 2 on log-log axes) with coefficient
  :math:`\tfrac12\nabla L^\top H\nabla L`.
* :func:`minibatch_identity` takes every minibatch gradient :math:`g_B` of a small dataset (all
  :math:`\binom{n}{B}` subsets, an equal-size partition, or given index sets) and averages the change of the
  **full-data** loss over them:
  :math:`E_B[\Delta L] = -\alpha\,\nabla L\cdot E_B[g_B] + \tfrac{\alpha^2}{2}E_B[g_B^\top H g_B] + O(\alpha^3)`,
  with :math:`E_B[g_B] = \nabla L` (exactly, for all subsets or an equal partition), so the first-order term is
  :math:`-\alpha\|\mu\|^2 = -\alpha\sum_\theta\mu_\theta^2` (the minibatch
  statement of the 2019 thesis "Information Bottleneck Theory: Extensions to Convolutional Neural Networks and the
  Stochastic Gradient Hypothesis", candidate 8240R, Sec. 3.2.1) while the gradient noise enters
  at second order: :math:`E_B[g_B^\top H g_B] = \mu^\top H\mu + \operatorname{tr}(H\Sigma_B)`. It also reports the
  change of each batch's *own* loss, whose first-order term :math:`-\alpha E\|g_B\|^2 = -\alpha(\|\mu\|^2 +
  \operatorname{tr}\Sigma_B)` contains the noise already at first order (see :mod:`analytic.loss_identity`).

Hessian-vector products :math:`Hv` are central differences of the exact gradient,
:math:`(\nabla L(\theta+\epsilon v) - \nabla L(\theta-\epsilon v))/2\epsilon` (error :math:`O(\epsilon^2)`).
Losses and gradients come from :meth:`sims.mlp.MLP.loss_and_grads` (batch-mean loss); many parameter vectors are
evaluated at once through the ensemble axis.

Example
-------
>>> import numpy as np
>>> from sims import MLP
>>> rng = np.random.default_rng(0); x = rng.normal(size=(8, 3)); y = rng.integers(0, 2, 8)
>>> net = MLP([3, 4, 2], "tanh"); params = net.init_params(seed=1)
>>> r = step_identity(net, params, x, y, loss="cross_entropy")
>>> abs(r.slope - 2) < 0.1
True
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np
from numpy.typing import ArrayLike

from analytic.checks import finite_array, index_sets, positive, positive_int, positive_scalar
from sims.mlp import MLP

__all__ = ["step_identity", "minibatch_identity", "StepIdentity", "MinibatchIdentity", "all_minibatches",
           "loglog_slope"]


def loglog_slope(alphas: ArrayLike, values: ArrayLike) -> float:
    """Least-squares slope of log(values) against log(alphas); both 1-D, positive, of one length >= 2
    (pass ``abs(values)`` for a signed quantity such as a remainder).

    >>> round(loglog_slope([1e-3, 1e-2, 1e-1], [1e-6, 1e-4, 1e-2]), 6)
    2.0
    """
    a, v = _positive_1d(alphas, "alphas"), _positive_1d(values, "values")
    if v.size != a.size:
        raise ValueError(f"alphas and values must have the same length, got {a.size} and {v.size}")
    return float(np.polyfit(np.log(a), np.log(v), 1)[0])


def _theta(net: MLP, params, member: int) -> np.ndarray:
    theta = net.flatten(params)
    if not (0 <= member < theta.shape[0]):
        raise ValueError(f"member must lie in 0..{theta.shape[0] - 1}, got {member}")
    return theta[member:member + 1]


def _loss_grad(net: MLP, theta: np.ndarray, x, y, loss):
    """Batch-mean loss (E,) and flat gradient (E, P) at the flat parameters ``theta`` (E, P)."""
    value, grads = net.loss_and_grads(net.views(theta), x, y, loss=loss)
    return np.asarray(value, dtype=float), net.flatten(grads)


def _hvp(net: MLP, theta, vectors, x, y, loss, eps):
    """H v for each row v of ``vectors`` (K, P) at theta (1, P): central difference of the exact gradient."""
    scale = eps / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-300)
    plus = _loss_grad(net, theta + scale * vectors, x, y, loss)[1]
    minus = _loss_grad(net, theta - scale * vectors, x, y, loss)[1]
    return (plus - minus) / (2.0 * scale)


def _positive_1d(v, name: str) -> np.ndarray:
    a = positive(v, name)
    if np.ndim(a) != 1 or a.size < 2:
        raise ValueError(f"{name} must be a 1-D sequence of at least two values, got shape {np.shape(a)}")
    return a


def _alphas(alphas):
    return np.logspace(-4, -2, 9) if alphas is None else _positive_1d(alphas, "alphas")


@dataclass(frozen=True)
class StepIdentity:
    """One full-batch gradient step of each size in ``alphas`` (K,).

    delta_loss : L(theta - alpha grad) - L(theta).   first_order : -alpha ||grad||^2.
    remainder : delta_loss - first_order (O(alpha^2)).   slope : log-log slope of |remainder| (expected 2).
    grad_norm_sq : ||grad L||^2.   curvature : grad^T H grad (finite-difference HVP).
    second_order : alpha^2/2 * curvature, the predicted leading remainder.
    """

    alphas: np.ndarray
    loss: float
    delta_loss: np.ndarray
    first_order: np.ndarray
    remainder: np.ndarray
    slope: float
    grad_norm_sq: float
    curvature: float
    second_order: np.ndarray


def step_identity(net: MLP, params: Sequence[tuple[np.ndarray, np.ndarray]], x: ArrayLike, y: ArrayLike,
                  alphas: ArrayLike | None = None, loss: Literal["cross_entropy", "mse"] = "cross_entropy",
                  member: int = 0, hvp_eps: float = 1e-5) -> StepIdentity:
    r"""Check :math:`\Delta L = -\alpha\|\nabla L\|^2 + O(\alpha^2)` for one gradient step on (x, y).

    Parameters
    ----------
    net, params : the network and its ``[(W, b), ...]`` (member ``member`` of the ensemble axis is used).
    x, y : the data the loss is the batch mean over (integer labels or float targets).
    alphas : step sizes (default 9 log-spaced in [1e-4, 1e-2]); keep them where the remainder is well above
        rounding (|remainder| >> 1e-16 L) and below where O(alpha^3) matters.
    loss : "cross_entropy" or "mse" (as in :func:`sims.train`).
    """
    if not isinstance(net, MLP):
        raise ValueError(f"net must be an MLP, got {type(net).__name__}")
    a = _alphas(alphas)
    hvp_eps = positive_scalar(hvp_eps, "hvp_eps")
    theta = _theta(net, params, member)
    L0, g = _loss_grad(net, theta, x, y, loss)
    L_steps = _loss_grad(net, theta - a[:, None] * g, x, y, loss)[0]
    gg = float(g[0] @ g[0])
    delta = L_steps - L0[0]
    first = -a * gg
    rem = delta - first
    curv = float(_hvp(net, theta, g, x, y, loss, hvp_eps)[0] @ g[0])
    return StepIdentity(alphas=a, loss=float(L0[0]), delta_loss=delta, first_order=first, remainder=rem,
                        slope=loglog_slope(a, np.abs(rem)), grad_norm_sq=gg, curvature=curv,
                        second_order=0.5 * a ** 2 * curv)


def all_minibatches(n: int, batch_size: int) -> np.ndarray:
    """Index sets (C(n, B), B) of every subset of size ``batch_size`` of ``range(n)`` (keep n small)."""
    n, B = positive_int(n, "n"), positive_int(batch_size, "batch_size")
    if B > n:
        raise ValueError(f"batch_size must be <= n = {n}, got {B}")
    if math.comb(n, B) > 100_000:
        raise ValueError(f"batch_size: C({n}, {B}) = {math.comb(n, B)} subsets is too many to enumerate")
    return np.array(list(itertools.combinations(range(n), B)), dtype=np.int64).reshape(-1, B)


@dataclass(frozen=True)
class MinibatchIdentity:
    """Averages over the minibatches ``batches`` (n_batches, B) of one step of each size in ``alphas`` (K,).

    grad : full-data gradient (P,).  batch_grads : (n_batches, P).  mean_grad : mu = E_B[g_B] (P,).
    unbiasedness : ||mu - grad|| / ||grad|| (0 up to rounding for all subsets / an equal partition).
    mean_sq : ||mu||^2 = sum_theta mu_theta^2.  noise_trace : tr Sigma_B = E_B ||g_B - mu||^2.
    delta_loss : E_B[L(theta - alpha g_B) - L(theta)] of the FULL-data loss (K,).
    first_order : -alpha grad . mu.   remainder : delta_loss - first_order.   slope : its log-log slope (~2).
    second_order : alpha^2/2 E_B[g_B^T H g_B] (HVP), the predicted leading remainder;
    curvature_mean, curvature_noise : mu^T H mu and E_B[(g_B-mu)^T H (g_B-mu)] = tr(H Sigma_B), its two parts.
    own_delta_loss : E_B[L_B(theta - alpha g_B) - L_B(theta)] (each batch's own loss);
    own_first_order : -alpha E_B||g_B||^2 = -alpha (mean_sq + noise_trace).
    """

    alphas: np.ndarray
    batches: np.ndarray
    grad: np.ndarray
    batch_grads: np.ndarray
    mean_grad: np.ndarray
    unbiasedness: float
    mean_sq: float
    noise_trace: float
    delta_loss: np.ndarray
    first_order: np.ndarray
    remainder: np.ndarray
    slope: float
    second_order: np.ndarray
    curvature_mean: float
    curvature_noise: float
    own_delta_loss: np.ndarray
    own_first_order: np.ndarray


def _batches(batches, n: int, batch_size):
    if isinstance(batches, str):
        B = positive_int(batch_size, "batch_size")
        if batches == "all":
            return all_minibatches(n, B)
        if batches == "partition":
            if n % B:
                raise ValueError(f"batch_size: a partition into equal batches needs B | n, got n={n}, B={B}")
            return np.arange(n).reshape(n // B, B)
        raise ValueError(f"batches must be 'all', 'partition' or an index array, got {batches!r}")
    return index_sets(batches, n, "batches")


def minibatch_identity(net: MLP, params: Sequence[tuple[np.ndarray, np.ndarray]], x: ArrayLike, y: ArrayLike,
                       batch_size: int = 2, alphas: ArrayLike | None = None,
                       loss: Literal["cross_entropy", "mse"] = "cross_entropy",
                       batches: Literal["all", "partition"] | ArrayLike = "all", member: int = 0,
                       hvp_eps: float = 1e-5) -> MinibatchIdentity:
    r"""Average one minibatch step over all minibatches: :math:`E_B[\Delta L] = -\alpha\nabla L\cdot E_B[g_B] + O(\alpha^2)`.

    Parameters
    ----------
    net, params, x, y, loss, member : as in :func:`step_identity`; keep the dataset small.
    batch_size : B.  batches : ``"all"`` (every subset of size B: uniform sampling without replacement),
        ``"partition"`` (consecutive equal batches, B | n) or an index array (n_batches, B).
    alphas : step sizes (default 9 log-spaced in [1e-4, 1e-2]).
    """
    if not isinstance(net, MLP):
        raise ValueError(f"net must be an MLP, got {type(net).__name__}")
    x, y = net.inputs_and_targets(finite_array(x, "x", ndim=2), y)
    n = x.shape[0]
    idx = _batches(batches, n, batch_size)
    a = _alphas(alphas)
    hvp_eps = positive_scalar(hvp_eps, "hvp_eps")
    theta = _theta(net, params, member)
    L0, g = _loss_grad(net, theta, x, y, loss)
    g = g[0]
    nb, P, K = idx.shape[0], theta.shape[1], a.size
    # per-batch gradients and losses: one vectorized call per minibatch (ensemble axis = the K step sizes)
    G = np.empty((nb, P))
    own = np.empty((nb, K))
    for j, rows in enumerate(idx):
        Lb, gb = _loss_grad(net, theta, x[rows], y[rows], loss)
        G[j] = gb[0]
        own[j] = _loss_grad(net, theta - a[:, None] * gb, x[rows], y[rows], loss)[0] - Lb[0]
    mu = G.mean(0)
    # full-data loss after each batch's step of each size: ensemble axis = (batch, alpha) pairs
    stepped = theta - (a[None, :, None] * G[:, None, :]).reshape(nb * K, P)
    full = _loss_grad(net, stepped, x, y, loss)[0].reshape(nb, K) - L0[0]
    delta = full.mean(0)
    first = -a * float(g @ mu)
    rem = delta - first
    HG = _hvp(net, theta, np.vstack([mu[None], G]), x, y, loss, hvp_eps)
    curv_mean = float(mu @ HG[0])
    dev = G - mu
    curv_noise = float(np.mean(np.einsum("bp,bp->b", dev, HG[1:] - HG[0])))
    second = 0.5 * a ** 2 * float(np.mean(np.einsum("bp,bp->b", G, HG[1:])))
    mean_sq = float(mu @ mu)
    noise_trace = float(np.mean(np.einsum("bp,bp->b", dev, dev)))
    return MinibatchIdentity(
        alphas=a, batches=idx, grad=g, batch_grads=G, mean_grad=mu,
        unbiasedness=float(np.linalg.norm(mu - g) / max(np.linalg.norm(g), 1e-300)),
        mean_sq=mean_sq, noise_trace=noise_trace, delta_loss=delta, first_order=first, remainder=rem,
        slope=loglog_slope(a, np.abs(rem)), second_order=second, curvature_mean=curv_mean, curvature_noise=curv_noise,
        own_delta_loss=own.mean(0), own_first_order=-a * (mean_sq + noise_trace))
