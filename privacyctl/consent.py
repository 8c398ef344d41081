"""`privacyctl consent CUSTOMER_ID TOPIC --channel email --grant|--revoke --source ...` and
`privacyctl consent-confirm TOKEN`: record a consent choice, confirm a double opt-in."""

from __future__ import annotations

import argparse
from typing import Any

from functions.consents.rules import CHANNELS, SOURCES
from privacyctl.client import ApiClient, segment


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
    commands.add_parser(
        "consent-confirm", help="confirm a pending opt-in with its double opt-in token"
    ).add_argument("confirmation_token", metavar="TOKEN")  # `token` is the bearer token


def run_consent(args: argparse.Namespace, client: ApiClient) -> dict[str, Any]:
    if args.command == "consent-confirm":
        return client.call("POST", "/consents/confirm", {"token": args.confirmation_token})
    body: dict[str, Any] = {"channel": args.channel, "granted": args.granted, "source": args.source}
    if args.brand:
        body["brand"] = args.brand
    path = f"/customers/{segment(args.customer_id)}/consents/{segment(args.topic)}"
    return client.call("PUT", path, body)
