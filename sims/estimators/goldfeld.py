"""Goldfeld et al.'s estimator for noisy networks (ICML 2019, Sec. 4): ``h(P_hat_n * N(0, s^2 I))`` by Monte Carlo.

In a noisy network ``T = S + Z`` with ``S = f(W T_prev + b)`` and ``Z ~ N(0, s^2 I)`` (``s`` = ``noise_std``, a
STANDARD DEVIATION). Given n samples ``S_1..S_n`` of S (one per input sample), ``h(T)`` is estimated by the entropy of
the Gaussian mixture ``P_hat_n * N_s = (1/n) sum_i N(S_i, s^2 I)`` (their Eq. 7); this plug-in converges like
``c^d n^(-1/2)`` (their Thm. 2). The mixture entropy is computed by Monte Carlo: for each centre ``i`` draw
``n_noise`` points ``t = S_i + s Z`` and average ``-ln p_hat(t)``. Subtracting the exactly known Gaussian term
``-ln phi_s(Z)`` (a control variate with mean ``(d/2) ln(2 pi e s^2)``) gives the MI form used here,

    I_hat(X;T) = mean over draws of [ ln n - ln sum_j exp(-(||S_i + sZ - S_j||^2 - ||sZ||^2) / (2 s^2)) ]
                 - mean_x I_hat_cond(x),

which has far smaller variance than ``h`` itself (it is exactly 0 variance for well-separated centres). The
conditional term: if ``S`` is a deterministic function of X (first hidden layer, or any layer of a network that is
noiseless before it), ``h(T|X) = (d/2) ln(2 pi e s^2)`` exactly and the second term is 0. Otherwise pass
``conditional``: for each input sample, R samples of S from repeated noisy passes of that input, shape
(..., samples, R, units), or a callable ``conditional(rng)`` returning them (see :func:`mlp_conditional`); then
``h(T|X=x)`` is the same estimator on those R centres.

``I(T;Y) = h(T) - sum_y p(y) h(T|y)`` with each entropy estimated on the class's centres (the same draws).
Results are in nats; ``return_stderr=True`` also returns Monte Carlo standard errors (stratified over centres;
the sampling error of P_hat_n itself is not included — that is what the n-dependence in the validation shows).
Identical (centre, label) samples are merged into one weighted mixture component, which is exact and makes
minimal models with a few distinct inputs cheap; batch items are looped, draws within an item are vectorized in
blocks of bounded memory.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = rng.choice([-3.0, -1.0, 1.0, 3.0], size=2000)
>>> s = np.tanh(0.5 * x)[:, None]                                  # single tanh neuron, w=0.5, b=0
>>> i_xt, i_ty = goldfeld(s, (x == 3).astype(int), noise_std=0.1, seed=1)
>>> round(float(i_xt), 2)                          # exact value (1-D quadrature): 1.3500 nats
1.35
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from analytic.checks import finite_array
from analytic.checks import rng as as_rng
from analytic.pairwise_distances import gram_is_precise, neg_scaled_sq_dists, scaled_centred
from sims.estimators import _common
from sims.estimators._common import (check_activity, count, enforce_range, label_codes, label_entropy, real_array,
                                     real_positive)

if TYPE_CHECKING:
    from sims.mlp import MLP

__all__ = ["goldfeld", "mlp_conditional"]

_BLOCK = 2 ** 22
_LN2 = float(np.log(2.0))


def _weighted_lse(a, w):
    """ln sum_j w_j exp(a_kj) for a (m, n), w (n, C) >= 0 -> (m, C); row-max shifted."""
    m = a.max(axis=-1, keepdims=True)
    with np.errstate(divide="ignore"):                  # a class far from the draw: ln 0 = -inf, handled by caller
        return np.log(np.exp(a - m) @ w) + m


def _mc_one(centres, labels_codes, noise_std, n_noise, rng):
    """Monte Carlo terms for ONE mixture (1/n) sum_i N(centres_i, s^2 I); centres (n, d).

    Identical (centre, label) rows are merged into one weighted component (exact; it makes minimal models with a
    handful of distinct inputs cheap). Returns (i_xt, i_ty, se_xt, se_ty) for this mixture in MI form.

    For a draw ``S_o + s Z`` of component o the exponent against component j is
    ``-(||S_o - S_j||^2 + 2 s Z.(S_o - S_j)) / (2 s^2) = -(g^2/2) D'_oj - g Z.(v_o - v_j)`` in the scaled units
    of :mod:`analytic.pairwise_distances` (``S - mean = v 2**e``, ``g = 2**e / s``; where Gram distances would lose
    precision, from ``u = (S_o - S_j) / s`` directly): no cancellation of ``||S_o + sZ - S_j||^2 - ||sZ||^2``, no
    overflow for huge activity or tiny ``s``, and the own term is exactly 0.
    """
    n, d = centres.shape
    lab = np.zeros(n, dtype=np.int64) if labels_codes is None else labels_codes
    uniq, counts = np.unique(np.column_stack([centres, lab]), axis=0, return_counts=True)
    v, e = scaled_centred(uniq[None, :, :d])
    v = v[0]
    lk = uniq[:, d].astype(np.int64)
    w = counts / n
    K = v.shape[0]
    C = int(lk.max()) + 1
    cls = np.zeros((K, C + 1))
    p_y = np.bincount(lk, weights=w, minlength=C)
    cls[np.arange(K), lk] = w / p_y[lk]
    cls[:, C] = w                                             # last column: the full mixture
    reps = counts * n_noise                                   # same draws per SAMPLE as without merging
    owner = np.repeat(np.arange(K), reps)
    z = rng.standard_normal((owner.size, d))                  # noise in units of s
    log_c = -np.log(noise_std) * 2.0                          # c = 1 / s^2
    precise = not gram_is_precise(v[None], e, log_c - np.log(2.0))
    M = owner.size
    rows = max(1, min(M, _BLOCK // max(1, K * (d if precise else 1))))
    v_full = np.empty(M)
    v_cls = np.empty(M)
    if not precise:                                           # modest g = 2**e / s: Gram distances
        g = float(np.exp(_LN2 * e[0] + 0.5 * log_c))
        zv_own = np.einsum("md,md->m", z, v[owner])
    for r0 in range(0, M, rows):
        R = slice(r0, min(M, r0 + rows))
        o = owner[R]
        o0, o1 = int(o[0]), int(o[-1]) + 1                      # owners are sorted: a contiguous range
        if precise:
            # u = (S_o - S_j) / s in original units (clipped at 1e150: beyond, exp(.) = 0 anyway)
            with np.errstate(over="ignore"):
                u = np.ldexp(v[o0:o1, None, :] - v[None, :, :], int(e[0]))
                f = np.exp(0.25 * log_c)                       # sqrt(c) as two finite factors (0 * f = 0)
                u *= f
                u *= f
            np.clip(u, -1e150, 1e150, out=u)
            half_d = 0.5 * np.einsum("ojd,ojd->oj", u, u)
            a = -half_d[o - o0]
            a -= np.einsum("md,mjd->mj", z[R], u[o - o0])
        else:
            d2 = -neg_scaled_sq_dists(v[None, o0:o1], v[None], np.zeros(1, dtype=np.int64), np.zeros(1), False)[0]
            a = g * (z[R] @ v.T)
            a -= (g * zv_own[R])[:, None]
            a -= (0.5 * g * g) * d2[o - o0]
        a[np.arange(a.shape[0]), o] = 0.0                      # own component: exactly exp(0)
        lse = _weighted_lse(a, cls)
        own = lse[np.arange(lse.shape[0]), lk[o]]
        bad = ~np.isfinite(own)                              # own-class sum underflowed (|z| of ~38 sigma)
        if np.any(bad):
            same = lk[None, :] == lk[o][bad][:, None]
            ab = np.where(same, a[bad], -np.inf)
            mb = ab.max(axis=-1, keepdims=True)
            own[bad] = (np.log(np.sum(np.exp(ab - mb) * cls[:, lk[o][bad]].T, axis=-1)) + mb[:, 0])
        v_full[R] = -lse[:, C]
        v_cls[R] = -own
    wd = np.full(M, 1.0 / M)                                  # every draw has weight 1/(n n_noise)
    i_xt = wd @ v_full
    diff = v_full - v_cls
    i_ty = wd @ diff
    se = lambda v, mean: np.sqrt(np.sum(wd ** 2 * (v - mean) ** 2))  # MC standard error
    return i_xt, i_ty, se(v_full, i_xt), se(diff, i_ty)


def _mc_terms(centres, labels_codes, noise_std, n_noise, rng):
    """Loop over batch items (B, n, d) -> four arrays (B,)."""
    out = np.array([_mc_one(cb, labels_codes, noise_std, n_noise, rng) for cb in centres])
    return out.T if out.size else np.zeros((4, 0))


def goldfeld(activity: ArrayLike, labels: ArrayLike, noise_std: float,
             conditional: ArrayLike | Callable[[np.random.Generator], ArrayLike] | None = None, n_noise: int = 4,
             seed: np.random.Generator | int | None = None, return_stderr: bool = False, threads: int | None = 1
             ) -> tuple[float | NDArray[np.float64], ...]:
    """Goldfeld's ``(I(X;T), I(T;Y))`` in nats for ``T = S + N(0, noise_std^2 I)``.

    ``activity`` (..., samples, units): the noise-free part S of the layer for each input sample.
    ``labels`` (samples,). ``conditional``: None (S deterministic given X), an array (..., samples, R, units)
    of repeated-pass samples of S for each input, or a callable ``conditional(rng)`` returning one.
    ``n_noise``: Monte Carlo noise draws per centre. ``seed``: seed or numpy Generator.
    With ``return_stderr`` returns ``(i_xt, i_ty, se_xt, se_ty)``. ``threads``: BLAS threads (default 1, None:
    unchanged). The estimates follow the range policy of :mod:`sims.estimators._common` (clipped to
    ``[0, ln S]`` and ``[0, min(I(X;T), H(Y))]``, a :class:`~sims.estimators.BoundWarning` when the raw Monte
    Carlo value is outside by more than rounding).
    """
    act, y, batch = check_activity(activity, labels)
    s = real_positive(noise_std, "noise_std")
    k = count(n_noise, "n_noise")
    rng = as_rng(seed, "seed")
    codes, _, p = label_codes(y)
    S, U = act.shape[-2:]
    flat = act.reshape(-1, S, U)
    with _common.blas_threads(threads):
        i_xt, i_ty, se_xt, se_ty = _mc_terms(flat, codes, s, k, rng)
        if conditional is not None:
            cond = conditional(rng) if callable(conditional) else conditional
            cond = real_array(cond, "conditional", min_ndim=3)
            if cond.shape[:-2] != act.shape[:-1] or cond.shape[-1] != U:
                raise ValueError(f"conditional must have shape {act.shape[:-1]} + (R, {U}), got {cond.shape}")
            R = cond.shape[-2]
            c_xt, _, c_se, _ = _mc_terms(cond.reshape(-1, R, U), None, s, k, rng)   # one mixture per input
            c_xt, c_se = c_xt.reshape(-1, S), c_se.reshape(-1, S)
            i_xt = i_xt - c_xt.mean(-1)
            se_xt = np.sqrt(se_xt ** 2 + np.sum(c_se ** 2, axis=-1) / S ** 2)
    i_xt, i_ty = enforce_range(i_xt, i_ty, S, label_entropy(p), "goldfeld")
    out = (i_xt.reshape(batch)[()], i_ty.reshape(batch)[()])
    if return_stderr:
        out += (se_xt.reshape(batch)[()], se_ty.reshape(batch)[()])
    return out


def mlp_conditional(net: MLP, params: Sequence[tuple[ArrayLike, ArrayLike]], x: ArrayLike, layer: int,
                    noise_std: float, reps: int = 32) -> Callable[[np.random.Generator], NDArray[np.float64]]:
    """Callable for ``goldfeld(conditional=...)``: R noise-free samples of hidden layer ``layer`` per input.

    Each of ``reps`` passes runs ``net.forward(params, x, noise_std, rng)`` (noise after every hidden activation,
    Goldfeld et al.'s noisy network), takes the noisy activity of layer ``layer - 1`` (or ``x`` for ``layer == 0``)
    and applies layer ``layer``'s affine map and activation WITHOUT its own noise. Returns arrays
    (E, samples, reps, units), E = ensemble members of ``params``.
    """
    reps = count(reps, "reps")
    noise_std = real_positive(noise_std, "noise_std")
    layer = count(layer, "layer", minimum=0)
    x = finite_array(x, "x", min_ndim=2)                    # network input: 0/1 booleans allowed
    if x.shape[-1] != net.widths[0]:
        raise ValueError(f"x must have {net.widths[0]} input columns (the network's input width), got shape "
                         f"{x.shape}")
    if not 0 <= layer < net.n_layers - 1:
        raise ValueError(f"layer must index a hidden layer 0..{net.n_layers - 2}, got {layer}")
    W, b = params[layer]
    W, b = np.asarray(W, dtype=float), np.asarray(b, dtype=float)
    f = net.activations[layer]

    def sample(rng):
        out = []
        for _ in range(reps):
            if layer == 0:
                prev = np.broadcast_to(np.asarray(x, dtype=float), (W.shape[0],) + np.shape(x))
            else:
                prev = np.asarray(net.forward(params, x, noise_std=noise_std, rng=rng)[layer - 1], dtype=float)
            out.append(np.asarray(f.value(np.matmul(prev, W) + b[:, None, :])))
        return np.stack(out, axis=-2)

    return sample
