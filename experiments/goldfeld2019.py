r"""Goldfeld et al. (2019), "Estimating information flow in deep neural networks": the noisy 12-bit tanh network.

Set-up (their tanh experiment on the 12-bit task): 12-10-7-5-4-3-2 tanh on the 12-bit task, Gaussian noise of standard deviation
``noise_std = 0.005`` added after every hidden unit, in training and in the analysis (the network IS noisy),
Adam lr 4e-4, batch 256, 80/20 split; with and without the orthonormality step
:math:`W \leftarrow W - \alpha (W W^T W - W)` after every update on the hidden layers' weights
(Cisse et al. 2017's Parseval step), here :math:`\alpha = 3\cdot 10^{-4}` (:data:`ALPHA`; the papers' value is not
restated in the material this toolkit is built from, so this one is ours and stated).

I(X;T_l) by Goldfeld's estimator (:func:`sims.estimators.goldfeld`): the entropy of the Gaussian mixture centred on
samples of :math:`S_l = \tanh(W_l T_{l-1} + b_l)`, minus the conditional term.

.. warning::
   For every layer after the first, the centres must be samples of :math:`S_l` given the input, i.e. computed
   from a NOISY forward pass of the previous layers (:func:`noisy_centres`). Using the noiseless recorded activity
   as centres estimates the information of a different (deterministic-up-to-layer-l) network and is silently
   wrong. This module has no code path that does that: :func:`noisy_centres` is the only source of centres, and it
   always draws the previous layers' noise.

The conditional term :math:`h(T_l | X)` for l >= 2 uses R repeated noisy passes of each input (Goldfeld et al.'s
recipe), averaged over a random subset of inputs (an unbiased estimate of the mean over inputs), through the public
estimator on each input's R-sample mixture.

Clustering (their central point: compression is driven by clustering of the representations): :func:`clustered_fraction`
is the fraction of pairs of distinct inputs whose centres lie within ``3 * noise_std`` of each other, the pairs the
noise cannot tell apart. The claims test that I(X;T) falls under plain training, does not fall with orthonormal
weights, and that across the evaluated epochs I(X;T) falls as the clustered fraction rises (Spearman rank
correlation).

Two estimates of I(X;T_l) are stored and claimed. The **one-pass** estimate ``i_xt_goldfeld`` is the recipe above:
the entropy term from ONE noisy pass per input (n centres), the conditional term from R passes per input. The
**matched** estimate ``i_xt_goldfeld_matched`` (:func:`matched_goldfeld`) puts the same R noisy passes of each of
:math:`n_m` inputs into both terms, so each input's cloud is represented by the same R samples in
:math:`\hat h(T_l)` and in :math:`\hat h(T_l|X)`: when the clouds of different inputs do not overlap it is :math:`\ln n_m`
whatever each cloud's spread (in expectation over the Monte Carlo draws; exactly when each cloud's R samples are
themselves resolved by the noise), and it falls only where clouds of different inputs merge. The claims table
reports both: the one-pass claims test Goldfeld et al.'s estimator as they use it, the matched claims test whether
I(X;T) falls by clustering, the compression they describe; where the two disagree (below) the one-pass fall is the
estimator's finite-sample bias, not compression. Both are computed, at every evaluated epoch, by
:func:`goldfeld_layers`, the one per-layer Goldfeld estimate of the toolkit's experiments (the compression study's
Goldfeld cells, :func:`experiments.compression_study.measure_goldfeld`, use it too).

Quick scale: 3 networks x 2000 epochs, 14 evaluated epochs (every 4th of 41 log-spaced logged epochs and the last
5). One-pass: a random subset of 1024 of the 4096 patterns (the estimate saturates at ln 1024 = 10 bits),
conditional term over 128 inputs (redrawn at every epoch) x 16 passes, 2 Monte Carlo draws per centre. Matched: a
fixed random 256 of those 1024 inputs x 16 passes (ceiling log2 256 = 8 bits), 1 draw per centre (the entropy term's
mixture has 4096 centres; one draw keeps the quick scale near 100 s), at every evaluated epoch; its scatter over the
last 5 evaluated epochs of the orthonormal network's layers 2-5, where it sits at its ceiling, is 0.034 bits (sd,
pooled), against the 0.5-bit threshold. Full: 10,000 epochs, all 4096 patterns one-pass (conditional 512 x 32),
matched 512 inputs x 16 passes. The Dataset also stores each estimate's two terms per layer: ``entropy_goldfeld`` =
:math:`\hat h(T_l) - h(Z)` (one noisy pass per input, so at most :math:`\ln n`) and ``conditional_goldfeld`` =
:math:`\hat h(T_l|X) - h(Z)` (0 for the first layer); ``i_xt_goldfeld`` is their difference; likewise
``entropy_goldfeld_matched``, ``conditional_goldfeld_matched`` (attrs: ``n_inputs``, ``reps``, ``n_noise``).

Orthonormal weights: why "no hidden layer compresses" fails for the one-pass estimate, holds for the matched one
----------------------------------------------------------------------------------------------------------------
Measured at the quick scale (the claims' ``numbers`` hold the per-layer values; compression in bits, mean ± sd over
the 3 networks). One-pass estimate, orthonormal network: layer 1 0, layer 2 0.23 ± 0.04, layer 3 0.55 ± 0.04,
layer 4 0.58 ± 0.14, layer 5 (the last hidden layer) 0.13 ± 0.11; the largest over the hidden layers is
0.62 ± 0.10 bits, above the 0.5-bit threshold, so the claim fails. The plain network's layers 2-4 fall by about
as much (0.24 ± 0.17, 0.46 ± 0.05, 0.66 ± 0.11), its last hidden layer by 2.03 ± 1.40. The fall in layers 2-4 is
not the compression Goldfeld et al. (2019) describe, which comes with clustering of the representations (their
single neuron; the plain network's last hidden layer here, where the clustered fraction rises to ~0.06 and the
entropy term itself falls, 9.0 -> 6.9 bits):

* when: from the first epochs until ~600-1000 epochs, flat after (member means of the one-pass estimate, layer 3:
  8.18 bits at epoch 0, 7.52 at epoch 580, 7.56 at 2000; layer 4: 8.08, 7.44, 7.38);
* not clustering: no pair of inputs comes within 3 noise std in layers 2-4 (clustered fraction 0), and the entropy
  term :math:`\hat h(T_l) - h(Z)` stays at its ceiling log2 1024 = 10 bits;
* it is the conditional term: the truncated-normal initial weights of layers 2-4 have small singular values (the
  smallest 0.11-0.35, the largest 0.99-1.91 over the three networks' initial weights, seed 0), which damp the noise
  added in the layers before along their directions; the orthonormality step, at rate ~2 alpha per update, pulls
  every singular value toward 1 (measured on the quick scale's three networks, seed 0: the smallest rise to
  0.91-0.93 by epoch 1000 and 0.93-0.96 by epoch 2000, the largest fall to 1.17-1.29 by epoch 2000), so the earlier layers' noise reaches layers 3-4 undamped and
  :math:`\hat h(T_l|X) - h(Z)` rises (means, first evaluated epoch -> last 5: layer 3 1.82 -> 2.45 bits, layer 4
  1.81 -> 2.62);
* why the one-pass estimate falls although the representation does not cluster: its entropy term has one centre of
  width ``noise_std`` per input, so it cannot exceed :math:`\log_2 n` and does not grow with the spread of each
  input's cloud, while the conditional term (R passes per input) does; with the clouds far apart the estimate is
  :math:`\log_2 n` minus the conditional term and falls as the upstream noise spreads each cloud.

The matched estimate, computed at every evaluated epoch, shows this: with the same 16 passes per input in both
terms, the orthonormal network's layers 2-4 hold log2 256 = 8 bits at the start and at the end (layer 2 8.02 ± 0.03
-> 8.00 ± 0.01, layer 3 7.98 ± 0.04 -> 7.99 ± 0.02, layer 4 7.90 ± 0.13 -> 8.01 ± 0.02 bits; the one-pass estimate
meanwhile: layer 3 8.18 ± 0.09 -> 7.55 ± 0.07, layer 4 8.08 ± 0.21 -> 7.38 ± 0.03), its last hidden layer rises,
7.29 ± 0.60 -> 7.98 ± 0.01 (clouds that overlap at initialization move apart), and its compression is 0.01 ± 0.01,
0.03 ± 0.01, 0.01 ± 0.01, 0.00 ± 0.00 bits in layers 2-5 (largest 0.03 ± 0.01): the claim holds. In the plain
network the matched estimate keeps layers 2-4 flat (0.01 ± 0.01, 0.01 ± 0.01, 0.09 ± 0.14 bits) and its last hidden
layer compresses, 1.52 ± 1.64 bits (7.29 ± 0.60 -> 5.73 ± 1.43 bits; 0.57, 0.58 and 3.41 bits in the three networks,
two of them just above the threshold), where the representations cluster (clustered fraction at the end 0.04, 0.01
and 0.14, the largest in the network that compresses most). So under the matched estimator only the plain network's
last hidden layer compresses, the clustering Goldfeld et al. describe; the one-pass falls of layers 2-4 are gone in
both networks. The layer widths do not make the orthonormality constraint weaker: a 5-to-4 or 7-to-5 map with
orthonormal columns is fully constrained.

The one-pass fall persists at a larger scale: at 10,000 epochs (3 networks, the quick scale's one-pass settings)
the orthonormal network's layers 3-4 end 0.35-0.73 bits below epoch 0 (largest over hidden layers 0.58 ± 0.15 bits),
its last hidden layer 0.04 ± 0.04 bits. So the quick scale is not too short to show that result; the one-pass claim,
tested by the one compression measure on every hidden layer, fails in our runs for the reason above and the table
keeps the "no". The one-pass claim restricted to the last hidden layer, where Goldfeld et al.'s clustering happens,
holds.
"""
from __future__ import annotations

