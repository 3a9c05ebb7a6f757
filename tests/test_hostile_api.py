"""Hostile input over the public API of sims, sims.estimators and minimal_models (issue 14, case 7 and 11).

Built from one table of (callable, valid keyword arguments, kind of each numeric argument). Each valid call is made
once; then ONE argument at a time is replaced by a hostile value of its kind, and the call must raise ``ValueError``
or ``TypeError`` whose message starts with the argument's name (``data.x_train`` style prefixes count for fields of a
data argument). Kinds and their hostile values:

* every numeric argument: a boolean, a numeric string, a complex number, NaN and inf;
* ``pos`` / ``nonneg`` (widths, noise, learning rates): also a negative value and an array of 3 where one value
  is meant (``pos_per_member``: arrays define an ensemble, so only the negative value);
* ``int`` (counts): also 2.5 and -1; ``seed``: -1, 'abc', 1.5, True; ``index``: also out of range both ways;
* ``path``: None, a number, a boolean, a complex number, the empty string;
* ``array`` / ``signed_array``: a NaN entry, an inf entry, complex, strings, booleans, and the wrong shape given in
  the table; ``labels``: complex, NaN, one entry short, 2-D.

The analytic functions have the same test in tests/test_analytic_edges.py
(test_every_public_analytic_function_names_the_bad_argument); this file covers the layers above it.
Calls that still fail are listed in ``KNOWN`` with the file that must change; once one passes, the test fails asking
for its entry to be removed, so the list only shrinks.
"""
from __future__ import annotations

import re
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

import minimal_models as M
from sims import (MLP, datasets, estimators as E, gradient_identity as GI, gradient_snr as GS, info_plane, io, load_run,
                  train)

RNG = np.random.default_rng(0)
ACT = RNG.random((20, 3))
Y = np.arange(20) % 2
X2 = RNG.random((20, 2))

_NUMBER = [("bool", True), ("str", "0.1"), ("complex", 0.5 + 0.5j), ("nan", np.nan), ("inf", np.inf)]
_KINDS = {
    "signed": _NUMBER,
    "pos": _NUMBER + [("negative", -1.0), ("wrong shape", [0.5, 0.5, 0.5])],
    "nonneg": _NUMBER + [("negative", -1.0), ("wrong shape", [0.5, 0.5, 0.5])],
    "pos_per_member": _NUMBER + [("negative", -1.0)],       # a scalar or one value per ensemble member
    "int": [("bool", True), ("str", "3"), ("complex", 1 + 1j), ("nan", np.nan), ("fraction", 2.5),
            ("negative", -1)],
    "seed": [("negative", -1), ("str", "abc"), ("fraction", 1.5), ("bool", True)],
    "path": [("None", None), ("number", 1.5), ("bool", True), ("complex", 1 + 1j), ("empty", "")],
    "index": [("bool", True), ("str", "0"), ("complex", 1 + 1j), ("nan", np.nan), ("fraction", 0.5),
              ("out of range", 99), ("out of range negative", -99)],
}


def _array_values(good, wrong_shape, signed=True, booleans=True):
    a = np.array(good, dtype=float)
    nan, inf = a.copy(), a.copy()
    nan.flat[0], inf.flat[-1] = np.nan, np.inf
    out = [("nan entry", nan), ("inf entry", inf), ("complex", a * (1 + 1j)), ("strings", a.astype(str))]
    if booleans:
        out.append(("booleans", a > np.median(a)))
    if not signed:
        out.append(("negative entry", -np.abs(a) - 1.0))
    if wrong_shape is not None:
        out.append(("wrong shape", wrong_shape))
    return out


def _label_values(good):
    y = np.asarray(good)
    return [("complex", y + 1j), ("nan", np.where(y == y.flat[0], np.nan, y.astype(float))),
            ("one short", y[:-1]), ("2-D", y[:, None])]


