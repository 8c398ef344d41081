"""Messages to a person (functions/shared/messages.py: ConsentConfirmationRequested) carry a
credential, the customer's confirmation token: nothing the stack deploys keeps a copy. No
EventBridge archive, and no rule of ours (the completions' log archive, any other) matches them;
the messaging system adds its own rule to receive them."""

from __future__ import annotations

from typing import Any

import pytest

from functions.shared.messages import MESSAGE_DETAIL_TYPES
from tests.infra.conftest import Synth

# One synthesized app, one build directory: every infra test runs in one xdist worker.
pytestmark = pytest.mark.xdist_group("infra")


def _pattern(resource: dict[str, Any]) -> dict[str, Any] | None:
    return resource["Properties"].get("EventPattern")


def test_no_archive_keeps_the_bus_events(synth: Synth) -> None:
    assert not synth.of_type("AWS::Events::Archive")


def test_no_rule_of_the_stack_matches_a_message(synth: Synth) -> None:
    rules = synth.of_type("AWS::Events::Rule")
    assert rules
    for logical_id, rule in rules.items():
        pattern = _pattern(rule)
        if pattern is None:
            assert rule["Properties"].get("ScheduleExpression"), logical_id
            continue
        # A rule without a detail-type filter would take the messages too.
        detail_types = pattern.get("detail-type")
        assert detail_types, logical_id
        assert not set(detail_types) & set(MESSAGE_DETAIL_TYPES), logical_id