import dataclasses
import json
import os
import warnings
from typing import Any, Literal, Sequence

import numpy as np
from numpy.typing import ArrayLike
import xarray as xr
from scipy.stats import spearmanr

from analytic.checks import finite_array, positive, positive_int
from analytic.checks import rng as as_rng
from experiments.claims import Claim
from experiments.common import THRESHOLD_BITS, compression_bits
from experiments.registry import cached, check_scale, experiment
from experiments.result import ExperimentResult
from experiments.twelve_bit import WIDTHS, kde_epochs, to_dataset
from sims import MLP, datasets
from sims.backend import thread_map
from sims.estimators import BoundWarning, goldfeld
from sims.train import train

__all__ = ["ALPHA", "NOISE_STD", "noisy_centres", "clustered_fraction", "matched_goldfeld", "MatchedSubset",
           "GoldfeldLayers", "goldfeld_layers", "goldfeld_config", "train_noisy", "noisy_12bit"]

PAPER = "Goldfeld et al. 2019"
#: Per-layer quantities stored by :func:`train_noisy` (part of the cache key: results stored before the
#: entropy / conditional split was recorded are not reused).
STORED = ("i_xt", "i_ty", "clustered_fraction", "entropy", "conditional", "matched")
NOISE_STD = 0.005
ALPHA = 3e-4
SCALES = {"quick": dict(ensemble=3, epochs=2000, log_epochs=40, every=4, n_samples=1024, cond_inputs=128,
                        cond_reps=16, matched_inputs=256, matched_reps=16, matched_noise=1),
          "full": dict(ensemble=10, epochs=10000, log_epochs=100, every=2, n_samples=4096, cond_inputs=512,
                       cond_reps=32, matched_inputs=512, matched_reps=16, matched_noise=1)}


