"""sims.divergence: one error and one criterion, on constructed cases."""
import pickle

import numpy as np
import pytest

from sims.divergence import (LOSS_FACTOR, LOSS_MARGIN, PARAM_LIMIT, DivergenceMonitor, TrainingDiverged,
                             check_divergence, parameter_bound)


def _raises(**kw):
    with pytest.raises(TrainingDiverged) as info:
        check_divergence(**kw)
    return info.value


def test_is_a_floating_point_error_naming_epoch_member_reason():
    err = _raises(loss=np.array([0.5, np.nan, np.inf]), epoch=7)
    assert isinstance(err, FloatingPointError)
    assert (err.epoch, err.member, err.members) == (7, 1, (1, 2))
    assert "epoch 7" in str(err) and "member 1" in str(err) and "non-finite loss" in err.reason


def test_non_finite_parameters_in_any_array():
    params = [np.zeros((3, 2, 2)), np.array([[0.0], [0.0], [np.nan]])]
    err = _raises(params=params, epoch=2)
    assert err.member == 2 and "non-finite parameters" in err.reason
    err = _raises(params=np.array([[-np.inf, 0.0], [0.0, 0.0]]), epoch=0)
    assert err.member == 0


def test_finite_parameter_blow_up_relative_to_start():
    p0 = np.array([[0.1, 0.2], [3.0, -2.0]])
    # member 0: scale 1 -> bound 1e6; member 1: scale 3 -> bound 3e6
    check_divergence(params=np.array([[9.9e5, 0.0], [2.9e6, 0.0]]), params0=p0, epoch=1)
    err = _raises(params=np.array([[9.9e5, 0.0], [0.0, -3.1e6]]), params0=p0, epoch=1)
    assert err.member == 1 and "bound 3e+06" in err.reason
    assert parameter_bound(p0).tolist() == [PARAM_LIMIT, 3 * PARAM_LIMIT]


def test_loss_far_above_start():
    loss0 = np.array([0.69, 2.0])
    ok = LOSS_FACTOR * loss0 + LOSS_MARGIN
    check_divergence(loss=ok, loss0=loss0, epoch=5)                  # at the bound: still honest
    err = _raises(loss=np.array([ok[0], ok[1] * 1.001]), loss0=loss0, epoch=5)
    assert err.member == 1 and "starting loss" in err.reason
    # the 12-bit ReLU case of the issue: cross-entropy 274 against ln 2 at the start
    assert _raises(loss=np.array([274.0]), loss0=np.log(2), epoch=100).member == 0


def test_honest_runs_pass():
    rng = np.random.default_rng(0)
    loss0 = np.full(50, np.log(2))
    check_divergence(loss=loss0 * rng.uniform(0, 5, 50), params=rng.normal(0, 100, (50, 300)), loss0=loss0,
                     epoch=10)
    check_divergence(loss=np.zeros(3), loss0=0.0, epoch=0)            # a start at 0: the margin keeps noise out


def test_members_labels_name_the_global_member():
    err = _raises(loss=np.array([0.1, np.nan]), epoch=3, members=[10, 11])
    assert err.member == 11 and "member 11" in str(err)
    with pytest.raises(ValueError, match="members"):
        check_divergence(loss=np.array([np.nan, 1.0]), epoch=0, members=[1])


def test_first_member_reason_priority():
    err = _raises(loss=np.array([1e9, 0.1]), params=np.array([[np.nan], [0.0]]), loss0=1.0, epoch=0)
    assert err.member == 0 and "non-finite parameters" in err.reason


def test_bad_layout_is_a_value_error():
    with pytest.raises(ValueError, match="params"):
        check_divergence(loss=np.zeros(3), params=np.zeros((2, 4)), epoch=0)


def test_monitor_and_pickle():
    mon = DivergenceMonitor(loss0=np.array([1.0, 1.0]), params0=np.array([[2.0], [0.5]]))
    mon.check(1, loss=np.array([50.0, 1.0]), params=np.array([[1.9e6], [9e5]]))
    with pytest.raises(TrainingDiverged) as info:
        mon.check(2, params=np.array([[1.9e6], [1.1e6]]))
    err = pickle.loads(pickle.dumps(info.value))
    assert (err.epoch, err.member, err.reason) == (2, 1, info.value.reason)
    with pytest.raises(ValueError, match="loss0"):
        DivergenceMonitor(loss0=[np.nan])
    assert LOSS_MARGIN > 0
