"""The state machine definitions, and their substitutions: used as-is by CDK
(DefinitionBody.from_string + definition_substitutions) and by the local stack. One file per
state machine: the privacy request workflow (the default), the audience split path for files
beyond one invocation, and the re-permission campaign."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

DEFINITION_FILE = Path(__file__).parent / "statemachine" / "privacy_request.asl.json"
AUDIENCE_SPLIT_FILE = Path(__file__).parent / "statemachine" / "audience_split.asl.json"
CAMPAIGN_DEFINITION_FILE = Path(__file__).parent / "statemachine" / "repermission_campaign.asl.json"
_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


def definition_text(path: Path = DEFINITION_FILE) -> str:
    return path.read_text()


def placeholders(path: Path = DEFINITION_FILE) -> set[str]:
    return set(_PLACEHOLDER.findall(definition_text(path)))


def render(substitutions: Mapping[str, str], path: Path = DEFINITION_FILE) -> str:
    """The definition with every placeholder replaced, the way CloudFormation does it."""
    missing = placeholders(path) - substitutions.keys()
    unused = substitutions.keys() - placeholders(path)
    if missing or unused:
        raise ValueError(f"substitutions do not match: missing {missing}, unused {unused}")
    return _PLACEHOLDER.sub(lambda m: substitutions[m.group(1)], definition_text(path))
