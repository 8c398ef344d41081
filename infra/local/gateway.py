"""The local HTTP gateway: turns HTTP requests into API Gateway REST proxy events for the API
function, the way API Gateway does, with claims from a development token in place of Cognito.
Local stack only: never deployed."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from infra.local import request_log

DEV_TOKEN_PREFIX = "Bearer dev:"
Invoke = Callable[[dict[str, Any]], dict[str, Any]]


def dev_claims(authorization: str | None) -> dict[str, str] | None:
    """'Bearer dev:<username>:<group>[+<group>]' -> Cognito-shaped claims; None if malformed."""
    if not authorization or not authorization.startswith(DEV_TOKEN_PREFIX):
        return None
    username, sep, groups = authorization.removeprefix(DEV_TOKEN_PREFIX).partition(":")
    group_list = [g for g in groups.split("+") if g]
    if not username or not sep or not group_list:
        return None
    return {
        "sub": username,
        "cognito:username": username,
        "cognito:groups": ",".join(group_list),
    }


def proxy_event(
    method: str, target: str, headers: dict[str, str], body: str | None, claims: dict[str, str]
) -> dict[str, Any]:
    url = urlsplit(target)
    query = parse_qs(url.query, keep_blank_values=True)
    request_id = str(uuid.uuid4())
    # API Gateway hands the function the decoded path (`C 1001`, not `C%201001`).
    path = unquote(url.path)
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "requestId": request_id,
            "stage": "local",
            "httpMethod": method,
            "path": path,
            "resourcePath": path,
            "requestTimeEpoch": int(datetime.now(UTC).timestamp() * 1000),
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": {"claims": claims},
        },
        "body": body,
        "isBase64Encoded": False,
    }


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    request_id = str(uuid.uuid4())
    body = {"error": {"code": code, "message": message, "requestId": request_id}}
    headers = {"Content-Type": "application/json", "X-Request-Id": request_id}
    return status, headers, json.dumps(body).encode()


def handle(
    invoke: Invoke, method: str, target: str, headers: dict[str, str], body: str | None
) -> tuple[int, dict[str, str], bytes]:
    claims = dev_claims(headers.get("Authorization") or headers.get("authorization"))
    if claims is None:
        return _error(
            401, "UNAUTHORIZED", "send 'Authorization: Bearer dev:<username>:<group>[+<group>]'"
        )
    try:
        response = invoke(proxy_event(method, target, headers, body, claims))
    except Exception:
        return _error(502, "INTERNAL", "the API function failed")
    out_headers = dict(response.get("headers") or {})
    for name, values in (response.get("multiValueHeaders") or {}).items():
        out_headers[name] = ", ".join(values)
    return int(response["statusCode"]), out_headers, (response.get("body") or "").encode()


class LocalGateway:
    def __init__(
        self,
        invoke: Invoke,
        port: int,
        host: str = "127.0.0.1",
        log: request_log.RequestLog | None = None,
    ) -> None:
        gateway = self

        class _Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                started = time.perf_counter()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else None
                status, headers, payload = handle(
                    gateway._invoke, self.command, self.path, dict(self.headers.items()), body
                )
                if log is not None:
                    elapsed = (time.perf_counter() - started) * 1000
                    path = unquote(urlsplit(self.path).path)
                    request_id = headers.get("X-Request-Id", "-")
                    log(request_log.line(self.command, path, status, elapsed, request_id))
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                # Quiet: the functions' own structured logs say what happened.
                pass

        self._invoke = invoke
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
