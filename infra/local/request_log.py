"""One line per API request on the local stack's console: method, route template, status,
milliseconds and request id. The template, not the path, so no customer id (a person's id) is
printed; the routes are read from functions/api the way the CDK app reads them."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from infra.cdk.routes import api_routes
from infra.local.outbox import OUTBOX_PATH

UNKNOWN_ROUTE = "(no such route)"


@cache
def _templates() -> list[tuple[str, re.Pattern[str], str]]:
    compiled = []
    for route in api_routes():
        pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(route.path))
        compiled.append((route.method, re.compile(f"^{pattern}$"), route.path))
    # A literal segment wins over a parameter (/audit/verify before /audit/{x}).
    compiled.sort(key=lambda entry: entry[2].count("{"))
    return compiled


def route_template(method: str, path: str) -> str:
    if (method, path) == ("GET", OUTBOX_PATH):
        return OUTBOX_PATH  # the local gateway's own, no route of the API
    for route_method, pattern, template in _templates():
        if route_method == method and pattern.match(path):
            return template
    return UNKNOWN_ROUTE


def line(method: str, path: str, status: int, milliseconds: float, request_id: str) -> str:
    template = route_template(method, path)
    return f"api {method:<6} {template:<48} {status} {milliseconds:7.1f} ms  {request_id}"


RequestLog = Callable[[str], None]
