"""API Gateway handler: the routers of each resource, one resolver that validates every input
against the routes' models, and the one mapping of errors to API.md's error shape. The OpenAPI
document (`GET /openapi.json`, docs/openapi.json) is generated from the same routes."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError as PydanticValidationError

from functions.api import docs_ui
from functions.api.bodies import UnsupportedMediaType, check_body
from functions.api.errors import (
    domain_error_response,
    error_response,
    invalid_body_response,
    invalid_input_response,
    proxy_answer,
)
from functions.api.openapi import document_text
from functions.api.operations import check_access, operation, require_groups
from functions.api.resolver import RestResolver
from functions.api.routes import (
    agents,
    audiences,
    audit,
    campaigns,
    consents,
    customers,
    drp,
    public,
    requests,
)
from functions.shared.errors import DomainError
from functions.shared.observability import logger, metrics

app = RestResolver(enable_validation=True)
app.use([require_groups])
# `public`: the customer's double opt-in confirmation, no staff token (routes/public.py).
# `agents`, `drp`: authorized agents (DRP 1.0); the /v1 routes check their own DRP credential.
for module in (requests, customers, consents, audit, campaigns, audiences, public, agents, drp):
    app.include_router(module.router)


@app.get("/docs", include_in_schema=False)
def docs() -> Response[Any]:
    if not docs_ui.enabled():
        return error_response("NOT_FOUND", "no such route", 404, _request_id())
    return docs_ui.docs_page(app)


@app.get("/openapi.json", **operation(summary="This API's OpenAPI 3.1 document"))
def openapi_document() -> Response[Any]:
    return Response(200, content_types.APPLICATION_JSON, document_text(app))


def _request_id() -> str:
    return str(app.current_event.request_context.request_id or "")


@app.exception_handler(DomainError)
def _domain_error(exc: DomainError) -> Response[Any]:
    if exc.code == "INTERNAL":
        logger.exception("internal error")
    return domain_error_response(exc, _request_id())


def _access_refused() -> Response[Any] | None:
    # Validation runs before the route's own middleware: who may call it is still answered first,
    # as API Gateway's authorizer would, so a caller learns nothing of a route they may not use.
    try:
        check_access(app)
    except DomainError as refused:
        return domain_error_response(refused, _request_id())
    return None


@app.exception_handler(RequestValidationError)
def _invalid_input(exc: RequestValidationError) -> Response[Any]:
    return _access_refused() or invalid_input_response(exc.errors(), _request_id())


@app.exception_handler(RequestUnsupportedContentType)
def _not_json(exc: RequestUnsupportedContentType) -> Response[Any]:
    refusal = UnsupportedMediaType("send the body as application/json")
    return _access_refused() or domain_error_response(refusal, _request_id())


@app.exception_handler(PydanticValidationError)
def _invalid_body(exc: PydanticValidationError) -> Response[Any]:
    return invalid_body_response(exc, _request_id())


@app.exception_handler(IdempotencyValidationError)
def _idempotency_key_reused(exc: IdempotencyValidationError) -> Response[Any]:
    message = "this Idempotency-Key was already used for a different request body"
    return error_response("CONFLICT", message, 409, _request_id())


@app.exception_handler(IdempotencyAlreadyInProgressError)
def _in_progress(exc: IdempotencyAlreadyInProgressError) -> Response[Any]:
    message = "the same request is still being processed; retry shortly"
    return error_response("CONFLICT", message, 409, _request_id())


@app.not_found
def _not_found(exc: Exception) -> Response[Any]:
    return error_response("NOT_FOUND", "no such route", 404, _request_id())


@app.exception_handler(Exception)
def _unexpected(exc: Exception) -> Response[Any]:
    logger.exception("unexpected error")
    return error_response("INTERNAL", "an internal error occurred", 500, _request_id())


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request_id = event.get("requestContext", {}).get("requestId", "")
    refusal = check_body(event)
    # Refused before the resolver parses it: json.loads recurses once per nesting level.
    response = proxy_answer(refusal, request_id) if refusal else app.resolve(event, context)
    response.setdefault("headers", {})["X-Request-Id"] = request_id
    multi = response.get("multiValueHeaders")
    if isinstance(multi, dict):
        multi["X-Request-Id"] = [request_id]
    return response
