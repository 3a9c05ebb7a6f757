"""Exact, sampling-free mathematics of information flow (quadrature, mpmath, sympy).

This package imports nothing else of the toolkit. Submodules:

* :mod:`analytic.activations` - the activation functions, defined once for the toolkit
* :mod:`analytic.checks`      - input validation (ValueError naming the argument)
* :mod:`analytic.units`       - nats <-> bits
"""
from analytic.activations import ACTIVATION_NAMES, Activation, get_activation
from analytic.units import LN2, to_bits, to_nats

__all__ = ["ACTIVATION_NAMES", "Activation", "get_activation", "LN2", "to_bits", "to_nats"]

# linear networks (SMG 2014 mode dynamics, Advani & Saxe 2017 errors, exact Gaussian-channel MI)
from analytic.linear_dynamics import smg_mode  # noqa: E402
from analytic.advani_saxe import advani_saxe_errors  # noqa: E402
from analytic.gaussian_channel import gaussian_channel_mi  # noqa: E402

__all__ += ["smg_mode", "advani_saxe_errors", "gaussian_channel_mi"]

# the loss-derivative identity of gradient flow (seed 002 appendix), checked exactly with sympy
from analytic.loss_identity import loss_identity  # noqa: E402

__all__ += ["loss_identity"]

# Gaussian-mixture entropy (1-D exact, d-dim Monte Carlo) and nested quadrature for two-layer noisy chains
from analytic.gaussian_mixture import mixture_entropy, mixture_mi, mixture_mi_mc  # noqa: E402
from analytic.noisy_chain import (DiscreteInput, GaussianInput, GaussianMixtureInput,  # noqa: E402
                                  chain_information, layer_information)

__all__ += ["mixture_entropy", "mixture_mi", "mixture_mi_mc", "DiscreteInput", "GaussianInput",
            "GaussianMixtureInput", "chain_information", "layer_information"]

# scalar Gaussian minimal model (Saxe et al. 2018 Sec. 2): bin-edge conventions, exact binned and noisy MI
from analytic import binning, scalar_channel  # noqa: E402,F401
from analytic.binning import binned_entropy_gaussian, tishby_edges  # noqa: E402
from analytic.scalar_channel import linear_noisy_mi, noisy_mi  # noqa: E402

__all__ += ["binning", "scalar_channel", "binned_entropy_gaussian", "tishby_edges", "linear_noisy_mi", "noisy_mi"]
