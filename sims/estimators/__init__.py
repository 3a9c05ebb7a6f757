"""Empirical estimators of I(X;T) and I(T;Y) on recorded activity, all in nats.

Every estimator takes ``activity`` of shape (..., samples, units) — any leading axes (ensemble, epoch) are batch
axes — and ``labels`` of shape (samples,), and returns ``(i_xt, i_ty)`` with the leading axes kept. The samples are
the analysis set's inputs, taken as equiprobable.

==============  ==============================================================  ==================================
estimator       what                                                            source
==============  ==============================================================  ==================================
``binned``      fixed edges / fixed width / min-max equal bins; T = tuple       Shwartz-Ziv & Tishby 2017; Saxe 2018
``adaptive``    bins at quantiles of the distinct activity values               Chelombiev et al. 2019
``kde``         KL upper / Bhattacharyya lower pairwise bounds, noise_var       Kolchinsky & Tracey 2017; Saxe 2018
``goldfeld``    h(P_hat_n * N_s) by Monte Carlo, noisy networks                 Goldfeld et al. 2019
``kraskov``     Kozachenko-Leonenko k-NN entropy of noisy activity              Kraskov et al. 2004; Saxe App. B.3
``quantized``   exact H(T) of b-bit quantized activity                          Lorenzen et al. 2022
==============  ==============================================================  ==================================

>>> import numpy as np
>>> from sims import estimators
>>> act = np.tanh(np.random.default_rng(0).normal(size=(4, 512, 3)))
>>> i_xt, i_ty = estimators.binned(act, np.arange(512) % 2)
>>> i_xt.shape
(4,)
"""
from sims.estimators.adaptive import adaptive
from sims.estimators.binned import binned
from sims.estimators.goldfeld import goldfeld, mlp_conditional
from sims.estimators.kde import kde, kde_bounds
from sims.estimators.kraskov import kraskov, kraskov_entropy
from sims.estimators.quantized import quantized

#: name -> function, for ``sims.info_plane(run, "binned", ...)``.
ESTIMATORS = {"binned": binned, "adaptive": adaptive, "kde": kde, "goldfeld": goldfeld, "kraskov": kraskov,
              "quantized": quantized}

__all__ = ["binned", "adaptive", "kde", "kde_bounds", "goldfeld", "mlp_conditional", "kraskov",
           "kraskov_entropy", "quantized", "ESTIMATORS"]
