"""sims.gd_loop.descend: the shared gradient-descent loop of the minimal models, on problems solved by hand."""
import numpy as np
import pytest

from sims.divergence import TrainingDiverged
from sims.gd_loop import AccuracyDrop, check_threshold, descend


def _quadratic(params, batch):          # L = 1/2 |theta|^2 per member: gradient theta
    return [p.copy() for p in params]


def test_per_member_learning_rates_exact():
    lr = np.array([0.5, 0.1, 0.01])
    out = descend([np.ones((3, 2))], _quadratic, epochs=np.array([0, 1, 5, 20]), lr=lr)
    want = (1 - lr)[:, None] ** np.array([0, 1, 5, 20])
    np.testing.assert_allclose(out.records["params"][0][..., 0], want, rtol=1e-14)
    np.testing.assert_allclose(out.params[0][:, 0], want[:, -1], rtol=1e-14)
    assert out.lr.shape == (3, 4) and np.all(out.lr == lr[:, None]) and out.accuracy is None


def test_accumulated_gradients_follow_kongs_recursion():
    """Kong's buffers are never zeroed: step k applies g_1 + ... + g_k (two batches per epoch here)."""
    lr, theta, acc, hand = 0.05, 1.0, 0.0, [1.0]
    for _ in range(6):
        for _ in range(2):
            acc += theta
            theta -= lr * acc
        hand.append(theta)
    out = descend([np.array([1.0])], _quadratic, epochs=np.arange(7), lr=lr, accumulate=True,
                  batches=lambda epoch: iter((None, None)))
    np.testing.assert_allclose(out.records["params"][0][0], hand, rtol=1e-14)


def test_accuracy_drop_is_permanent_and_once():
    seen = []

    def accuracy(params):               # member 0 reaches 0.99 before epoch 3, then falls back; member 1 never
        epoch = len(seen)
        seen.append(epoch)
        return np.array([0.995 if epoch == 3 else 0.5, 0.9])

    out = descend([np.ones((2, 1))], _quadratic, epochs=np.arange(7), lr=0.2,
                  lr_drop=AccuracyDrop(accuracy, 0.99, 20.0))
    np.testing.assert_allclose(out.lr[0], [0.2, 0.2, 0.2, 0.01, 0.01, 0.01, 0.01])
    np.testing.assert_allclose(out.lr[1], 0.2)
    np.testing.assert_allclose(out.accuracy[0, 3], 0.995)
    assert seen == list(range(7))       # measured before every epoch, the last logged one included
    # the rate in force after epoch 3: 0.2 for 3 epochs, then 0.01
    np.testing.assert_allclose(out.params[0][0, 0], 0.8 ** 3 * 0.99 ** 3, rtol=1e-14)
    none = descend([np.ones((2, 1))], _quadratic, epochs=np.arange(3), lr=0.2,
                   lr_drop=AccuracyDrop(lambda p: np.ones(2), None))
    assert np.all(none.lr == 0.2) and np.all(none.accuracy == 1.0)


def test_one_accuracy_drop_rule_for_both_training_paths():
    """Kong's drop is stated once (sims.optim.StepOnAccuracy): descend's AccuracyDrop and sims.train's schedule
    give bit-identical rates, for learning rates where lr / 20 and lr * (1/20) round differently too, and both
    check before the first epoch (threshold 0: dropped from the start)."""
    from types import SimpleNamespace

    from sims import MLP, train
    from sims.optim import StepOnAccuracy
    lr = np.array([0.2, 0.05, 3e-3])                    # 0.2 / 20 != 0.2 * 0.05 in floating point
    out = descend([np.ones((3, 1))], _quadratic, epochs=np.arange(3), lr=lr,
                  lr_drop=AccuracyDrop(lambda p: np.ones(3), 0.0, 20.0))
    rule = StepOnAccuracy(threshold=0.0, factor=1 / 20)
    state = rule.init_state(3)
    rule.update(0, np.ones(3), state)
    np.testing.assert_array_equal(out.lr, np.broadcast_to(rule.rate(lr, state)[:, None], (3, 3)))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 2))
    y = (x[:, 0] > 0).astype(np.int64)
    data = SimpleNamespace(x_train=x[:30], y_train=y[:30], x_test=x[30:], y_test=y[30:])
    run = train(MLP([2, 3, 2]), data, ensemble=3, epochs=2, batch_size=10, optimizer="sgd", lr=lr,
                lr_schedule=rule, log_epochs=[0, 1, 2], progress=False)
    np.testing.assert_array_equal(run.lr, out.lr)


def test_divergence_names_epoch_and_member():
    grow = lambda params, batch: [-p for p in params]           # noqa: E731  (ascent: theta *= 1 + lr)
    with pytest.raises(TrainingDiverged) as info:
        descend([np.ones((3, 1))], grow, epochs=np.array([0, 100]), lr=np.array([0.1, 1.0, 0.2]),
                members=[7, 8, 9])
    # member 8 doubles each epoch: 2^20 > 1e6 at epoch 20
    assert (info.value.epoch, info.value.member) == (20, 8)


def test_loss_criterion_at_logged_epochs():
    grow = lambda params, batch: [-p for p in params]           # noqa: E731
    loss = lambda params: 0.5 * params[0][:, 0] ** 2             # noqa: E731
    with pytest.raises(TrainingDiverged) as info:
        descend([np.ones((1, 1))], grow, epochs=np.arange(30), lr=0.5, loss=loss)
    # loss 0.5 * 1.5^(2k) > 100 * 0.5 + 10 = 60 first at k = 6
    assert info.value.epoch == 6 and "starting loss" in info.value.reason


def test_record_callback_and_progress(capsys):
    out = descend([np.zeros((2, 3)), np.ones((2,))], lambda p, b: [np.ones_like(p[0]), np.zeros(2)],
                  epochs=np.array([0, 2, 4]), lr=0.5, progress=True,
                  record=lambda p: {"s": p[0].sum(axis=1), "both": [p[0].copy(), p[1].copy()]})
    np.testing.assert_allclose(out.records["s"], [[0.0, -3.0, -6.0]] * 2)
    assert out.records["both"][0].shape == (2, 3, 3) and out.records["both"][1].shape == (2, 3)


def test_bad_input():
    with pytest.raises(ValueError, match="epochs"):
        descend([np.ones((2, 1))], _quadratic, epochs=np.array([3, 1]), lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        descend([np.ones((2, 1))], _quadratic, epochs=np.array([0, 1]), lr=[0.1, 0.2, 0.3])
    with pytest.raises(TypeError, match="lr"):
        descend([np.ones((2, 1))], _quadratic, epochs=np.array([0, 1]), lr=True)
    with pytest.raises(ValueError, match="lr"):
        descend([np.ones((2, 1))], _quadratic, epochs=np.array([0, 1]), lr=-1.0)
    with pytest.raises(ValueError, match="ensemble"):
        descend([np.ones((2, 1)), np.ones((3, 1))], _quadratic, epochs=np.array([0, 1]), lr=0.1)
    with pytest.raises(ValueError, match="accuracy_threshold"):
        check_threshold(float("nan"))
    with pytest.raises(TypeError, match="accuracy"):
        AccuracyDrop(0.99)
