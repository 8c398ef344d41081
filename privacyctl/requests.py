"""`privacyctl requests [--status S ...] [--overdue] [--mine] [--type T] [--customer C]`: the
request queue as a table (--output json: the rows), or with --csv FILE every request the filters
match, every column, page after page. `privacyctl requests extend ID --reason ... [--days N]`
extends a request's legal deadline once (compliance group)."""

from __future__ import annotations

import argparse
import base64
import binascii
import csv
import json
import urllib.parse
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from functions.export.csv_file import escape
from privacyctl.client import ApiClient, segment
from privacyctl.options import UsageError

STATUSES = (
    "RECEIVED",
    "AWAITING_CONFIRMATION",
    "CONFIRMED",
    "APPLIED",
    "COMPLETED",
    "REJECTED",
    "CANCELLED",
    "EXPIRED",
    "FAILED",
)
TYPES = ("CEASE_MARKETING", "RESUME_MARKETING", "FORGET", "EXPORT")
# The API's largest page: an export reads as few pages as it can.
PAGE = 200
COLUMNS = (
    "requestId",
    "type",
    "status",
    "statusText",
    "customerId",
    "submittedBy",
    "createdAt",
    "dueAt",
    "daysLeft",
    "overdue",
    "jurisdiction",
    "previousDueAt",
    "extendedAt",
    "extendedBy",
    "extensionReason",
)
TABLE = (
    ("REQUEST", "requestId"),
    ("TYPE", "type"),
    ("STATUS", "status"),
    ("CUSTOMER", "customerId"),
    ("BY", "submittedBy"),
    ("CREATED", "createdAt"),
    ("DUE", "dueAt"),
    ("DAYS", "daysLeft"),
    ("EXTENDED", "extendedAt"),
)


def add_parser(commands: Any) -> None:
    queue = commands.add_parser("requests", help="the request queue (or: requests extend ID)")
    queue.add_argument("--status", action="append", choices=STATUSES, help="repeatable")
    queue.add_argument("--type", choices=TYPES)
    queue.add_argument("--customer", help="a customer id (a forgotten one's requests too)")
    mine = queue.add_mutually_exclusive_group()
    mine.add_argument("--mine", action="store_true", help="only the requests you submitted")
    mine.add_argument("--submitted-by", help="only the requests this user submitted")
    queue.add_argument("--overdue", action="store_true", help="open requests past their deadline")
    queue.add_argument("--due-before", help="open requests due before this ISO date or time")
    queue.add_argument("--from", dest="start", help="created from this ISO date or date-time")
    queue.add_argument("--to", dest="end", help="created up to this ISO date or date-time")
    queue.add_argument("--limit", type=int, default=50, help="rows to show (default 50)")
    queue.add_argument("--csv", type=Path, help="write every matching request to this CSV file")
    actions = queue.add_subparsers(dest="requests_command", metavar="extend")
    extend = actions.add_parser("extend", help="extend a request's legal deadline once")
    extend.add_argument("request_id")
    extend.add_argument("--reason", required=True, help="why (kept on the request, not audited)")
    extend.add_argument("--days", type=int, help="how many days (default: all the law allows)")


def username_of(token: str) -> str:
    """Whose token this is, for --mine: the local stack's dev:<user>:<groups>, or a Cognito
    token's username claim (read, not verified: the API verifies it)."""
    if token.startswith("dev:"):
        return token.split(":")[1]
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return str(claims.get("cognito:username") or claims["username"])
    except (IndexError, KeyError, ValueError, binascii.Error, AttributeError):
        raise UsageError("--mine needs a token that names its user; give --submitted-by") from None


def _params(args: argparse.Namespace, token: str) -> dict[str, Any]:
    submitted_by = username_of(token) if args.mine else args.submitted_by
    params = {
        "status": args.status or None,
        "type": args.type,
        "customerId": args.customer,
        "submittedBy": submitted_by,
        "overdue": "true" if args.overdue else None,
        "dueBefore": args.due_before,
        "from": args.start,
        "to": args.end,
    }
    return {k: v for k, v in params.items() if v}


def pages(client: ApiClient, params: Mapping[str, Any], limit: int) -> Iterator[dict[str, Any]]:
    token = None
    while True:
        query = {**params, "limit": str(limit), **({"nextToken": token} if token else {})}
        page = client.call("GET", f"/privacy-requests?{urllib.parse.urlencode(query, doseq=True)}")
        yield page
        token = page.get("nextToken")
        if not token:
            return


def flat(row: Mapping[str, Any]) -> dict[str, Any]:
    extension = row.get("extension") or {}
    return {
        **{k: row.get(k) for k in COLUMNS if k in row},
        "previousDueAt": extension.get("previousDueAt"),
        "extendedAt": extension.get("extendedAt"),
        "extendedBy": extension.get("extendedBy"),
        "extensionReason": extension.get("reason"),
    }


def write_csv(rows: Iterator[Mapping[str, Any]], path: Path) -> int:
    count = 0
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: escape(_text(v)) for k, v in flat(row).items()})
            count += 1
    return count


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def table(rows: list[Mapping[str, Any]]) -> str:
    cells = [[h for h, _ in TABLE]]
    cells += [[_text(flat(row).get(key)) or "-" for _, key in TABLE] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(TABLE))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells
    )


def run_requests(args: argparse.Namespace, client: ApiClient, token: str) -> tuple[Any, str]:
    """The result and its text form."""
    if args.requests_command == "extend":
        body: dict[str, Any] = {"reason": args.reason}
        if args.days is not None:
            body["days"] = args.days
        path = f"/privacy-requests/{segment(args.request_id)}/extend"
        extended = client.call("POST", path, body)
        text = f"request {extended['requestId']}: due {extended['dueAt']} (extended)"
        return extended, text
    params = _params(args, token)
    if args.csv is not None:
        folder = args.csv.parent if str(args.csv.parent) else Path(".")
        if not folder.is_dir():
            raise FileNotFoundError(2, "no such directory", str(folder))
        rows = (row for page in pages(client, params, PAGE) for row in page["requests"])
        written = write_csv(rows, args.csv)
        return {"requests": written, "csv": str(args.csv)}, f"{written} requests -> {args.csv}"
    if not 1 <= args.limit <= PAGE:
        raise UsageError(f"--limit must be between 1 and {PAGE}")
    page = next(pages(client, params, args.limit))
    rows = page["requests"]
    more = "\n(more: raise --limit, or --csv FILE for all)" if page.get("nextToken") else ""
    text = (table(rows) if rows else "no requests match") + more
    return {"requests": rows, "count": len(rows), "more": bool(page.get("nextToken"))}, text
