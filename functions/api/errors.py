"""The one place that maps domain errors to HTTP answers (API.md's error shape)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from pydantic import ValidationError as PydanticValidationError

from functions.api.bodies import UnsupportedMediaType
from functions.shared.errors import (
    ConflictError,
    DomainError,
    ForbiddenError,
    NotConfiguredError,
    NotFoundError,
    UnauthorizedError,
    ValidationError,
)

# The first class an error is an instance of decides: a subclass before its base.
_STATUS = {
    UnsupportedMediaType: 415,
    ValidationError: 400,
    UnauthorizedError: 401,
    ForbiddenError: 403,
    NotFoundError: 404,
    ConflictError: 409,
    NotConfiguredError: 503,
}


def error_response(code: str, message: str, status: int, request_id: str) -> Response:
    body = {"error": {"code": code, "message": message, "requestId": request_id}}
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body)
    )


def domain_error_response(exc: DomainError, request_id: str) -> Response:
    status = next((s for cls, s in _STATUS.items() if isinstance(exc, cls)), 500)
    message = str(exc) if status < 500 or status == 503 else "an internal error occurred"
    return error_response(exc.code, message, status, request_id)


def proxy_answer(exc: DomainError, request_id: str) -> dict[str, Any]:
    """The same answer as an API Gateway proxy result, for a refusal made before the resolver."""
    response = domain_error_response(exc, request_id)
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": response.body,
    }


def invalid_input_response(errors: Sequence[Any], request_id: str) -> Response:
    """Names the fields and what is wrong with them, never echoes the values sent."""
    problems = "; ".join(_problem(e) for e in errors)
    return error_response("VALIDATION_ERROR", f"invalid request: {problems}", 400, request_id)


def invalid_body_response(exc: PydanticValidationError, request_id: str) -> Response:
    return invalid_input_response(
        [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()], request_id
    )


_PLACES = {"body": "body", "query": "query parameter", "path": "path parameter", "header": "header"}


def _problem(error: Any) -> str:
    place, *field = [str(p) for p in error.get("loc", ())] or ["body"]
    where = _PLACES.get(place, place)
    name = ".".join(field)
    return (
        f"{where} {name}: {error.get('msg', 'invalid')}"
        if name
        else f"{where}: {error.get('msg', 'invalid')}"
    )
