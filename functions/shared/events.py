"""Announcements on the EventBridge bus (at least once: consumers de-duplicate on the ids each
detail carries). Each capability says what its events hold; this only delivers them."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import boto3

from functions.shared.aws_errors import domain_errors
from functions.shared.errors import TransientError
from functions.shared.observability import logger

EVENT_SOURCE = "privacy-functions"
_PUT_EVENTS_LIMIT = 10


class Publisher(Protocol):
    def publish(self, detail_type: str, *details: Mapping[str, Any]) -> None: ...


@domain_errors
class EventPublisher:
    def __init__(self, bus_name: str, client: Any = None) -> None:
        self._bus = bus_name
        self._client = client or boto3.client("events")

    def publish(self, detail_type: str, *details: Mapping[str, Any]) -> None:
        for start in range(0, len(details), _PUT_EVENTS_LIMIT):
            entries: Sequence[Any] = [
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail),
                    "EventBusName": self._bus,
                }
                for detail in details[start : start + _PUT_EVENTS_LIMIT]
            ]
            response = self._client.put_events(Entries=entries)
            if response.get("FailedEntryCount"):
                raise TransientError(f"EventBridge did not accept every {detail_type} event")


class NoEventBus:
    """Where a deployment gives a function no bus: nothing is announced, and the log says so."""

    def publish(self, detail_type: str, *details: Mapping[str, Any]) -> None:
        logger.warning("no event bus configured: not announced", extra={"detailType": detail_type})
