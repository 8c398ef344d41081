"""`privacyctl repermission start --topic T --deadline 2027-01-31 [--channel email]
[--outcome revoke|forget]`, `privacyctl repermission status ID` and `... resume ID`: re-permission
campaigns (compliance group)."""

from __future__ import annotations

import argparse
from typing import Any

from functions.consents.rules import CHANNELS
from privacyctl.client import ApiClient, segment

CAMPAIGNS = "/repermission-campaigns"


def add_parser(commands: Any) -> None:
    campaign = commands.add_parser(
        "repermission", help="re-permission campaigns: start, status, resume (compliance group)"
    )
    actions = campaign.add_subparsers(dest="repermission_command", required=True)
    start = actions.add_parser("start", help="ask a topic's consent holders to confirm by a date")
    start.add_argument("--topic", required=True)
    start.add_argument("--deadline", required=True, help="a date (the whole day) or a date-time")
    start.add_argument("--channel", default="email", choices=sorted(CHANNELS))
    start.add_argument(
        "--outcome",
        default="revoke",
        type=str.lower,
        choices=("revoke", "forget"),
        help="what happens to those who do not confirm (default: revoke the topic consent)",
    )
    start.add_argument("--idempotency-key", help="send as Idempotency-Key")
    for name, text in (
        ("status", "a campaign's status and progress"),
        ("resume", "continue a FAILED campaign from where it stopped"),
    ):
        actions.add_parser(name, help=text).add_argument("campaign_id")


def run_repermission(args: argparse.Namespace, client: ApiClient) -> dict[str, Any]:
    if args.repermission_command == "status":
        return client.call("GET", f"{CAMPAIGNS}/{segment(args.campaign_id)}")
    if args.repermission_command == "resume":
        return client.call("POST", f"{CAMPAIGNS}/{segment(args.campaign_id)}/resume", {})
    body = {
        "topic": args.topic,
        "channel": args.channel,
        "deadline": args.deadline,
        "outcome": args.outcome.upper(),
    }
    headers = {"Idempotency-Key": args.idempotency_key} if args.idempotency_key else None
    return client.call("POST", CAMPAIGNS, body, headers)
