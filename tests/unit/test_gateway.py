"""The local gateway's translation of HTTP into API Gateway proxy events."""

import json

from infra.local.gateway import dev_claims, handle, proxy_event


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
