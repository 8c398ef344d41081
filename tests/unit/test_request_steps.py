"""The request workflow's own steps on the fakes: validate, await confirmation, finish."""

import pytest

from functions.requests.service import cancel_request
from functions.requests.steps import (
    COMPLETED_DETAIL_TYPE,
    await_confirmation,
    finish_request,
    validate_request,
)
from functions.requests.workflow import CANCELLED_ERROR, CLOSED_ERROR
from functions.shared.domain import PrivacyStatus, RequestStatus, RequestType, pseudonym
from functions.shared.errors import ConflictError
from tests.unit.conftest import AGENT, confirmed, submit


def applied(deps, kind=RequestType.FORGET):
    from functions.requests.lifecycle import advance

    request = confirmed(deps, kind=kind)
    return advance(deps, request, RequestStatus.APPLIED, "workflow")


def test_validate_lets_a_valid_request_proceed(deps):
    request = submit(deps)
    answer = validate_request(request.request_id, deps)
    assert answer["proceed"] is True
    assert answer["confirmationTimeoutSeconds"] == 3600


def test_validate_rejects_a_request_overtaken_by_the_customers_status(deps):
    request = submit(deps)
    deps.customers.add_customer("C1", email="a@example.com", status=PrivacyStatus.CEASED)
    answer = validate_request(request.request_id, deps)
    assert answer["proceed"] is False and answer["status"] == "REJECTED"
    stored = deps.requests.get(request.request_id)
    assert stored.status is RequestStatus.REJECTED
    assert "ceased" in stored.rejection_reason
    assert deps.trail.of("REJECTED", request.request_id)


def test_validate_does_not_proceed_with_an_ended_request(deps):
    request = submit(deps)
    cancel_request(request.request_id, AGENT, deps)
    answer = validate_request(request.request_id, deps)
    assert answer == {**answer, "proceed": False, "status": "CANCELLED"}


def test_await_keeps_the_token_and_waits(deps):
    request = submit(deps)
    await_confirmation(request.request_id, "tok", deps)
    assert deps.requests.get(request.request_id).task_token == "tok"
    assert deps.workflow.resumes == [] and deps.workflow.aborts == []


def test_await_answers_an_early_confirmation_at_once(deps):
    request = confirmed(deps)
    await_confirmation(request.request_id, "tok", deps)
    assert deps.workflow.resumes == [("tok", {"confirmedBy": AGENT.username})]


def test_await_answers_an_early_cancellation_at_once(deps):
    request = submit(deps)
    cancel_request(request.request_id, AGENT, deps)
    await_confirmation(request.request_id, "tok", deps)
    assert [(t, e) for t, e, _ in deps.workflow.aborts] == [("tok", CANCELLED_ERROR)]


def test_await_closes_the_wait_of_a_rejected_request(deps):
    from functions.requests.lifecycle import reject

    request = submit(deps)
    reject(deps, request.request_id, "no")
    await_confirmation(request.request_id, "tok", deps)
    assert [(t, e) for t, e, _ in deps.workflow.aborts] == [("tok", CLOSED_ERROR)]


def test_finish_completes_an_applied_request_and_announces_it(deps):
    request = applied(deps, RequestType.CEASE_MARKETING)
    assert finish_request(request.request_id, RequestStatus.COMPLETED, deps, None) == {
        "requestId": request.request_id,
        "status": "COMPLETED",
    }
    (detail,) = deps.events.of(COMPLETED_DETAIL_TYPE)
    assert detail["customerId"] == "C1"
    assert deps.trail.of("COMPLETED", request.request_id)


def test_finish_of_a_forget_announces_with_the_id_then_pseudonymises(deps):
    request = applied(deps)
    finish_request(request.request_id, RequestStatus.COMPLETED, deps, None)
    (detail,) = deps.events.of(COMPLETED_DETAIL_TYPE)
    assert detail["customerId"] == "C1" and detail["status"] == "COMPLETED"
    stored = deps.requests.get(request.request_id)
    assert stored.status is RequestStatus.COMPLETED
    assert stored.customer_id == pseudonym(deps.hasher.customer("C1"))


def test_a_retried_finish_of_a_forget_announces_once(deps):
    request = applied(deps)
    finish_request(request.request_id, RequestStatus.COMPLETED, deps, None)
    finish_request(request.request_id, RequestStatus.COMPLETED, deps, None)
    assert len(deps.events.of(COMPLETED_DETAIL_TYPE)) == 1
    assert len(deps.trail.of("COMPLETED", request.request_id)) == 1


def test_a_finish_interrupted_after_the_pseudonym_completes_without_announcing_again(deps):
    request = applied(deps)
    deps.units.fail_next_commit(ConflictError("interrupted"))
    with pytest.raises(ConflictError):
        finish_request(request.request_id, RequestStatus.COMPLETED, deps, None)
    finish_request(request.request_id, RequestStatus.COMPLETED, deps, None)
    assert len(deps.events.of(COMPLETED_DETAIL_TYPE)) == 1
    assert deps.requests.get(request.request_id).status is RequestStatus.COMPLETED


def test_a_retried_finish_of_a_cease_announces_again_at_least_once(deps):
    request = applied(deps, RequestType.CEASE_MARKETING)
    finish_request(request.request_id, RequestStatus.COMPLETED, deps, None)
    finish_request(request.request_id, RequestStatus.COMPLETED, deps, None)
    assert len(deps.events.of(COMPLETED_DETAIL_TYPE)) == 2
    assert len(deps.trail.of("COMPLETED", request.request_id)) == 1


def test_a_failure_is_audited_with_the_error_name_only(deps):
    request = confirmed(deps)
    error = {"Error": "States.Timeout", "Cause": "customer C1 a@example.com"}
    finish_request(request.request_id, RequestStatus.FAILED, deps, error)
    (entry,) = deps.trail.of("FAILED", request.request_id)
    assert entry["details"] == {"error": "States.Timeout"}
    assert entry["outcome"] == "FAILED"


def test_an_expiry_of_an_ended_request_changes_nothing(deps):
    request = submit(deps)
    cancel_request(request.request_id, AGENT, deps)
    entries = len(deps.trail.entries)
    finish_request(request.request_id, RequestStatus.EXPIRED, deps, None)
    assert deps.requests.get(request.request_id).status is RequestStatus.CANCELLED
    assert len(deps.trail.entries) == entries
