"""privacyctl: the command-line client of the privacy API.

Defaults point at the local stack (`make run`); --api/--token or PRIVACYCTL_API/PRIVACYCTL_TOKEN
point it elsewhere."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from privacyctl import audience, consent, repermission, report, retry
from privacyctl.client import ApiClient, ApiError

TERMINAL = {"COMPLETED", "REJECTED", "CANCELLED", "EXPIRED", "FAILED"}
ACTIONS = {
    "cease": ("CEASE_MARKETING", "Cease Marketing"),
    "resume": ("RESUME_MARKETING", "Resume Marketing"),
    "forget": ("FORGET", "Forget"),
    "export": ("EXPORT", "Export"),
}

Ask = Callable[[str], bool]


def ask_tty(question: str) -> bool:
    try:
        return input(f"{question} [y/N] ").strip().lower() in {"y", "yes"}
    except EOFError:
        return False


def _default_api() -> str:
    return os.environ.get(
        "PRIVACYCTL_API", f"http://127.0.0.1:{os.environ.get('LOCAL_API_PORT', '8000')}"
    )


def _default_token() -> str:
    return os.environ.get("PRIVACYCTL_TOKEN", f"dev:{getpass.getuser()}:agent")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="privacyctl", description=__doc__)
    parser.add_argument("--api", default=_default_api(), help="API base URL (PRIVACYCTL_API)")
    parser.add_argument("--token", default=_default_token(), help="bearer token (PRIVACYCTL_TOKEN)")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, (_, label) in ACTIONS.items():
        sub = commands.add_parser(name, help=f"{label} for a customer")
        sub.add_argument("customer_id")
        sub.add_argument("--reason", help="why (kept on the request, never in the audit trail)")
        sub.add_argument(
            "--identity-verified",
            action="store_true",
            help="attest that you verified the customer's identity (otherwise asked)",
        )
        sub.add_argument("--yes", action="store_true", help="confirm without asking")
        sub.add_argument("--idempotency-key", help="send as Idempotency-Key")
        sub.add_argument("--no-wait", action="store_true", help="do not wait for the outcome")
        if name == "forget":
            sub.add_argument(
                "--cascade", action="store_true", help="also forget their children (one level)"
            )
    for name, text in (("confirm", "confirm a request"), ("cancel", "cancel a request")):
        commands.add_parser(name, help=text).add_argument("request_id")
    commands.add_parser("request", help="show a request").add_argument("request_id")
    commands.add_parser("customer", help="show a customer's privacy status").add_argument(
        "customer_id"
    )
    audit = commands.add_parser("audit", help="the audit trail (compliance group)")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    audit_commands.add_parser("verify", help="check the whole trail's hash chain and digests")
    report = audit_commands.add_parser("report", help="export the trail as CSV with a summary")
    report.add_argument("--from", dest="start", help="ISO date or date-time (inclusive)")
    report.add_argument("--to", dest="end", help="ISO date or date-time (inclusive)")
    report.add_argument("--customer", help="a customer id (matched by its keyed hash)")
    report.add_argument("--type", help="an event type or a request type")
    report.add_argument("--actor")
    report.add_argument("-o", "--output", required=True, type=Path, help="the CSV file to write")
    audience.add_parser(commands)
    consent.add_parser(commands)
    repermission.add_parser(commands)
    retry.add_parser(commands)
    return parser


def run_audit(args: argparse.Namespace, client: ApiClient) -> int:
    verified = client.audit_verify()
    if args.audit_command == "verify":
        print(json.dumps(verified, indent=2))
        return 0 if verified["intact"] else 1
    params = {
        "from": args.start,
        "to": args.end,
        "customerId": args.customer,
        "type": args.type,
        "actor": args.actor,
        "limit": "1000",
    }
    entries = list(client.audit_entries(params))
    rows = report.write_csv(entries, args.output)
    summary = report.summarise(entries, now=verified["verifiedAt"])
    summary_path = args.output.with_suffix(".summary.csv")
    report.write_summary(summary, summary_path)
    trail = "intact" if verified["intact"] else f"BROKEN: {verified['firstBreak']['message']}"
    print(f"{rows} entries -> {args.output}; summary -> {summary_path}")
    print(f"trail verified: {trail} ({verified['checked']} entries checked)")
    for section, measure, value in summary.rows():
        print(f"  {section:<22} {measure:<40} {value}")
    return 0 if verified["intact"] else 1


def wait_for_outcome(client: ApiClient, request_id: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        request = client.request(request_id)
        if request["status"] in TERMINAL or time.monotonic() > deadline:
            return request
        time.sleep(0.2)


def run_action(args: argparse.Namespace, client: ApiClient, ask: Ask) -> int:
    request_type, label = ACTIONS[args.command]
    verified = args.identity_verified or ask(
        f"Have you verified the identity of customer {args.customer_id}?"
    )
    if not verified:
        print("Not submitted: the customer's identity must be verified first.", file=sys.stderr)
        return 1
    body: dict[str, Any] = {"type": request_type, "identityVerified": True}
    if args.reason:
        body["reason"] = args.reason
    if getattr(args, "cascade", False):
        body["cascade"] = True
    submitted = client.submit(args.customer_id, body, args.idempotency_key)
    request_id = submitted["requestId"]
    print(f"request {request_id}: {submitted['status']}")
    if not (args.yes or ask(f"Yes, {label}?")):
        print(f"Left awaiting confirmation: privacyctl confirm {request_id} (or cancel)")
        return 0
    client.confirm(request_id)
    if args.no_wait:
        print(f"request {request_id}: CONFIRMED")
        return 0
    outcome = wait_for_outcome(client, request_id)
    print(f"request {request_id}: {outcome['status']} ({outcome['statusText']})")
    if outcome.get("rejectionReason"):
        print(f"  reason: {outcome['rejectionReason']}")
    link = outcome.get("result", {}).get("downloadUrl")
    if link:
        print(f"  download (until {outcome['result']['expiresAt']}): {link}")
    return 0 if outcome["status"] == "COMPLETED" else 1


def main(argv: Sequence[str] | None = None, ask: Ask = ask_tty) -> int:
    args = build_parser().parse_args(argv)
    client = ApiClient(args.api, args.token)
    try:
        if args.command in ACTIONS:
            return run_action(args, client, ask)
        if args.command == "audit":
            return run_audit(args, client)
        if args.command == "filter":
            return audience.run_filter(args, client)
        if args.command in ("consent", "consent-confirm"):
            result = consent.run_consent(args, client)
        elif args.command == "repermission":
            result = repermission.run_repermission(args, client)
        elif args.command == "retry":
            result = retry.run_retry(args, client)
        elif args.command == "confirm":
            result = client.confirm(args.request_id)
        elif args.command == "cancel":
            result = client.cancel(args.request_id)
        elif args.command == "request":
            result = client.request(args.request_id)
        else:
            result = {
                **client.privacy(args.customer_id),
                "permissions": client.permissions(args.customer_id)["permissions"],
            }
    except ApiError as exc:
        print(f"error: {exc.message} ({exc.code}, HTTP {exc.status})", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
