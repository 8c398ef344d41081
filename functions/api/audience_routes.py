"""POST /audiences/filter and GET /audiences/filter/{jobId} (API.md, "Audience screening")."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types

from functions.api.dependencies import api_dependencies
from functions.audience_filter.queue import screening_job, start_screening
from functions.shared.caller import Caller, Group


def register(
    app: APIGatewayRestResolver, caller: Callable[[], Caller], body: Callable[[], Any]
) -> None:
    @app.post("/audiences/filter")
    def post_filter() -> Response:
        who = caller()
        who.require(Group.AGENT, Group.EXPORT_JOB)
        started = start_screening(body(), who, api_dependencies().screening)
        return Response(202, content_types.APPLICATION_JSON, json.dumps(started))

    @app.get("/audiences/filter/<job_id>")
    def get_filter(job_id: str) -> dict[str, Any]:
        caller().require(Group.AGENT, Group.EXPORT_JOB)
        return screening_job(job_id, api_dependencies().screening)
