"""LinearStudentTeacher: GD vs exact flow (O(lr)), agreement with the simulator, exact info-plane invariants."""
import numpy as np
import pytest
from types import SimpleNamespace

from analytic.gaussian_channel import gaussian_channel_mi
from minimal_models import LinearStudentTeacher
from sims import MLP, train


def _small(depth, **kw):
    base = dict(n_in=8, n_hidden=6, depth=depth, n_train=10, snr=2.0, init_scale=0.5, n_trials=3, seed=4)
    base.update(kw)
    return LinearStudentTeacher(**base)


@pytest.mark.parametrize("depth", [0, 1])
def test_gd_converges_to_exact_flow_linearly_in_lr(depth):
    """Flow: closed form (depth 0) or solve_ivp (depth 1). GD at the same time t = steps * lr: error O(lr)."""
    model = _small(depth)
    t_end = 20.0
    flow = model.train("flow", lr=1.0, epochs=int(t_end), log_epochs=[0, int(t_end)])
    errors = []
    for lr in (0.2, 0.1, 0.05):
        steps = int(round(t_end / lr))
        gd = model.train("gd", lr=lr, epochs=steps, log_epochs=[0, steps])
        np.testing.assert_allclose(gd.as_time, flow.as_time)
        errors.append(np.max(np.abs(gd.test_error[:, -1] - flow.test_error[:, -1])))
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    np.testing.assert_allclose(ratios, 2.0, rtol=0.1)
    assert errors[-1] < 1e-2 * np.max(flow.test_error)


def test_full_batch_gd_equals_the_simulator():
    """Same weights, same data: this module's GD step equals sims.train (linear, output linear, mse, no bias)."""
    model = _small(1, n_trials=1)
    w_o, x, y, ws = model.sample(np.random.default_rng(model.seed))
    net = MLP(model.widths, activation="linear", output="linear", bias=False)
    data = SimpleNamespace(x_train=x[0], y_train=y[0], x_test=x[0], y_test=y[0])
    params = [(w[0].T.copy(), np.zeros(w.shape[1])) for w in ws]
    run = train(net, data, ensemble=1, epochs=40, batch_size=None, optimizer="sgd", lr=0.3, loss="mse",
                     params=params, progress=False, log_epochs=[0, 40])
    mine = model.train("gd", lr=0.3, epochs=40, log_epochs=[0, 40])
    for (w_sim, _), w_mine in zip(run.params, mine.weights):
        np.testing.assert_allclose(w_sim[0].T, w_mine[0], rtol=1e-10, atol=1e-12)


def test_information_plane_invariants_and_relevant_split():
    model = LinearStudentTeacher(n_in=20, n_hidden=12, depth=2, n_train=40, snr=1.0, init_scale=0.3,
                                 n_relevant=6, n_trials=2, seed=1)
    run = model.train("sgd", lr=0.05, epochs=60, batch_size=5, log_epochs=6)
    w_o, *_ = model.sample(np.random.default_rng(model.seed))
    assert np.all(w_o[..., 6:] == 0)                                  # irrelevant inputs carry no teacher weight
    i_xy = gaussian_channel_mi(w_o, model.cov_x, model.label_noise_var)   # (trials,)
    assert run.i_xt.shape == run.i_ty.shape == (2, run.epochs.size, 3)
    assert np.all(run.i_ty <= run.i_xt + 1e-12)
    assert np.all(run.i_ty <= i_xy[:, None, None] + 1e-12)
    sub = run.subspace
    # independent input blocks: I(T;X) = I(T;X_rel) [marginal] + I(T;X_irr | X_rel) [= sub-map of X_irr]
    np.testing.assert_allclose(sub["relevant_marginal"] + sub["irrelevant_submap"], run.i_xt, rtol=1e-9)
    np.testing.assert_allclose(sub["irrelevant_marginal"] + sub["relevant_submap"], run.i_xt, rtol=1e-9)
    assert np.all(sub["relevant_marginal"] <= sub["relevant_submap"] + 1e-12)
    # test error at epoch 0 is exact for the initial weights: |W_o - W_tot|^2/n_in + 1/snr
    assert np.all(run.test_error > 1.0) and np.all(run.train_error >= 0)


def test_sgd_and_gd_share_the_time_axis():
    """lr_sgd = lr_gd * batch / n_train puts both on one time axis; SGD's deviation from GD shrinks with lr."""
    model = _small(1)
    gaps = []
    for lr_gd, epochs in ((0.4, 250), (0.1, 1000)):
        gd = model.train("gd", lr=lr_gd, epochs=epochs, log_epochs=[0, epochs])
        sgd = model.train("sgd", lr=lr_gd * 5 / 10, epochs=epochs, batch_size=5, log_epochs=[0, epochs])
        np.testing.assert_allclose(gd.as_time, sgd.as_time)
        np.testing.assert_allclose(gd.test_error[:, 0], sgd.test_error[:, 0])      # same initial draw
        gaps.append(np.max(np.abs(sgd.test_error[:, -1] / gd.test_error[:, -1] - 1)))
    assert gaps[1] < 0.5 * gaps[0] and gaps[1] < 0.03


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="n_relevant"):
        LinearStudentTeacher(n_in=10, n_relevant=10)
    with pytest.raises(ValueError, match="snr"):
        LinearStudentTeacher(snr=0.0)
    with pytest.raises(ValueError, match="depth"):
        LinearStudentTeacher(depth=-1)
    model = _small(0)
    with pytest.raises(ValueError, match="method"):
        model.train("adam")
    with pytest.raises(ValueError, match="batch_size"):
        model.train("sgd", batch_size=3)
    with pytest.raises(ValueError, match="lr"):
        model.train("gd", lr=0.0)


def test_shallow_flow_matches_advani_saxe_theory():
    """depth 0, exact flow of the mean loss: trial means follow analytic.advani_saxe_errors on run.as_time, with
    init_var = init_scale^2 / n_in. Tolerance as in test_advani_saxe: 4 SE + 3/N (finite-N bias)."""
    from analytic import advani_saxe_errors

    model = LinearStudentTeacher(n_in=100, depth=0, n_train=200, snr=2.0, init_scale=3.0, n_trials=40, seed=2)
    run = model.train("flow", lr=10.0, epochs=100, log_epochs=[0, 5, 20, 100])
    th_train, th_test = advani_saxe_errors(run.as_time, 2.0, 2.0, init_var=9.0 / 100)
    for sim, th in ((run.test_error, th_test), (run.train_error, th_train)):
        se = sim.std(axis=0, ddof=1) / np.sqrt(sim.shape[0])
        np.testing.assert_array_less(np.abs(sim.mean(axis=0) - th), 4 * se + 3.0 / 100 * th)
