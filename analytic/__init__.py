"""Exact, sampling-free mathematics of information flow: closed forms, quadrature, mpmath, sympy.

This package imports nothing else of the toolkit. Modules, each with one job:

======================  ===================================================================================
``activations``         the activation functions, defined once for the toolkit (numpy, torch, sympy forms)
``fast_tanh``           a vectorized float64 tanh within 3 ulp (NumPy's float64 tanh is scalar libm)
``checks``              the one validation layer: ``ValueError`` / ``TypeError`` naming the argument
``units``               nats <-> bits
``gaussian``            closed-form entropy of a Gaussian (the conditional term of noisy-channel MI)
``binning``             bin-edge conventions and the exact binned entropy of f(wX), X Gaussian (Saxe Fig. 2)
``scalar_channel``      exact I(X; f(wX) + Z) by quadrature, mpmath route, closed forms and limits
``gaussian_mixture``    entropy of Gaussian mixtures (1-D to 1e-12 nats; d-dim Monte Carlo)
``pairwise_bounds``     Kolchinsky-Tracey KL / Bhattacharyya bounds on Gaussian-mixture entropy
``noisy_chain``         exact I(X;T1), I(X;T2) of two-layer noisy chains by nested quadrature
``gaussian_channel``    log-det MI of Gaussian channels, I(T;X), I(T;Y), subspace versions (Saxe Sec. 5)
``linear_dynamics``     Saxe-McClelland-Ganguli mode dynamics: balanced, unbalanced, deep
``advani_saxe``         train/test error of a linear student from the Marchenko-Pastur spectrum
``loss_identity``       dL/dt = -alpha sum (dL/dtheta)^2 under gradient flow, checked exactly with sympy
======================  ===================================================================================
"""
from analytic import (activations, advani_saxe, binning, checks, fast_tanh, gaussian, gaussian_channel,
                      gaussian_mixture, linear_dynamics, loss_identity as loss_identity_module, noisy_chain,
                      pairwise_bounds, scalar_channel, units)
from analytic.activations import ACTIVATION_NAMES, Activation, get_activation
from analytic.advani_saxe import advani_saxe_errors
from analytic.binning import binned_entropy_gaussian, tishby_edges
from analytic.gaussian import gaussian_entropy, gaussian_entropy_std
from analytic.gaussian_channel import gaussian_channel_mi
from analytic.gaussian_mixture import mixture_entropy, mixture_mi, mixture_mi_mc
from analytic.ib_bound import IBCurve, ib_curve
from analytic.linear_dynamics import linear_flow, smg_mode
from analytic.loss_identity import loss_identity
from analytic.noisy_chain import (DiscreteInput, GaussianInput, GaussianMixtureInput, chain_information,
                                  layer_information)
from analytic.pairwise_bounds import mixture_entropy_bounds, pairwise_mi_bounds
from analytic.scalar_channel import linear_noisy_mi, noisy_mi
from analytic.units import LN2, to_bits, to_nats

try:  # one source of the version: the installed distribution's metadata (setup.cfg's ``version``)
    from importlib.metadata import PackageNotFoundError as _NotInstalled, version as _dist_version
    __version__ = _dist_version("ibtoolkit")
except _NotInstalled:  # a source tree on sys.path that was never pip-installed
    __version__ = "0+unknown"

__all__ = [
    # modules
    "activations", "advani_saxe", "binning", "checks", "fast_tanh", "gaussian", "gaussian_channel", "gaussian_mixture",
    "linear_dynamics", "noisy_chain", "pairwise_bounds", "scalar_channel", "units",
    # activations and units
    "ACTIVATION_NAMES", "Activation", "get_activation", "LN2", "to_bits", "to_nats",
    # scalar Gaussian through a nonlinearity
    "binned_entropy_gaussian", "tishby_edges", "noisy_mi", "linear_noisy_mi",
    # Gaussian mixtures and noisy chains
    "gaussian_entropy", "gaussian_entropy_std", "mixture_entropy", "mixture_mi", "mixture_mi_mc",
    "mixture_entropy_bounds", "pairwise_mi_bounds",
    "DiscreteInput", "GaussianInput", "GaussianMixtureInput", "chain_information", "layer_information",
    # linear networks and the loss identity
    "gaussian_channel_mi", "smg_mode", "linear_flow", "advani_saxe_errors", "loss_identity",
    # the information-bottleneck bound
    "IBCurve", "ib_curve",
]
del loss_identity_module
