"""Saxe et al.'s minimal model (ICLR 2018, Sec. 2, Fig. 2): a scalar Gaussian input through one nonlinearity.

X ~ N(mu, sd^2) (Saxe: N(0, 1)), hidden activity h = f(wX). Two exact information measures:

* binned: T = bin(h) with the edge conventions of :mod:`analytic.binning`; I(X;T) = H(T) from Gaussian CDFs at
  the preimages of the edges (no sampling);
* noisy:  T = h + Z, Z ~ N(0, noise_std^2); I(X;T) = h(T) - 1/2 ln(2 pi e noise_std^2) by quadrature
  (:mod:`analytic.scalar_channel`), with an mpmath route for verification.

All results in nats (:func:`analytic.to_bits` converts); ``w`` may be an array of any shape.

>>> import numpy as np
>>> from minimal_models import ScalarGaussian
>>> from analytic.binning import tishby_edges
>>> m = ScalarGaussian("tanh")
>>> w_peak, i_peak = m.binned_mi_peak(tishby_edges())
>>> round(w_peak, 3), round(float(i_peak / np.log(2)), 3)
(0.869, 4.851)
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import minimize_scalar

from analytic import binning, checks, scalar_channel
from analytic.activations import Activation, get_activation
from analytic.checks import finite_array, interval, positive, positive_int, real_scalar

__all__ = ["ScalarGaussian"]


class ScalarGaussian:
    """h = f(wX), X ~ N(mu, sd^2), for any activation of :mod:`analytic.activations` (name or object).

    Parameters
    ----------
    activation : str or Activation
        ``"tanh"``, ``"relu"``, ``"sigmoid"``, ``"linear"``, ``"leaky_relu"``, ``"softsign"``, ``"softplus"``,
        ``"hardtanh"``; extra keyword arguments go to parametrized ones (``slope=0.1`` for leaky_relu).
    mu, sd : float
        Mean and standard deviation of the input X.
    """

    def __init__(self, activation: str | Activation, mu: float = 0.0, sd: float = 1.0, **activation_params: float
                 ) -> None:
        self.activation = get_activation(activation, **activation_params)
        self.mu = real_scalar(mu, "mu")
        self.sd = positive(real_scalar(sd, "sd"), "sd")

    def __repr__(self):
        return f"ScalarGaussian({self.activation.name!r}, mu={self.mu}, sd={self.sd})"

    # -- binned --------------------------------------------------------------------------------------------
    def bin_probabilities(self, w: ArrayLike, edges: ArrayLike) -> np.ndarray:
        """Exact P(bin(f(wX)) = k), shape ``w.shape + (len(edges) - 1,)`` (outer bins extend to -+inf)."""
        return binning.bin_probabilities_gaussian(self.activation, w, edges, mu=self.mu, sd=self.sd)

    def binned_mi(self, w: ArrayLike, edges: ArrayLike) -> np.ndarray | float:
        """Exact I(X; bin(f(wX))) = H(bin(f(wX))) in nats; bounded by ln(len(edges) - 1)."""
        return binning.binned_entropy_gaussian(self.activation, w, edges, mu=self.mu, sd=self.sd)

    def binned_mi_peak(self, edges: ArrayLike, w_range: tuple[float, float] = (0.0, 10.0), n_grid: int = 2001
                       ) -> tuple[float, float]:
        """(w*, I(w*)) maximizing the exact binned MI over ``w_range``: grid search, then bounded Brent.

        The exact function is smooth in w, so the optimizer's tolerance (1e-10 in w) is the limit; the maximum
        value is insensitive to w errors to second order.
        """
        lo, hi = interval(w_range, "w_range")
        n_grid = positive_int(n_grid, "n_grid", minimum=3)
        grid = np.linspace(lo, hi, n_grid)
        vals = self.binned_mi(grid, edges)
        k = int(np.argmax(vals))
        a, b = grid[max(k - 1, 0)], grid[min(k + 1, n_grid - 1)]
        res = minimize_scalar(lambda w: -self.binned_mi(w, edges), bounds=(a, b), method="bounded",
                              options={"xatol": 1e-10})
        w_best = float(res.x) if -res.fun >= vals[k] else float(grid[k])
        return w_best, float(self.binned_mi(w_best, edges))

    def activity_edges(self, w: ArrayLike, n_bins: int = 100, n_samples: int = 4096,
                       rng: np.random.Generator | int | None = 0) -> np.ndarray:
        """Saxe et al.'s rule for unbounded units: ``n_bins`` equal bins between the min and max activity f(wx)
        over all ``w`` given and ``n_samples`` draws of X (default 4096, the size of the 12-bit analysis set;
        fixed seed, so the edges are reproducible)."""
        _, h = self.sample(positive_int(n_samples, "n_samples"), w, rng=rng)
        return binning.minmax_edges(h, n_bins)

    # -- noisy ---------------------------------------------------------------------------------------------
    def noisy_mi(self, w: ArrayLike, noise_std: float, precision: Literal["double", "mp"] = "double"
                 ) -> np.ndarray | float:
        """Exact I(X; f(wX) + Z), Z ~ N(0, noise_std^2), nats. ``precision="mp"``: mpmath route (slow)."""
        return scalar_channel.noisy_mi(self.activation, w, noise_std, mu=self.mu, sd=self.sd, precision=precision)

    def noisy_mi_bound(self, w: ArrayLike, noise_std: float) -> np.ndarray | float:
        """Gaussian max-entropy bound 1/2 ln(1 + R^2/(4 noise_std^2)) for bounded f (inf otherwise)."""
        return scalar_channel.output_variance_bound(self.activation, w, noise_std)

    # -- sampling ------------------------------------------------------------------------------------------
    def sample(self, n: int, w: ArrayLike, rng: np.random.Generator | int | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``x`` of shape (n,) and ``h = f(w x)`` of shape ``w.shape + (n,)`` (Monte Carlo, estimators).

        >>> x, h = ScalarGaussian("relu").sample(4, [1.0, 2.0], rng=0)
        >>> x.shape, h.shape
        ((4,), (2, 4))
        """
        n = positive_int(n, "n")
        w = finite_array(w, "w")
        rng = checks.rng(rng, "rng")
        x = self.mu + self.sd * rng.standard_normal(n)
        h = self.activation.value(w[..., None] * x)
        return x, h
