"""`privacyctl audience verify-receipt FILE`: is this the clean file a screening job wrote, as
its signed receipt says? FILE is a local path (its receipt beside it, FILE.receipt.json, or
--receipt) or s3://bucket/key (read with your own AWS credentials; everything else privacyctl
does needs none). The public key comes from the API (GET /audiences/receipt-key) unless
--public-key names a PEM file, so a receipt can also be checked with no API at all."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from functions.audience_filter.receipts import ReceiptError
from functions.audience_filter.verify import verify_clean_file
from privacyctl.client import ApiClient
from privacyctl.output import emit


def add_parser(commands: Any) -> None:
    group = commands.add_parser("audience", help="audience screening receipts")
    sub = group.add_subparsers(dest="audience_command", required=True, metavar="COMMAND")
    verify = sub.add_parser(
        "verify-receipt", help="check a clean audience file against its signed receipt"
    )
    verify.add_argument("file", help="a local clean file or s3://bucket/key")
    verify.add_argument("--receipt", type=Path, help="default: FILE.receipt.json beside it")
    verify.add_argument(
        "--public-key", type=Path, help="the receipt key as PEM (default: asked of the API)"
    )


class ReceiptRefused(Exception):
    """The file is not what a genuine receipt says: one line, exit 1."""


def needs_api(args: argparse.Namespace) -> bool:
    return args.public_key is None


def run_verify(args: argparse.Namespace, client: ApiClient | None) -> int:
    if args.public_key is not None:
        public_key = args.public_key.read_bytes()
    else:
        assert client is not None
        public_key = str(client.call("GET", "/audiences/receipt-key")["publicKey"]).encode()
    try:
        body = verify_clean_file(args.file, public_key, args.receipt)
    except ReceiptError as exc:
        raise ReceiptRefused(f"{args.file}: {exc}") from None
    counts = body["counts"]
    dropped = ", ".join(f"{k} {v}" for k, v in counts["dropped"].items()) or "none"
    text = (
        f"verified: {args.file} is the clean file of job {body['jobId']} "
        f"({counts['rowsIn']} rows in, {counts['kept']} kept; dropped: {dropped}; "
        f"index of {body['index']['snapshotAt']}, screened for {body['caller']})"
    )
    emit(args, {"verified": True, "receipt": body}, text)
    return 0
