"""The named small models of the papers, with their data, training dynamics and exact information.

May import :mod:`analytic` and :mod:`sims`.

========================  =============================================================================
``ScalarGaussian``        X ~ N(mu, sd^2) through f(wX): exact binned and noisy I(X;T) (Saxe Sec. 2)
``SingleNeuron``          Goldfeld's noisy tanh neuron on {-3,-1,1,3}: exact I(X;T) and its training
``NoisyChain``            Kong's two-neuron noisy chains (four setups): exact I(X;T1), I(X;T2) in training
``DeterministicNeuron``   Goldfeld Prop. 1: I(X;T) = H(X) for any weights, while binned "MI" moves
``LinearStudentTeacher``  deep linear student of a noisy linear teacher: errors and exact info plane
``validation``            every estimator of :mod:`sims.estimators` beside the exact value
========================  =============================================================================
"""
from minimal_models import validation
from minimal_models.deterministic import DeterministicNeuron
from minimal_models.linear_student_teacher import LinearStudentTeacher
from minimal_models.noisy_chain import NoisyChain
from minimal_models.scalar_gaussian import ScalarGaussian
from minimal_models.single_neuron import SingleNeuron
from analytic import __version__  # noqa: F401  (the toolkit's one version)

__all__ = ["ScalarGaussian", "SingleNeuron", "NoisyChain", "DeterministicNeuron", "LinearStudentTeacher",
           "validation"]
