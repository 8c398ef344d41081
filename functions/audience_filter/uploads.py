"""Audience files moved through the API alone, so a client needs no AWS credentials
(privacyctl filter; API.md, "Audience uploads"):

- POST /audiences/uploads: a presigned PUT for one new key under requests/<uploadId>/, and the
  clean destination that goes with it under clean/requests/<uploadId>/ (for POST
  /audiences/filter).
- GET /audiences/filter/{jobId}/download: presigned GETs of a finished job's clean file, its
  report and its signed receipt, for jobs whose file was uploaded this way.
- DELETE /audiences/uploads/{uploadId}: removes the uploaded file, its clean copy and report.

Only the uploader may download or remove. The file name the client gives is used only for its
suffix (the format): audience file names can say whom a file is about, keys never do."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.audience_filter.files import AudienceFiles
from functions.audience_filter.jobs import (
    CLEAN,
    RECEIPT_SUFFIX,
    REPORT_SUFFIX,
    JobStatus,
    S3Location,
)
from functions.shared.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ValidationError,
)
from functions.shared.observability import logger

UPLOADS = "requests/"
# An upload link lasts long enough for a few GB on a slow line; a download link as long as an
# export's (README, "Export").
UPLOAD_SECONDS = 3600
DOWNLOAD_SECONDS = 15 * 60
SUFFIXES = (".csv.gz", ".jsonl.gz", ".ndjson.gz", ".csv", ".jsonl", ".ndjson")
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _suffix(raw: Any) -> str:
    if not isinstance(raw, dict):
        raise ValidationError("the request body must be a JSON object")
    unknown = set(raw) - {"fileName"}
    if unknown:
        raise ValidationError(f"unknown fields: {', '.join(sorted(unknown))}")
    name = raw.get("fileName")
    if not isinstance(name, str) or not name.strip() or len(name) > 1024:
        raise ValidationError("fileName must be the audience file's name, e.g. spring.csv")
    lowered = name.strip().lower()
    for suffix in SUFFIXES:
        if lowered.endswith(suffix):
            return suffix
    raise ValidationError(f"fileName must end in one of {', '.join(SUFFIXES)}")


def issue_upload(raw: Any, username: str, files: AudienceFiles) -> dict[str, Any]:
    suffix = _suffix(raw)
    upload_id = uuid.uuid4().hex
    now = datetime.now(UTC)
    record = {
        "uploadId": upload_id,
        "source": S3Location(files.bucket, f"{UPLOADS}{upload_id}/audience{suffix}").uri,
        "destination": S3Location(
            files.bucket, f"{CLEAN}{UPLOADS}{upload_id}/audience{suffix}"
        ).uri,
        "requestedBy": username,
        "createdAt": _iso(now),
        "expiresAt": _iso(now + timedelta(seconds=UPLOAD_SECONDS)),
    }
    files.save_upload(record)
    url = files.presign_put(S3Location.parse(record["source"]), UPLOAD_SECONDS)
    logger.info("audience upload issued", extra={"uploadId": upload_id})
    return {
        "uploadId": upload_id,
        "uploadUrl": url,
        "method": "PUT",
        "source": record["source"],
        "destination": record["destination"],
        "expiresAt": record["expiresAt"],
    }


def _own_upload(upload_id: str, username: str, files: AudienceFiles) -> dict[str, Any]:
    record = files.upload_record(upload_id) if _UPLOAD_ID.match(upload_id) else None
    if record is None:
        raise NotFoundError(f"audience upload {upload_id} was not found")
    if record["requestedBy"] != username:
        raise ForbiddenError("only the user who uploaded an audience file may fetch or remove it")
    return record


def _upload_of(destination: S3Location) -> str | None:
    prefix = f"{CLEAN}{UPLOADS}"
    if not destination.key.startswith(prefix):
        return None
    return destination.key.removeprefix(prefix).split("/", 1)[0]


def download_links(
    job: dict[str, Any] | None, username: str, files: AudienceFiles
) -> dict[str, Any]:
    if job is None:
        raise NotFoundError("screening job was not found")
    upload_id = _upload_of(S3Location.parse(str(job["destination"])))
    if upload_id is None:
        raise ConflictError(
            "only files uploaded with POST /audiences/uploads are downloaded through the API"
        )
    record = _own_upload(upload_id, username, files)
    if job["status"] != JobStatus.SUCCEEDED:
        raise ConflictError(f"screening job {job['jobId']} is {job['status']}, not SUCCEEDED")
    destination = S3Location.parse(record["destination"])
    report = S3Location(destination.bucket, destination.key + REPORT_SUFFIX)
    receipt = S3Location(destination.bucket, destination.key + RECEIPT_SUFFIX)
    expires = _iso(datetime.now(UTC) + timedelta(seconds=DOWNLOAD_SECONDS))
    logger.info("audience download issued", extra={"jobId": job["jobId"], "uploadId": upload_id})
    return {
        "jobId": job["jobId"],
        "uploadId": upload_id,
        "downloadUrl": files.presign_get(destination, DOWNLOAD_SECONDS),
        "reportUrl": files.presign_get(report, DOWNLOAD_SECONDS),
        "receiptUrl": files.presign_get(receipt, DOWNLOAD_SECONDS),
        "expiresAt": expires,
    }


def remove_upload(upload_id: str, username: str, files: AudienceFiles) -> dict[str, Any]:
    """Every version of the uploaded file, its clean copy and the report: nothing of the
    audience outlives the job that needed it. The upload record (keys and dates only) stays."""
    _own_upload(upload_id, username, files)
    removed = [
        S3Location(files.bucket, key).uri
        for prefix in (f"{UPLOADS}{upload_id}/", f"{CLEAN}{UPLOADS}{upload_id}/")
        for key in files.remove_under(prefix)
    ]
    logger.info("audience upload removed", extra={"uploadId": upload_id, "objects": len(removed)})
    return {"uploadId": upload_id, "removed": removed}
