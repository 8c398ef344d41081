"""The one place that maps domain errors to HTTP answers (API.md's error shape)."""

from __future__ import annotations

import json

from aws_lambda_powertools.event_handler import Response, content_types
from pydantic import ValidationError as PydanticValidationError

from functions.shared.errors import (
    ConflictError,
    DomainError,
    ForbiddenError,
    NotConfiguredError,
    NotFoundError,
    UnauthorizedError,
    ValidationError,
)

_STATUS = {
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


def invalid_body_response(exc: PydanticValidationError, request_id: str) -> Response:
    """Names the fields and what is wrong with them, never echoes the values sent."""
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
    )
    return error_response("VALIDATION_ERROR", f"invalid request body: {problems}", 400, request_id)
