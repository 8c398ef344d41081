"""What each route declares about itself, once: who may call it, what it answers, which errors
it may give. The same declaration documents the route in the OpenAPI document and is enforced at
run time (`require_groups`), so the two cannot drift apart."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from typing import Any, cast, get_type_hints

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from pydantic import BaseModel

from functions.api.auth import caller_from_claims
from functions.shared.caller import Caller, Group
from functions.shared.errors import ForbiddenError, ValidationError

GROUPS_EXTENSION = "x-allowed-groups"
# A public route whose only credential is what the customer was sent (a token in the body or
# the link): a request that also presents a session is refused (403), because a staff tool
# attaches its bearer token to every call and must never act for the customer there.
CUSTOMER_EXTENSION = "x-customer-credential"
BEARER = "bearer"

ERROR_STATUSES = {
    400: "Bad input (nothing written): the message names the field or rule",
    401: "No caller identity: no or an invalid bearer token",
    403: "The caller's groups may not call this route",
    404: "No such customer, request, campaign or job",
    409: "The state does not allow it (the message says why)",
    415: "A body that is not application/json",
    429: "Throttled by API Gateway",
    500: "An internal error (logged with the request id, never the input)",
    503: "A capability this deployment was not given",
}
# Every route can answer these: bad input, an internal error; a staff route also 401 and 403.
_ALWAYS = (400, 500)
_STAFF = (401, 403)


class ErrorDetail(BaseModel):
    code: str
    message: str
    requestId: str


class ErrorBody(BaseModel):
    """API.md's error shape, for every 4xx and 5xx."""

    error: ErrorDetail


def operation(
    *groups: Group,
    summary: str,
    answer: type[BaseModel] | None = None,
    status: int = 200,
    errors: Iterable[int] = (),
    description: str | None = None,
    customer: bool = False,
) -> dict[str, Any]:
    """The route decorator's keywords. Without groups the route is public (no token); with
    `customer`, it is the customer's own (CUSTOMER_EXTENSION: a staff session is a 403)."""
    assert not (customer and groups), "a customer's route admits no staff group"
    codes = sorted({*_ALWAYS, *errors, *(_STAFF if groups else ()), *((403,) if customer else ())})
    who = (
        "Groups allowed: " + ", ".join(f"`{g.value}`" for g in groups) + "."
        if groups
        else "Public: no token."
    )
    success: dict[str, Any] = {"description": summary}
    if answer is not None:
        success["content"] = {"application/json": {"model": answer}}
    responses: dict[int, Any] = {status: success}
    for code in codes:
        responses[code] = {
            "description": ERROR_STATUSES[code],
            "content": {"application/json": {"model": ErrorBody}},
        }
    return {
        "summary": summary,
        "description": f"{description}\n\n{who}" if description else who,
        "responses": responses,
        "security": [{BEARER: []}] if groups else [],
        "openapi_extensions": {
            GROUPS_EXTENSION: [g.value for g in groups],
            **({CUSTOMER_EXTENSION: True} if customer else {}),
        },
    }


def current_caller(app: BaseRouter) -> Caller:
    # The REST resolver's event (routers share it): API Gateway's proxy event.
    event = cast(APIGatewayProxyEvent, app.current_event)
    authorizer = event.request_context.authorizer
    return caller_from_claims(authorizer.claims if authorizer else None)


def idempotency_key(app: BaseRouter) -> str | None:
    headers = app.current_event.headers
    return headers.get("idempotency-key") or headers.get("Idempotency-Key")


@cache
def _query_names(route: Callable[..., Any]) -> frozenset[str]:
    """Once per route: evaluating its annotations is not work for every request."""
    names = set()
    for name, hint in get_type_hints(route, include_extras=True).items():
        for meta in getattr(hint, "__metadata__", ()):
            if isinstance(meta, Query):
                names.add(meta.alias or name)
    return frozenset(names)


def refuse_unknown_query(app: BaseRouter, route: Callable[..., Any]) -> None:
    """A query parameter the route does not declare is a mistake worth a 400 (a misspelt filter
    would otherwise widen the answer silently)."""
    unknown = sorted(set(app.current_event.query_string_parameters or {}) - _query_names(route))
    if unknown:
        raise ValidationError(f"unknown query parameters: {', '.join(unknown)}")


def refuse_repeated_query(app: BaseRouter, route: Callable[..., Any], repeatable: set[str]) -> None:
    """A single-value parameter given twice is ambiguous: a 400, not the last one silently."""
    given = app.current_event.multi_value_query_string_parameters or {}
    for name in sorted(_query_names(route) - repeatable):
        if len(given.get(name) or []) > 1:
            raise ValidationError(f"{name} may be given once")


def check_access(app: APIGatewayRestResolver) -> None:
    """Raises UnauthorizedError or ForbiddenError unless the matched route lets this caller in."""
    route = app.context.get("_route")
    declared = getattr(route, "openapi_extensions", None) or {}
    allowed = declared.get(GROUPS_EXTENSION)
    if allowed:
        current_caller(app).require(*(Group(g) for g in allowed))
    if declared.get(CUSTOMER_EXTENSION):
        headers = app.current_event.headers or {}
        if any(name.lower() == "authorization" for name in headers):
            raise ForbiddenError(
                "this route is the customer's: send what you were sent alone, without an "
                "Authorization header"
            )


def require_groups(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    check_access(app)
    return next_middleware(app)
