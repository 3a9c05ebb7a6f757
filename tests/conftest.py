"""Shared test fixtures. MNIST is read from $IBT_DATA_DIR or ../shared/data/mnist beside the repo."""
import os
from pathlib import Path

# (thread limits and the Agg backend: the repository's conftest.py, loaded first)
import pytest
from hypothesis import HealthCheck, settings

# Property suites: random examples locally (new cases found over time); in CI (the CI environment variable set, or
# IBT_HYPOTHESIS_PROFILE=ci) the same examples on every run and no per-example deadline, so a slow shared machine
# never turns a pass into a failure. The example counts are set by each suite's own @settings.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None)
settings.load_profile(os.environ.get("IBT_HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))

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
