"""Goldfeld et al. (ICML 2019), Proposition 1: in a deterministic network the information does not move.

For a deterministic neuron ``T = f(w X + b)`` with a strictly increasing ``f`` and a discrete ``X`` on distinct
points, ``x -> f(w x + b)`` is injective whenever ``w != 0``, so

    I(X;T) = H(T) - H(T|X) = H(T) = H(X)      for every w != 0, b      (and 0 for w = 0),

"independent of the DNN parameters". What earlier works plotted instead is the *binned* quantity
``H(bin(T))`` (Shwartz-Ziv & Tishby 2017; Saxe et al. 2018), which moves with (w, b) because bins merge
distinct values: it measures clustering at the bin scale, not information (Goldfeld et al., poster:
"Binned 'mutual information' measured in past works measures clustering").

:class:`DeterministicNeuron` returns all three numbers, vectorized over (w, b):

* :meth:`~DeterministicNeuron.mi`: the exact I(X;T) (Prop. 1);
* :meth:`~DeterministicNeuron.binned_mi`: ``H(bin(T))`` with :mod:`analytic.binning`'s convention
  (default: Tishby's 30 edges on [-1, 1]);
* :meth:`~DeterministicNeuron.float64_mi`: the entropy of the distinct float64 values of T, which drops below
  H(X) only through rounding (``tanh(19.1) == 1.0``): "machine-precision binning" (Saxe et al., App. C).

Example
-------
>>> import numpy as np
>>> n = DeterministicNeuron()
>>> w = np.array([0.01, 1.0, 100.0])
>>> n.mi(w, 0.0).round(6).tolist()                 # ln 4 for every w != 0
[1.386294, 1.386294, 1.386294]
>>> n.binned_mi(w, 0.0).round(6).tolist()          # binned "MI" moves: 0, ln 4, ln 2
[0.0, 1.386294, 0.693147]
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from numpy.typing import ArrayLike

from analytic.activations import Activation, get_activation
from analytic.binning import bin_index, tishby_edges
from analytic.checks import finite_array, probability_vector

__all__ = ["DeterministicNeuron", "partition_entropy"]


def partition_entropy(labels: ArrayLike, probs: ArrayLike) -> np.ndarray:
    """Entropy (nats) of the partition of the points by equal ``labels`` (..., n), point probabilities (n,).

    ``H = -sum_i p_i ln q_i`` with ``q_i`` the total probability of the points sharing point i's label.

    >>> float(partition_entropy(np.array([0, 0, 1, 1]), np.full(4, 0.25))) == float(np.log(2))
    True
    """
    lab = np.asarray(labels)
    same = lab[..., :, None] == lab[..., None, :]
    q = same @ probs
    return -(np.log(q) @ probs) + 0.0


class DeterministicNeuron:
    """``T = f(w X + b)`` without noise on a discrete X (default Goldfeld's uniform {-3, -1, 1, 3}, tanh)."""

    def __init__(self, points: Sequence[float] = (-3, -1, 1, 3), probs: ArrayLike | None = None,
                 activation: str | Activation = "tanh") -> None:
        x = finite_array(points, "points", ndim=1)
        if x.size < 1 or np.unique(x).size != x.size:
            raise ValueError("points must be distinct and non-empty")
        self.points = x
        self.probs = np.full(x.size, 1.0 / x.size) if probs is None else probability_vector(probs, "probs")
        if self.probs.shape != x.shape:
            raise ValueError(f"probs must have shape {x.shape} to match points, got {self.probs.shape}")
        self.activation = get_activation(activation)
        if not self.activation.strictly_increasing:
            raise ValueError(f"activation must be strictly increasing (Goldfeld Prop. 1), got "
                             f"{self.activation.name!r}")

    def __repr__(self):
        return f"DeterministicNeuron(points={tuple(self.points.tolist())}, activation={self.activation.name!r})"

    def _wb(self, w, b):
        w, b = finite_array(w, "w"), finite_array(b, "b")
        try:
            return np.broadcast_arrays(w, b)
        except ValueError:
            raise ValueError(f"w and b must broadcast together, got {w.shape} and {b.shape}") from None

    def input_entropy(self) -> float:
        """H(X) in nats."""
        p = self.probs[self.probs > 0]
        return float(-np.sum(p * np.log(p))) + 0.0

    def mi(self, w: ArrayLike, b: ArrayLike) -> np.ndarray | float:
        """Exact I(X;T) = H(X) if w != 0 else 0 (injectivity of a strictly increasing f), nats."""
        w, b = self._wb(w, b)
        return np.where(w != 0, self.input_entropy(), 0.0)

    def outputs(self, w: ArrayLike, b: ArrayLike) -> np.ndarray:
        """Float64 outputs f(w x_k + b), shape ``(..., n_points)``."""
        w, b = self._wb(w, b)
        return self.activation.value(w[..., None] * self.points + b[..., None])

    def binned_mi(self, w: ArrayLike, b: ArrayLike, edges: ArrayLike | None = None) -> np.ndarray | float:
        """Binned "MI" ``H(bin(T))`` in nats (default edges: ``analytic.binning.tishby_edges()``)."""
        edges = tishby_edges() if edges is None else edges
        return partition_entropy(bin_index(self.outputs(w, b), edges), self.probs)

    def float64_mi(self, w: ArrayLike, b: ArrayLike) -> np.ndarray | float:
        """Entropy of the distinct float64 values of T: H(X) except where rounding merges outputs."""
        return partition_entropy(self.outputs(w, b), self.probs)
