"""The empirical side: ensemble simulator, datasets, activity recording, MI estimators, sweeps.

May import :mod:`analytic`; never imports :mod:`minimal_models` or :mod:`figures`.
"""
from sims import datasets  # noqa: F401
from sims.mlp import MLP  # noqa: F401,E402
from sims.train import train  # noqa: F401,E402
from sims.run import Run, load_run  # noqa: F401,E402
from sims import estimators  # noqa: F401,E402
from sims.info_plane import InfoPlane, info_plane  # noqa: F401,E402
from sims import gradient_snr, gradient_identity  # noqa: F401,E402