def noisy_centres(net: MLP, params: Sequence[tuple[np.ndarray, np.ndarray]], x: ArrayLike, noise_std: float,
                  rng: np.random.Generator, reps: int = 1) -> list[np.ndarray]:
    """Samples of every hidden layer's noise-free part :math:`S_l = f(W_l T_{l-1} + b_l)` given each input,
    with :math:`T_{l-1}` from a NOISY pass (noise ``noise_std`` after every hidden unit) and :math:`T_0 = x`.

    ``params``: ``[(W (E, in, out), b (E, out)), ...]``; ``x`` (S, d). Returns a list over hidden layers of
    arrays (E, S, units) for ``reps == 1`` or (E, S, reps, units) (``reps`` independent passes per input).
    """
    s = positive(noise_std, "noise_std")
    S = x.shape[0]
    xr_ = np.repeat(np.asarray(x, dtype=float), reps, axis=0)                  # (S * reps, d), input-major
    noisy = net.forward(params, xr_, noise_std=s, rng=rng)                     # T_l, noise added
    out = []
    for l in range(net.n_layers - 1):
        prev = np.broadcast_to(xr_, (noisy[0].shape[0],) + xr_.shape) if l == 0 else noisy[l - 1]
        W, b = params[l]
        c = np.asarray(net.activations[l].value(np.matmul(prev, W) + b[:, None, :]))
        out.append(c.reshape(c.shape[0], S, c.shape[-1]) if reps == 1 else c.reshape(c.shape[0], S, reps, -1))
    return out


def clustered_fraction(centres: ArrayLike, radius: float) -> np.ndarray:
    """Fraction of pairs of distinct samples whose centres are closer than ``radius``: centres (..., S, d) ->
    (...,). Pairs are counted blockwise (memory O(S * block))."""
    c = np.asarray(centres, dtype=float)
    lead, (S, d) = c.shape[:-2], c.shape[-2:]
    flat = c.reshape(-1, S, d)
    out = np.empty(flat.shape[0])
    r2 = float(radius) ** 2
    for i, a in enumerate(flat):
        sq = np.einsum("sd,sd->s", a, a)
        close = 0
        for s0 in range(0, S, 512):
            blk = a[s0:s0 + 512]
            d2 = sq[s0:s0 + 512, None] + sq[None, :] - 2.0 * blk @ a.T
            close += int((d2 < r2).sum())
        out[i] = (close - S) / (S * (S - 1))                                   # drop the diagonal
    return out.reshape(lead)


