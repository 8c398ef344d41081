"""privacyctl: the command-line client of the privacy API.

It needs only the API's address and a token, never AWS credentials. Without --api or
PRIVACYCTL_API it talks to the local stack `make run` started (its address is in
.local-stack.json); without --token or PRIVACYCTL_TOKEN it sends the local stack's development
token dev:<OS user>:agent. --api, --token and --output go before or after the command."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from privacyctl import (
    audience,
    consent,
    drp,
    outbox,
    receipts,
    repermission,
    report,
    requests,
    retry,
    unsubscribe,
)
from privacyctl.client import ApiClient, ApiError
from privacyctl.options import (
    Parser,
    UsageError,
    connection,
    default_token,
)
from privacyctl.output import Interrupted, emit, say

TERMINAL = {"COMPLETED", "REJECTED", "CANCELLED", "EXPIRED", "FAILED"}
ACTIONS = {
    "cease": ("CEASE_MARKETING", "Cease Marketing"),
    "resume": ("RESUME_MARKETING", "Resume Marketing"),
    "forget": ("FORGET", "Forget"),
    "export": ("EXPORT", "Export"),
}
# What the request detail may name as the contacts a cascading forget will also erase.
CASCADE_FIELDS = ("cascadeTo", "relatedContacts", "cascadeContacts")

Ask = Callable[[str], bool]


def ask_tty(question: str) -> bool:
    try:
        return input(f"{question} [y/N] ").strip().lower() in {"y", "yes"}
    except EOFError:
        return False


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="privacyctl",
        description=__doc__,
        epilog=f"Your default token here: {default_token()}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_, label) in ACTIONS.items():
        sub = commands.add_parser(name, help=f"{label} for a customer")
        sub.add_argument("customer_id")
        sub.add_argument("--reason", help="why (kept on the request, never in the audit trail)")
        sub.add_argument(
            "--identity-verified",
            action="store_true",
            help="attest that you verified the customer's identity (otherwise asked)",
        )
        decision = sub.add_mutually_exclusive_group()
        decision.add_argument("--yes", action="store_true", help="confirm without asking")
        decision.add_argument(
            "--no-confirm",
            action="store_true",
            help="submit only: leave the request awaiting confirmation (privacyctl confirm ID)",
        )
        sub.add_argument("--idempotency-key", help="send as Idempotency-Key")
        sub.add_argument("--no-wait", action="store_true", help="do not wait for the outcome")
        if name == "forget":
            sub.add_argument(
                "--cascade", action="store_true", help="also forget their children (one level)"
            )
    for name, text in (("confirm", "confirm a request"), ("cancel", "cancel a request")):
        commands.add_parser(name, help=text).add_argument("request_id")
    commands.add_parser("request", help="show a request").add_argument("request_id")
    commands.add_parser(
        "download-link",
        help="issue a 15-minute link to a completed export's file (audited; the submitting "
        "agent or compliance)",
    ).add_argument("request_id")
    commands.add_parser("customer", help="show a customer's privacy status").add_argument(
        "customer_id"
    )
    commands.add_parser("where", help="print the API address in use (--output json: and why)")
    audit = commands.add_parser("audit", help="the audit trail (compliance group)")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="COMMAND")
    audit_commands.add_parser("verify", help="check the whole trail's hash chain and digests")
    report_parser = audit_commands.add_parser("report", help="export the trail as CSV")
    report_parser.add_argument("--from", dest="start", help="ISO date or date-time (inclusive)")
    report_parser.add_argument("--to", dest="end", help="ISO date or date-time (inclusive)")
    report_parser.add_argument("--customer", help="a customer id (matched by its keyed hash)")
    report_parser.add_argument("--type", help="an event type or a request type")
    report_parser.add_argument("--actor")
    report_parser.add_argument(
        "-o", "--out", dest="out_file", required=True, type=Path, help="the CSV file to write"
    )
    audience.add_parser(commands)
    receipts.add_parser(commands)
    consent.add_parser(commands)
    outbox.add_parser(commands)
    repermission.add_parser(commands)
    retry.add_parser(commands)
    requests.add_parser(commands)
    unsubscribe.add_parser(commands)
    drp.add_parser(commands)
    return parser


def run_audit(args: argparse.Namespace, client: ApiClient) -> int:
    verified = client.audit_verify()
    if args.audit_command == "verify":
        emit(args, verified, json.dumps(verified, indent=2))
        return 0 if verified["intact"] else 1
    report.check_writable(args.out_file)
    params = {
        "from": args.start,
        "to": args.end,
        "customerId": args.customer,
        "type": args.type,
        "actor": args.actor,
        "limit": "1000",
    }
    entries = list(client.audit_entries(params))
    rows = report.write_csv(entries, args.out_file)
    summary = report.summarise(entries, now=verified["verifiedAt"])
    summary_path = args.out_file.with_suffix(".summary.csv")
    report.write_summary(summary, summary_path)
    trail = "intact" if verified["intact"] else f"BROKEN: {verified['firstBreak']['message']}"
    lines = [
        f"{rows} entries -> {args.out_file}; summary -> {summary_path}",
        f"trail verified: {trail} ({verified['checked']} entries checked)",
        *(f"  {section:<22} {measure:<40} {value}" for section, measure, value in summary.rows()),
    ]
    result = {
        "entries": rows,
        "report": str(args.out_file),
        "summary": str(summary_path),
        "intact": verified["intact"],
        "checked": verified["checked"],
        "summaryRows": [list(row) for row in summary.rows()],
    }
    emit(args, result, "\n".join(lines))
    return 0 if verified["intact"] else 1


def wait_for_outcome(client: ApiClient, request_id: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        request = client.request(request_id)
        if request["status"] in TERMINAL or time.monotonic() > deadline:
            return request
        time.sleep(0.2)


def _cascade_preview(args: argparse.Namespace, client: ApiClient, request_id: str) -> None:
    """Whom a cascading forget will also erase, as the API names them, before the question."""
    detail = client.request(request_id)
    for field in CASCADE_FIELDS:
        related = detail.get(field)
        if related:
            ids = [r if isinstance(r, str) else str(r.get("customerId", r)) for r in related]
            say(args, f"  will also forget related contacts: {', '.join(ids)}")
            return


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
    awaiting = (
        f"request {request_id} is left AWAITING_CONFIRMATION: finish it with "
        f"`privacyctl confirm {request_id}` (or `privacyctl cancel {request_id}`)"
    )
    try:
        say(args, f"request {request_id}: {submitted['status']}")
        if getattr(args, "cascade", False):
            _cascade_preview(args, client, request_id)
        if args.no_confirm or not (args.yes or ask(f"Yes, {label}?")):
            say(args, f"Left awaiting confirmation: privacyctl confirm {request_id} (or cancel)")
            emit(args, submitted, "")
            return 0
    except KeyboardInterrupt:
        raise Interrupted(awaiting) from None
    client.confirm(request_id)
    if args.no_wait:
        say(args, f"request {request_id}: CONFIRMED")
        emit(args, client.request(request_id), "")
        return 0
    try:
        outcome = wait_for_outcome(client, request_id)
    except KeyboardInterrupt:
        raise Interrupted(
            f"request {request_id} is confirmed and runs on without privacyctl: "
            f"follow it with `privacyctl request {request_id}`"
        ) from None
    lines = [f"request {request_id}: {outcome['status']} ({outcome['statusText']})"]
    if outcome.get("rejectionReason"):
        lines.append(f"  reason: {outcome['rejectionReason']}")
    if outcome.get("result", {}).get("fileAvailable"):
        # The submitting agent asks for the link explicitly: each issuance is audited.
        link = client.download_link(request_id)
        outcome = {**outcome, "downloadLink": link}
        lines.append(f"  download (until {link['expiresAt']}): {link['downloadUrl']}")
    emit(args, outcome, "\n".join(lines))
    return 0 if outcome["status"] == "COMPLETED" else 1


def _run(args: argparse.Namespace, ask: Ask) -> int:
    if args.command == "audience" and not receipts.needs_api(args):
        # With the receipt key at hand, a receipt is checked with no API at all.
        return receipts.run_verify(args, None)
    target = connection(args)
    if args.command == "where":
        # The bare address, for API=$(privacyctl where); --output json says where it came from.
        emit(args, {"api": target.api, "from": target.origin}, target.api)
        return 0
    client = ApiClient(target.api, target.token)
    try:
        if args.command == "requests":
            result, text = requests.run_requests(args, client, target.token)
            emit(args, result, text)
            return 0
        return _dispatch(args, client, ask)
    except ApiError as exc:
        if exc.code == "UNREACHABLE":
            message = f"{exc.message} (address from {target.origin})"
            raise ApiError(exc.status, exc.code, message) from None
        raise


def _dispatch(args: argparse.Namespace, client: ApiClient, ask: Ask) -> int:
    if args.command in ACTIONS:
        return run_action(args, client, ask)
    if args.command == "audit":
        return run_audit(args, client)
    if args.command in ("filter", "filter-cleanup"):
        return audience.run_filter(args, client)
    if args.command == "outbox":
        emit(args, *outbox.run_outbox(args, client))
        return 0
    if args.command == "audience":
        return receipts.run_verify(args, client)
    if args.command == "drp":
        emit(args, *drp.run_drp(args, client))
        return 0
    if args.command == "unsubscribe-link":
        emit(args, *unsubscribe.run_unsubscribe_link(args, client))
        return 0
    if args.command == "consent":
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
    elif args.command == "download-link":
        result = client.download_link(args.request_id)
    else:
        result = {
            **client.privacy(args.customer_id),
            "permissions": client.permissions(args.customer_id)["permissions"],
        }
    emit(args, result)
    return 0


def main(argv: Sequence[str] | None = None, ask: Ask = ask_tty) -> int:
    """Every failure is one line on stderr and a non-zero exit, never a traceback."""
    try:
        args = build_parser().parse_args(argv)
        code = _run(args, ask)
        # Inside the try: a reader that has gone (`| head`) is noticed here, not at exit.
        sys.stdout.flush()
        return code
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except receipts.ReceiptRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ApiError as exc:
        hint = "; give a token with --token or PRIVACYCTL_TOKEN" if exc.status == 401 else ""
        print(f"error: {exc.message} ({exc.code}, HTTP {exc.status}){hint}", file=sys.stderr)
        return 1
    except Interrupted as exc:
        print(f"\ninterrupted: {exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("\ninterrupted: nothing was left half-done", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `privacyctl ... | head`: the reader has gone; say nothing more, and keep Python from
        # complaining about stdout when it flushes at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except Exception as exc:  # the one-line promise holds for what we did not foresee, too
        print(f"error: unexpected {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
