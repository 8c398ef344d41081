"""Screening jobs asked for through the API: queue one (POST /audiences/filter), read one
(GET /audiences/filter/{jobId}). The audience filter function runs them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from functions.audience_filter.files import AudienceFiles, ScreeningQueue
from functions.audience_filter.jobs import AudienceJob, JobStatus
from functions.shared.caller import Caller
from functions.shared.clock import utc_now
from functions.shared.errors import NotConfiguredError, NotFoundError, ValidationError

JOB_FIELDS = {"source", "destination", "identifierColumns", "topic", "format"}


@dataclass(frozen=True)
class Screening:
    files: AudienceFiles
    queue: ScreeningQueue


class NoScreening:
    """A deployment without the audiences bucket: the routes answer 503 and write nothing."""

    @property
    def files(self) -> AudienceFiles:
        raise NotConfiguredError("audience screening is not configured on this deployment")

    @property
    def queue(self) -> ScreeningQueue:
        raise NotConfiguredError("audience screening is not configured on this deployment")


def start_screening(raw: Any, caller: Caller, screening: Screening | NoScreening) -> dict[str, Any]:
    files, queue = screening.files, screening.queue
    if not isinstance(raw, dict):
        raise ValidationError("the request body must be a JSON object")
    unknown = set(raw) - JOB_FIELDS
    if unknown:
        raise ValidationError(f"unknown fields: {', '.join(sorted(unknown))}")
    job = AudienceJob.from_dict(raw)
    if {job.source.bucket, job.destination.bucket} != {files.bucket}:
        raise ValidationError(f"audience files are read from and written to {files.bucket} only")
    try:
        files.describe(job.source)
    except NotFoundError as exc:
        raise ValidationError(str(exc)) from None
    record = {**job.to_dict(), "status": JobStatus.QUEUED, "requestedBy": caller.username}
    files.save_job({**record, "queuedAt": utc_now()})
    queue.start(job.to_dict())
    return {"jobId": job.job_id}


def screening_job(job_id: str, screening: Screening | NoScreening) -> dict[str, Any]:
    record = screening.files.job(job_id)
    if record is None:
        raise NotFoundError(f"screening job {job_id} was not found")
    return record