def matched_goldfeld(centres: ArrayLike, labels: ArrayLike, noise_std: float, n_noise: int = 1,
                     seed: np.random.Generator | int | None = None) -> tuple[np.ndarray, ...]:
    r"""Goldfeld's estimate with both terms on the same R samples of each input's cloud (nats).

    ``centres`` (..., n, R, units): R samples of :math:`S_l` for each of n inputs (R noisy passes of the input,
    :func:`noisy_centres` with ``reps=R``); ``labels`` (n,). With :math:`\hat h` the plug-in entropy of the
    Gaussian mixture :math:`\hat P * N(0, s^2 I)` (Goldfeld et al. 2019, Eq. 7; :func:`sims.estimators.goldfeld`),

    .. math::  \hat I_m(X;T_l) = [\hat h(\text{all } nR \text{ centres}) - h(Z)]
               - \frac1n \sum_x [\hat h(x\text{'s } R \text{ centres}) - h(Z)],

    and :math:`\hat I_m(T_l;Y)` from the same nR centres with each input's label repeated R times. Each input's
    cloud enters both terms through the same R samples, so when the clouds of different inputs do not overlap the
    estimate is :math:`\ln n` exactly (the mixture is n well separated copies of the per-input mixtures), whatever
    the spread of each cloud; it falls below only where clouds of different inputs merge (clustering). The
    one-pass estimate of :func:`train_noisy` (``i_xt_goldfeld``) instead represents each cloud by ONE centre in
    the entropy term and by R in the conditional term, so it falls as the clouds spread even when they stay apart.

    Returns ``(i_xt, i_ty, entropy, conditional)``, each (...,): the estimate, its I(T;Y), and the two terms
    :math:`\hat h(T_l) - h(Z)` and the mean :math:`\hat h(T_l|X) - h(Z)`.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> c = np.arange(4.0)[:, None, None] + 0.01 * rng.standard_normal((4, 8, 1))   # 4 inputs, 8 passes, 1 unit
    >>> i_xt, i_ty, h, k = matched_goldfeld(c, [0, 0, 1, 1], noise_std=1e-5, seed=1)
    >>> round(float(i_xt / np.log(4)), 6), round(float(i_ty / np.log(2)), 6)   # clouds far apart: ln 4, ln 2
    (1.0, 1.0)
    """
    c = finite_array(centres, "centres", min_ndim=3)             # (..., inputs, R, units)
    *lead, n, R, d = c.shape
    y = np.asarray(labels)
    if y.shape != (n,):
        raise ValueError(f"labels must have shape ({n},) (one per input), got {y.shape}")
    rng = as_rng(seed, "seed")
    h, i_ty = goldfeld(c.reshape(*lead, n * R, d), np.repeat(y, R), noise_std=noise_std, n_noise=n_noise, seed=rng)
    with warnings.catch_warnings():        # a few-centre mixture's raw MC value can dip below 0 (clipped)
        warnings.simplefilter("ignore", BoundWarning)
        k = goldfeld(c, np.zeros(R, dtype=np.int64), noise_std=noise_std, n_noise=n_noise, seed=rng)[0].mean(-1)
    h, i_ty, k = (np.asarray(v, dtype=float) for v in (h, i_ty, k))
    return h - k, i_ty, h, k


def goldfeld_config(*, orthonormality: float = 0.0, noise_std: float = NOISE_STD, ensemble: int = 3,
                    epochs: int = 2000, log_epochs: int = 40, every: int = 4, n_samples: int = 1024,
                    cond_inputs: int = 128, cond_reps: int = 16, matched_inputs: int = 256, matched_reps: int = 16,
                    matched_noise: int = 1, n_noise: int = 2, lr: float = 4e-4, batch_size: int = 256, seed: int = 0,
                    threads: int = 2) -> dict:
    """The configuration of one :func:`train_noisy` run (the cache key).

    ``n_samples`` inputs for the one-pass estimate (``n_noise`` Monte Carlo draws per centre), its conditional term
    on ``cond_inputs`` inputs x ``cond_reps`` passes; the matched estimate (:func:`matched_goldfeld`) on
    ``matched_inputs`` of the ``n_samples`` inputs x ``matched_reps`` passes, ``matched_noise`` draws per centre.
    """
    return {"orthonormality": float(orthonormality), "noise_std": float(noise_std), "ensemble": int(ensemble),
            "epochs": int(epochs), "log_epochs": log_epochs, "every": int(every), "n_samples": int(n_samples),
            "cond_inputs": int(cond_inputs), "cond_reps": int(cond_reps), "matched_inputs": int(matched_inputs),
            "matched_reps": int(matched_reps), "matched_noise": int(matched_noise), "n_noise": int(n_noise),
            "lr": float(lr),
            "batch_size": batch_size, "seed": int(seed), "threads": int(threads), "widths": list(WIDTHS),
            "activation": "tanh", "stored": list(STORED)}


