"""`privacyctl retry REQUEST_ID`: resume a FAILED forget from where it stopped (agent or
compliance group), and wait for its outcome unless --no-wait."""

from __future__ import annotations

import argparse
import time
from typing import Any

from privacyctl.client import ApiClient

TERMINAL = {"COMPLETED", "REJECTED", "CANCELLED", "EXPIRED", "FAILED"}


def add_parser(commands: Any) -> None:
    retry = commands.add_parser("retry", help="resume a FAILED forget from where it stopped")
    retry.add_argument("request_id")
    retry.add_argument("--no-wait", action="store_true", help="do not wait for the outcome")


def run_retry(
    args: argparse.Namespace, client: ApiClient, timeout: float = 120.0
) -> dict[str, Any]:
    request = client.call("POST", f"/privacy-requests/{args.request_id}/retry", {})
    if args.no_wait:
        return request
    deadline = time.monotonic() + timeout
    while request["status"] not in TERMINAL and time.monotonic() < deadline:
        time.sleep(0.2)
        request = client.request(args.request_id)
    return request
