"""The one workflow definition, and its substitutions: used as-is by CDK
(DefinitionBody.from_string + definition_substitutions) and by the local stack."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

DEFINITION_FILE = Path(__file__).parent / "statemachine" / "privacy_request.asl.json"
_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


def definition_text() -> str:
    return DEFINITION_FILE.read_text()


def placeholders() -> set[str]:
    return set(_PLACEHOLDER.findall(definition_text()))


def render(substitutions: Mapping[str, str]) -> str:
    """The definition with every placeholder replaced, the way CloudFormation does it."""
    missing = placeholders() - substitutions.keys()
    unused = substitutions.keys() - placeholders()
    if missing or unused:
        raise ValueError(f"substitutions do not match: missing {missing}, unused {unused}")
    return _PLACEHOLDER.sub(lambda m: substitutions[m.group(1)], definition_text())
