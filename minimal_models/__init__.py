"""The named small models of the papers, with their data, training dynamics and exact information.

May import :mod:`analytic` and :mod:`sims`.
"""
from minimal_models.linear_student_teacher import LinearStudentTeacher  # noqa: E402,F401
from minimal_models.single_neuron import SingleNeuron
from minimal_models.noisy_chain import NoisyChain
from minimal_models.deterministic import DeterministicNeuron
from minimal_models.scalar_gaussian import ScalarGaussian  # noqa: E402,F401