@dataclasses.dataclass(frozen=True)
class MatchedSubset:
    """Where :func:`goldfeld_layers` computes the matched estimate (:func:`matched_goldfeld`): the ``index`` (n_m,)
    of its inputs among the rows of ``x``, ``reps`` noisy passes of each, ``n_noise`` Monte Carlo draws per
    centre, and its own generator ``rng`` (so that the one-pass estimate's draws do not depend on it)."""

    index: np.ndarray
    reps: int
    n_noise: int
    rng: np.random.Generator


@dataclasses.dataclass(frozen=True)
class GoldfeldLayers:
    """Goldfeld's estimates of every hidden layer at one set of parameters (:func:`goldfeld_layers`), in nats.

    ``i_xt``, ``i_ty``, ``entropy`` (:math:`\\hat h(T_l) - h(Z)`), ``conditional`` (the mean
    :math:`\\hat h(T_l|X) - h(Z)`, 0 for the first layer): the one-pass estimate, each (E, hidden layers);
    ``centres``: its centres, one (E, n, units) array per hidden layer (e.g. for :func:`clustered_fraction`);
    ``matched``: ``(i_xt, i_ty, entropy, conditional)`` of the matched estimate, each (E, hidden layers), or None.
    """

    i_xt: np.ndarray
    i_ty: np.ndarray
    entropy: np.ndarray
    conditional: np.ndarray
    centres: list[np.ndarray]
    matched: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None


def goldfeld_layers(net: MLP, params: Sequence[tuple[np.ndarray, np.ndarray]], x: ArrayLike, y: ArrayLike, *,
                    noise_std: float, cond_inputs: int, cond_reps: int, n_noise: int, rng: np.random.Generator,
                    clip: bool = False, matched: MatchedSubset | None = None, threads: int = 1) -> GoldfeldLayers:
    r"""Goldfeld et al.'s (2019) one-pass estimate of I(X;T_l), I(T_l;Y) for every hidden layer of a noisy network
    (and, with ``matched``, the matched estimate): the one estimate both :func:`train_noisy` and
    :func:`experiments.compression_study.measure_goldfeld` use.

    ``net``, ``params`` (``[(W (E, in, out), b (E, out)), ...]``): the network, with Gaussian noise of standard
    deviation ``noise_std`` after every hidden unit; ``x`` (n, d), ``y`` (n,): the inputs and labels. With
    :math:`S_l = f(W_l T_{l-1} + b_l)` and :math:`\hat h` the plug-in entropy of the Gaussian mixture
    :math:`\hat P * N(0, s^2 I)` (Goldfeld et al. 2019, Eq. 7; :func:`sims.estimators.goldfeld`, ``n_noise``
    Monte Carlo draws per centre), the one-pass estimate of layer l is

    .. math::  \hat I(X;T_l) = [\hat h(\{s_l(x_i)\}_{i=1}^n) - h(Z)]
               - \frac1m \sum_{j=1}^m [\hat h(\{s_l^{(r)}(x_{k_j})\}_{r=1}^R) - h(Z)],

    the first term on ONE noisy pass of each input (the centres :math:`s_l(x_i)`, :func:`noisy_centres`; at most
    :math:`\ln n`), the second (the conditional term, Goldfeld et al.'s recipe) on ``cond_reps`` = R noisy passes
    of each of ``cond_inputs`` = m inputs :math:`x_{k_j}` drawn without replacement from ``rng`` (an unbiased
    estimate of the mean over inputs), and 0 for the first layer (:math:`S_1` is a function of X);
    :math:`\hat I(T_l;Y)` from the same one-pass centres with their labels. The draws from ``rng``, in order: the
    one-pass centres, the conditional subset, its passes, then per layer the entropy term and (l >= 2) the
    conditional term.

    ``clip``: after the conditional term, clip I(X;T) at 0 and I(T;Y) at I(X;T) (the range policy of
    :mod:`sims.estimators` applied to the difference; what the compression study stores), for both estimates.
    Without it the difference is returned as it is (what :mod:`experiments.goldfeld2019` stores).

    ``matched``: also the matched estimate (:func:`matched_goldfeld`) on ``matched.reps`` noisy passes of the
    inputs ``x[matched.index]``, its draws from ``matched.rng`` only (the passes, then one spawned generator per
    layer, the layers on ``threads`` threads; no number depends on ``threads``).

    Returns a :class:`GoldfeldLayers`. Raw Monte Carlo values the estimator clips to its range raise no
    :class:`~sims.estimators.BoundWarning` where they are expected: I(T;Y) a hair below 0 in the one-pass entropy
    term, and any in the conditional term's few-centre mixtures and in the matched estimate.

    >>> import numpy as np
    >>> from sims import MLP
    >>> net = MLP([3, 4, 2, 2], activation="tanh")
    >>> params = net.init_params(2, seed=0)
    >>> x = np.random.default_rng(1).integers(0, 2, (16, 3)).astype(float)
    >>> est = goldfeld_layers(net, params, x, x[:, 0].astype(int), noise_std=0.01, cond_inputs=4, cond_reps=8,
    ...                       n_noise=2, rng=np.random.default_rng(2))
    >>> est.i_xt.shape, bool(np.allclose(est.i_xt, est.entropy - est.conditional)), est.matched is None
    ((2, 2), True, True)
    """
    s = positive(noise_std, "noise_std")
    x = finite_array(x, "x", min_ndim=2)
    y = np.asarray(y)
    if y.shape != (x.shape[0],):
        raise ValueError(f"y must have shape ({x.shape[0]},) (one label per input), got {y.shape}")
    reps = positive_int(cond_reps, "cond_reps")
    m = min(positive_int(cond_inputs, "cond_inputs"), x.shape[0])
    n_noise = positive_int(n_noise, "n_noise")
    rng = as_rng(rng, "rng")
    centres = noisy_centres(net, params, x, s, rng)
    sub = rng.choice(x.shape[0], size=m, replace=False)
    cond = noisy_centres(net, params, x[sub], s, rng, reps=reps)
    zeros = np.zeros(reps, dtype=np.int64)
    i_xt, i_ty, ent, con = [], [], [], []
    for l, c in enumerate(centres):
        with warnings.catch_warnings():           # raw MC I(T;Y) a hair below 0 (clipped to 0): expected
            warnings.filterwarnings("ignore", message=r"goldfeld: raw I\(T;Y\) estimate -", category=BoundWarning)
            h, b = goldfeld(c, y, noise_std=s, n_noise=n_noise, seed=rng)   # h(T_l) - h(Z), I(T_l;Y)
        k = np.zeros_like(h)                      # h(T_l | X) - h(Z): 0 for the first layer (S_1 is a function of X)
        if l > 0:                                 # S_l is random given X: subtract the mean conditional term
            with warnings.catch_warnings():       # a few-centre mixture's raw MC value can dip below 0 (clipped)
                warnings.simplefilter("ignore", BoundWarning)
                k = goldfeld(cond[l], zeros, noise_std=s, n_noise=n_noise, seed=rng)[0].mean(-1)
        i_xt.append(h - k)
        i_ty.append(b)
        ent.append(h)
        con.append(k)
    one = [np.stack(v, -1) for v in (i_xt, i_ty, ent, con)]
    both = [one]
    if matched is not None:
        idx = np.asarray(matched.index)
        rng_m = as_rng(matched.rng, "matched.rng")
        cm = noisy_centres(net, params, x[idx], s, rng_m, reps=positive_int(matched.reps, "matched.reps"))
        jobs = [(c, y[idx], s, positive_int(matched.n_noise, "matched.n_noise"), r)
                for c, r in zip(cm, rng_m.spawn(len(cm)))]
        with warnings.catch_warnings():    # the filters are process-wide: the threads' own catch_warnings race
            warnings.simplefilter("ignore", BoundWarning)
            out = thread_map(matched_goldfeld, jobs, threads)
        both.append([np.stack(v, -1) for v in zip(*out)])
    if clip:
        for est in both:
            est[0] = np.maximum(est[0], 0.0)
            est[1] = np.minimum(est[1], est[0])
    return GoldfeldLayers(*both[0], centres=centres, matched=tuple(both[1]) if matched is not None else None)


