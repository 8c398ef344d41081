"""`privacyctl filter`: screen a local audience file through the audience filter.

The file goes to the audiences bucket under requests/ (not incoming/, which would screen it a
second time), is screened by POST /audiences/filter, comes back, and both copies in S3 are then
deleted: the personal data in an audience file should not outlive the job that needed it."""

from __future__ import annotations

import argparse
import os
import time
import uuid
from pathlib import Path
from typing import Any

import boto3

from privacyctl.client import ApiClient
from privacyctl.progress import progress_for

TERMINAL = {"SUCCEEDED", "FAILED"}


def add_parser(commands: Any) -> None:
    sub = commands.add_parser("filter", help="screen a local audience file (CSV or JSON Lines)")
    sub.add_argument("audience", type=Path)
    sub.add_argument("-o", "--output", type=Path, required=True, help="where the clean file goes")
    sub.add_argument("--email-column")
    sub.add_argument("--phone-column")
    sub.add_argument("--customer-id-column")
    sub.add_argument("--topic", help="also drop people who opted out of this topic")
    sub.add_argument("--format", choices=["csv", "jsonl"], help="default: from the file name")
    sub.add_argument(
        "--bucket",
        default=os.environ.get("PRIVACYCTL_AUDIENCES_BUCKET", "privacy-local-audiences"),
        help="the audiences bucket (PRIVACYCTL_AUDIENCES_BUCKET)",
    )


def _columns(args: argparse.Namespace) -> dict[str, str]:
    named = {
        "customerId": args.customer_id_column,
        "email": args.email_column,
        "phone": args.phone_column,
    }
    return {kind: column for kind, column in named.items() if column}


def run_filter(args: argparse.Namespace, client: ApiClient, s3: Any = None) -> int:
    columns = _columns(args)
    if not columns:
        print("error: name at least one of --email-column, --phone-column, --customer-id-column")
        return 2
    s3 = s3 or boto3.client("s3")
    name = args.audience.name
    key = f"requests/{uuid.uuid4()}/{name}"
    source, destination = f"s3://{args.bucket}/{key}", f"s3://{args.bucket}/clean/{key}"
    size = args.audience.stat().st_size
    s3.upload_file(str(args.audience), args.bucket, key, Callback=progress_for("upload", size))
    try:
        body: dict[str, Any] = {
            "source": source,
            "destination": destination,
            "identifierColumns": columns,
        }
        if args.topic:
            body["topic"] = args.topic
        if args.format:
            body["format"] = args.format
        job = _wait(client, client.call("POST", "/audiences/filter", body)["jobId"])
        if job["status"] != "SUCCEEDED":
            error = job.get("error", {})
            print(f"error: {error.get('message', 'the screening job failed')}")
            return 1
        clean_key = f"clean/{key}"
        clean_size = s3.head_object(Bucket=args.bucket, Key=clean_key)["ContentLength"]
        s3.download_file(
            args.bucket, clean_key, str(args.output), Callback=progress_for("download", clean_size)
        )
        s3.delete_object(Bucket=args.bucket, Key=clean_key)
    finally:
        s3.delete_object(Bucket=args.bucket, Key=key)
    dropped = ", ".join(f"{k} {v}" for k, v in job["dropped"].items()) or "none"
    print(
        f"job {job['jobId']}: {job['rowsIn']} rows in, {job['rowsOut']} out; dropped: {dropped}; "
        f"malformed: {job['malformed']['rows']} (report: {job['report']})"
    )
    return 0


def _wait(client: ApiClient, job_id: str, timeout: float = 3600.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = client.call("GET", f"/audiences/filter/{job_id}")
        if job["status"] in TERMINAL or time.monotonic() > deadline:
            return job
        time.sleep(0.5)
