"""The local stack's outbox: every message to a person that the messaging system would send
(functions/shared/messages.py: the ConsentConfirmationRequested events, the double opt-ins' and
the re-permission campaigns' alike), kept so that a person can act on one by hand. Local stack
only: a deployed stack's messages go out through the messaging system, which has its own rule.
Each message also carries the `link` the person would click: a page of the preference centre
(web/preferences/, served by the gateway) with the token in the URL's fragment, which the
browser never sends to a server.

Stored the way AWS would let one keep them, with no code of ours in between: an EventBridge rule
on the stack's bus, matching the message detail types, whose target is a CloudWatch Logs group
(moto delivers to it inside PutEvents, so a message is in the outbox before the API answers).
Read by the local gateway's GET /_local/outbox (no such route is deployed), so privacyctl needs
only the API's address, as for everything else."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from functions.shared.events import EVENT_SOURCE
from functions.shared.messages import (
    CONSENT_CONFIRMATION_REQUESTED,
    MESSAGE_DETAIL_TYPES,
    PREFERENCE_LINK_REQUESTED,
    SIGN_UP_CONFIRMATION_REQUESTED,
)
from infra.web import PAGES_PATH

OUTBOX_PATH = "/_local/outbox"
# What the message's link would make the person's browser send, from the detail's fields: the
# local stand-in for the messaging system's templates (each path a public route; a unit test
# checks). A message kind without an entry is listed with no action.
ACTIONS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    CONSENT_CONFIRMATION_REQUESTED: ("POST", "/public/consents/confirm", ("token",)),
    PREFERENCE_LINK_REQUESTED: ("POST", "/public/preferences", ("token",)),
    SIGN_UP_CONFIRMATION_REQUESTED: ("POST", "/public/signup/confirm", ("token",)),
}
# The page the message's link opens and the fragment's name for the detail's token: the local
# stand-in for the messaging system's templates (infra/web.py's pages, on the gateway).
LINKS: dict[str, tuple[str, str]] = {
    PREFERENCE_LINK_REQUESTED: (f"{PAGES_PATH}/", "token"),
    CONSENT_CONFIRMATION_REQUESTED: (f"{PAGES_PATH}/confirm.html", "token"),
    SIGN_UP_CONFIRMATION_REQUESTED: (f"{PAGES_PATH}/confirm.html", "signup"),
}


def log_group(prefix: str) -> str:
    return f"/local/{prefix}/outbox"


def create(events: Any, logs: Any, bus: str, prefix: str, log_group_arn: str) -> None:
    """The rule that copies every message event on `bus` into the outbox's log group."""
    logs.create_log_group(logGroupName=log_group(prefix))
    rule = f"{prefix}-outbox"
    events.put_rule(
        Name=rule,
        EventBusName=bus,
        EventPattern=json.dumps(
            {"source": [EVENT_SOURCE], "detail-type": list(MESSAGE_DETAIL_TYPES)}
        ),
    )
    events.put_targets(
        Rule=rule, EventBusName=bus, Targets=[{"Id": "outbox", "Arn": log_group_arn}]
    )


def messages(
    logs: Any, prefix: str, api_url: str, customer_id: str | None = None
) -> list[dict[str, Any]]:
    """The messages in the order they were sent (optionally only those to one customer)."""
    found: list[tuple[int, dict[str, Any]]] = []
    for page in logs.get_paginator("filter_log_events").paginate(logGroupName=log_group(prefix)):
        found += [(e["timestamp"], json.loads(e["message"])) for e in page["events"]]
    found.sort(key=lambda pair: pair[0])  # stable: same-millisecond messages keep their order
    listed = [_message(event, api_url) for _, event in found]
    return [m for m in listed if customer_id is None or m["customerId"] == customer_id]


def _message(event: dict[str, Any], api_url: str) -> dict[str, Any]:
    detail = dict(event.get("detail") or {})
    kind = str(event.get("detail-type", ""))
    message: dict[str, Any] = {
        "messageId": event.get("id"),
        "type": kind,
        "at": event.get("time"),
        "customerId": detail.get("customerId"),
        "detail": detail,
    }
    if kind in ACTIONS:
        method, path, fields = ACTIONS[kind]
        message["action"] = {
            "method": method,
            "url": api_url + path,
            "body": {name: detail.get(name) for name in fields},
        }
    if kind in LINKS and detail.get("token"):
        page, name = LINKS[kind]
        message["link"] = f"{api_url}{page}#{urlencode({name: detail['token']})}"
    return message
