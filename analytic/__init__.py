"""Exact, sampling-free mathematics of information flow (quadrature, mpmath, sympy).

This package imports nothing else of the toolkit. Submodules:

* :mod:`analytic.activations` - the activation functions, defined once for the toolkit
* :mod:`analytic.checks`      - input validation (ValueError naming the argument)
* :mod:`analytic.units`       - nats <-> bits
"""
from analytic.activations import ACTIVATION_NAMES, Activation, get_activation
from analytic.units import LN2, to_bits, to_nats

__all__ = ["ACTIVATION_NAMES", "Activation", "get_activation", "LN2", "to_bits", "to_nats"]