def _hostile(kind, good):
    if isinstance(kind, tuple):        # ("array" | "pos_array" | "input_array", wrong shape); input arrays may be
        return _array_values(good, kind[1], signed=kind[0] != "pos_array",   # boolean (0/1 data such as 12-bit)
                             booleans=kind[0] != "input_array")
    if kind == "labels":
        return _label_values(good)
    return _KINDS[kind]


# ---------------------------------------------------------------- the table
@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny network, data set and recorded run (a few ms of training), and a saved file of each kind."""
    x = RNG.normal(size=(40, 3))
    y = (x[:, 0] > 0).astype(np.int64)
    data = SimpleNamespace(x_train=x[:30], y_train=y[:30], x_test=x[30:], y_test=y[30:])
    net = MLP([3, 4, 2])
    run = train(net, data, epochs=2, batch_size=10, log_epochs=[0, 1, 2], record_activity=True, progress=False)
    params = net.init_params(1, seed=0)
    folder = tmp_path_factory.mktemp("hostile")
    npz = io.save_npz(folder / "a.npz", {"x": np.zeros(3)}, {}, kind="test", version=1)
    run_file = run.save(folder / "run.npz")
    return SimpleNamespace(data=data, net=net, run=run, params=params, x=x[:30], y=y[:30], folder=folder, npz=npz,
                           run_file=run_file)


def _estimator_calls():
    bad_act = ("array", ACT[0])                  # one sample, no units axis
    return [
        ("binned(width)", E.binned, dict(activity=ACT, labels=Y, width=0.5),
         dict(activity=bad_act, labels="labels", width="pos")),
        ("binned(n_bins)", E.binned, dict(activity=ACT, labels=Y, n_bins=5, value_range=(0.0, 1.0)),
         dict(n_bins="int", value_range=("array", (0.0, 1.0, 2.0)))),
        ("binned(edges)", E.binned, dict(activity=ACT, labels=Y, edges=[0.0, 0.5, 1.0]),
         dict(edges=("array", [[0.0, 0.5, 1.0]]))),
        ("adaptive", E.adaptive, dict(activity=ACT, labels=Y, n_bins=5),
         dict(activity=bad_act, labels="labels", n_bins="int")),
        ("kde", E.kde, dict(activity=ACT, labels=Y, noise_var=0.1, threads=1),
         dict(activity=bad_act, labels="labels", noise_var="pos", threads="int")),
        ("kde_bounds", E.kde_bounds, dict(activity=ACT, labels=Y, noise_var=0.1, chunk_size=8),
         dict(activity=bad_act, labels="labels", noise_var="pos", chunk_size="int")),
        ("goldfeld", E.goldfeld, dict(activity=ACT, labels=Y, noise_std=0.1, n_noise=2, seed=0),
         dict(activity=bad_act, labels="labels", noise_std="pos", n_noise="int", seed="seed")),
        ("kozachenko_leonenko", E.kozachenko_leonenko, dict(activity=ACT, labels=Y, k=2, noise_var=0.1, seed=0),
         dict(activity=bad_act, labels="labels", k="int", noise_var="pos", seed="seed")),
        ("kl_entropy", E.kl_entropy, dict(points=ACT, k=2), dict(points=("array", None), k="int")),
        ("ksg", E.ksg, dict(activity=ACT, labels=Y, inputs=X2, k=3, noise_var=0.1, seed=0),
         dict(activity=bad_act, labels="labels", inputs=("array", X2[:5]), k="int", noise_var="pos",
              seed="seed")),
        ("ksg_mi", E.ksg_mi, dict(x=X2, z=ACT, k=3), dict(x=("array", X2[:5]), z=("array", ACT[:5]), k="int")),
        ("quantized", E.quantized, dict(activity=ACT, labels=Y, bits=4, value_range=(0.0, 1.0)),
         dict(activity=bad_act, labels="labels", bits="int", value_range=("array", (1.0,)))),
    ]


def _sims_calls(t):
    xs = t.x
    return [
        ("MLP", MLP, dict(widths=[3, 4, 2], init_scale=0.5), dict(widths=("array", [[3, 4, 2]]), init_scale="pos")),
        ("MLP.forward", t.net.forward, dict(params=t.params, x=xs, noise_std=0.1),
         dict(x=("input_array", xs[:, :2]), noise_std="nonneg")),
        ("train", train, dict(net=t.net, data=t.data, ensemble=1, epochs=1, batch_size=10, lr=1e-3, seed=0,
                              noise_std=0.0, analysis_noise_std=0.0, orthonormality=0.0, threads=1,
                              checkpoint_every=60.0, progress=False),
         dict(ensemble="int", epochs="int", batch_size="int", lr="pos", seed="seed", noise_std="nonneg",
              analysis_noise_std="nonneg", orthonormality="nonneg", threads="int", checkpoint_every="pos")),
        ("info_plane", info_plane, dict(run=t.run, estimator="binned", layers=[0], epoch_block=1, epoch_index=[0, 1],
                                        members=[0], progress=False, n_bins=5),
         dict(layers="index", epoch_block="int", epoch_index="index", members="index", n_bins="int")),
        ("estimators.mlp_conditional", E.mlp_conditional, dict(net=t.net, params=t.params, x=xs, layer=0,
                                                               noise_std=0.1, reps=2),
         dict(x=("input_array", xs[:, :2]), layer="index", noise_std="pos", reps="int")),
        ("io.save_npz", io.save_npz, dict(path=t.folder / "b.npz", arrays={"x": np.zeros(2)}, meta={}, kind="test",
                                          version=1), dict(path="path", version="int")),
        ("io.load_npz", io.load_npz, dict(path=t.npz, kind="test", version=1), dict(path="path")),
        ("load_run", load_run, dict(path=t.run_file), dict(path="path")),
        ("Run.save", t.run.save, dict(path=t.folder / "run2.npz"), dict(path="path")),
        ("Run.activity", t.run.activity, dict(layer=0, index=[0, 1]), dict(layer="index", index="index")),
        ("datasets.gaussian", datasets.gaussian, dict(n=10, d=2, mu=0.0, sd=1.0, seed=0),
         dict(n="int", d="int", mu="signed", sd="pos", seed="seed")),
        ("datasets.gaussian_mixture", datasets.gaussian_mixture, dict(n=10, means=(-1.0, 1.0), sd=0.5, seed=0),
         dict(n="int", means=("array", [[[-1.0, 1.0]]]), sd="pos", seed="seed")),   # (m, d) is valid: 3-D is not
        ("datasets.discrete", datasets.discrete, dict(points=[-1.0, 1.0], labels=[0, 1], n_repeat=2, seed=0),
         dict(points=("array", None), labels="labels", n_repeat="int", seed="seed")),
        ("datasets.linear_teacher", datasets.linear_teacher, dict(n_in=3, n_out=1, n_train=10, n_test=5, snr=1.0,
                                                                  weight_std=1.0, seed=0),
         dict(n_in="int", n_out="int", n_train="int", n_test="int", snr="pos", weight_std="pos", seed="seed")),
        ("datasets.relevant_irrelevant", datasets.relevant_irrelevant,
         dict(n_in=6, n_relevant=2, n_train=10, n_test=5, snr=1.0, seed=0),
         dict(n_in="int", n_relevant="int", n_train="int", n_test="int", snr="pos", seed="seed")),
        ("datasets.tishby_12bit", datasets.tishby_12bit, dict(train_fraction=0.8, seed=0),
         dict(train_fraction="pos", seed="seed")),
        ("gradient_snr.scalar_teacher", GS.scalar_teacher, dict(n_samples=10, slope=1.0, noise_std=0.5, seed=0,
                                                                n_test=5),
         dict(n_samples="int", slope="signed", noise_std="nonneg", seed="seed", n_test="int")),
        ("gradient_snr.linear_111_snr", GS.linear_111_snr, dict(method="sgd", epochs=3, lr=1e-3, n_samples=10,
                                                                noise_std=0.5, init_std=0.1, log_epochs=2, seed=0),
         dict(epochs="int", lr="pos", n_samples="int", noise_std="nonneg", init_std="nonneg", seed="seed")),
        ("gradient_snr.minibatch_gradient_stats", GS.minibatch_gradient_stats,
         dict(net=t.net, params=t.params, x=xs, y=t.y, batch_size=5),
         dict(x=("input_array", xs[:, :2]), y="labels", batch_size="int")),
        ("gradient_identity.all_minibatches", GI.all_minibatches, dict(n=4, batch_size=2),
         dict(n="int", batch_size="int")),
        ("gradient_identity.step_identity", GI.step_identity,
         dict(net=t.net, params=t.params, x=xs, y=t.y, alphas=[1e-3, 1e-2], hvp_eps=1e-5),
         dict(x=("input_array", xs[:, :2]), y="labels", alphas=("pos_array", [[1e-3, 1e-2]]), hvp_eps="pos")),
        ("gradient_identity.loglog_slope", GI.loglog_slope, dict(alphas=[1e-3, 1e-2, 1e-1], values=[1.0, 2.0, 4.0]),
         dict(alphas=("pos_array", [1e-3, 1e-2]), values=("pos_array", [1.0, 2.0]))),
    ]


def _minimal_model_calls():
    sg, sn = M.ScalarGaussian("tanh"), M.SingleNeuron()
    dn, lst = M.DeterministicNeuron(), M.LinearStudentTeacher(n_in=4, n_hidden=3, n_train=8, seed=0)
    chain = M.NoisyChain.kong_tanh_tanh(n_train=20, batch_size=5)
    edges = [-1.0, 0.0, 1.0]
    return [
        ("ScalarGaussian", M.ScalarGaussian, dict(activation="tanh", mu=0.0, sd=1.0), dict(mu="signed", sd="pos")),
        ("ScalarGaussian.noisy_mi", sg.noisy_mi, dict(w=1.0, noise_std=0.1), dict(w="signed", noise_std="pos")),
        ("ScalarGaussian.noisy_mi_bound", sg.noisy_mi_bound, dict(w=1.0, noise_std=0.1),
         dict(w="signed", noise_std="pos")),
        ("ScalarGaussian.binned_mi", sg.binned_mi, dict(w=1.0, edges=edges),
         dict(w="signed", edges=("array", [edges]))),
        ("ScalarGaussian.bin_probabilities", sg.bin_probabilities, dict(w=1.0, edges=edges),
         dict(w="signed", edges=("array", [edges]))),
        ("ScalarGaussian.activity_edges", sg.activity_edges, dict(w=1.0, n_bins=5, n_samples=100, rng=0),
         dict(w="signed", n_bins="int", n_samples="int", rng="seed")),
        ("ScalarGaussian.binned_mi_peak", sg.binned_mi_peak, dict(edges=edges, w_range=(0.0, 5.0), n_grid=11),
         dict(edges=("array", [edges]), w_range=("array", (0.0, 1.0, 2.0)), n_grid="int")),
        ("ScalarGaussian.sample", sg.sample, dict(n=5, w=1.0, rng=0), dict(n="int", w="signed", rng="seed")),
        ("SingleNeuron", M.SingleNeuron, dict(points=(-3, -1, 1, 3), labels=(-1, -1, -1, 1), noise_std=0.1),
         dict(points=("array", [(-3, -1, 1, 3)]), labels="labels", noise_std="pos")),
        ("SingleNeuron.mi", sn.mi, dict(w=1.0, b=0.0), dict(w="signed", b="signed")),
        ("SingleNeuron.loss", sn.loss, dict(w=1.0, b=0.0), dict(w="signed", b="signed")),
        ("SingleNeuron.density", sn.density, dict(w=1.0, b=0.0, t_grid=np.linspace(-2, 2, 9)),
         dict(w="signed", b="signed", t_grid=("array", None))),
        ("SingleNeuron.train", sn.train, dict(epochs=3, lr=1e-3, w0=0.0, b0=0.0, method="sgd", n_train=8, batch_size=4,
                                          seed=0),
         dict(epochs="int", lr="pos_per_member", w0="signed", b0="signed", n_train="int", batch_size="int",
              seed="seed")),
        ("DeterministicNeuron", M.DeterministicNeuron, dict(points=(-3, -1, 1, 3)),
         dict(points=("array", [(-3, -1, 1, 3)]))),
        ("DeterministicNeuron.mi", dn.mi, dict(w=1.0, b=0.0), dict(w="signed", b="signed")),
        ("DeterministicNeuron.binned_mi", dn.binned_mi, dict(w=1.0, b=0.0, edges=edges),
         dict(w="signed", b="signed", edges=("array", [edges]))),
        ("LinearStudentTeacher", M.LinearStudentTeacher,
         dict(n_in=4, n_hidden=3, depth=1, n_train=8, snr=1.0, init_scale=0.1, n_out=1, noise_var_mi=1.0,
              n_trials=1, seed=0),
         dict(n_in="int", n_hidden="int", depth="int", n_train="int", snr="pos", init_scale="pos", n_out="int",
              noise_var_mi="pos", n_trials="int", seed="seed")),
        ("LinearStudentTeacher.train", lst.train, dict(method="gd", lr=0.1, epochs=3, batch_size=2),
         dict(lr="pos", epochs="int", batch_size="int")),
        ("NoisyChain.kong_tanh_tanh", M.NoisyChain.kong_tanh_tanh, dict(noise_std=0.05, lr=1e-3, n_train=20,
                                                                          batch_size=5, accuracy_threshold=0.9),
         dict(noise_std="pos", lr="pos", n_train="int", batch_size="int", accuracy_threshold="pos")),
        ("NoisyChain.train", chain.train, dict(epochs=2, seed=0, lr=1e-3, resolution="coarse", n_grid=31,
                                               progress=False),
         dict(epochs="int", seed="seed", lr="pos", n_grid="int")),
    ]


# Known failures, "callable(argument" -> the file to fix (not the suite author's files; reported to their owners).
# Any hostile value of that argument may still fail; when none does, the test asks for the entry's removal.
KNOWN: dict[str, str] = {
}


def _message_names(msg: str, arg: str) -> bool:
    """The message starts with the argument's name (``data.x_train``, and ``x and z ...`` for a pair, count)."""
    return re.match(rf"^(\w+\.)*(\w+ and )?{re.escape(arg)}\b", msg) is not None


