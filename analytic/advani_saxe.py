"""Training and test error of a linear student under gradient flow, from the Marchenko-Pastur spectrum.

Advani & Saxe (2017), "High-dimensional dynamics of generalization error in neural networks", Sec. 3;
used by Saxe et al. (ICLR 2018) Sec. 5. Conventions (the issue's; teacher variance sigma_w^2 = 1 sets the unit):

* inputs x in R^N, x ~ N(0, I/N); teacher weights wbar ~ N(0, I); labels y = wbar.x + eps, eps ~ N(0, 1/snr);
* P = alpha N training samples, X the P x N input matrix; student w(0) ~ N(0, init_var I);
* loss L = 1/2 sum_mu (y_mu - w.x_mu)^2 (a SUM over the P samples), gradient flow tau dw/dt = -dL/dw;
* training error E_t = (1/P) sum_mu (y_mu - w.x_mu)^2; test error E_g = E_{x,eps}(y - w.x)^2 = |w - wbar|^2/N + 1/snr
  (label noise included); expectations over teacher, data, noise and initialisation, N -> infinity.

Derivation. With C = X^T X = V diag(lambda) V^T and e = w - wbar, tau de/dt = -C e + X^T eps, so in the eigenbasis
e_i(t) = e_i(0) E_i + (eps_i / sqrt(lambda_i)) (1 - E_i), E_i = e^{-lambda_i t / tau}, with e_i(0) ~ N(0, A),
A = 1 + init_var, and eps_i ~ N(0, sigma^2), sigma^2 = 1/snr (the left singular vectors rotate the isotropic noise).
The spectrum of C tends to Marchenko-Pastur: a continuous part on [lambda_-, lambda_+], lambda_+- = (1 +- sqrt(alpha))^2,
density rho(lambda) = sqrt((lambda_+ - lambda)(lambda - lambda_-)) / (2 pi lambda) of mass min(1, alpha), plus for
alpha < 1 an atom of mass 1 - alpha at lambda = 0: the frozen subspace, never learned. Hence::

    E_g(t) = sigma^2 + (1 - alpha)_+ A + int rho(lambda) [A E^2 + (sigma^2 / lambda)(1 - E)^2] dlambda,
    E_t(t) = sigma^2 (1 - 1/alpha)_+ + (1/alpha) int rho(lambda) E^2 (sigma^2 + lambda A) dlambda,

with E = e^{-lambda t/tau}. At t = 0 both equal A + sigma^2. As t -> infinity (:func:`advani_saxe_limits`):
E_t -> sigma^2 (1 - 1/alpha)_+; E_g -> sigma^2 alpha/(alpha - 1) for alpha > 1 and
(1 - alpha) A + sigma^2 / (1 - alpha) for alpha < 1. At alpha = 1, lambda_- = 0 and rho ~ lambda^{-1/2}, so the
noise term grows like sqrt(t) without bound: gradient descent overtrains.

Per-mode optimal stopping: each mode's test error A E^2 + (sigma^2/lambda)(1 - E)^2 is smallest at
t* = (tau/lambda) ln(1 + lambda A snr) (= (tau/lambda) ln(1 + lambda snr) for init_var = 0), where it equals
A sigma^2 / (sigma^2 + lambda A).

The integrals are done with scipy.integrate.quad_vec (all times at once) after lambda = lambda_- +
(lambda_+ - lambda_-)(1 - cos theta)/2, which removes the square-root edges.

Example
-------
>>> train, test = advani_saxe_errors([0.0, 1.0, 1e3], alpha=2.0, snr=4.0)
>>> [round(float(v), 4) for v in test]
[1.25, 0.4608, 0.5]
>>> [round(float(v), 4) for v in advani_saxe_limits(2.0, 4.0)]
[0.125, 0.5]
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.integrate import quad_vec

from analytic import checks

__all__ = ["mp_edges", "mp_density", "advani_saxe_errors", "advani_saxe_limits", "optimal_stopping_time",
           "advani_saxe_optimal_stopping_error", "advani_saxe_best_time"]

_EPSREL = 1e-10


def mp_edges(alpha: float) -> tuple[float, float]:
    """Edges (lambda_-, lambda_+) = ((1 - sqrt(alpha))^2, (1 + sqrt(alpha))^2) of the spectrum of C = X^T X."""
    alpha = checks.positive(alpha, "alpha")
    r = np.sqrt(alpha)
    return (1.0 - r) ** 2, (1.0 + r) ** 2


def mp_density(lam: ArrayLike, alpha: float) -> float | NDArray[np.float64]:
    """Continuous Marchenko-Pastur density of the eigenvalues of C = X^T X (x ~ N(0, I/N), P = alpha N).

    rho(lambda) = sqrt((lambda_+ - lambda)(lambda - lambda_-)) / (2 pi lambda) on [lambda_-, lambda_+], 0 elsewhere;
    it integrates to min(1, alpha) (for alpha < 1 the rest, 1 - alpha, is the atom at lambda = 0).

    >>> round(float(mp_density(1.0, 1.0)), 6)
    0.275664
    """
    lam = checks.finite_array(lam, "lam", allow_bool=False)
    lo, hi = mp_edges(alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.sqrt(np.clip((hi - lam) * (lam - lo), 0.0, None)) / (2.0 * np.pi * lam)
    rho = np.where((lam > lo) & (lam < hi), rho, 0.0)
    return rho if rho.ndim else float(rho)


def _check(alpha, snr, init_var, tau):
    return (checks.positive(alpha, "alpha"), checks.positive(snr, "snr"),
            checks.nonnegative(init_var, "init_var"), checks.positive(tau, "tau"))


def _spectral_integral(integrand, alpha, n_out):
    """int rho(lambda) integrand(lambda) dlambda over the continuous MP part; integrand returns (n_out,) arrays."""
    lo, hi = mp_edges(alpha)
    half = 0.5 * (hi - lo)

    def f(theta):
        lam = lo + half * (1.0 - np.cos(theta))
        weight = half * half * np.sin(theta) ** 2 / (2.0 * np.pi * lam)
        return weight * integrand(lam)

    value, _ = quad_vec(f, 0.0, np.pi, epsabs=1e-14, epsrel=_EPSREL, limit=20000)
    return np.asarray(value, dtype=float).reshape(n_out)


def advani_saxe_errors(t: ArrayLike, alpha: float, snr: float, init_var: float = 0.0, tau: float = 1.0
                       ) -> tuple[float, float] | tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(train_error, test_error) of the linear student at times ``t`` (N -> infinity; module docstring).

    Parameters
    ----------
    t : array_like, >= 0
        Times (in the units of tau; the loss is the SUM over samples, so one full-batch gradient step of
        learning rate eta on it advances t/tau by eta).
    alpha : float > 0
        P / N, samples per input dimension.
    snr : float > 0
        Teacher variance over label-noise variance (teacher variance = 1, label noise variance = 1/snr).
    init_var : float >= 0
        Variance of the student's initial weights.
    tau : float > 0
        Time constant of the gradient flow tau dw/dt = -dL/dw.

    Returns arrays shaped like ``t``: mean squared training error over the P samples, and expected test
    error on a fresh sample (label noise included).

    >>> tr, te = advani_saxe_errors([10.0, 100.0], alpha=1.0, snr=1.0)
    >>> bool(te[1] > te[0])     # alpha = 1 overtrains: the test error grows like sqrt(t)
    True
    """
    alpha, snr, init_var, tau = _check(alpha, snr, init_var, tau)
    t = checks.nonnegative(t, "t")
    shape = np.shape(t)
    tt = np.atleast_1d(np.asarray(t, dtype=float)).ravel() / tau
    sig2 = 1.0 / snr
    amp = 1.0 + init_var
    n = tt.size

    def integrand(lam):
        x = lam * tt
        decay = np.exp(-x)
        grow = -np.expm1(-x)
        test = amp * decay ** 2 + sig2 * grow ** 2 / lam
        train = decay ** 2 * (sig2 + lam * amp) / alpha
        return np.concatenate([test, train])

    both = _spectral_integral(integrand, alpha, 2 * n)
    test = sig2 + max(0.0, 1.0 - alpha) * amp + both[:n]
    train = sig2 * max(0.0, 1.0 - 1.0 / alpha) + both[n:]
    if shape == ():
        return float(train[0]), float(test[0])
    return train.reshape(shape), test.reshape(shape)