def train_noisy(cfg: dict, checkpoint: str | os.PathLike | None = None, *, progress: bool = False) -> xr.Dataset:
    """Train the noisy tanh ensemble of ``cfg`` and estimate I(X;T_l), I(T_l;Y) and clustering per hidden layer."""
    data = datasets.tishby_12bit(train_fraction=0.8, seed=cfg["seed"])
    net = MLP(cfg["widths"], activation="tanh")
    run = train(net, data, ensemble=cfg["ensemble"], epochs=cfg["epochs"], batch_size=cfg["batch_size"],
                optimizer="adam", lr=cfg["lr"], seed=cfg["seed"], log_epochs=cfg["log_epochs"],
                noise_std=cfg["noise_std"], orthonormality=cfg["orthonormality"], record_params=True,
                checkpoint=checkpoint, progress=progress, threads=cfg["threads"])
    rng = np.random.default_rng([cfg["seed"], 2019])
    idx_s = np.sort(rng.choice(data.x_analysis.shape[0], size=cfg["n_samples"], replace=False))
    x, y = np.asarray(data.x_analysis, float)[idx_s], np.asarray(data.y_analysis)[idx_s]
    L, E, n = len(run.epochs), run.ensemble, net.n_layers
    ev = kde_epochs(L, cfg["every"])
    # the matched estimate: a fixed random subset of the n_samples inputs, its own generator (the one-pass
    # estimate's draws are unchanged by it), the hidden layers spread over cfg["threads"] threads
    rng_m = np.random.default_rng([cfg["seed"], 2019, 1])
    n_m = min(cfg["matched_inputs"], x.shape[0])
    matched = MatchedSubset(np.sort(rng_m.choice(x.shape[0], size=n_m, replace=False)), cfg["matched_reps"],
                            cfg["matched_noise"], rng_m)
    i_xt, i_ty, clus, ent, con, m_xt, m_ty, m_h, m_k = (np.full((E, L, n), np.nan) for _ in range(9))
    for i in ev:
        est = goldfeld_layers(net, run.params_at(i), x, y, noise_std=cfg["noise_std"], cond_inputs=cfg["cond_inputs"],
                              cond_reps=cfg["cond_reps"], n_noise=cfg["n_noise"], rng=rng, matched=matched,
                              threads=cfg["threads"])
        i_xt[:, i, :-1], i_ty[:, i, :-1] = est.i_xt, est.i_ty
        ent[:, i, :-1], con[:, i, :-1] = est.entropy, est.conditional
        clus[:, i, :-1] = np.stack([clustered_fraction(c, 3 * cfg["noise_std"]) for c in est.centres], -1)
        m_xt[:, i, :-1], m_ty[:, i, :-1], m_h[:, i, :-1], m_k[:, i, :-1] = est.matched
    ds = to_dataset(run, {"goldfeld": (i_xt, i_ty), "goldfeld_matched": (m_xt, m_ty)}, cfg, x, y, ev)
    ds["clustered_fraction"] = (("member", "epoch", "layer"), clus)
    ds["entropy_goldfeld"] = (("member", "epoch", "layer"), ent, {"units": "nats", "what": "h(T_l) - h(Z)"})
    ds["conditional_goldfeld"] = (("member", "epoch", "layer"), con, {"units": "nats", "what": "h(T_l|X) - h(Z)"})
    ds["entropy_goldfeld_matched"] = (("member", "epoch", "layer"), m_h)
    ds["conditional_goldfeld_matched"] = (("member", "epoch", "layer"), m_k)
    how = {"units": "nats", "n_inputs": n_m, "reps": cfg["matched_reps"], "n_noise": cfg["matched_noise"],
           "estimator": "matched_goldfeld: both terms on the same reps noisy passes of each of n_inputs inputs"}
    for v, what in (("i_xt_goldfeld_matched", "I(X;T_l)"), ("i_ty_goldfeld_matched", "I(T_l;Y)"),
                    ("entropy_goldfeld_matched", "h(T_l) - h(Z)"), ("conditional_goldfeld_matched", "h(T_l|X) - h(Z)")):
        ds[v].attrs.update(how, what=what)
    return ds


