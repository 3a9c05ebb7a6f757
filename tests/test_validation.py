"""Theory against estimates: the properties the estimator-validation figure rests on."""
import numpy as np
import pytest

from minimal_models.validation import (ValidationResult, estimator_validation, goldfeld_rate,
                                       kde_true_centre_bracket)


def test_kde_true_centres_bracket_exact_single_neuron_over_grid():
    w = np.linspace(0.0, 6.0, 25)[:, None]
    b = np.linspace(-3.0, 3.0, 13)[None, :]
    for s in (0.01, 0.05, 0.1, 0.5):
        lo, exact, up = kde_true_centre_bracket(w, b, s)
        assert lo.shape == exact.shape == up.shape == (25, 13)
        assert np.all(lo <= exact + 1e-12) and np.all(exact <= up + 1e-12)


def test_goldfeld_converges_to_exact_single_neuron_at_root_n():
    res = estimator_validation(models=("single-neuron",), estimators=("goldfeld",),
                               n_grid=(30, 300, 3000, 10000), repeats=20, seed=1)
    rmse = res.rmse("single-neuron", "goldfeld")
    assert np.all(np.diff(rmse) < 0) and rmse[-1] < 0.006
    assert -0.8 < goldfeld_rate(res) < -0.4            # theory: -1/2 (Goldfeld et al. 2019, Thm. 2)


def test_binned_estimate_converges_to_exact_binned_mi():
    res = estimator_validation(models=("scalar-binned",), estimators=("binned",), n_grid=(300, 3000, 30000),
                               repeats=6, seed=2)
    v = res.estimates[("scalar-binned", "binned")]
    for k, n in enumerate(res.n_grid):
        # plug-in bias is -(K-1)/(2n) to first order (K <= 29 bins); spread from the repeats
        allowed = 28 / (2 * n) + 4 * v[k].std(ddof=1) / np.sqrt(v.shape[1])
        assert abs(res.bias("scalar-binned", "binned")[k]) <= allowed


def test_continuous_estimators_near_exact_at_large_n():
    res = estimator_validation(models=("scalar-noisy", "linear"), estimators=("goldfeld", "kraskov"),
                               n_grid=(4000,), repeats=3, seed=3)
    for key, v in res.estimates.items():
        assert abs(v.mean() - res.exact[key[0]]) < 0.08, key
    assert isinstance(res.table(), str)


def test_goldfeld_with_repeated_passes_on_two_neuron_chain():
    """Conditional term h(T2|X) from repeated noisy passes; exact I(X;T2) by nested quadrature."""
    res = estimator_validation(models=("chain",), estimators=("goldfeld",), n_grid=(2000,), repeats=3, seed=4)
    v = res.estimates[("chain", "goldfeld")]
    assert abs(v.mean() - res.exact["chain"]) < 0.04


def test_bad_input():
    with pytest.raises(ValueError, match="models"):
        estimator_validation(models=("nope",))
    with pytest.raises(ValueError, match="estimators"):
        estimator_validation(estimators=("nope",))
    with pytest.raises(ValueError, match="repeats"):
        estimator_validation(repeats=1)
    assert isinstance(ValidationResult(np.array([10]), 2, {}), ValidationResult)