def advani_saxe_limits(alpha: float, snr: float, init_var: float = 0.0) -> tuple[float, float]:
    """(train_error, test_error) as t -> infinity; the test error is +inf at alpha = 1.

    E_t(inf) = sigma^2 (1 - 1/alpha)_+; E_g(inf) = sigma^2 alpha / (alpha - 1) for alpha > 1,
    (1 - alpha)(1 + init_var) + sigma^2 / (1 - alpha) for alpha < 1 (sigma^2 = 1/snr). These use
    int rho / lambda = 1/(alpha - 1) (alpha > 1) and alpha/(1 - alpha) (alpha < 1), the inverse-Wishart means.

    >>> advani_saxe_limits(0.5, 1.0)
    (0.0, 2.5)
    """
    alpha, snr, init_var, _ = _check(alpha, snr, init_var, 1.0)
    sig2 = 1.0 / snr
    train = sig2 * max(0.0, 1.0 - 1.0 / alpha)
    if alpha > 1.0:
        test = sig2 * alpha / (alpha - 1.0)
    elif alpha < 1.0:
        test = (1.0 - alpha) * (1.0 + init_var) + sig2 / (1.0 - alpha)
    else:
        test = np.inf
    return float(train), float(test)


def optimal_stopping_time(lam: ArrayLike, snr: float, init_var: float = 0.0, tau: float = 1.0
                          ) -> float | NDArray[np.float64]:
    """Per-mode optimal stopping time t* = (tau/lambda) ln(1 + lambda (1 + init_var) snr), for each eigenvalue lambda.

    Minimises A e^{-2 lambda t} + (sigma^2/lambda)(1 - e^{-lambda t})^2 over t (A = 1 + init_var, sigma^2 = 1/snr);
    the limit lambda -> 0 is t* = tau A snr.

    >>> round(float(optimal_stopping_time(1.0, 1.0)), 6)
    0.693147
    """
    lam = checks.nonnegative(lam, "lam")
    _, snr, init_var, tau = _check(1.0, snr, init_var, tau)
    k = (1.0 + init_var) * snr
    lam = np.asarray(lam, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(lam > 0, tau * np.log1p(lam * k) / np.where(lam > 0, lam, 1.0), tau * k)
    return out if out.ndim else float(out)


def advani_saxe_optimal_stopping_error(alpha: float, snr: float, init_var: float = 0.0) -> float:
    """Test error when every mode stops at its own t* (a lower bound on min_t E_g(t)).

    E* = sigma^2 + (1 - alpha)_+ A + int rho(lambda) A sigma^2 / (sigma^2 + lambda A) dlambda.

    >>> round(advani_saxe_optimal_stopping_error(1.0, 1.0), 6)
    1.618034
    """
    alpha, snr, init_var, _ = _check(alpha, snr, init_var, 1.0)
    sig2 = 1.0 / snr
    amp = 1.0 + init_var
    val = _spectral_integral(lambda lam: np.atleast_1d(amp * sig2 / (sig2 + lam * amp)), alpha, 1)[0]
    return float(sig2 + max(0.0, 1.0 - alpha) * amp + val)


def advani_saxe_best_time(alpha: float, snr: float, init_var: float = 0.0, tau: float = 1.0,
                          t_max: float = 1e4) -> tuple[float, float]:
    """(t_best, E_g(t_best)): the single early-stopping time minimising the test error, searched in [0, t_max].

    A log-spaced grid locates the minimum, then scipy.optimize.minimize_scalar refines it (bounded).
    """
    from scipy.optimize import minimize_scalar

    alpha, snr, init_var, tau = _check(alpha, snr, init_var, tau)
    t_max = checks.positive(t_max, "t_max")
    grid = np.concatenate([[0.0], np.geomspace(1e-3 * tau, t_max, 200)])
    _, test = advani_saxe_errors(grid, alpha, snr, init_var, tau)
    i = int(np.argmin(test))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    if hi <= lo:
        return float(grid[i]), float(test[i])
    res = minimize_scalar(lambda x: advani_saxe_errors(x, alpha, snr, init_var, tau)[1], bounds=(lo, hi),
                          method="bounded", options={"xatol": 1e-8 * max(hi, 1.0)})
    return float(res.x), float(res.fun)
