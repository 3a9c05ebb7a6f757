"""Units. The toolkit computes in nats; these convert on request.

>>> round(to_bits(np.log(2.0)), 12)
1.0
"""
import numpy as np

__all__ = ["LN2", "to_bits", "to_nats"]

LN2 = float(np.log(2.0))


def to_bits(nats):
    """Nats -> bits (divide by ln 2). Arrays pass through elementwise."""
    return np.asarray(nats, dtype=float) / LN2 if np.ndim(nats) else float(nats) / LN2


def to_nats(bits):
    """Bits -> nats (multiply by ln 2)."""
    return np.asarray(bits, dtype=float) * LN2 if np.ndim(bits) else float(bits) * LN2
