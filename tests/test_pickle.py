"""Everything a user ships to another process pickles: activations (every name), MLP, Run (activity in memory
and on disk), InfoPlane, GradientSNR, InfoPlaneConsumer and the minimal models; a ProcessPoolExecutor map over
them computes the same numbers as this process."""
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from analytic.activations import ACTIVATION_NAMES, get_activation
from analytic.binning import tishby_edges
from minimal_models import LinearStudentTeacher, NoisyChain, ScalarGaussian, SingleNeuron
from sims import MLP, datasets, train
from sims.gradient_snr import gradient_snr
from sims.info_plane import InfoPlaneConsumer, info_plane

GRID = np.linspace(-3, 3, 13)


# ---------------------------------------------------------------------------------------------- probes
# one module-level function per kind of object: the numbers it computes must survive the round trip
def _probe(obj):
    from sims.gradient_snr import GradientSNR
    from sims.info_plane import InfoPlane
    from sims.run import Run
    if hasattr(obj, "derivative") and hasattr(obj, "generalized_inverse"):      # Activation
        return np.stack([obj.value(GRID), obj.derivative(GRID)])
    if isinstance(obj, MLP):
        params = obj.init_params(2, seed=0)
        return obj.forward(params, np.linspace(-1, 1, 24).reshape(2, 12))[-1]
    if isinstance(obj, Run):
        return np.concatenate([obj.activity(0).ravel(), obj.accuracy["test"].ravel(),
                               obj.grad_stats["snr"].ravel(), obj.consumer_results["ip"].ravel()])
    if isinstance(obj, InfoPlane):
        return np.concatenate([obj.i_xt.ravel(), obj.i_ty.ravel(), obj.mean("i_xt").ravel()])
    if isinstance(obj, GradientSNR):
        return np.concatenate([obj.snr.ravel(), obj.mean_norm.ravel()])
    if isinstance(obj, InfoPlaneConsumer):
        acts = [np.tanh(np.linspace(-2, 2, 2 * 64 * 3).reshape(2, 64, 3)), np.linspace(0, 1, 256).reshape(2, 64, 2)]
        return obj(0, acts)
    if isinstance(obj, ScalarGaussian):
        return np.atleast_1d(obj.binned_mi(np.array([0.5, 2.0]), tishby_edges()))
    if isinstance(obj, SingleNeuron):
        return np.array([float(obj.mi(0.5, 0.1)), float(obj.mi(2.0, -0.3))])
    if isinstance(obj, NoisyChain):
        r = obj.train(epochs=2, seed=0)
        return np.concatenate([np.ravel(r.i_xt1), np.ravel(r.i_xt2)])
    if isinstance(obj, LinearStudentTeacher):
        r = obj.train("gd", lr=1.0, epochs=5, log_epochs=[0, 5])
        return np.concatenate([r.test_error.ravel(), r.i_xt.ravel()])
    raise TypeError(type(obj).__name__)


def _nan_equal(a, b):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    data = datasets.tishby_12bit(seed=0)
    net = MLP([12, 4, 3, 2], activation="relu")
    kw = dict(ensemble=2, epochs=3, log_epochs=3, progress=False, seed=0,
              consumers={"ip": InfoPlaneConsumer("binned", data.y_analysis, n_bins=10, value_range=(0, 3))})
    mem = train(net, data, record_activity=True, **kw)
    disk = train(net, data, record_activity=tmp_path_factory.mktemp("act") / "activity", **kw)
    return mem, disk


def _objects(simulated):
    mem, disk = simulated
    out = {f"activation:{n}": get_activation(n) for n in ACTIVATION_NAMES}
    out["activation:leaky_relu(0.3)"] = get_activation("leaky_relu", slope=0.3) if _takes_slope() else None
    out.update({"MLP": MLP([12, 5, 2], activation="softsign"), "Run(memory)": mem, "Run(disk)": disk,
                "InfoPlane": info_plane(mem, "binned", n_bins=10, progress=False),
                "GradientSNR": gradient_snr(mem, label="relu"),
                "InfoPlaneConsumer": InfoPlaneConsumer("kde", np.arange(64) % 2, noise_var=0.1),
                "ScalarGaussian": ScalarGaussian("tanh"), "SingleNeuron": SingleNeuron(noise_std=0.05),
                "NoisyChain": NoisyChain.kong_leaky_leaky(),
                "LinearStudentTeacher": LinearStudentTeacher(n_in=6, n_hidden=4, n_train=6, n_trials=2)})
    return {k: v for k, v in out.items() if v is not None}


def _takes_slope():
    try:
        get_activation("leaky_relu", slope=0.3)
    except (TypeError, ValueError):
        return False
    return True


def test_every_object_round_trips_through_pickle(simulated):
    objects = _objects(simulated)
    failures = []
    for name, obj in objects.items():
        try:
            back = pickle.loads(pickle.dumps(obj))
        except Exception as e:                            # collect all, report together
            failures.append(f"{name}: {type(e).__name__}: {e}")
            continue
        assert type(back) is type(obj), name
        _nan_equal(_probe(back), _probe(obj))
    assert not failures, "\n".join(failures)


def test_unpickled_run_keeps_everything(simulated):
    for run in simulated:
        back = pickle.loads(pickle.dumps(run))
        assert back.config == run.config and back.consumer_dims == run.consumer_dims
        assert back.to_xarray().identical(run.to_xarray())
        np.testing.assert_array_equal(back.activity(-1, index=[0, 2]), run.activity(-1, index=[0, 2]))
        assert repr(back) == repr(run)


def test_disk_run_pickles_small(simulated):
    """The write buffer of disk-recorded activity (up to 64 MB) does not travel with a finished run."""
    _, disk = simulated
    buffered = sum(b.nbytes for b in disk._activity.buffer)
    assert len(pickle.dumps(disk)) < disk.inputs_analysis.nbytes + 200_000 < buffered


def test_activations_equal_after_pickle():
    for n in ACTIVATION_NAMES:
        a = get_activation(n)
        assert pickle.loads(pickle.dumps(a)) == a, n


@pytest.mark.parametrize("start", [None, pytest.param("spawn", marks=pytest.mark.slow)])
def test_process_pool_map(simulated, start):
    """Two worker processes compute the same numbers as this process, and the objects come back intact
    (arguments and results travel by pickle). ``start=None``: the platform's default start method; "spawn"
    (slow: fresh interpreters import everything): nothing is inherited from this process."""
    objects = _objects(simulated)
    names = ["activation:tanh", "activation:relu", "MLP", "Run(memory)", "Run(disk)", "InfoPlane", "GradientSNR",
             "ScalarGaussian", "SingleNeuron", "NoisyChain", "LinearStudentTeacher"]
    items = [objects[n] for n in names]
    ctx = multiprocessing.get_context(start)
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        remote = list(pool.map(_probe, items))
        echoed = list(pool.map(_echo, items))
    for name, obj, r, back in zip(names, items, remote, echoed):
        _nan_equal(r, _probe(obj))
        _nan_equal(_probe(back), _probe(obj))


def _echo(obj):
    return obj
