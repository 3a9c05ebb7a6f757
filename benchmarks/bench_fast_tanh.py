"""analytic.fast_tanh against np.tanh in float64: time per value on the simulator's array shapes, and accuracy.

Shapes: the hidden layers of the 12-bit network in a training step (E = 50, 256 samples, 10 and 3 units) and on
the 4096-pattern analysis set. Accuracy: ulps against mpmath at 40 digits on 20,000 points (normal x 3, small
values, the reduction's half-way points). Both sides run on one thread (IBT_BENCH_THREADS), medians of 30 calls.
The toolkit uses fast_tanh only where NumPy's float64 tanh is not AVX-512 code (printed below).

Run: ``python -m benchmarks fast_tanh``.
"""
import benchmarks._common as common  # noqa: I001  (pins threads before numpy loads)

import mpmath as mp
import numpy as np

from analytic.fast_tanh import fast_tanh, numpy_float64_tanh_is_vectorized


def main():
    rng = np.random.default_rng(0)
    print(f"NumPy {np.__version__}; float64 np.tanh vectorized (AVX-512 or non-x86): "
          f"{numpy_float64_tanh_is_vectorized()}; simulator's NumPy backend uses fast_tanh by default: "
          f"{not numpy_float64_tanh_is_vectorized()}")
    for shape in [(50, 10, 256), (50, 3, 256), (50, 10, 4096)]:
        x = rng.normal(size=shape) * 1.5
        t_np = common.median_time(lambda: np.tanh(x), repeats=30)
        t_fast = common.median_time(lambda: fast_tanh(x), repeats=30)
        print(f"{str(shape):15s} np.tanh {t_np * 1e6:8.0f} us ({t_np / x.size * 1e9:5.2f} ns/value)   fast_tanh "
              f"{t_fast * 1e6:8.0f} us ({t_fast / x.size * 1e9:5.2f} ns/value)   ratio {t_np / t_fast:4.2f}")
    x = np.concatenate([rng.normal(size=14000) * 3, rng.uniform(-0.01, 0.01, 2000),
                        (rng.integers(-5200, 5200, 4000) + 0.5) / 256])
    with mp.workdps(40):
        ref = np.array([float(mp.tanh(mp.mpf(float(v)))) for v in x])
    for name, y in (("fast_tanh", fast_tanh(x)), ("np.tanh", np.tanh(x))):
        ulp = np.abs(y - ref) / np.spacing(np.abs(ref))
        print(f"{name:9s} vs mpmath: max {ulp.max():.0f} ulp, {np.mean(ulp == 0) * 100:.1f}% exact, "
              f"{np.mean(ulp <= 1) * 100:.1f}% within 1 ulp")


if __name__ == "__main__":
    main()
