"""Dataset loading times: MNIST from the four IDX .gz files (sha256 + gunzip + decode), and the 12-bit task.

Run: ``python -m benchmarks datasets``. MNIST is read from $IBT_DATA_DIR or ../shared/data/mnist (never downloaded).
Each timing is the median of fresh loads (new arrays every time: page faults included, nothing cached in memory).
"""
import benchmarks._common as common  # noqa: F401  (pins threads before numpy)

import os
from pathlib import Path

import numpy as np

from sims import datasets

REPO = Path(__file__).resolve().parents[1]


def _mnist_dir():
    env = os.environ.get("IBT_DATA_DIR")
    for d in ([Path(env), Path(env) / "mnist"] if env else []) + [REPO.parent / "shared" / "data" / "mnist"]:
        if all((d / f).is_file() for f in datasets.MNIST_FILES):
            return d
    return None


def main():
    t = common.median_time(lambda: datasets.tishby_12bit(seed=0), repeats=7)
    print(f"tishby_12bit (sha256 + loadmat + split): {t * 1e3:.1f} ms")
    d = _mnist_dir()
    if d is None:
        print("MNIST files not found; skipped")
        return
    for dtype in (np.float64, np.float32):
        t = common.median_time(lambda: datasets.mnist(data_dir=d, download=False, dtype=dtype), repeats=5)
        print(f"mnist dtype={np.dtype(dtype).name} (sha256 x4 + gunzip + /255 + validation): {t:.2f} s")


if __name__ == "__main__":
    main()
