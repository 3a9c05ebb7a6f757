"""Information-plane methods for conv layers (concat / mean), KDE noise tuning and the sample-size check
(sims.estimators.conv_layers) against constructed cases with known answers."""
import numpy as np
import pytest

from sims import MLP, train
from sims.estimators import kde
from sims.estimators import conv_layers as cl
from sims.info_plane import InfoPlaneConsumer

RNG = np.random.default_rng(1)
ACT = RNG.normal(size=(2, 120, 3, 4, 5))          # (E, S, C, H, W)
Y = np.arange(120) % 3


def test_copies_mean_equals_single_channel():
    same = np.repeat(ACT[:, :, :1], 4, axis=2)
    m = cl.conv_info(same, Y, "mean", noise_var=0.2)
    one = kde(ACT[:, :, 0].reshape(2, 120, 20), Y, noise_var=0.2)
    np.testing.assert_allclose(m[0], one[0], rtol=1e-12)
    np.testing.assert_allclose(m[1], one[1], rtol=1e-12)


def test_mean_is_the_channel_average_and_concat_the_flattened_layer():
    per = cl.channel_info(ACT, Y, noise_var=0.5)
    assert per[0].shape == (2, 3)
    for c in range(3):
        np.testing.assert_allclose(per[0][:, c], kde(ACT[:, :, c].reshape(2, 120, 20), Y, noise_var=0.5)[0],
                                   rtol=1e-12)
    np.testing.assert_allclose(cl.conv_info(ACT, Y, "mean", noise_var=0.5)[0], per[0].mean(-1), rtol=1e-14)
    np.testing.assert_allclose(cl.conv_info(ACT, Y, "concat", noise_var=0.5)[0],
                               kde(ACT.reshape(2, 120, 60), Y, noise_var=0.5)[0], rtol=1e-12)


def test_concat_of_independent_channels_at_least_each_channel():
    # KDE upper bound: concatenation only lengthens pairwise distances, so I(X;T) cannot fall
    cat = cl.conv_info(ACT, Y, "concat", noise_var=2.0)[0]
    per = cl.channel_info(ACT, Y, noise_var=2.0)[0]
    assert np.all(cat[:, None] >= per - 1e-12)
    assert np.all(cat > per.max(-1) + 1e-3)          # and strictly for independent channels


def test_dense_layer_both_methods_agree():
    dense = ACT.reshape(2, 120, 60)
    a = cl.conv_info(dense, Y, "concat", noise_var=0.3)
    b = cl.conv_info(dense, Y, "mean", noise_var=0.3)
    np.testing.assert_allclose(a, b, rtol=1e-14)


def test_flattened_with_shape_equals_image_form():
    flat = ACT.reshape(2, 120, 60)
    for method in cl.METHODS:
        np.testing.assert_allclose(cl.conv_info(flat, Y, method, shape=(3, 4, 5), noise_var=0.3),
                                   cl.conv_info(ACT, Y, method, noise_var=0.3), rtol=1e-14)


def test_binned_estimator_per_channel():
    m = cl.conv_info(np.tanh(ACT), Y, "mean", estimator="binned", width=0.5)
    assert m[0].shape == (2,) and np.all(m[0] <= np.log(120) + 1e-12)


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="method"):
        cl.conv_info(ACT, Y, "max", noise_var=0.1)
    with pytest.raises(ValueError, match="shape"):
        cl.conv_info(ACT.reshape(2, 120, 60), Y, "mean", shape=(4, 4, 5), noise_var=0.1)
    with pytest.raises(ValueError, match="estimator"):
        cl.conv_info(ACT, Y, estimator="nope", noise_var=0.1)
    with pytest.raises(ValueError, match="target"):
        cl.tune_kde_noise_var(cl.one_hot(Y), Y, 5.0)
    with pytest.raises(ValueError, match="sizes"):
        cl.sample_size_curve(ACT[0, :, 0, 0], Y, [500], noise_var=0.1)


@pytest.mark.parametrize("quantity", ["i_xt", "i_ty"])
def test_tuning_recovers_a_planted_noise_variance(quantity):
    act = np.tanh(RNG.normal(size=(120, 6)) + 1.5 * Y[:, None])
    planted = 0.0735
    k = 0 if quantity == "i_xt" else 1
    target = float(kde(act, Y, noise_var=planted)[k])
    r = cl.tune_kde_noise_var(act, Y, target, quantity=quantity)
    assert r.monotone
    assert abs(r.noise_var / planted - 1) < 1e-7
    assert abs(r.estimate - target) < 1e-9


def test_label_entropy_tuning_has_the_closed_form_root():
    # one-hot labels: h_KDE = d/2 ln(2 pi e s2) + I_upper, and I_upper = ln 10 up to exp(-1/s2) ~ e^-17, so the
    # estimated label entropy equals ln 10 at s2 = 1/(2 pi e)
    y = np.arange(200) % 10
    r = cl.tune_kde_noise_var(cl.one_hot(y), y, np.log(10), quantity="h_t")
    assert abs(r.noise_var * 2 * np.pi * np.e - 1) < 1e-6


def test_sample_size_curve_and_stability():
    # label-determined activity: I(T;Y) = H(Y) for every (stratified) subset, so stable from the smallest size
    y = np.arange(300) % 3
    act = 10.0 * cl.one_hot(y)
    curve = cl.sample_size_curve(act, y, [30, 60, 150, 300], repeats=2, noise_var=0.1)
    assert curve.i_ty.shape == (4, 2)
    np.testing.assert_allclose(curve.i_ty, np.log(3), rtol=1e-9)
    assert cl.stable_sample_size(curve, 1e-6) == 30
    noisy = cl.SampleSizeCurve(np.array([10, 100, 1000]), np.zeros((3, 1)), np.array([[0.5], [0.95], [1.0]]))
    assert cl.stable_sample_size(noisy, 0.1) == 100
    assert cl.stable_sample_size(noisy, 0.01) is None


def test_consumer_on_a_dense_net_matches_the_dense_consumer():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 3))
    y = (x[:, 0] > 0).astype(int)
    from types import SimpleNamespace
    data = SimpleNamespace(x_train=x[:60], y_train=y[:60], x_test=x[60:], y_test=y[60:], x_analysis=x,
                           y_analysis=y)
    run = train(MLP([3, 5, 2]), data, ensemble=2, epochs=3, batch_size=20, lr=0.01, progress=False,
                consumers={"conv": cl.ConvInfoPlaneConsumer("mean", y, noise_var=0.1),
                           "dense": InfoPlaneConsumer("kde", y, noise_var=0.1)})
    np.testing.assert_allclose(run.consumer_results["conv"], run.consumer_results["dense"], rtol=1e-12)
