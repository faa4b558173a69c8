"""The analytics tests run with ``RuntimeWarning`` as an error (``tests/conftest.py``)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest


def test_a_runtime_warning_fails_an_analytics_test() -> None:
    with pytest.raises(RuntimeWarning, match="invalid value encountered in log"):
        np.log(np.array([-1.0]))
    with pytest.raises(RuntimeWarning, match="divide by zero"):
        np.array([1.0]) / np.array([0.0])


def test_other_warnings_are_untouched() -> None:
    with pytest.warns(UserWarning):
        warnings.warn("still a warning", UserWarning, stacklevel=1)
