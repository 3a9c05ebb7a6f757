"""Hostile input and divergence in the minimal models (each case failed before the fix), and pickling."""
import pickle

import numpy as np
import pytest

from minimal_models import DeterministicNeuron, LinearStudentTeacher, NoisyChain, ScalarGaussian, SingleNeuron
from sims.divergence import TrainingDiverged


# ---- divergence: one TrainingDiverged naming the epoch and the member -----------------------------------------
def test_single_neuron_finite_blow_up_raises():
    """lr 1e6: one step puts w at 1.5e6 where tanh is saturated and the gradient vanishes (w stayed 1.5e6)."""
    with pytest.raises(TrainingDiverged) as info:
        SingleNeuron().train(1000, lr=1e6, method="gd")
    assert info.value.epoch == 1 and info.value.member == 0 and "epoch 1" in str(info.value)


def test_single_neuron_ensemble_names_the_diverging_member():
    with pytest.raises(TrainingDiverged) as info:
        SingleNeuron().train(50, lr=np.array([1e-2, 1e-1, 1e7]), method="sgd", seed=0)
    assert info.value.member == 2 and info.value.members == (2,)


def test_linear_student_divergence_is_training_diverged():
    """lr 1e3 used to end in 'noise_var: covariance is singular' from the information plane."""
    with pytest.raises(TrainingDiverged) as info:
        LinearStudentTeacher().train("gd", lr=1e3)
    assert info.value.epoch >= 1 and info.value.member == 0
    with pytest.raises(TrainingDiverged):
        LinearStudentTeacher(n_trials=2).train("sgd", lr=1e3, epochs=200, log_epochs=[0, 200])


def test_noisy_chain_divergence_is_training_diverged():
    with pytest.raises(TrainingDiverged) as info:
        NoisyChain.kong_leaky_leaky().train(50, seed=[0, 1], lr=10.0, log_epochs=[0, 50], progress=False)
    assert isinstance(info.value, FloatingPointError) and info.value.member in (0, 1)


def test_honest_runs_do_not_stop():
    SingleNeuron(noise_std=0.05).train(3000, lr=1.0, method="gd", log_epochs=5)
    LinearStudentTeacher(n_in=20, n_hidden=20, n_train=20).train("gd", lr=2.0, epochs=300, log_epochs=5)
    NoisyChain.kong_tanh_tanh().train(1000, seed=[0, 1], log_epochs=3, resolution="coarse", progress=False)


# ---- issue 14, items 7 and 11 ---------------------------------------------------------------------------------
def test_scalar_gaussian_rejects_booleans_and_arrays():
    with pytest.raises(TypeError, match="sd"):
        ScalarGaussian("tanh", sd=True)
    with pytest.raises(TypeError, match="mu"):
        ScalarGaussian("tanh", mu=[0, 1])
    with pytest.raises(TypeError, match="mu"):
        ScalarGaussian("tanh", mu="0")
    with pytest.raises(ValueError, match="w_range"):
        ScalarGaussian("tanh").binned_mi_peak(np.linspace(-1, 1, 5), w_range=(0.0, 1.0, 2.0))


def test_noisy_chain_n_grid_zero_names_the_argument():
    with pytest.raises(ValueError, match="n_grid"):
        NoisyChain.kong_tanh_tanh().train(3, n_grid=0, progress=False)


@pytest.mark.parametrize("threshold", [np.nan, 5, -0.1, np.inf])
def test_accuracy_threshold_outside_0_1_is_rejected(threshold):
    """NaN or 5 silently disabled Kong's lr drop."""
    with pytest.raises(ValueError, match="accuracy_threshold"):
        NoisyChain.kong_tanh_tanh(accuracy_threshold=threshold)
    with pytest.raises(ValueError, match="accuracy_threshold"):
        SingleNeuron().train(5, method="sgd", accuracy_threshold=threshold)


