"""The layout's rules, checked on the code itself: one unit of work builds transactions, handlers
know nothing of AWS's exceptions, the kernel imports no capability, and each function's handler
reads the settings its declaration says, wired the one way."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from functions.shared.wiring import LambdaFunction
from infra.functions import API, FUNCTIONS

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = ROOT / "functions"
CAPABILITIES = {
    p.name for p in FUNCTIONS_DIR.iterdir() if p.is_dir() and (p / "__init__.py").exists()
} - {"shared"}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _modules() -> list[Path]:
    return sorted(FUNCTIONS_DIR.rglob("*.py"))


def test_only_the_unit_of_work_builds_a_transaction():
    builders = [
        p.relative_to(ROOT).as_posix()
        for p in _modules()
        if "pynamodb.transactions" in _imports(p) or "TransactWrite(" in p.read_text()
    ]
    assert builders == ["functions/shared/unit_of_work.py"]


def test_no_handler_or_service_knows_aws_exceptions():
    """Repositories raise domain errors (functions/shared/aws_errors.py wraps them)."""
    for path in _modules():
        if path.name in ("handler.py", "split_handler.py", "service.py", "steps.py"):
            leaked = {m for m in _imports(path) if m.startswith(("botocore", "pynamodb"))}
            assert not leaked, f"{path.relative_to(ROOT)} imports {leaked}"


def test_the_kernel_imports_no_capability():
    for path in (FUNCTIONS_DIR / "shared").glob("*.py"):
        capabilities = {m.split(".")[1] for m in _imports(path) if m.startswith("functions.")}
        assert not capabilities & CAPABILITIES, f"{path.name} imports {capabilities}"


@pytest.mark.parametrize("spec", [s for s in FUNCTIONS if s is not API], ids=lambda s: s.name)
def test_every_function_is_wired_the_one_way_with_its_declared_settings(spec):
    module, name = spec.handler.rsplit(".", 1)
    handler = getattr(importlib.import_module(module), name)
    assert isinstance(handler, LambdaFunction)
    assert handler.settings is spec.settings


@pytest.mark.parametrize("spec", [s for s in FUNCTIONS if s.placeholder], ids=lambda s: s.name)
def test_a_state_reaches_its_service_through_its_handler_module(spec):
    """ASL placeholder -> infra/functions.py -> the handler module, which names its service."""
    module = importlib.import_module(spec.handler.rsplit(".", 1)[0])
    path = Path(module.__file__ or "")
    assert path.parent.name in CAPABILITIES
    named = {
        m
        for m in _imports(path)
        if m.startswith("functions.") and m.endswith(("service", "steps", "split"))
    }
    assert named, f"{path.relative_to(ROOT)} names no service"
