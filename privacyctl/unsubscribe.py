"""`privacyctl unsubscribe-link CUSTOMER_ID --topic TOPIC [--brand BRAND]`: the two headers a
marketing e-mail carries for RFC 8058 one-click unsubscribe, exactly as they go on the message.
privacyctl holds no key, so the API signs the token (POST /customers/{id}/unsubscribe-link)."""

from __future__ import annotations

import argparse
from typing import Any

from privacyctl.client import ApiClient, segment


def add_parser(commands: Any) -> None:
    sub = commands.add_parser(
        "unsubscribe-link", help="the List-Unsubscribe headers (RFC 8058) for a customer's e-mail"
    )
    sub.add_argument("customer_id")
    sub.add_argument("--topic", required=True)
    sub.add_argument("--brand")


def run_unsubscribe_link(args: argparse.Namespace, client: ApiClient) -> tuple[dict[str, Any], str]:
    """The API's answer, and the two header lines (the text output)."""
    body = {"topic": args.topic, **({"brand": args.brand} if args.brand else {})}
    path = f"/customers/{segment(args.customer_id)}/unsubscribe-link"
    result = client.call("POST", path, body)
    text = (
        f"List-Unsubscribe: {result['listUnsubscribe']}\n"
        f"List-Unsubscribe-Post: {result['listUnsubscribePost']}"
    )
    return result, text
