"""GET /privacy-requests (the request queue) and POST /privacy-requests/{requestId}/extend (API.md,
"The request queue", "Deadline extension")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.parser import parse

from functions.api.dependencies import api_dependencies
from functions.api.request_schemas import extended, parse_queue_query, queue_page
from functions.api.schemas import ExtendBody
from functions.requests.extension import ExtensionAsked, extend_deadline
from functions.requests.service import list_requests
from functions.shared import clock
from functions.shared.caller import Caller, Group


def register(
    app: APIGatewayRestResolver, caller: Callable[[], Caller], body: Callable[[], Any]
) -> None:
    @app.get("/privacy-requests")
    def get_queue() -> dict[str, Any]:
        caller().require(Group.AGENT, Group.COMPLIANCE)
        params = app.current_event.multi_value_query_string_parameters or {}
        where, limit, token = parse_queue_query(params)
        now = clock.now()
        return queue_page(list_requests(where, limit, token, api_dependencies()), now)

    @app.post("/privacy-requests/<request_id>/extend")
    def post_extend(request_id: str) -> dict[str, Any]:
        who = caller()
        who.require(Group.COMPLIANCE)
        asked = parse(event=body(), model=ExtendBody)
        request = extend_deadline(
            request_id, ExtensionAsked(asked.reason, asked.days), who, api_dependencies()
        )
        return extended(request)
