"""Screening jobs asked for through the API: queue one (POST /audiences/filter), read one
(GET /audiences/filter/{jobId}). The audience filter function runs them."""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass, replace
from typing import Any

from functions.audience_filter.engine import MissingColumnsError, Screener
from functions.audience_filter.engine import Screening as Columns
from functions.audience_filter.files import AudienceFiles, ScreeningQueue
from functions.audience_filter.jobs import AudienceJob, DestinationTakenError, JobStatus
from functions.audience_filter.receipt_key import ReceiptKey
from functions.audience_filter.receipts import ALGORITHM, KEY_SPEC, pem
from functions.shared.caller import Caller
from functions.shared.clock import utc_now
from functions.shared.errors import NotConfiguredError, NotFoundError, ValidationError
from functions.shared.identifiers import KeyedHasher

JOB_FIELDS = {"source", "destination", "identifierColumns", "topic", "format"}
# How much of the file the API reads to check the named columns against its header.
HEADER_BYTES = 256 * 1024
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class Screening:
    files: AudienceFiles
    queue: ScreeningQueue
    receipts: ReceiptKey


class NoScreening:
    """A deployment without the audiences bucket: the routes answer 503 and write nothing."""

    @property
    def files(self) -> AudienceFiles:
        raise NotConfiguredError("audience screening is not configured on this deployment")

    @property
    def queue(self) -> ScreeningQueue:
        raise NotConfiguredError("audience screening is not configured on this deployment")

    @property
    def receipts(self) -> ReceiptKey:
        raise NotConfiguredError("audience screening is not configured on this deployment")


def start_screening(
    raw: Any, caller: Caller, screening: Screening | NoScreening, hasher: KeyedHasher
) -> dict[str, Any]:
    files, queue = screening.files, screening.queue
    if not isinstance(raw, dict):
        raise ValidationError("the request body must be a JSON object")
    unknown = set(raw) - JOB_FIELDS
    if unknown:
        raise ValidationError(f"unknown fields: {', '.join(sorted(unknown))}")
    # Every job the API starts is a new job: it never owns an existing file.
    job = replace(AudienceJob.from_dict(raw), requested_by=caller.username)
    if {job.source.bucket, job.destination.bucket} != {files.bucket}:
        raise ValidationError(f"audience files are read from and written to {files.bucket} only")
    try:
        files.describe(job.source)
    except NotFoundError as exc:
        raise ValidationError(str(exc)) from None
    _check_columns(job, files, hasher)
    # A 409 now, before anything is written; the filter's writes are conditional besides, so a
    # file that appears meanwhile fails the job instead of being replaced.
    for taken in (job.destination, job.receipt, job.report):
        if files.exists(taken):
            raise DestinationTakenError(taken)
    record = {**job.to_dict(), "status": JobStatus.QUEUED}
    files.save_job({**record, "queuedAt": utc_now()})
    queue.start(job.to_dict())
    return {"jobId": job.job_id}


def _check_columns(job: AudienceJob, files: AudienceFiles, hasher: KeyedHasher) -> None:
    """A 400 now when the header lacks a named column, read as the job will read it (the
    engine's header check); the job checks the whole header again before writing anything. A
    head that cannot be judged (a header longer than HEADER_BYTES, a damaged gzip stream) is
    left to the job."""
    head = files.head(job.source, HEADER_BYTES)
    if head.startswith(GZIP_MAGIC):
        try:
            head = zlib.decompressobj(wbits=31).decompress(head, HEADER_BYTES)
        except zlib.error:
            return
    if len(head) >= HEADER_BYTES and b"\n" not in head and b"\r" not in head:
        return  # the header runs on past what was read
    screener = Screener(Columns(job.columns, job.format, job.topic), {}, hasher)
    try:
        screener.read_header(io.BytesIO(head))
    except MissingColumnsError:
        raise
    except ValidationError:
        return


def receipt_key(screening: Screening | NoScreening) -> dict[str, Any]:
    """GET /audiences/receipt-key: what verifies every screening receipt, offline."""
    receipts = screening.receipts
    return {
        "keyId": receipts.key_id,
        "keySpec": KEY_SPEC,
        "algorithm": ALGORITHM,
        "publicKey": pem(receipts.public_key()),
    }


def screening_job(job_id: str, screening: Screening | NoScreening) -> dict[str, Any]:
    record = screening.files.job(job_id)
    if record is None:
        raise NotFoundError(f"screening job {job_id} was not found")
    return record