def test_accuracy_threshold_none_disables_the_drop_explicitly():
    """Kong's tanh-tanh chain (seed 0) drops its rate between epochs 50 and 72; with None it keeps it and trains
    identically up to the drop (the accuracy is still measured, so the random stream is the same)."""
    kw = dict(seed=0, log_epochs=[0, 50, 72, 100], resolution="coarse", progress=False)
    plain = NoisyChain.kong_tanh_tanh(accuracy_threshold=None).train(100, **kw)
    kong = NoisyChain.kong_tanh_tanh().train(100, **kw)
    assert np.all(plain.lr == 1e-2) and kong.lr[1] == 1e-2 and np.all(kong.lr[2:] == 1e-2 / 20)
    np.testing.assert_array_equal(plain.params[:2], kong.params[:2])
    assert not np.array_equal(plain.params[3], kong.params[3])
    np.testing.assert_array_equal(plain.test_accuracy[:2], kong.test_accuracy[:2])
    with pytest.raises(TypeError, match="lr_drop"):
        NoisyChain.kong_tanh_tanh(lr_drop=True)


@pytest.mark.parametrize("bad", [True, "0.1", 1 + 2j])
def test_numbers_must_be_real_numbers(bad):
    with pytest.raises(TypeError, match="noise_std"):
        SingleNeuron(noise_std=bad)
    with pytest.raises(TypeError, match="noise_std"):
        NoisyChain.kong_tanh_tanh(noise_std=bad)
    with pytest.raises(TypeError, match="lr"):
        SingleNeuron().train(3, lr=bad, method="gd")
    with pytest.raises(TypeError, match="snr"):
        LinearStudentTeacher(snr=bad)


@pytest.mark.parametrize("seed", [-1, "abc", 1.5])
def test_bad_seeds_name_the_argument(seed):
    with pytest.raises((TypeError, ValueError), match="seed"):
        SingleNeuron().train(3, method="sgd", seed=seed)
    with pytest.raises((TypeError, ValueError), match="seed"):
        NoisyChain.kong_tanh_tanh().train(3, seed=seed, progress=False)


# ---- issue 11, item 4: picklable -----------------------------------------------------------------------------
@pytest.mark.parametrize("obj", [ScalarGaussian("leaky_relu", slope=0.2, mu=0.5), SingleNeuron(noise_std=0.05),
                                 NoisyChain.kong_leaky_tanh(), NoisyChain.kong_mixture_neuron(),
                                 LinearStudentTeacher(n_in=5, n_hidden=3, n_train=6, n_trials=2),
                                 DeterministicNeuron()], ids=lambda o: type(o).__name__)
def test_pickle_round_trip(obj):
    back = pickle.loads(pickle.dumps(obj))
    assert type(back) is type(obj) and repr(back) == repr(obj)
    for key, val in vars(obj).items():
        if isinstance(val, np.ndarray):
            np.testing.assert_array_equal(getattr(back, key), val)


def test_pickled_models_train_identically():
    n = SingleNeuron(noise_std=0.05)
    a = n.train(30, method="sgd", seed=2, log_epochs=4)
    b = pickle.loads(pickle.dumps(n)).train(30, method="sgd", seed=2, log_epochs=4)
    np.testing.assert_array_equal(a.w, b.w)
    traj = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(traj.mi, a.mi)
    chain = NoisyChain.kong_tanh_tanh()
    c1 = chain.train(20, seed=1, log_epochs=3, resolution="coarse", progress=False)
    c2 = pickle.loads(pickle.dumps(chain)).train(20, seed=1, log_epochs=3, resolution="coarse", progress=False)
    np.testing.assert_array_equal(c1.params, c2.params)
    model = LinearStudentTeacher(n_in=5, n_hidden=3, n_train=6, n_trials=2)
    r1 = model.train("sgd", lr=0.1, epochs=10, batch_size=3, log_epochs=3)
    r2 = pickle.loads(pickle.dumps(model)).train("sgd", lr=0.1, epochs=10, batch_size=3, log_epochs=3)
    np.testing.assert_array_equal(r1.test_error, r2.test_error)


def test_noisy_chain_accepts_a_generator():
    chain = NoisyChain.kong_mixture_neuron()
    a = chain.train(20, seed=np.random.default_rng(5), log_epochs=3, resolution="coarse", progress=False)
    b = chain.train(20, seed=np.random.default_rng(5), log_epochs=3, resolution="coarse", progress=False)
    assert a.params.shape == (3, 2)
    np.testing.assert_array_equal(a.params, b.params)
