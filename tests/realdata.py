"""Where a real-data test reads its files: trimmed copies or the full-size shared folder.

The default suite runs on the trimmed copies committed in ``tests/data`` (fixture ``test_data``);
the same test on the full-size files of ``../shared/data`` (fixture ``shared_data``) is marked
``extended`` and runs when that folder is present (CI).  Parametrize with :func:`trimmed` and
:func:`full`, then resolve the folder with :func:`root`::

    @pytest.mark.parametrize(("where", "name"), [trimmed("options/x_trimmed.csv"), full("options/x.csv")])
    def test_x(where, name, request):
        path = root(request, where) / name
"""

from __future__ import annotations

from pathlib import Path

import pytest

TRIMMED = "trimmed"
FULL = "full"


def trimmed(*values: object, id: str | None = None) -> object:
    """A parameter set on the trimmed copies (``tests/data``): always run."""
    return pytest.param(TRIMMED, *values, id=id)


def full(*values: object, id: str | None = None) -> object:
    """A parameter set on the full-size shared files: ``extended``."""
    return pytest.param(FULL, *values, id=id, marks=pytest.mark.extended)


def root(request: pytest.FixtureRequest, where: str) -> Path:
    """``tests/data`` for :data:`TRIMMED`, the shared data folder for :data:`FULL`."""
    return request.getfixturevalue("test_data" if where == TRIMMED else "shared_data")
