"""Reference trajectories of the minimal models, recorded before they moved onto :mod:`sims.gd_loop`.

``python tests/minimal_models_reference.py`` rewrites ``tests/data/minimal_models_reference.npz``; it was run once
on the code before the shared loop (git 6451134) and the test compares today's code against that file to 1e-12.
Each case returns a dict of arrays.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

PATH = Path(__file__).resolve().parent / "data" / "minimal_models_reference.npz"


def _neuron():
    from minimal_models import SingleNeuron
    return SingleNeuron(noise_std=0.05)


def single_neuron_flow():
    r = _neuron().train(10 ** 8, lr=1e-3, method="flow", log_epochs=60)
    return dict(epochs=r.epochs, w=r.w, b=r.b, mi=r.mi)


def single_neuron_gd():
    r = _neuron().train(5000, lr=np.array([0.1, 0.05]), method="gd", w0=[0.0, 0.5], b0=[0.0, -0.2],
                        log_epochs=40)
    return dict(epochs=r.epochs, w=r.w, b=r.b, mi=r.mi, loss=r.loss)


def single_neuron_kong_sgd():
    """Kong Fig. 2 (the figure's quick setting)."""
    r = _neuron().train(400, lr=1e-3, method="sgd", n_train=30, batch_size=25, seed=0, accumulate_grad=True,
                        log_epochs=120)
    return dict(epochs=r.epochs, w=r.w, b=r.b, mi=r.mi, density=r.density[::10, ::4], t_grid=r.t_grid)


def single_neuron_sgd_ensemble():
    r = _neuron().train(300, lr=np.array([1e-3, 2e-3, 4e-3]), method="sgd", seed=1, log_epochs=15)
    return dict(epochs=r.epochs, w=r.w, b=r.b, mi=r.mi)


def _chain(ctor, epochs, seed=0, **kw):
    r = ctor().train(epochs, seed=seed, log_epochs=12, resolution="coarse", n_grid=51, **kw)
    out = dict(epochs=r.epochs, params=r.params, lr=r.lr, test_accuracy=r.test_accuracy, i_xt1=r.i_xt1)
    if r.i_xt2 is not None:
        out["i_xt2"] = r.i_xt2
    return out


def kong_leaky_leaky():
    from minimal_models import NoisyChain
    return _chain(NoisyChain.kong_leaky_leaky, 300)


def kong_tanh_tanh():
    from minimal_models import NoisyChain
    return _chain(NoisyChain.kong_tanh_tanh, 1000)


def kong_leaky_tanh():
    from minimal_models import NoisyChain
    return _chain(NoisyChain.kong_leaky_tanh, 400)


def kong_mixture_neuron():
    from minimal_models import NoisyChain
    return _chain(NoisyChain.kong_mixture_neuron, 2000)


def kong_tanh_tanh_ensemble_plain_sgd():
    from minimal_models import NoisyChain
    return _chain(NoisyChain.kong_tanh_tanh, 300, seed=[0, 1, 2], accumulate_grad=False, lr=0.2)


def _linear(method, depth, **kw):
    from minimal_models import LinearStudentTeacher
    model = LinearStudentTeacher(n_in=8, n_hidden=6, depth=depth, n_train=10, snr=2.0, init_scale=0.5,
                                 n_trials=3, seed=4, **kw)
    opts = dict(gd=dict(lr=0.2, epochs=100), sgd=dict(lr=0.1, epochs=100, batch_size=5),
                flow=dict(lr=1.0, epochs=20))[method]
    r = model.train(method, log_epochs=8, **opts)
    out = dict(epochs=r.epochs, as_time=r.as_time, train_error=r.train_error, test_error=r.test_error,
               i_xt=r.i_xt, i_ty=r.i_ty)
    out.update({f"w{i}": w for i, w in enumerate(r.weights)})
    out.update({f"sub_{k}": v for k, v in r.subspace.items()})
    return out


def linear_gd_depth1():
    return _linear("gd", 1)


def linear_sgd_depth2_relevant():
    return _linear("sgd", 2, n_relevant=3)


def linear_flow_depth0():
    return _linear("flow", 0)


def linear_gd_depth0():
    return _linear("gd", 0)


def advani_saxe_simulation():
    from minimal_models.linear_student_teacher import advani_saxe_simulation as sim
    train, test = sim(np.array([0.0, 0.5, 3.0, 20.0]), 0.7, 2.0, 30, 4, init_var=0.1, seed=3)
    return dict(train=train, test=test)


def deep_linear_gd():
    from minimal_models.linear_student_teacher import deep_linear_gd as gd
    rng = np.random.default_rng(5)
    ws = [rng.normal(0, 0.1, (2, 4, 3)), rng.normal(0, 0.1, (2, 2, 4))]
    return dict(w_tot=gd(ws, np.eye(3), np.array([[1.0, 0.5, 0.0], [0.0, 2.0, 0.3]]), 0.05, 200, [0, 7, 50, 200]))


CASES = {f.__name__: f for f in (single_neuron_flow, single_neuron_gd, single_neuron_kong_sgd,
                                  single_neuron_sgd_ensemble, kong_leaky_leaky, kong_tanh_tanh, kong_leaky_tanh,
                                  kong_mixture_neuron, kong_tanh_tanh_ensemble_plain_sgd, linear_gd_depth1,
                                  linear_sgd_depth2_relevant, linear_flow_depth0, linear_gd_depth0,
                                  advani_saxe_simulation, deep_linear_gd)}


def load() -> dict:
    with np.load(PATH) as f:
        return {k: f[k] for k in f.files}


if __name__ == "__main__":
    import time
    arrays = {}
    for name, case in CASES.items():
        t0 = time.perf_counter()
        for key, val in case().items():
            arrays[f"{name}/{key}"] = np.asarray(val)
        print(f"{name}: {time.perf_counter() - t0:.2f} s", file=sys.stderr)
    np.savez_compressed(PATH, **arrays)
