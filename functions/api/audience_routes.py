"""POST /audiences/filter, GET /audiences/filter/{jobId} and GET /audiences/receipt-key (API.md,
"Audience screening"); the upload routes (API.md, "Audience uploads") are served by
functions/audience_filter/uploads.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types

from functions.api.dependencies import api_dependencies
from functions.audience_filter import uploads
from functions.audience_filter.queue import receipt_key, screening_job, start_screening
from functions.shared.caller import Caller, Group


def register(
    app: APIGatewayRestResolver, caller: Callable[[], Caller], body: Callable[[], Any]
) -> None:
    @app.post("/audiences/filter")
    def post_filter() -> Response:
        who = caller()
        who.require(Group.AGENT, Group.EXPORT_JOB)
        deps = api_dependencies()
        started = start_screening(body(), who, deps.screening, deps.hasher)
        return Response(202, content_types.APPLICATION_JSON, json.dumps(started))

    @app.get("/audiences/filter/<job_id>")
    def get_filter(job_id: str) -> dict[str, Any]:
        caller().require(Group.AGENT, Group.EXPORT_JOB)
        return screening_job(job_id, api_dependencies().screening)

    @app.get("/audiences/receipt-key")
    def get_receipt_key() -> dict[str, Any]:
        caller().require(Group.AGENT, Group.EXPORT_JOB, Group.COMPLIANCE)
        return receipt_key(api_dependencies().screening)

    @app.post("/audiences/uploads")
    def post_upload() -> Response:
        who = caller()
        who.require(Group.AGENT, Group.EXPORT_JOB)
        issued = uploads.issue_upload(body(), who.username, api_dependencies().screening.files)
        return Response(201, content_types.APPLICATION_JSON, json.dumps(issued))

    @app.delete("/audiences/uploads/<upload_id>")
    def delete_upload(upload_id: str) -> dict[str, Any]:
        who = caller()
        who.require(Group.AGENT, Group.EXPORT_JOB)
        return uploads.remove_upload(upload_id, who.username, api_dependencies().screening.files)

    @app.get("/audiences/filter/<job_id>/download")
    def get_filter_download(job_id: str) -> dict[str, Any]:
        who = caller()
        who.require(Group.AGENT, Group.EXPORT_JOB)
        files = api_dependencies().screening.files
        return uploads.download_links(files.job(job_id), who.username, files)
