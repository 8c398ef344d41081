"""Test distribution for `make test` (pytest-xdist, --dist loadgroup): the tests of one file run
in one worker (their module fixtures, e.g. a seeded campaign, are built once), and every infra
test in the same worker, since they share one synthesized app and its build directory."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        group = "infra" if path.startswith("tests/infra/") else path
        item.add_marker(pytest.mark.xdist_group(group))
