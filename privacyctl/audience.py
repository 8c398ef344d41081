"""`privacyctl filter`: screen a local audience file through the audience filter, with the API's
address and a token only (no AWS credentials, no endpoint).

The API issues a presigned upload under requests/<uploadId>/ of the audiences bucket (not
incoming/, which would screen it a second time); the file goes there, POST /audiences/filter
screens it into clean/requests/<uploadId>/, the clean file and its report come back through
presigned downloads, and DELETE /audiences/uploads/{uploadId} then removes every copy: the
personal data in an audience file should not outlive the job that needed it. When that removal
cannot happen (the API is gone, Ctrl-C while the job runs), privacyctl says where the files are
and how to remove them (`privacyctl filter-cleanup UPLOAD_ID`)."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, BinaryIO

from privacyctl.client import ApiClient, ApiError, segment
from privacyctl.options import UsageError
from privacyctl.output import Interrupted, emit
from privacyctl.progress import ProgressBar, progress_for

TERMINAL = {"SUCCEEDED", "FAILED"}
CHUNK = 1024 * 1024


def add_parser(commands: Any) -> None:
    sub = commands.add_parser("filter", help="screen a local audience file (CSV or JSON Lines)")
    sub.add_argument("audience", type=Path)
    sub.add_argument(
        "-o", "--out", dest="out_file", type=Path, required=True, help="where the clean file goes"
    )
    sub.add_argument("--email-column")
    sub.add_argument("--phone-column")
    sub.add_argument("--customer-id-column")
    sub.add_argument("--topic", help="also drop people who opted out of this topic")
    sub.add_argument("--format", choices=["csv", "jsonl"], help="default: from the file name")
    cleanup = commands.add_parser(
        "filter-cleanup", help="remove what an interrupted `privacyctl filter` left in the bucket"
    )
    cleanup.add_argument("upload_id")


def _columns(args: argparse.Namespace) -> dict[str, str]:
    named = {
        "customerId": args.customer_id_column,
        "email": args.email_column,
        "phone": args.phone_column,
    }
    return {kind: column for kind, column in named.items() if column}


class _Reading:
    """The file as urllib sends it: large reads (urllib asks for 8 KiB), with progress."""

    def __init__(self, file: BinaryIO, bar: ProgressBar | None) -> None:
        self._file, self._bar = file, bar

    def read(self, _size: int = -1) -> bytes:
        chunk = self._file.read(CHUNK)
        if self._bar and chunk:
            self._bar(len(chunk))
        return chunk


def _s3_error(url_label: str, exc: urllib.error.HTTPError) -> ApiError:
    # S3 answers XML; its <Code> says enough, its <Message> may echo the key.
    code = re.search(rb"<Code>([^<]+)</Code>", exc.read() or b"")
    return ApiError(exc.code, code.group(1).decode() if code else "S3_ERROR", f"{url_label} failed")


def _put(url: str, path: Path) -> None:
    size = path.stat().st_size
    with path.open("rb") as file:
        request = urllib.request.Request(
            url,
            data=_Reading(file, progress_for("upload", size)),  # type: ignore[arg-type]
            method="PUT",
            headers={"Content-Length": str(size), "Content-Type": "application/octet-stream"},
        )
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            raise _s3_error("the upload", exc) from None
        except urllib.error.URLError as exc:
            raise ApiError(
                0, "UNREACHABLE", f"cannot reach the upload link: {exc.reason}"
            ) from None


def _get(url: str, target: Path, label: str) -> None:
    """Into a temporary file beside the target, renamed when complete: a half-written clean
    file is never left under the name the user asked for."""
    try:
        with urllib.request.urlopen(url, timeout=300) as response:
            total = int(response.headers.get("Content-Length") or 0)
            bar = progress_for(label, total)
            fd, partial = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
            try:
                with os.fdopen(fd, "wb") as out:
                    while chunk := response.read(CHUNK):
                        out.write(chunk)
                        if bar:
                            bar(len(chunk))
                os.replace(partial, target)
            except BaseException:
                Path(partial).unlink(missing_ok=True)
                raise
    except urllib.error.HTTPError as exc:
        raise _s3_error(f"the {label}", exc) from None
    except urllib.error.URLError as exc:
        raise ApiError(0, "UNREACHABLE", f"cannot reach the {label} link: {exc.reason}") from None


def _check_paths(args: argparse.Namespace) -> None:
    if not args.audience.is_file():
        raise FileNotFoundError(2, "no such file", str(args.audience))
    folder = args.out_file.parent
    if not folder.is_dir():
        raise FileNotFoundError(2, "no such directory for the clean file", str(folder))
    if args.out_file.resolve() == args.audience.resolve():
        raise FileExistsError(17, "the clean file would overwrite the audience file", str(folder))


def run_cleanup(args: argparse.Namespace, client: ApiClient) -> int:
    removed = client.call("DELETE", f"/audiences/uploads/{segment(args.upload_id)}")
    emit(args, removed, f"removed {len(removed['removed'])} objects of upload {args.upload_id}")
    return 0


def run_filter(args: argparse.Namespace, client: ApiClient) -> int:
    if args.command == "filter-cleanup":
        return run_cleanup(args, client)
    columns = _columns(args)
    if not columns:
        raise UsageError(
            "filter: name at least one of --email-column, --phone-column, --customer-id-column"
        )
    _check_paths(args)
    upload = client.call("POST", "/audiences/uploads", {"fileName": args.audience.name})
    upload_id = upload["uploadId"]
    job: dict[str, Any] | None = None
    try:
        _put(upload["uploadUrl"], args.audience)
        body: dict[str, Any] = {
            "source": upload["source"],
            "destination": upload["destination"],
            "identifierColumns": columns,
        }
        if args.topic:
            body["topic"] = args.topic
        if args.format:
            body["format"] = args.format
        job = _wait(client, client.call("POST", "/audiences/filter", body)["jobId"])
        if job["status"] != "SUCCEEDED":
            error = job.get("error", {})
            raise ApiError(422, error.get("code", "FAILED"), error.get("message", "job failed"))
        links = client.call("GET", f"/audiences/filter/{segment(job['jobId'])}/download")
        _get(links["downloadUrl"], args.out_file, "download")
        report_path = args.out_file.with_name(args.out_file.name + ".report.json")
        _get(links["reportUrl"], report_path, "report")
        # Beside the file, where `privacyctl audience verify-receipt` looks for it.
        receipt_path = args.out_file.with_name(args.out_file.name + ".receipt.json")
        _get(links["receiptUrl"], receipt_path, "receipt")
    except KeyboardInterrupt:
        running = job is None or job["status"] not in TERMINAL
        if not _remove(client, upload):
            raise Interrupted(_where(upload)) from None
        if running:
            raise Interrupted(
                f"the upload was removed, but a screening job may still write its clean copy "
                f"under clean/requests/{upload_id}/: once it ends, run "
                f"`privacyctl filter-cleanup {upload_id}`"
            ) from None
        raise Interrupted(f"stopped; upload {upload_id} and its copies were removed") from None
    except BaseException:
        if not _remove(client, upload):
            print(f"note: {_where(upload)}", file=sys.stderr)
        raise
    if not _remove(client, upload):
        print(f"note: {_where(upload)}", file=sys.stderr)
    report = json.loads(report_path.read_text())
    dropped = ", ".join(f"{k} {v}" for k, v in job["dropped"].items()) or "none"
    text = (
        f"job {job['jobId']}: {job['rowsIn']} rows in, {job['rowsOut']} out; dropped: {dropped}; "
        f"malformed: {job['malformed']['rows']} (report: {report_path}; receipt: {receipt_path})"
    )
    emit(args, {**report, "jobId": job["jobId"], "output": str(args.out_file)}, text)
    return 0


def _remove(client: ApiClient, upload: dict[str, Any]) -> bool:
    """Removes the upload and its screened copies; answers whether that worked."""
    try:
        client.call("DELETE", f"/audiences/uploads/{segment(upload['uploadId'])}")
    except (ApiError, KeyboardInterrupt):
        return False
    return True


def _where(upload: dict[str, Any]) -> str:
    return (
        f"the uploaded file is still at {upload['source']} (its clean copy under "
        f"{upload['destination'].rsplit('/', 1)[0]}/): remove both with "
        f"`privacyctl filter-cleanup {upload['uploadId']}`"
    )


def _wait(client: ApiClient, job_id: str, timeout: float = 3600.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = client.call("GET", f"/audiences/filter/{segment(job_id)}")
        if job["status"] in TERMINAL or time.monotonic() > deadline:
            return job
        time.sleep(0.5)
