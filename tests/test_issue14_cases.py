"""Cases of issue 14 ("numbers that never leave their bounds ...") that no other test file reproduced.

Where each numbered case of the issue is tested (all fail before their fix and pass after):

1. symbol-key overflow: test_estimator_edges.py::test_binned_tiny_width_separates_every_sample,
   ::test_binned_huge_values_do_not_wrap, ::test_quantized_52_bits_radix_does_not_overflow_after_ranking;
2. Gram cancellation: test_estimator_edges.py::test_goldfeld_offset_activity_stays_below_ln_samples,
   ::test_kde_near_1e6_matches_direct_pairwise_formula, ::test_kde_upper_never_increases_with_noise; for the
   analytic kernel sums behind analytic.pairwise_bounds: the two tests ``test_case_2_*`` here;
3. two-layer chain accuracy: test_analytic_edges.py::test_chain_first_layer_matches_noisy_mi_for_steep_tanh;
4. k-NN range and naming: test_estimator_edges.py::test_kozachenko_leonenko_is_clipped_to_ln_samples_with_a_warning,
   ::test_kraskov_is_a_deprecated_alias, ::test_ksg_correlated_gaussians;
5. mixture_mi_mc standard error: test_analytic_edges.py::test_mixture_mi_mc_exact_value_within_four_standard_errors;
6. non-finite results: test_estimator_edges.py::test_huge_activity_gives_finite_results,
   test_analytic_edges.py::test_mixture_mi_at_the_float_limit, ::test_noisy_mi_below_float_resolution_is_rejected_naming_noise_std,
   ::test_gaussian_channel_mi_with_huge_weights_is_finite;
7. unvalidated input: test_analytic_edges.py::test_gaussian_entropy_rejects_bad_variance_and_dimension,
   ::test_to_bits_rejects_nan_and_non_numbers, test_mlp.py::test_forward_rejects_nan_and_complex_input,
   test_minimal_models_hostile.py::test_accuracy_threshold_outside_0_1_is_rejected,
   test_estimator_edges.py::test_complex_activity_rejected, ::test_bool_and_string_numbers_rejected,
   test_datasets.py::test_dataset_refuses_complex_and_non_numeric_object_arrays,
   test_train.py::test_train_argument_types_are_checked, test_minimal_models_hostile.py::test_numbers_must_be_real_numbers,
   test_info_plane.py::test_out_of_range_layers_are_rejected_not_wrapped,
   test_foundation.py::test_figures_cli_rejects_bad_out; and test_hostile_api.py over the whole public API;
8. corrupted files: test_io.py::test_flipped_digit_in_npy_header_is_caught, ::test_corrupted_run_files_raise_naming_the_file,
   ::test_random_corruption_of_a_saved_run, test_train.py::test_a_damaged_checkpoint_is_refused_naming_the_file;
9. divergence: test_train.py::test_finite_blow_up_is_caught_naming_epoch_and_member,
   test_minimal_models_hostile.py::test_single_neuron_finite_blow_up_raises,
   ::test_linear_student_divergence_is_training_diverged, test_divergence.py;
10. checkpoint paths up front: test_train.py::test_checkpoint_path_is_checked_before_training,
    ::test_checkpoint_of_an_unwritable_folder_is_refused_up_front;
11. poor errors: test_train.py::test_bad_input_raises_naming_argument (seeds),
    test_estimator_edges.py::test_object_array_of_numbers_accepted_as_labels, ::test_tiny_noise_std_is_scale_aware,
    ::test_bad_values_rejected_naming_argument, test_info_plane.py::test_bad_selections_name_the_argument,
    ::test_activity_index_out_of_range_is_a_clear_error, test_minimal_models_hostile.py::test_scalar_gaussian_rejects_booleans_and_arrays,
    ::test_noisy_chain_n_grid_zero_names_the_argument, test_io.py::test_load_run_bad_path,
    test_foundation.py::test_figures_cli_read_only_out, test_io.py::test_stale_temp_of_killed_save_removed_by_next_save;
    GaussianMixtureInput: ``test_case_11_*`` here;
12. BLAS threads: test_estimator_edges.py::test_blas_is_pinned_to_one_thread_inside_kde.
"""
import numpy as np
import pytest

from analytic.noisy_chain import GaussianMixtureInput
from analytic.pairwise_bounds import kernel_row_sums, pairwise_mi_bounds


def _clustered_near_1e6(seed):
    """Tight clusters (spread 1e-4 .. 1) of a few points each, offset by 1e6, and a noise variance comparable to
    the cluster widths: the regime where Gram-form distances cancel."""
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(6, 30)), int(rng.integers(1, 4))
    centres = 1e6 + rng.uniform(-1.0, 1.0, (3, d))
    width = 10.0 ** rng.uniform(-4, 0)
    means = centres[rng.integers(0, 3, n)] + width * rng.standard_normal((n, d))
    return means, width ** 2 * 10.0 ** rng.uniform(-2, 1)


def _direct_row_sums(means, noise_var, kappa):
    diff = means[:, None, :] - means[None, :, :]          # differences of nearby float64 values are exact
    return np.exp(-np.einsum("ijd,ijd->ij", diff, diff) / (kappa * noise_var)).sum(axis=1)


@pytest.mark.parametrize("seed", range(12))
def test_case_2_kernel_row_sums_near_1e6_match_the_direct_pairwise_formula(seed):
    means, var = _clustered_near_1e6(seed)
    kl, bh = kernel_row_sums(means, var, np.ones((means.shape[0], 1)))
    np.testing.assert_allclose(kl[:, 0], _direct_row_sums(means, var, 2.0), rtol=1e-9)
    np.testing.assert_allclose(bh[:, 0], _direct_row_sums(means, var, 8.0), rtol=1e-9)
    n = means.shape[0]
    lo, up = pairwise_mi_bounds(means, var)
    assert up == pytest.approx(-np.mean(np.log(_direct_row_sums(means, var, 2.0) / n)), abs=1e-9)
    assert lo == pytest.approx(-np.mean(np.log(_direct_row_sums(means, var, 8.0) / n)), abs=1e-9)


@pytest.mark.parametrize("seed", range(20))
def test_case_2_pairwise_bounds_near_1e6_never_increase_with_noise(seed):
    means, var = _clustered_near_1e6(seed)
    bounds = [pairwise_mi_bounds(means, v) for v in var * np.array([1.0, 1.3, 2.0, 10.0, 1e3])]
    lows, ups = zip(*bounds)
    assert all(b <= a for a, b in zip(ups, ups[1:])), ups
    assert all(b <= a for a, b in zip(lows, lows[1:])), lows
    assert all(0.0 <= lo <= up <= np.log(means.shape[0]) + 1e-12 for lo, up in bounds)


@pytest.mark.parametrize("stds", [(1, 1, 1), [[1.0, 1.0]], ()])
def test_case_11_gaussian_mixture_input_stds_of_the_wrong_shape_names_stds(stds):
    with pytest.raises(ValueError, match="^stds"):
        GaussianMixtureInput((0, 1), stds)


def test_case_11_gaussian_mixture_input_other_bad_arguments_are_named():
    with pytest.raises(ValueError, match="^means"):
        GaussianMixtureInput((), (1.0,))
    with pytest.raises(ValueError, match="^stds"):
        GaussianMixtureInput((0, 1), (1.0, -1.0))
    with pytest.raises(ValueError, match="^weights"):
        GaussianMixtureInput((0, 1), 1.0, (0.2, 0.3, 0.5))
    assert GaussianMixtureInput((0, 1), 0.5).stds == (0.5, 0.5)
