"""The end-of-run summary of tests/summary.py. Here rather than in tests/infra/conftest.py: under
pytest-xdist the controller, which prints it, loads only the conftest files of the paths it was
given (`make test` gives none: testpaths is tests/); each worker hands its figures over."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.summary import SUMMARY


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker
        workeroutput["infra_summary"] = json.dumps(SUMMARY)


def pytest_testnodedown(node: Any, error: Any) -> None:
    SUMMARY.update(json.loads(getattr(node, "workeroutput", {}).get("infra_summary", "{}")))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SUMMARY:
        terminalreporter.section("infra")
        for name, value in SUMMARY.items():
            terminalreporter.write_line(f"{name}: {value}")
