"""pytest set-up for the whole repository: the test suite (tests/) and the packages' docstring examples.

One BLAS/OpenMP thread unless the caller says otherwise, set here (before any test or package imports numpy): on
the shared 2-core machine, multi-threaded OpenBLAS on small matrices under load is 10-50x slower (e.g. a stack of 60
100x100 eigh: 5.8 s vs 0.1 s), which alone would break the suite's time budget. Figures draw with the Agg backend.
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
