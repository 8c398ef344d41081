"""Bad input and wrong callers get API.md's error shape and write nothing."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from privacyctl.client import ApiClient, ApiError
from tests.integration.conftest import count_items

WRITTEN = ("REQUESTS_TABLE", "AUDIT_TABLE", "SUPPRESSION_TABLE", "IDEMPOTENCY_TABLE")


def _raw(stack, method, path, body: bytes | None, token: str | None = "dev:alice:agent"):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        stack.api_url + path, data=body, method=method, headers=headers
    )
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())


@pytest.fixture
def nothing_written(stack):
    before = {name: count_items(stack, name) for name in WRITTEN}
    yield
    assert {name: count_items(stack, name) for name in WRITTEN} == before


@pytest.mark.parametrize(
    ("body", "status", "code", "fragment"),
    [
        ({"type": "CEASE_MARKETING"}, 400, "VALIDATION_ERROR", "identityVerified"),
        (
            {"type": "CEASE_MARKETING", "identityVerified": False},
            400,
            "VALIDATION_ERROR",
            "identityVerified must be true",
        ),
        (
            {"type": "CEASE_MARKETING", "identityVerified": "yes"},
            400,
            "VALIDATION_ERROR",
            "identityVerified",
        ),
        ({"type": "DELETE_EVERYTHING", "identityVerified": True}, 400, "VALIDATION_ERROR", "type"),
        (
            {"type": "CEASE_MARKETING", "identityVerified": True, "cascade": True},
            400,
            "VALIDATION_ERROR",
            "cascade",
        ),
        (
            {"type": "CEASE_MARKETING", "identityVerified": True, "surprise": 1},
            400,
            "VALIDATION_ERROR",
            "surprise",
        ),
        (["not", "an", "object"], 400, "VALIDATION_ERROR", "body"),
    ],
)
def test_invalid_submissions_are_rejected_before_anything_is_written(
    stack, agent, new_customer, nothing_written, body, status, code, fragment
):
    customer_id, _ = new_customer()
    with pytest.raises(ApiError) as error:
        agent.submit(customer_id, body)
    assert (error.value.status, error.value.code) == (status, code)
    assert fragment in error.value.message


def test_malformed_json(stack, new_customer, nothing_written):
    customer_id, _ = new_customer()
    status, headers, body = _raw(
        stack, "POST", f"/customers/{customer_id}/privacy-requests", b"{not json"
    )
    assert status == 400
    assert body["error"]["code"] == "VALIDATION_ERROR"
    assert body["error"]["requestId"] == headers["X-Request-Id"]


def test_unknown_customer_is_404(stack, agent, nothing_written):
    with pytest.raises(ApiError) as error:
        agent.submit("C-does-not-exist", {"type": "CEASE_MARKETING", "identityVerified": True})
    assert (error.value.status, error.value.code) == (404, "NOT_FOUND")
    with pytest.raises(ApiError) as privacy:
        agent.privacy("C-does-not-exist")
    assert privacy.value.status == 404


def test_unknown_request_is_404(agent):
    for call in (agent.request, agent.confirm, agent.cancel):
        with pytest.raises(ApiError) as error:
            call("0" * 32)
        assert error.value.status == 404


@pytest.mark.parametrize(
    ("token", "status"),
    [
        (None, 401),
        ("not-a-dev-token", 401),
        ("dev:alice", 401),
        ("dev:carol:compliance", 403),
        ("dev:job:export-job", 403),
        ("dev:mallory:hacker", 403),
    ],
)
def test_callers_without_the_agent_group_cannot_submit(
    stack, new_customer, nothing_written, token, status
):
    customer_id, _ = new_customer()
    body = json.dumps({"type": "CEASE_MARKETING", "identityVerified": True}).encode()
    answer, _, error = _raw(
        stack, "POST", f"/customers/{customer_id}/privacy-requests", body, token
    )
    assert answer == status
    assert set(error["error"]) == {"code", "message", "requestId"}


def test_read_routes_by_group(stack, new_customer):
    customer_id, _ = new_customer()
    compliance = ApiClient(stack.api_url, "dev:carol:compliance")
    export_job = ApiClient(stack.api_url, "dev:job:export-job")
    assert compliance.privacy(customer_id)["privacyStatus"] == "ACTIVE"
    assert export_job.permissions(customer_id)["permissions"]["marketing"] is True
    with pytest.raises(ApiError) as error:
        export_job.privacy(customer_id)
    assert error.value.status == 403


def test_state_conflicts_are_409_and_say_why(stack, agent, new_customer, nothing_written):
    customer_id, _ = new_customer()
    with pytest.raises(ApiError) as error:
        agent.submit(customer_id, {"type": "RESUME_MARKETING", "identityVerified": True})
    assert error.value.status == 409
    assert "not ceased" in error.value.message


def test_permissions_for_a_topic_follow_consent(stack, agent, new_customer):
    customer_id, _ = new_customer("C-1003")  # newsletter declined, offers granted
    declined = agent.call(
        "GET", f"/customers/{customer_id}/processing-permissions?topic=newsletter"
    )
    granted = agent.call("GET", f"/customers/{customer_id}/processing-permissions?topic=offers")
    assert declined["permissions"]["marketing"] is False
    assert declined["permissions"]["loyalty"] is True
    assert granted["permissions"]["marketing"] is True