def _layer_story(ds: xr.Dataset, layers: Sequence[int], matched: bool = False) -> dict:
    """Per hidden layer (mean over members, bits): the compression (and its sd over members), the epoch its peak
    window starts, I(X;T_l) at the first evaluated epoch and at the end (last 5 evaluated epochs), the entropy term
    h(T_l) - h(Z) and the conditional term h(T_l|X) - h(Z) at the start and the end, the estimator's ceiling
    log2 n, and the clustered fraction. ``matched``: the same for the matched estimate (:func:`matched_goldfeld`)."""
    from analytic.units import to_bits
    from experiments.compression import WINDOW, compression_detail

    keep = ds.kde_logged.values.astype(bool)
    e = ds.epoch.values[keep]
    sfx = "_matched" if matched else ""
    n = ds[f"i_xt_goldfeld{sfx}"].attrs["n_inputs"] if matched else json.loads(ds.attrs["config"])["n_samples"]
    out = {"layers": list(layers), "ceiling_bits": float(np.log2(n))}
    for key, var in (("compression", f"i_xt_goldfeld{sfx}"), ("entropy", f"entropy_goldfeld{sfx}"),
                     ("conditional", f"conditional_goldfeld{sfx}"), ("clustered", "clustered_fraction")):
        v = ds[var].sel(layer=list(layers)).values[:, keep, :]       # (member, evaluated epoch, layer)
        v = v if key == "clustered" else to_bits(v)
        if key == "compression":
            c = compression_detail(np.moveaxis(v, 1, -1), e)
            out["compression_bits"] = c.drop.mean(0)
            out["compression_sd_bits"] = c.drop.std(0, ddof=1) if c.drop.shape[0] > 1 else np.zeros(len(layers))
            out["peak_epoch"] = np.median(c.peak_epoch, axis=0)
            key = "i_xt"
        out[f"{key}_start"] = v[:, 0].mean(0)
        out[f"{key}_end"] = v[:, -WINDOW:].mean((0, 1))
    return out


@experiment("goldfeld-noisy-12bit", "Goldfeld 2019: noisy 12-bit tanh network (noise std 0.005), with and without "
            "orthonormal weights: I(X;T) by Goldfeld's estimator and clustering", PAPER)
