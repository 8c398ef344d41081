"""The workflow definitions, and their substitutions: used as-is by CDK
(DefinitionBody.from_string + definition_substitutions) and by the local stack. One file per
state machine: the privacy request's, and the re-permission campaign's."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

DEFINITION_FILE = Path(__file__).parent / "statemachine" / "privacy_request.asl.json"
CAMPAIGN_DEFINITION_FILE = Path(__file__).parent / "statemachine" / "repermission_campaign.asl.json"
_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


def definition_text(file: Path = DEFINITION_FILE) -> str:
    return file.read_text()


def placeholders(file: Path = DEFINITION_FILE) -> set[str]:
    return set(_PLACEHOLDER.findall(definition_text(file)))


def render(substitutions: Mapping[str, str], file: Path = DEFINITION_FILE) -> str:
    """The definition with every placeholder replaced, the way CloudFormation does it."""
    missing = placeholders(file) - substitutions.keys()
    unused = substitutions.keys() - placeholders(file)
    if missing or unused:
        raise ValueError(f"substitutions do not match: missing {missing}, unused {unused}")
    return _PLACEHOLDER.sub(lambda m: substitutions[m.group(1)], definition_text(file))
