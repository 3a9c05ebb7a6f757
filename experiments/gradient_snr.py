"""Gradient signal-to-noise ratio of the 12-bit networks over training (Saxe et al. 2018, Fig. 20;
Shwartz-Ziv & Tishby 2017, Sec. 3.4): the experiment set-up, on :mod:`sims.gradient_snr`'s statistics.

>>> g, run = twelve_bit_snr("relu", epochs=2, ensemble=2, log_epochs=[0, 1, 2])
>>> g.mean_norm.shape           # (ensemble, logged epochs, layers)
(2, 3, 6)
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from sims import datasets
from sims.gradient_snr import gradient_snr
from sims.mlp import MLP
from sims.train import train

from experiments.twelve_bit import WIDTHS

if TYPE_CHECKING:
    from sims.gradient_snr import GradientSNR
    from sims.run import Run

__all__ = ["twelve_bit_snr"]


def twelve_bit_snr(activation: str = "tanh", epochs: int = 1000, ensemble: int = 3, lr: float = 4e-4,
                   batch_size: int = 256, log_epochs: int | Sequence[int] | None = 60, seed: int = 0,
                   data: datasets.Dataset | None = None, **train_kwargs: Any) -> tuple[GradientSNR, Run]:
    """Train 12-10-7-5-4-3-2 networks on the 12-bit task (Adam, cross-entropy, truncated-normal init, 80/20 split)
    and return ``(GradientSNR, run)`` with the simulator's per-epoch gradient statistics (Saxe et al. Fig. 20).
    ``data``: another Dataset-like object; ``train_kwargs`` go to :func:`sims.train.train`."""
    data = datasets.tishby_12bit(seed=seed) if data is None else data
    net = MLP(list(WIDTHS), activation=activation, output="softmax")
    run = train(net, data, ensemble=ensemble, epochs=epochs, batch_size=batch_size, optimizer="adam", lr=lr,
                seed=seed, log_epochs=log_epochs, progress=train_kwargs.pop("progress", False), **train_kwargs)
    return gradient_snr(run, label=activation), run