def noisy_12bit(scale: Literal["quick", "full"] = "quick", verbose: bool = False, **overrides: Any) -> ExperimentResult:
    """Claims (one-pass estimate): without orthonormality the last hidden layer compresses; with it no hidden layer
    does, and its last hidden layer does not; the same two claims on the matched estimate (:func:`matched_goldfeld`);
    and I(X;T) falls as the representations cluster (rank correlation over the evaluated epochs, last hidden
    layer, one-pass estimate)."""
    base = {**SCALES[check_scale(scale)], **overrides}
    runs = {}
    for name, alpha in (("plain", 0.0), ("orthonormal", ALPHA)):
        cfg = goldfeld_config(orthonormality=alpha, **base)
        runs[name] = cached("goldfeld-noisy", cfg, lambda ck, cfg=cfg: train_noisy(cfg, ck, progress=verbose),
                            scale=scale, verbose=verbose).data
    ds = xr.concat([runs[k] for k in runs], dim="weights", join="outer", combine_attrs="drop")
    ds = ds.assign_coords(weights=list(runs))
    ds.attrs["configs"] = json.dumps({k: json.loads(v.attrs["config"]) for k, v in runs.items()})
    ds.attrs["h_x"], ds.attrs["h_y"] = runs["plain"].attrs["h_x"], runs["plain"].attrs["h_y"]
    hidden = [int(l) for l in ds.layer.values[:-1]]
    last = hidden[-1]
    plain = runs["plain"]
    keep = plain.kde_logged.values
    rho = []
    for m in plain.member.values:
        ixt = plain.i_xt_goldfeld.sel(member=m, layer=last).values[keep]
        cf = plain.clustered_fraction.sel(member=m, layer=last).values[keep]
        r = spearmanr(ixt, cf).statistic if np.ptp(cf) > 0 and np.ptp(ixt) > 0 else 0.0
        rho.append(float(r))
    story = {k: _layer_story(runs[k], hidden) for k in runs}
    matched = {k: _layer_story(runs[k], hidden, matched=True) for k in runs}
    m_cfg = runs["plain"].i_xt_goldfeld_matched.attrs
    m_how = f"{m_cfg['reps']} noisy passes of each of {m_cfg['n_inputs']} inputs in both terms"
    claims = [
        Claim.measured(PAPER, "noisy 12-bit net", "noisy tanh network: the last hidden layer compresses (Goldfeld's estimator)",
                       compression_bits(plain, "i_xt_goldfeld", [last]), ">", THRESHOLD_BITS,
                       quantity=f"compression of Goldfeld I(X;T), layer {last} (bits)", experiment="goldfeld-noisy-12bit"),
        Claim.measured(PAPER, "noisy 12-bit net", f"with orthonormal weights (alpha = {ALPHA:g}) no hidden layer compresses",
                       compression_bits(runs["orthonormal"], "i_xt_goldfeld", hidden), "<", THRESHOLD_BITS,
                       quantity="compression of Goldfeld I(X;T), largest over hidden layers (bits)",
                       experiment="goldfeld-noisy-12bit", numbers={"per_layer": story["orthonormal"],
                                                                   "plain_per_layer": story["plain"]}),
        Claim.measured(PAPER, "noisy 12-bit net", "with orthonormal weights the last hidden layer does not compress",
                       compression_bits(runs["orthonormal"], "i_xt_goldfeld", [last]), "<", THRESHOLD_BITS,
                       quantity=f"compression of Goldfeld I(X;T), layer {last} (bits)",
                       experiment="goldfeld-noisy-12bit"),
        Claim.measured(PAPER, "noisy 12-bit net", "noisy tanh network: the last hidden layer compresses (matched "
                       f"estimator: {m_how})", compression_bits(plain, "i_xt_goldfeld_matched", [last]), ">",
                       THRESHOLD_BITS, quantity=f"compression of matched Goldfeld I(X;T), layer {last} (bits)",
                       experiment="goldfeld-noisy-12bit", numbers={"per_layer": matched["plain"]}),
        Claim.measured(PAPER, "noisy 12-bit net", f"with orthonormal weights (alpha = {ALPHA:g}) no hidden layer "
                       f"compresses (matched estimator: {m_how})",
                       compression_bits(runs["orthonormal"], "i_xt_goldfeld_matched", hidden), "<", THRESHOLD_BITS,
                       quantity="compression of matched Goldfeld I(X;T), largest over hidden layers (bits)",
                       experiment="goldfeld-noisy-12bit", numbers={"per_layer": matched["orthonormal"],
                                                                   "plain_per_layer": matched["plain"]}),
        Claim.measured(PAPER, "noisy 12-bit net", "I(X;T) falls as the representations cluster (last hidden layer)", rho,
                       "<", -0.5, quantity="Spearman rank correlation of I(X;T) with the clustered fraction",
                       experiment="goldfeld-noisy-12bit"),
    ]
    return ExperimentResult("goldfeld-noisy-12bit", scale, ds, claims)
