"""The empirical side: ensemble simulator, datasets, activity recording, MI estimators, gradient statistics.

May import :mod:`analytic`; never imports :mod:`minimal_models` or :mod:`figures`.

=============================  ===============================================================================
``MLP``, ``train``, ``Run``    train E networks at once (NumPy; torch optional), record what MI needs
``Sequential``, ``layers``     convolutional / layered networks (``Conv2D``, ``MaxPool2D``, ``Flatten``, ``Dense``)
``load_run``                   reload a saved run
``datasets``                   the 12-bit task, MNIST, synthetic sets (Gaussian, mixtures, discrete, teachers)
``estimators``                 binned, adaptive, quantized, KDE, Goldfeld, k-NN (Kozachenko-Leonenko, KSG) MI
                               estimators, and conv-layer information (concat / mean)
``info_plane``, ``InfoPlane``  an estimator over a whole recorded run, and its result
``gradient_snr``               per-layer gradient mean/std/SNR over training (Saxe Figs. 20-21)
``gradient_identity``          numerical checks of the loss-derivative identity with the simulator
``sweep``                      parameter sweeps (serial, process pool, Dask) into one Dataset; ``sweep_train``
                               packs per-member cells into one ensemble run
``divergence``, ``gd_loop``    ``TrainingDiverged`` and its criterion; the gradient-descent loop of the
                               closed-form minimal models
``io``, ``progress``           checked, atomic files (``save_npz`` / ``load_npz``); tqdm progress when installed
=============================  ===============================================================================

The simulator behind ``train``, one job per module: ``config`` (validated arguments, the frozen ``TrainConfig``
that fingerprints a run), ``state`` (``TrainState``: parameters, optimizer state, generators, counters),
``step`` (the minibatch step, the epoch loop, member threads, evaluation), ``recorder`` (logs, gradient
statistics, consumers, activity), ``checkpoint`` (partial run + state in one checked file), ``backend`` (the
NumPy / torch array namespace, also used by the activations), ``optim`` (optimizers and learning-rate schedules),
``divergence`` (``TrainingDiverged`` and its criterion); ``parameters`` (the flat (E, P) parameter layout,
initializers and masks of both network kinds); ``network`` / ``layers`` / ``conv_ops`` (the layered
networks, their layers and the NumPy / torch convolution kernels).

Every in-memory result puts its axes in one order, member first, then epoch, then layer (stated in
:mod:`sims.run`); ``to_xarray()`` names them ``member``, ``epoch``, ``layer``.
"""
from sims import datasets, estimators, gradient_identity, gradient_snr, io, progress
from sims.info_plane import InfoPlane, info_plane
from sims.mlp import MLP
from sims import layers
from sims.layers import Conv2D, Dense, Flatten, MaxPool2D
from sims.network import Sequential
from sims.run import Run, load_run
from sims.train import train
from analytic import __version__  # noqa: F401  (the toolkit's one version)

__all__ = ["MLP", "Sequential", "layers", "Conv2D", "MaxPool2D", "Flatten", "Dense", "train", "Run", "load_run",
           "datasets", "estimators", "info_plane", "InfoPlane", "gradient_snr", "gradient_identity", "io", "progress"]
