"""The completion events' archive in CloudWatch Logs keeps no clear customer id: a FORGET's
PrivacyRequestCompleted carries the forgotten person's id (its consumers need it to act), and the
rule's input transformer keeps only the keyed hash of it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from functions.requests.steps import COMPLETED_DETAIL_TYPE
from functions.shared.events import EVENT_SOURCE
from tests.infra.conftest import Synth

# One synthesized app, one build directory: every infra test runs in one xdist worker.
pytestmark = pytest.mark.xdist_group("infra")

CLEAR_ID = "C-1001"
EVENT = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": COMPLETED_DETAIL_TYPE,
    "source": EVENT_SOURCE,
    "time": "2026-11-23T12:00:00Z",
    "detail": {
        "requestId": "0" * 32,
        "customerId": CLEAR_ID,
        "customerHash": "ab" * 32,
        "type": "FORGET",
        "status": "COMPLETED",
        "completedAt": "2026-11-23T12:00:00.000000Z",
    },
}


def _archive_target(synth: Synth) -> dict[str, Any]:
    (bus_id,) = synth.of_type("AWS::Events::EventBus")
    (rule,) = [
        r["Properties"]
        for r in synth.of_type("AWS::Events::Rule").values()
        if r["Properties"].get("EventBusName") == {"Ref": bus_id}
    ]
    (target,) = rule["Targets"]
    return target


def _path(event: dict[str, Any], path: str) -> Any:
    value: Any = event
    for part in path.removeprefix("$.").split("."):
        value = value[part]
    return value


def _transform(transformer: dict[str, Any], event: dict[str, Any]) -> str:
    """What EventBridge writes: each <name> of the template replaced by its path's value, as JSON
    where it stands for a value of its own, as text inside a quoted string."""
    values = {name: _path(event, path) for name, path in transformer["InputPathsMap"].items()}
    template = re.sub(
        r":<([\w-]+)>", lambda m: ":" + json.dumps(values[m.group(1)]), transformer["InputTemplate"]
    )
    return re.sub(r"<([\w-]+)>", lambda m: str(values[m.group(1)]), template)


def test_the_archive_keeps_the_keyed_hash_not_the_customer_id(synth: Synth) -> None:
    transformer = _archive_target(synth)["InputTransformer"]
    assert not any("customerId" in path for path in transformer["InputPathsMap"].values())
    archived = _transform(transformer, EVENT)
    assert CLEAR_ID not in archived
    assert "customerHash=" + "ab" * 32 in archived and "requestId=" + "0" * 32 in archived
    # CloudWatch Logs takes a transformed input only as {"timestamp", "message"}.
    assert set(json.loads(archived)) == {"timestamp", "message"}