def _problems(name, fn, kwargs, kinds):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fn(**kwargs)                                                      # the valid call works
    out = {}
    for arg, kind in kinds.items():
        for label, bad in _hostile(kind, kwargs[arg]):
            key = f"{name}({arg}={label})"
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    result = fn(**dict(kwargs, **{arg: bad}))
                out[key] = f"accepted -> {type(result).__name__}"
            except (TypeError, ValueError) as exc:
                if not _message_names(str(exc), arg):
                    out[key] = f"{type(exc).__name__} not naming {arg!r}: {str(exc)[:160]}"
            except Exception as exc:                                      # noqa: BLE001 (reported, not hidden)
                out[key] = f"raw {type(exc).__name__}: {str(exc)[:160]}"
    return out


def _check(calls):
    problems = {}
    for name, fn, kwargs, kinds in calls:
        problems.update(_problems(name, fn, kwargs, kinds))
    def known(key):
        return key.split("=")[0] in KNOWN
    unexpected = {k: v for k, v in problems.items() if not known(k)}
    failing = {k.split("=")[0] for k in problems}
    fixed = sorted(k for k in KNOWN if k.split("(")[0] in {c[0] for c in calls} and k not in failing)
    assert not unexpected, "\n".join(f"{k}: {v}" for k, v in sorted(unexpected.items()))
    assert not fixed, "fixed now, remove from KNOWN: " + ", ".join(fixed)


