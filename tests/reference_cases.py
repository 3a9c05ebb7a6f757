"""Recorded training cases whose trajectories (parameters at every logged epoch, losses, accuracies, gradient
statistics, learning rates, consumer results) were saved from the simulator before its reshaping into
config / state / step / recorder (``tests/data/reference_trajectories.npz``); ``test_train.py`` checks that
the current code reproduces them to 1e-12.

Regenerate (only when a change of the numbers is intended and explained): ``python -m tests.reference_cases``.
"""
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from sims.optim import StepOnAccuracy

PATH = Path(__file__).parent / "data" / "reference_trajectories.npz"
WIDTHS = [6, 8, 5, 2]


def toy_data():
    rng = np.random.default_rng(12)
    x = rng.normal(size=(384, 6))
    y = (x[:, 0] + 0.5 * x[:, 1] - 0.3 * x[:, 2] > 0).astype(np.int64)
    return SimpleNamespace(x_train=x[:256], y_train=y[:256], x_test=x[256:], y_test=y[256:])


def _mean_consumer(epoch, acts):
    return np.stack([a.mean(axis=(1, 2)) for a in acts])


_mask = [np.triu(np.ones((6, 8))), None, np.array([[1, 0]] * 5)]

#: name -> (MLP keyword arguments, train keyword arguments)
CASES = {
    "tanh_sgd": ({"activation": "tanh"}, {"optimizer": "sgd", "lr": 0.1}),
    "relu_adam": ({"activation": "relu"}, {"optimizer": "adam", "lr": 1e-2}),
    "tanh_sgd_full_batch": ({"activation": "tanh"}, {"optimizer": "sgd", "lr": 0.5, "batch_size": None}),
    "tanh_adam_noise": ({"activation": "tanh"}, {"lr": 1e-2, "noise_std": 0.1, "analysis_noise_std": 0.05,
                                                  "consumers": {"mean": _mean_consumer}}),
    "relu_sgd_mask_ortho": ({"activation": "relu"}, {"optimizer": "sgd", "lr": 0.05, "mask": _mask,
                                                      "orthonormality": 0.01}),
    "tanh_lr_grid": ({"activation": "tanh"}, {"optimizer": "sgd", "lr": [0.01, 0.1, 0.3]}),
    "kong_schedule": ({"activation": "tanh"}, {"optimizer": "sgd", "lr": 0.2,
                                               "lr_schedule": ("step_on_accuracy", 0.8, 1 / 20)}),
    "threads2": ({"activation": "tanh"}, {"lr": 1e-2, "threads": 2, "noise_std": 0.05}),
    "torch_cpu": ({"activation": "tanh"}, {"lr": 1e-2, "backend": "torch"}),
    "mse_sigmoid": ({"activation": "sigmoid", "output": "sigmoid"}, {"loss": "mse", "optimizer": "sgd", "lr": 0.5}),
}


def run_case(name, train_fn=None):
    """Train case ``name`` (3 members, 6 epochs, batch 32, every epoch logged, seed 3)."""
    from sims import MLP, train
    train_fn = train_fn or train
    net_kw, kw = CASES[name]
    kw = dict(kw)
    if isinstance(kw.get("lr_schedule"), tuple):
        _, threshold, factor = kw["lr_schedule"]
        kw["lr_schedule"] = StepOnAccuracy(threshold=threshold, factor=factor)
    kw.setdefault("batch_size", 32)
    run = train_fn(MLP(WIDTHS, **net_kw), toy_data(), ensemble=3, epochs=6, seed=3, log_epochs=list(range(7)),
                   record_params=True, progress=False, **kw)
    return trajectory(run)


def trajectory(run):
    hist = [np.concatenate([np.concatenate([W.reshape(W.shape[0], -1), b], 1) for W, b in run.params_at(i)], 1)
            for i in range(len(run.epochs))]
    out = {"params": np.stack(hist), "lr": run.lr}
    for split in ("train", "test"):
        out[f"loss_{split}"], out[f"acc_{split}"] = run.loss[split], run.accuracy[split]
    for k, v in run.grad_stats.items():
        out[f"grad_{k}"] = v
    for k, v in run.consumer_results.items():
        out[f"consumer_{k}"] = v
    return out


def main():  # pragma: no cover - regeneration only
    arrays = {}
    for name in CASES:
        for k, v in run_case(name).items():
            arrays[f"{name}/{k}"] = np.asarray(v)
    PATH.parent.mkdir(exist_ok=True)
    np.savez_compressed(PATH, **arrays)
    print(f"wrote {PATH} ({PATH.stat().st_size} bytes, {len(arrays)} arrays)")


if __name__ == "__main__":  # pragma: no cover
    main()
