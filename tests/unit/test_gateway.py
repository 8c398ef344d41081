"""The local gateway's translation of HTTP into API Gateway proxy events."""

import json

from functions.shared.messages import MESSAGE_DETAIL_TYPES
from infra.cdk.routes import public_routes
from infra.local.gateway import dev_claims, handle, proxy_event
from infra.local.outbox import ACTIONS, OUTBOX_PATH


def test_dev_token_becomes_cognito_claims():
    assert dev_claims("Bearer dev:alice:agent+compliance") == {
        "sub": "alice",
        "cognito:username": "alice",
        "cognito:groups": "agent,compliance",
    }
    for bad in (None, "", "Bearer xyz", "Bearer dev:alice", "Bearer dev::agent", "dev:a:agent"):
        assert dev_claims(bad) is None


def test_proxy_event_has_the_rest_api_shape():
    event = proxy_event(
        "GET",
        "/customers/C-1/processing-permissions?topic=offers",
        {"X-A": "1"},
        None,
        {"sub": "a"},
    )
    assert event["httpMethod"] == "GET"
    assert event["path"] == "/customers/C-1/processing-permissions"
    assert event["queryStringParameters"] == {"topic": "offers"}
    assert event["requestContext"]["authorizer"]["claims"] == {"sub": "a"}
    assert event["requestContext"]["requestId"]


def test_no_token_never_reaches_the_function():
    calls = []
    status, headers, body = handle(calls.append, "GET", "/customers/C-1/privacy", {}, None)
    assert status == 401 and calls == []
    assert json.loads(body)["error"]["code"] == "UNAUTHORIZED"
    assert headers["X-Request-Id"]


def test_function_answer_is_passed_through():
    def invoke(event):
        return {"statusCode": 202, "headers": {"X-Request-Id": "r"}, "body": '{"ok": true}'}

    status, headers, body = handle(
        invoke, "POST", "/x", {"Authorization": "Bearer dev:a:agent"}, "{}"
    )
    assert (status, headers["X-Request-Id"], json.loads(body)) == (202, "r", {"ok": True})


def test_path_parameters_are_decoded_from_the_raw_segments():
    event = proxy_event("GET", "/customers/C%2F1%201/privacy?x=1", {}, None, {"sub": "a"})
    # The path as sent, the parameters decoded, the resource the route's template.
    assert event["path"] == "/customers/C%2F1%201/privacy"
    assert event["pathParameters"] == {"customerId": "C/1 1"}
    assert event["resource"] == "/customers/{customerId}/privacy"
    unknown = proxy_event("GET", "/nowhere/x", {}, None, {"sub": "a"})
    assert (unknown["resource"], unknown["pathParameters"]) == ("/nowhere/x", None)


def test_bodies_the_function_never_sees():
    import io

    from infra.local.gateway import MAX_BODY_BYTES, _read_body

    assert _read_body("2", io.BytesIO(b"{}")) == ("{}", None)
    assert _read_body(None, io.BytesIO(b"")) == (None, None)
    for length, raw, status in (
        ("3", b"\xff\xfe\xfd", 400),
        ("three", b"", 400),
        ("-1", b"", 400),
        (str(MAX_BODY_BYTES + 1), b"", 413),
    ):
        body, refusal = _read_body(length, io.BytesIO(raw))
        assert body is None and refusal is not None and refusal[0] == status
        assert json.loads(refusal[2])["error"]["requestId"]


def test_public_routes_need_no_token_and_carry_no_claims():
    seen = []

    def invoke(event):
        seen.append(event)
        return {"statusCode": 200, "headers": {}, "body": "{}"}

    for headers in ({}, {"Authorization": "Bearer dev:alice:agent"}):
        status, _, _ = handle(invoke, "GET", "/openapi.json", headers, None)
        assert status == 200
    assert [e["requestContext"]["authorizer"] for e in seen] == [None, None]
    # Every other route still needs one.
    status, _, _ = handle(invoke, "POST", "/openapi.json", {}, None)
    assert status == 401 and len(seen) == 2


def test_the_public_route_needs_no_token_and_gets_no_claims():
    events = []

    def invoke(event):
        events.append(event)
        return {"statusCode": 200, "headers": {}, "body": "{}"}

    status, _, _ = handle(invoke, "POST", "/public/consents/confirm", {}, '{"token": "t"}')
    assert status == 200
    # As API Gateway with no authorizer: no authorizer context, even when a token is sent
    # (the headers pass through as sent, for the route itself to refuse a staff session).
    headers = {"Authorization": "Bearer dev:alice:agent"}
    handle(invoke, "POST", "/public/consents/confirm", headers, "{}")
    assert [e["requestContext"]["authorizer"] for e in events] == [None, None]
    assert events[1]["headers"] == headers


def test_every_other_route_still_needs_a_dev_token():
    calls = []
    for method, path in [
        ("PUT", "/customers/C-1/consents/newsletter"),
        ("GET", "/public/consents/confirm"),  # the public path, another method
        ("POST", "/public/consents/confirm/x"),
        ("POST", "/consents/confirm"),  # the old agent route: gone, and never public
        ("POST", "/public/anything"),
        ("GET", OUTBOX_PATH),
    ]:
        status, _, _ = handle(calls.append, method, path, {}, None, outbox=lambda c: [])
        assert status == 401, (method, path)
    assert calls == []


def test_the_outbox_is_served_by_the_gateway_with_a_dev_token():
    asked = []

    def outbox(customer_id):
        asked.append(customer_id)
        return [{"type": "ConsentConfirmationRequested"}]

    headers = {"Authorization": "Bearer dev:dev:agent"}
    status, _, body = handle(
        None, "GET", f"{OUTBOX_PATH}?customerId=C-1", headers, None, outbox=outbox
    )
    assert status == 200 and json.loads(body)["messages"][0]["type"]
    assert asked == ["C-1"]


def test_each_outbox_action_is_a_public_route():
    public = {(r.method, r.path) for r in public_routes()}
    assert {(method, path) for method, path, _ in ACTIONS.values()} <= public
    assert set(ACTIONS) <= set(MESSAGE_DETAIL_TYPES)


def test_each_outbox_message_links_to_its_page_with_the_token_in_the_fragment():
    from infra.local.outbox import LINKS, _message

    assert set(ACTIONS) <= set(LINKS)
    cases = {
        "PreferenceLinkRequested": "/preferences/#token=",
        "ConsentConfirmationRequested": "/preferences/confirm.html#token=",
        "SignUpConfirmationRequested": "/preferences/confirm.html#signup=",
    }
    for kind, page in cases.items():
        event = {"detail-type": kind, "detail": {"token": "v1.abc-_.mac", "customerId": "C-1"}}
        message = _message(event, "http://127.0.0.1:9")
        assert message["link"] == f"http://127.0.0.1:9{page}v1.abc-_.mac", kind
