"""The request body as JSON, or a 400: never a RecursionError, a decode error or an unbounded
parse. Bodies of this API are small (files travel through S3), so the limits are tight."""

from __future__ import annotations

import binascii
import json
import re
from itertools import accumulate
from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from functions.shared.errors import ValidationError

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
# The one route whose body is not JSON: RFC 8058's one-click unsubscribe, whose body a mail
# client sends form-encoded (`List-Unsubscribe=One-Click`). Its route reads the form itself.
FORM_ROUTES = frozenset({("POST", "/public/unsubscribe")})
# The DRP 1.0 routes' bodies are signed messages, base64 in text/plain (the spec's media type,
# though agents do not all send it): their routes read and bound them (functions/drp/messages.py).
RAW_ROUTES = frozenset(
    {
        ("POST", "/v1/agent/{agentId}"),
        ("POST", "/v1/data-rights-request"),
        ("DELETE", "/v1/data-rights-request/{requestId}"),
    }
)
MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 32
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_body(event: APIGatewayProxyEvent) -> Any:
    text = _text(event)
    if not text:
        raise ValidationError("the request body is not valid JSON")
    return _parse(text)


class UnsupportedMediaType(ValidationError):
    code = "UNSUPPORTED_MEDIA_TYPE"  # 415 (functions/api/errors.py)


def check_body(event: dict[str, Any]) -> ValidationError | None:
    """Why a request's body cannot be read as JSON, if it cannot; None for no body or one that
    parses within the limits. Run before the resolver, which parses bodies itself (and fails
    on some media types, e.g. multipart without a boundary, with an exception of its own)."""
    request = APIGatewayProxyEvent(event)
    if (event.get("httpMethod"), event.get("resource")) in RAW_ROUTES:
        return None
    try:
        text = _text(request)
        if text:
            media_type = (request.headers.get("content-type") or JSON).split(";")[0].strip()
            if (
                media_type.lower() == FORM
                and (event.get("httpMethod"), event.get("resource")) in FORM_ROUTES
            ):
                if len(text.encode("utf-8", "surrogatepass")) > MAX_BODY_BYTES:
                    raise ValidationError(f"the request body is over {MAX_BODY_BYTES // 1024} KiB")
                return None
            if media_type.lower() != JSON:
                raise UnsupportedMediaType("send the body as application/json")
            _parse(text)
    except ValidationError as refusal:
        return refusal
    return None


def _text(event: APIGatewayProxyEvent) -> str | None:
    try:
        return event.decoded_body
    except (UnicodeDecodeError, binascii.Error, ValueError):
        raise ValidationError("the request body is not UTF-8 text") from None


def _parse(text: str) -> Any:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BODY_BYTES:
        raise ValidationError(f"the request body is over {MAX_BODY_BYTES // 1024} KiB")
    if nesting_depth(text) > MAX_DEPTH:
        # Checked before parsing: json.loads recurses once per level and would overflow.
        raise ValidationError(f"the request body nests deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise ValidationError("the request body is not valid JSON") from None


def nesting_depth(text: str) -> int:
    """The deepest bracket nesting outside strings (an upper bound for malformed text)."""
    brackets = (_STEP[c] for c in _STRING.sub("", text) if c in _STEP)
    return max(accumulate(brackets, initial=0))
