"""Pieces of the HTTP contract that need no network: claims, bodies, error shapes."""

import json

import pytest
from pydantic import ValidationError

from functions.api.auth import Caller, Group, caller_from_claims
from functions.api.errors import domain_error_response, invalid_body_response
from functions.api.schemas import ExtendBody, SubmitRequestBody
from functions.shared.errors import (
    ConflictError,
    CustomerNotFoundError,
    ForbiddenError,
    TransientError,
    UnauthorizedError,
)


@pytest.mark.parametrize(
    "groups",
    ["agent,compliance", "[agent compliance]", ["agent", "compliance"], "agent compliance"],
)
def test_groups_in_every_shape_cognito_sends(groups):
    caller = caller_from_claims({"cognito:username": "alice", "cognito:groups": groups})
    assert caller == Caller("alice", frozenset({"agent", "compliance"}))


def test_no_claims_is_unauthorized_and_a_missing_group_forbidden():
    with pytest.raises(UnauthorizedError):
        caller_from_claims(None)
    with pytest.raises(UnauthorizedError):
        caller_from_claims({"cognito:groups": "agent"})
    with pytest.raises(ForbiddenError):
        Caller("carol", frozenset({"compliance"})).require(Group.AGENT)


def test_submit_body_is_strict():
    body = SubmitRequestBody.model_validate({"type": "CEASE_MARKETING", "identityVerified": True})
    assert body.identity_verified is True and body.cascade is False
    for bad in (
        {"type": "CEASE_MARKETING", "identityVerified": 1},
        {"type": "CEASE_MARKETING"},
        {"type": "cease", "identityVerified": True},
        {"type": "CEASE_MARKETING", "identityVerified": True, "reason": "x" * 501},
    ):
        with pytest.raises(ValidationError):
            SubmitRequestBody.model_validate(bad)


def test_validation_errors_never_echo_the_values_sent():
    secret = "jane.doe@example.com"
    with pytest.raises(ValidationError) as error:
        SubmitRequestBody.model_validate({"type": secret, "identityVerified": True})
    response = invalid_body_response(error.value, "req-1")
    assert response.status_code == 400
    assert secret not in response.body
    assert json.loads(response.body)["error"]["requestId"] == "req-1"


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (CustomerNotFoundError("C-1"), 404, "NOT_FOUND"),
        (ConflictError("already ceased"), 409, "CONFLICT"),
        (ForbiddenError("no"), 403, "FORBIDDEN"),
        (TransientError("db hiccup"), 500, "INTERNAL"),
    ],
)
def test_domain_errors_map_to_one_http_shape(error, status, code):
    response = domain_error_response(error, "req-2")
    body = json.loads(response.body)["error"]
    assert response.status_code == status
    assert body["code"] == code and body["requestId"] == "req-2"
    if status == 500:
        assert body["message"] == "an internal error occurred"


def test_extend_body_is_strict_and_never_echoes_the_reason():
    body = ExtendBody.model_validate({"reason": "  records at three brands\n(ticket 7)  "})
    assert body.reason == "records at three brands\n(ticket 7)" and body.days is None
    secret = "jane.doe@example.com called"
    for bad in (
        {},
        {"reason": ""},
        {"reason": " \n "},
        {"reason": "x" * 1001},
        {"reason": f"{secret}\x00"},
        {"reason": "ok", "days": 0},
        {"reason": "ok", "days": "5"},
        {"reason": "ok", "days": 367},
        {"reason": "ok", "until": "2027-01-01"},
    ):
        with pytest.raises(ValidationError) as error:
            ExtendBody.model_validate(bad)
        assert secret not in invalid_body_response(error.value, "r").body
