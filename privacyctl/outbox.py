"""`privacyctl outbox [--customer ID]`: the messages the local stack's messaging stand-in holds
(infra/local/outbox.py), each with what its link would send, so the customer's side of a flow
(a double opt-in's confirmation) can be tried by hand. Local stack only: a deployed API has no
outbox, and its messages go to the customers themselves."""

from __future__ import annotations

import argparse
import json
import shlex
import urllib.parse
from typing import Any

from infra.local.outbox import OUTBOX_PATH
from privacyctl.client import ApiClient, ApiError

NOT_LOCAL = (
    "this API has no outbox: it is the local stack's only (make run); a deployed stack's "
    "messages go out through the messaging system, to the customers themselves"
)


def add_parser(commands: Any) -> None:
    sub = commands.add_parser(
        "outbox", help="the messages the local stack would have sent (local stack only)"
    )
    sub.add_argument("--customer", help="only the messages to this customer id")


def run_outbox(args: argparse.Namespace, client: ApiClient) -> tuple[dict[str, Any], str]:
    query = f"?{urllib.parse.urlencode({'customerId': args.customer})}" if args.customer else ""
    try:
        result = client.call("GET", OUTBOX_PATH + query)
    except ApiError as exc:
        # API Gateway answers an unknown path 404 (403 before its gateway responses); the local
        # gateway always serves the outbox.
        if exc.status in (403, 404):
            raise ApiError(exc.status, exc.code, NOT_LOCAL) from None
        raise
    return result, "\n".join(_text(m) for m in result["messages"]) or "the outbox is empty"


def _text(message: dict[str, Any]) -> str:
    lines = [f"{message['at']}  {message['type']} to {message['customerId']}"]
    lines += [
        f"  {name}: {value}" for name, value in message["detail"].items() if name != "customerId"
    ]
    action = message.get("action")
    if action:
        command = ["curl", "-s", "-X", action["method"], "-H", "Content-Type: application/json"]
        command += ["-d", json.dumps(action["body"]), action["url"]]
        lines.append(f"  the customer's link sends: {shlex.join(command)}")
    return "\n".join(lines)
