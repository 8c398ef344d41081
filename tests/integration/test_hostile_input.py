"""Input a hostile or careless caller sends: never a 500, never a traceback in the log, nothing
written; identical submissions that race answer one request; the local gateway answers crowds,
undecodable bodies and encoded path parameters the way API Gateway does."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

from functions.api.bodies import MAX_BODY_BYTES, MAX_DEPTH
from tests.integration.conftest import count_items

WRITTEN = ("REQUESTS_TABLE", "AUDIT_TABLE", "SUPPRESSION_TABLE", "IDEMPOTENCY_TABLE")
AGENT = "Bearer dev:alice:agent"


@pytest.fixture
def nothing_written(stack):
    before = {name: count_items(stack, name) for name in WRITTEN}
    yield
    assert {name: count_items(stack, name) for name in WRITTEN} == before


def _send(
    stack, method: str, path: str, body: bytes | None, token: str = AGENT
) -> tuple[int, dict]:
    url = urlsplit(stack.api_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    headers = {"Authorization": token, "Content-Type": "application/json"}
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    answer = response.status, json.loads(response.read() or b"{}")
    connection.close()
    return answer


def _nested(depth: int) -> bytes:
    return (b'{"a":' * depth) + b"1" + (b"}" * depth)


@pytest.mark.parametrize(
    ("label", "body"),
    [
        ("5000 levels of objects", _nested(5000)),
        ("5000 levels of arrays", b"[" * 5000 + b"]" * 5000),
        ("unbalanced nesting", b'{"a":' * 5000),
        ("one level too deep", _nested(MAX_DEPTH + 1)),
        ("over the size limit", json.dumps({"reason": "x" * MAX_BODY_BYTES}).encode()),
        ("not UTF-8", b'{"type": "CEASE_MARKETING", "reason": "\xff\xfe"}'),
        ("not JSON", b"{type: CEASE"),
        ("empty", b""),
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/customers/{customer}/privacy-requests"),
        ("POST", "/audiences/filter"),
        ("PUT", "/customers/{customer}/consents/newsletter"),
    ],
)
def test_hostile_bodies_are_400_with_no_traceback_and_nothing_written(
    stack, new_customer, nothing_written, captured_logs, label, body, method, path
):
    customer_id, _ = new_customer()
    status, answer = _send(stack, method, path.format(customer=customer_id), body)
    assert status == 400, (label, answer)
    assert answer["error"]["code"] == "VALIDATION_ERROR" and answer["error"]["requestId"]
    logged = captured_logs.getvalue()
    assert "Traceback" not in logged and "RecursionError" not in logged


def test_nesting_within_the_limit_is_read_as_json(stack, new_customer, nothing_written):
    customer_id, _ = new_customer()
    body = json.dumps({"type": "CEASE_MARKETING", "identityVerified": True, "x": [[[[1]]]]})
    status, answer = _send(stack, "POST", f"/customers/{customer_id}/privacy-requests", body)
    # Parsed, then refused by the body's schema: the field is unknown, not the JSON unreadable.
    assert status == 400 and "x: Extra inputs" in answer["error"]["message"]


def test_fifty_identical_submissions_at_once_answer_one_request(stack, agent, new_customer):
    customer_id, _ = new_customer()
    body = {"type": "CEASE_MARKETING", "identityVerified": True}
    start = threading.Barrier(50)

    def submit(_: int) -> tuple[int, str]:
        start.wait()
        path = f"/customers/{customer_id}/privacy-requests"
        status, answer = _send(stack, "POST", path, json.dumps(body).encode())
        return status, answer.get("requestId", answer)

    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(submit, range(50)))

    assert {status for status, _ in answers} == {202}
    assert len({request_id for _, request_id in answers}) == 1
    status = agent.privacy(customer_id)["currentDataPrivacyStatus"]
    assert status == "Cease Marketing Processing - Awaiting Confirmation"


def test_sixty_four_simultaneous_clients_all_get_answers(stack):
    url = urlsplit(stack.api_url)
    # The kernel queues at most the listen backlog of connections not yet accepted; socketserver's
    # default of 5 resets the rest where the kernel aborts on overflow.
    assert stack._gateway is not None and stack._gateway.backlog >= 128
    start = threading.Barrier(64)

    def call(_: int) -> int:
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
        start.wait()
        connection.request("GET", "/privacy-requests/R-nobody", headers={"Authorization": AGENT})
        status = connection.getresponse().status
        connection.close()
        return status

    with ThreadPoolExecutor(64) as pool:
        statuses = list(pool.map(call, range(64)))
    assert statuses == [404] * 64


def test_an_undecodable_body_gets_an_answer_not_a_dropped_line(stack):
    url = urlsplit(stack.api_url)
    with socket.create_connection((url.hostname, url.port), timeout=30) as raw:
        body = b"\xff\xfe\xfd"
        raw.sendall(
            b"POST /audiences/filter HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: "
            + AGENT.encode()
            + b"\r\nContent-Length: 3\r\n\r\n"
            + body
        )
        reply = b""
        # Until the server closes the connection: the body may arrive after the head.
        while chunk := raw.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.0 400") or reply.startswith(b"HTTP/1.1 400")
    assert b'"VALIDATION_ERROR"' in reply


def test_path_parameters_are_url_decoded_like_api_gateway(stack, agent, new_customer):
    customer_id, _ = new_customer()
    spaced = customer_id.replace("-", "%2D")
    assert agent.call("GET", f"/customers/{spaced}/privacy")["customerId"] == customer_id
    # An encoded slash stays inside its segment: the route matches and the id is `a/b`.
    status, answer = _send(stack, "GET", "/customers/a%2Fb/privacy", None)
    assert status == 404 and answer["error"]["message"] != "no such route"
