"""POST /audiences/filter and GET /audiences/filter/{jobId} (API.md, "Audience screening"); the
upload routes (API.md, "Audience uploads") are served by functions/audience_filter/uploads.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types

from functions.api.auth import Caller, Group
from functions.audience_filter import uploads
from functions.shared.audience_jobs import AudienceJob, JobStatus
from functions.shared.domain import utc_now
from functions.shared.errors import DomainError, NotFoundError, ValidationError
from functions.shared.repositories.audiences import AudienceFiles, ScreeningQueue
from functions.shared.settings import ApiSettings
from functions.shared.wiring import settings_of


class NotConfiguredError(DomainError):
    code = "NOT_CONFIGURED"


@cache
def _files_and_queue() -> tuple[AudienceFiles, ScreeningQueue]:
    settings = settings_of(ApiSettings)
    if not settings.audiences_bucket or not settings.audience_filter_function:
        raise NotConfiguredError("audience screening is not configured on this deployment")
    return AudienceFiles(settings.audiences_bucket), ScreeningQueue(
        settings.audience_filter_function
    )


def start_screening(raw: Any, caller: Caller) -> dict[str, Any]:
    files, queue = _files_and_queue()
    if not isinstance(raw, dict):
        raise ValidationError("the request body must be a JSON object")
    unknown = set(raw) - {"source", "destination", "identifierColumns", "topic", "format"}
    if unknown:
        raise ValidationError(f"unknown fields: {', '.join(sorted(unknown))}")
    job = AudienceJob.from_dict({k: v for k, v in raw.items() if k != "jobId"})
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


def screening_job(job_id: str) -> dict[str, Any]:
    files, _ = _files_and_queue()
    record = files.job(job_id)
    if record is None:
        raise NotFoundError(f"screening job {job_id} was not found")
    return record


def register(app: APIGatewayRestResolver, caller: Callable[[], Caller], body: Callable[[], Any]):
    @app.post("/audiences/filter")
    def post_filter() -> Response:
        who = caller()
        who.require(Group.AGENT, Group.EXPORT_JOB)
        started = start_screening(body(), who)
        return Response(202, content_types.APPLICATION_JSON, json.dumps(started))

    @app.get("/audiences/filter/<job_id>")
    def get_filter(job_id: str) -> dict[str, Any]:
        caller().require(Group.AGENT, Group.EXPORT_JOB)
        return screening_job(job_id)

    @app.post("/audiences/uploads")
    def post_upload() -> Response:
        who = caller()
        who.require(Group.AGENT, Group.EXPORT_JOB)
        issued = uploads.issue_upload(body(), who.username, _files_and_queue()[0])
        return Response(201, content_types.APPLICATION_JSON, json.dumps(issued))

    @app.delete("/audiences/uploads/<upload_id>")
    def delete_upload(upload_id: str) -> dict[str, Any]:
        who = caller()
        who.require(Group.AGENT, Group.EXPORT_JOB)
        return uploads.remove_upload(upload_id, who.username, _files_and_queue()[0])

    @app.get("/audiences/filter/<job_id>/download")
    def get_filter_download(job_id: str) -> dict[str, Any]:
        who = caller()
        who.require(Group.AGENT, Group.EXPORT_JOB)
        files = _files_and_queue()[0]
        return uploads.download_links(files.job(job_id), who.username, files)
