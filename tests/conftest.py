"""Shared test fixtures. MNIST is read from $IBT_DATA_DIR or ../shared/data/mnist beside the repo."""
import os
from pathlib import Path

# (thread limits and the Agg backend: the repository's conftest.py, loaded first)
import pytest

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
