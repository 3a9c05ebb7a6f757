"""Shared test fixtures. MNIST is read from $IBT_DATA_DIR or ../shared/data/mnist beside the repo."""
import os
from pathlib import Path

# One BLAS/OpenMP thread unless the caller says otherwise, set before numpy loads: on the shared 2-core machine,
# multi-threaded OpenBLAS on small matrices under load is 10-50x slower (e.g. a stack of 60 100x100 eigh: 5.8 s
# vs 0.1 s), which alone would break the suite's time budget.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import matplotlib  # noqa: E402
import pytest

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]
MNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def _mnist_dir():
    candidates = []
    if os.environ.get("IBT_DATA_DIR"):
        base = Path(os.environ["IBT_DATA_DIR"])
        candidates += [base, base / "mnist"]
    candidates.append(REPO.parent / "shared" / "data" / "mnist")
    for c in candidates:
        if all((c / f).is_file() for f in MNIST_FILES):
            return c
    return None


@pytest.fixture(scope="session")
def mnist_dir():
    """Folder with the four official MNIST IDX files; the test is skipped only if they are truly absent."""
    d = _mnist_dir()
    if d is None:
        pytest.skip("MNIST IDX files not found in $IBT_DATA_DIR or ../shared/data/mnist")
    return d