def test_estimators_name_every_bad_argument():
    _check(_estimator_calls())


def test_sims_name_every_bad_argument(tiny):
    _check(_sims_calls(tiny))


def test_minimal_models_name_every_bad_argument():
    _check(_minimal_model_calls())


def test_train_shuffle_is_a_boolean(tiny):
    """``shuffle="no"`` or ``0`` meant a truthiness test; now checks.flag refuses anything but a boolean."""
    for bad in ("no", 0, 1, None):
        with pytest.raises(TypeError, match="^shuffle"):
            train(tiny.net, tiny.data, epochs=1, shuffle=bad, progress=False)


def test_explicit_minibatches_are_checked_index_sets(tiny):
    """gradient_snr and gradient_identity share checks.index_sets for explicit ``batches`` (two local copies before)."""
    x, y = tiny.x[:8], tiny.y[:8]
    for fn in (GS.minibatch_gradient_stats, GI.minibatch_identity):
        for bad in ([[0, 1.5]], [[0, 8]], [[-1, 0]], [[0, 1], [2]], np.zeros((0, 2), int)):
            with pytest.raises(ValueError, match="^batches"):
                fn(tiny.net, tiny.params, x, y, batches=bad)


def test_leaky_relu_slope_is_one_real_number_in_0_1():
    """An array slope raised a raw float() conversion error."""
    from analytic.activations import get_activation
    for bad in (True, "0.1", 0.5j, np.nan, 1.5, [0.1, 0.2]):
        with pytest.raises((TypeError, ValueError), match="^slope"):
            get_activation("leaky_relu", slope=bad)


