"""`privacyctl consent CUSTOMER_ID TOPIC --channel email --grant|--revoke --source ...`: record a
consent choice. An opt-in that needs double opt-in answers PENDING: its confirmation token goes to
the customer alone (a ConsentConfirmationRequested message), so this command never has it, and
no staff command redeems it (the customer does, on POST /public/consents/confirm)."""

from __future__ import annotations

import argparse
from typing import Any

from functions.consents.rules import CHANNELS, SOURCES
from privacyctl.client import ApiClient, segment
from privacyctl.output import say


def add_parser(commands: Any) -> None:
    sub = commands.add_parser("consent", help="record a customer's consent or opt-out for a topic")
    sub.add_argument("customer_id")
    sub.add_argument("topic")
    sub.add_argument("--channel", required=True, choices=sorted(CHANNELS))
    choice = sub.add_mutually_exclusive_group(required=True)
    choice.add_argument("--grant", dest="granted", action="store_true", help="opt in")
    choice.add_argument("--revoke", dest="granted", action="store_false", help="opt out")
    sub.add_argument("--source", required=True, choices=sorted(SOURCES))
    sub.add_argument("--brand", help="the brand the consent is for (partner-brand news)")


def run_consent(args: argparse.Namespace, client: ApiClient) -> dict[str, Any]:
    body: dict[str, Any] = {"channel": args.channel, "granted": args.granted, "source": args.source}
    if args.brand:
        body["brand"] = args.brand
    path = f"/customers/{segment(args.customer_id)}/consents/{segment(args.topic)}"
    result = client.call("PUT", path, body)
    if result.get("status") == "PENDING" and result.get("changed"):
        say(
            args,
            f"PENDING until the customer confirms (by {result['confirmation']['expiresAt']}): "
            "the confirmation was sent to them (on the local stack: privacyctl outbox)",
        )
    return result
