"""Empirical estimators of I(X;T) and I(T;Y) on recorded activity, all in nats.

Every estimator takes ``activity`` of shape (..., samples, units) — any leading axes (ensemble, epoch) are batch
axes — and ``labels`` of shape (samples,), and returns ``(i_xt, i_ty)`` with the leading axes kept. The samples are
the analysis set's inputs, taken as equiprobable.

=======================  ========================================================  ====================================
estimator                what                                                      source
=======================  ========================================================  ====================================
``binned``               fixed edges / width / min-max equal bins; T = tuple       Shwartz-Ziv & Tishby 2017; Saxe 2018
``adaptive``             bins at quantiles of the distinct activity values         Chelombiev et al. 2019
``kde``                  KL upper / Bhattacharyya lower pairwise bounds            Kolchinsky & Tracey 2017; Saxe 2018
``goldfeld``             h(P_hat_n * N_s) by Monte Carlo, noisy networks           Goldfeld et al. 2019
``kozachenko_leonenko``  k-NN entropy difference of noisy activity                 Kozachenko & Leonenko 1987; Saxe B.3
``ksg``                  k-NN MI in the joint space (algorithm 1), noisy activity  Kraskov et al. 2004
``quantized``            exact H(T) of b-bit quantized activity                    Lorenzen et al. 2022
=======================  ========================================================  ====================================

``kraskov`` is the deprecated former name of ``kozachenko_leonenko`` (it warns; it is not the KSG estimator).

Range policy: every estimate is clipped to its information-theoretic range, ``0 <= I(X;T) <= ln S`` and
``0 <= I(T;Y) <= min(I(X;T), H(Y))`` for S equiprobable samples; a raw value outside it by more than rounding
(1e-9 nats) emits a :class:`BoundWarning` (a ``RuntimeWarning``) naming the estimator, the bound and the raw
value. Matrix products run with one BLAS thread by default (``threads=`` on ``kde``, ``kde_bounds``,
``goldfeld``).

>>> import numpy as np
>>> from sims import estimators
>>> act = np.tanh(np.random.default_rng(0).normal(size=(4, 512, 3)))
>>> i_xt, i_ty = estimators.binned(act, np.arange(512) % 2)
>>> i_xt.shape
(4,)
"""
from sims.estimators._common import BoundWarning
from sims.estimators.adaptive import adaptive
from sims.estimators.binned import binned
from sims.estimators.goldfeld import goldfeld, mlp_conditional
from sims.estimators.kde import kde, kde_bounds
from sims.estimators.knn import kl_entropy, kozachenko_leonenko, kraskov, kraskov_entropy, ksg, ksg_mi
from sims.estimators.quantized import quantized
from sims.estimators import conv_layers  # concat / mean methods for conv layers, KDE noise tuning (2019 thesis)

#: name -> function, for ``sims.info_plane(run, "binned", ...)``.
#: ``"kraskov"`` is the deprecated alias (warns). ``ksg`` needs ``inputs=`` and is not listed.
ESTIMATORS = {"binned": binned, "adaptive": adaptive, "kde": kde, "goldfeld": goldfeld,
              "kozachenko_leonenko": kozachenko_leonenko, "kraskov": kraskov, "quantized": quantized}

__all__ = ["binned", "adaptive", "kde", "kde_bounds", "goldfeld", "mlp_conditional", "kozachenko_leonenko",
           "kl_entropy", "ksg", "ksg_mi", "kraskov", "kraskov_entropy", "quantized", "ESTIMATORS", "BoundWarning",
           "conv_layers"]