def test_figure_render_refuses_an_empty_output_folder():
    """``render(name, "")`` wrote into the working directory (issue 14, case 7: ``--out ''``)."""
    from figures._registry import render
    for bad in ("", "  ", None):
        with pytest.raises((TypeError, ValueError), match="^out_dir"):
            render("no-such-figure", bad)


# ---------------------------------------------------------------- analytic: one number where one is meant
# (the rest of analytic's hostile input: tests/test_analytic_edges.py)
def test_analytic_scalar_arguments_refuse_arrays_naming_the_argument():
    from analytic import binning, scalar_channel as sc
    three = [0.5, 0.5, 0.5]
    calls = [
        ("noise_std", lambda v: sc.two_point_channel_mi(-1.0, 1.0, 0.5, noise_std=v)),
        ("noise_std", lambda v: sc.saturating_large_w_limit("tanh", noise_std=v)),
        ("sd", lambda v: sc.saturating_large_w_limit("tanh", 0.1, sd=v)),
        ("noise_std", lambda v: sc.output_variance_bound("tanh", 1.0, noise_std=v)),
        ("sd", lambda v: binning.binned_entropy_gaussian("tanh", 1.0, [-1.0, 0.0, 1.0], sd=v)),
    ]
    for name, call in calls:
        call(0.5)
        with pytest.raises(TypeError, match=f"^{name}"):
            call(three)


def test_gaussian_channel_ty_noise_arrays_are_batch_axes():
    """An array of noise variances is a batch of channels (it raised a raw broadcasting error)."""
    from analytic.gaussian_channel import gaussian_channel_mi_ty
    e2 = np.eye(2)
    for kw in (dict(noise_var=[0.5, 1.0, 2.0], label_noise_var=1.0), dict(noise_var=1.0, label_noise_var=[0.0, 1.0])):
        batch = gaussian_channel_mi_ty(e2, e2, e2, **kw)
        name, values = next((k, v) for k, v in kw.items() if np.ndim(v))
        singles = [gaussian_channel_mi_ty(e2, e2, e2, **dict(kw, **{name: v})) for v in values]
        np.testing.assert_allclose(batch, singles, rtol=1e-12)
    with pytest.raises(ValueError, match="^label_noise_var"):
        gaussian_channel_mi_ty(e2, e2, e2, noise_var=[0.5, 1.0, 2.0], label_noise_var=[1.0, 2.0])
