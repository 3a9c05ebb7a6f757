"""Advani-Saxe theory (N -> infinity) against N = 400 simulated students averaged over trials: the 3% check.

Each trial draws a teacher, P = alpha N inputs, label noise and (zero) initial weights and solves the gradient
flow of the summed loss exactly (eigendecomposition of X^T X), giving that student's training error and exact
test error at every time. The benchmark reports, per alpha, the largest relative deviation of the trial-mean
from theory over a log-spaced time grid t/tau in [0.1, 100], with the standard error of the mean, and timings.
Training error is compared where theory is at least 5% of its initial value (for alpha < 1 it decays to 0,
where relative deviations measure only the finite-N smallest eigenvalue).

Run: ``python -m benchmarks advani_saxe``.
"""
import benchmarks._common as common  # noqa: F401  (pins BLAS threads before numpy loads)

import time

import numpy as np

from analytic.advani_saxe import advani_saxe_errors
from minimal_models.linear_student_teacher import advani_saxe_simulation

N, TRIALS, CHUNK, SNR = 400, 200, 20, 1.0
T = np.geomspace(0.1, 100.0, 13)


def main():
    print(f"N = {N}, {TRIALS} trials, SNR = {SNR}, t/tau in [{T[0]:g}, {T[-1]:g}] ({T.size} points)")
    t_theory = common.median_time(lambda: advani_saxe_errors(T, 1.0, SNR), repeats=5)
    print(f"theory: all {T.size} times for one alpha in {1e3 * t_theory:.1f} ms (median of 5)")
    worst = 0.0
    for alpha in (0.5, 1.0, 2.0):
        start = time.perf_counter()
        parts = [advani_saxe_simulation(T, alpha, SNR, N, CHUNK, seed=100 + k) for k in range(TRIALS // CHUNK)]
        elapsed = time.perf_counter() - start
        train = np.concatenate([p[0] for p in parts])
        test = np.concatenate([p[1] for p in parts])
        th_train, th_test = advani_saxe_errors(T, alpha, SNR)
        rows = []
        for name, sim, th, keep in (("test", test, th_test, np.ones(T.size, bool)),
                                    ("train", train, th_train, th_train >= 0.05 * th_train[0])):
            dev = sim.mean(axis=0)[keep] / th[keep] - 1.0
            se = sim.std(axis=0, ddof=1)[keep] / np.sqrt(sim.shape[0]) / th[keep]
            i = int(np.argmax(np.abs(dev)))
            rows.append(f"{name}: max |dev| {100 * abs(dev[i]):.2f}% at t = {T[keep][i]:.3g} (SE {100 * se[i]:.2f}%),"
                        f" median |dev| {100 * np.median(np.abs(dev)):.2f}%")
            worst = max(worst, float(np.max(np.abs(dev))))
        print(f"alpha = {alpha:g}: simulation {elapsed:.1f} s;  " + ";  ".join(rows))
    print(f"largest relative deviation over all alpha, t: {100 * worst:.2f}% "
          f"({'within' if worst <= 0.03 else 'OUTSIDE'} the 3% target)")


if __name__ == "__main__":
    main()
