"""The minimal models' training results equal those recorded before the shared loop (sims.gd_loop), to 1e-12."""
import numpy as np
import pytest

import minimal_models_reference as ref

REFERENCE = ref.load()


@pytest.mark.parametrize("case", sorted(ref.CASES))
def test_trajectory_unchanged(case):
    got = ref.CASES[case]()
    keys = sorted(k.split("/", 1)[1] for k in REFERENCE if k.startswith(case + "/"))
    assert sorted(got) == keys
    for key in keys:
        want = REFERENCE[f"{case}/{key}"]
        np.testing.assert_allclose(np.asarray(got[key]), want, rtol=1e-12, atol=1e-12, err_msg=f"{case}/{key}")
