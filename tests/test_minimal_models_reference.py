"""The minimal models' training results equal those recorded before the shared loop (sims.gd_loop), to 1e-12."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

_spec = importlib.util.spec_from_file_location("minimal_models_reference",
                                               Path(__file__).with_name("minimal_models_reference.py"))
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)

REFERENCE = ref.load()


@pytest.mark.parametrize("case", sorted(ref.CASES))
def test_trajectory_unchanged(case):
    got = ref.CASES[case]()
    keys = sorted(k.split("/", 1)[1] for k in REFERENCE if k.startswith(case + "/"))
    assert sorted(got) == keys
    for key in keys:
        want = REFERENCE[f"{case}/{key}"]
        np.testing.assert_allclose(np.asarray(got[key]), want, rtol=1e-12, atol=1e-12, err_msg=f"{case}/{key}")
