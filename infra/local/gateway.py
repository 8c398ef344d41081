"""The local HTTP gateway: turns HTTP requests into API Gateway REST proxy events for the API
function, the way API Gateway does, with claims from a development token in place of Cognito.
As deployed, the public routes (no security in their OpenAPI operation) take no token, get no
claims; every other route needs a dev token. It also serves the local stack's outbox
(GET /_local/outbox, infra/local/outbox.py), which is no route of the API, and the preference
centre's pages at /preferences/ (infra/local/pages.py; CloudFront's, deployed), on the same
origin as the API as deployed. Local stack only: never deployed."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from infra.cdk.routes import api_routes
from infra.local import pages, request_log
from infra.local.outbox import OUTBOX_PATH

DEV_TOKEN_PREFIX = "Bearer dev:"
Invoke = Callable[[dict[str, Any]], dict[str, Any]]
# The outbox's messages, optionally to one customer only (LocalStack.outbox_messages).
Outbox = Callable[[str | None], list[dict[str, Any]]]
Answer = tuple[int, dict[str, str], bytes]


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


# Served by the local API function only: Swagger UI over the OpenAPI document.
LOCAL_ONLY_PUBLIC = {("GET", "/docs")}


@cache
def _resources() -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(r.path.strip("/").split("/")) for r in api_routes())


@cache
def _public() -> frozenset[tuple[str, str]]:
    """Routes without an authorizer, as the CDK app declares them (no security in the document)."""
    return frozenset({(r.method, r.path) for r in api_routes() if r.public} | LOCAL_ONLY_PUBLIC)


def match_resource(raw_path: str) -> tuple[str, dict[str, str] | None]:
    """The API's resource a raw path falls under, and its path parameters, as API Gateway finds
    them: segments are split on the raw path (so `%2F` stays inside one segment) and each
    parameter is then URL-decoded. An unknown path keeps itself as the resource."""
    segments = raw_path.strip("/").split("/")
    for template in _resources():
        if len(template) != len(segments):
            continue
        parameters: dict[str, str] = {}
        for part, segment in zip(template, segments, strict=True):
            if part.startswith("{"):
                parameters[part.strip("{}")] = unquote(segment)
            elif part != segment:
                break
        else:
            return "/" + "/".join(template), parameters or None
    return raw_path, None


def proxy_event(
    method: str,
    target: str,
    headers: dict[str, str],
    body: str | None,
    claims: dict[str, str] | None,
) -> dict[str, Any]:
    """`claims` None: a public route, for which API Gateway runs no authorizer (the function
    gets no authorizer context; the headers, Authorization included, pass through as sent)."""
    url = urlsplit(target)
    query = parse_qs(url.query, keep_blank_values=True)
    request_id = str(uuid.uuid4())
    # A REST API hands the function the path as sent (still percent-encoded) and the path
    # parameters decoded; the API function decodes the segments it routes on the same way.
    path = url.path
    resource, parameters = match_resource(path)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": parameters,
        "stageVariables": None,
        "requestContext": {
            "requestId": request_id,
            "stage": "local",
            "httpMethod": method,
            "path": path,
            "resourcePath": resource,
            "requestTimeEpoch": int(datetime.now(UTC).timestamp() * 1000),
            "identity": {"sourceIp": "127.0.0.1"},
            # A public route has no authorizer: API Gateway passes no claims, token or not.
            "authorizer": {"claims": claims} if claims is not None else None,
        },
        "body": body,
        "isBase64Encoded": False,
    }


def _json(status: int, body: dict[str, Any]) -> Answer:
    request_id = str(uuid.uuid4())
    if "error" in body:
        body = {"error": {**body["error"], "requestId": request_id}}
    headers = {"Content-Type": "application/json", "X-Request-Id": request_id}
    return status, headers, json.dumps(body).encode()


def _error(status: int, code: str, message: str) -> Answer:
    return _json(status, {"error": {"code": code, "message": message}})


def handle(
    invoke: Invoke,
    method: str,
    target: str,
    headers: dict[str, str],
    body: str | None,
    outbox: Outbox | None = None,
) -> Answer:
    url = urlsplit(target)
    if pages.is_page_path(url.path):
        return pages.serve(method, url.path)
    resource, _ = match_resource(url.path)
    public = (method, resource) in _public()
    claims = dev_claims(headers.get("Authorization") or headers.get("authorization"))
    if public:
        claims = None
    elif claims is None:
        return _error(
            401, "UNAUTHORIZED", "send 'Authorization: Bearer dev:<username>:<group>[+<group>]'"
        )
    if outbox is not None and method == "GET" and unquote(url.path) == OUTBOX_PATH:
        customer = parse_qs(url.query).get("customerId", [None])[-1]
        return _json(200, {"messages": outbox(customer)})
    try:
        response = invoke(proxy_event(method, target, headers, body, claims))
    except Exception:
        return _error(502, "INTERNAL", "the API function failed")
    out_headers = dict(response.get("headers") or {})
    for name, values in (response.get("multiValueHeaders") or {}).items():
        out_headers[name] = ", ".join(values)
    return int(response["statusCode"]), out_headers, (response.get("body") or "").encode()


MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit


def _read_body(content_length: str | None, stream: Any) -> tuple[str | None, Answer | None]:
    """The body as text, or the answer API Gateway gives instead of calling the function."""
    try:
        length = int(content_length or 0)
    except ValueError:
        return None, _error(400, "VALIDATION_ERROR", "Content-Length is not a number")
    if length < 0:
        return None, _error(400, "VALIDATION_ERROR", "Content-Length is not a number")
    if length > MAX_BODY_BYTES:
        return None, _error(413, "PAYLOAD_TOO_LARGE", "the request body is over 10 MB")
    raw = stream.read(length) if length else b""
    try:
        return (raw.decode() if raw else None), None
    except UnicodeDecodeError:
        # A REST API without binary media types takes text only: answer, never drop the line.
        return None, _error(400, "VALIDATION_ERROR", "the request body is not UTF-8 text")


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 resets the 6th simultaneous client; API Gateway
    # accepts thousands. 128 is Linux's default somaxconn.
    request_queue_size = 128
    daemon_threads = True


class LocalGateway:
    def __init__(
        self,
        invoke: Invoke,
        port: int,
        host: str = "127.0.0.1",
        log: request_log.RequestLog | None = None,
        outbox: Outbox | None = None,
    ) -> None:
        gateway = self

        class _Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                started = time.perf_counter()
                body, refusal = _read_body(self.headers.get("Content-Length"), self.rfile)
                if refusal is not None:
                    status, headers, payload = refusal
                else:
                    status, headers, payload = handle(
                        gateway._invoke,
                        self.command,
                        self.path,
                        dict(self.headers.items()),
                        body,
                        outbox,
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
                if self.command != "HEAD":
                    self.wfile.write(payload)

            def __getattr__(self, name: str) -> Any:
                # Every method (TRACE, QUERY, ...) is answered in the API's error shape, as API
                # Gateway answers a method a resource does not declare, never socketserver's
                # HTML 501.
                if name.startswith("do_"):
                    return self._serve
                raise AttributeError(name)

            def log_message(self, format: str, *args: Any) -> None:
                # Quiet: the functions' own structured logs say what happened.
                pass

        self._invoke = invoke
        self._server = _Server((host, port), _Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def backlog(self) -> int:
        return self._server.request_queue_size

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
