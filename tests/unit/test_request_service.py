"""Submitting, confirming and cancelling privacy requests, on the fakes."""

import pytest

from functions.requests.service import (
    Submission,
    cancel_request,
    confirm_request,
    describe_customer_privacy,
    describe_permissions,
    submit_request,
)
from functions.requests.workflow import CANCELLED_ERROR
from functions.shared.audit_chain import verify
from functions.shared.customers import open_request_key
from functions.shared.domain import PrivacyStatus, RequestStatus, RequestType
from functions.shared.errors import (
    ConflictError,
    CustomerNotFoundError,
    TransientError,
    ValidationError,
)
from tests.unit.conftest import AGENT, submit


def written(deps) -> tuple:
    return (dict(deps.requests.items), len(deps.trail.entries), list(deps.workflow.starts))


# Submit ----------------------------------------------------------------------------------------


def test_a_submission_is_awaiting_confirmation_and_starts_its_workflow(deps):
    request = submit(deps)
    stored = deps.requests.get(request.request_id)
    assert stored.status is RequestStatus.AWAITING_CONFIRMATION
    assert stored.identity_verified_by == AGENT.username
    assert deps.workflow.starts == [request.request_id]


def test_a_submission_is_audited_submitted_with_who_attested(deps):
    request = submit(deps)
    (entry,) = deps.trail.of("SUBMITTED", request.request_id)
    assert entry["details"]["identityVerifiedBy"] == AGENT.username
    assert entry["customerHash"] == deps.hasher.customer("C1")
    assert verify(deps.trail.entries, deps.trail.head).intact


def test_a_submission_holds_the_open_request_marker(deps):
    request = submit(deps)
    marker = deps.table.get("C1", open_request_key("CEASE_MARKETING"))
    assert marker is not None and marker.request_id == request.request_id


def test_identity_must_be_attested_and_nothing_is_written(deps):
    before = written(deps)
    with pytest.raises(ValidationError, match="identityVerified"):
        submit_request(Submission("C1", RequestType.FORGET, False), AGENT, deps)
    assert written(deps) == before


@pytest.mark.parametrize("kind", [RequestType.CEASE_MARKETING, RequestType.EXPORT])
def test_cascade_is_for_forget_only(deps, kind):
    before = written(deps)
    with pytest.raises(ValidationError, match="cascade"):
        submit(deps, kind=kind, cascade=True)
    assert written(deps) == before


def test_a_forget_may_cascade(deps):
    assert submit(deps, kind=RequestType.FORGET, cascade=True).cascade


def test_an_unknown_customer_is_not_found_and_nothing_is_written(deps):
    before = written(deps)
    with pytest.raises(CustomerNotFoundError):
        submit(deps, "NOBODY")
    assert written(deps) == before


def test_a_forgotten_customer_is_a_conflict(deps):
    work = deps.work()
    work.add(deps.customers.tombstone(deps.hasher.customer("C1"), "R0", "t"))
    work.commit()
    with pytest.raises(ConflictError, match="forgotten"):
        submit(deps, kind=RequestType.EXPORT)
    assert deps.requests.items == {}


def test_a_second_open_request_of_the_type_is_a_conflict(deps):
    submit(deps, kind=RequestType.EXPORT)
    before = written(deps)
    with pytest.raises(ConflictError, match="already open"):
        submit(deps, kind=RequestType.EXPORT)
    assert written(deps) == before


def test_an_open_request_of_another_type_does_not_block(deps):
    submit(deps, kind=RequestType.EXPORT)
    submit(deps, kind=RequestType.CEASE_MARKETING)
    assert len(deps.requests.items) == 2


def test_a_resume_for_an_active_customer_is_refused(deps):
    with pytest.raises(ConflictError, match="nothing to resume"):
        submit(deps, kind=RequestType.RESUME_MARKETING)


def test_a_workflow_that_does_not_start_leaves_the_request_failed(deps):
    deps.workflow.fail_start = TransientError("no state machine")
    with pytest.raises(TransientError):
        submit(deps)
    (request,) = deps.requests.items.values()
    assert request.status is RequestStatus.FAILED
    assert deps.trail.event_types(request.request_id) == ["SUBMITTED", "FAILED"]
    assert deps.trail.of("FAILED")[0]["details"] == {"error": "WorkflowNotStarted"}


def test_a_failed_start_frees_the_customer_for_another_request(deps):
    deps.workflow.fail_start = TransientError("no state machine")
    with pytest.raises(TransientError):
        submit(deps)
    deps.workflow.fail_start = None
    assert submit(deps).status is RequestStatus.AWAITING_CONFIRMATION


def test_the_jurisdiction_of_the_profile_sets_the_deadline(deps):
    deps.customers.add_customer("US1", jurisdiction="CCPA")
    request = submit(deps, "US1")
    assert request.jurisdiction == "CCPA"
    assert request.due_at == "2027-01-07T12:00:00Z"  # 45 days


def test_without_a_jurisdiction_the_default_applies(deps):
    request = submit(deps)
    assert request.jurisdiction == "GDPR"
    assert request.due_at == "2026-12-23T12:00:00Z"  # one month


# Confirm ---------------------------------------------------------------------------------------


def test_confirming_moves_the_request_on_and_audits_who(deps):
    request = submit(deps)
    confirmed = confirm_request(request.request_id, AGENT, deps)
    assert confirmed.status is RequestStatus.CONFIRMED
    assert confirmed.confirmed_by == AGENT.username
    (entry,) = deps.trail.of("CONFIRMED", request.request_id)
    assert entry["details"] == {"confirmedBy": AGENT.username}


def test_confirming_twice_changes_nothing_the_second_time(deps):
    request = submit(deps)
    first = confirm_request(request.request_id, AGENT, deps)
    entries = len(deps.trail.entries)
    second = confirm_request(request.request_id, AGENT, deps)
    assert second == first
    assert len(deps.trail.entries) == entries


def test_a_passed_confirmation_window_is_a_conflict(deps, frozen):
    request = submit(deps)
    frozen.advance(seconds=3600)
    with pytest.raises(ConflictError, match="window"):
        confirm_request(request.request_id, AGENT, deps)
    assert deps.requests.get(request.request_id).status is RequestStatus.AWAITING_CONFIRMATION


def test_confirming_just_inside_the_window_succeeds(deps, frozen):
    request = submit(deps)
    frozen.advance(seconds=3599)
    assert confirm_request(request.request_id, AGENT, deps).status is RequestStatus.CONFIRMED


def test_confirming_resumes_the_waiting_workflow(deps):
    request = submit(deps)
    deps.requests.keep_task_token(request.request_id, "token-1")
    confirm_request(request.request_id, AGENT, deps)
    assert deps.workflow.resumes == [("token-1", {"confirmedBy": AGENT.username})]


def test_confirming_before_the_token_arrived_resumes_nothing(deps):
    request = submit(deps)
    confirm_request(request.request_id, AGENT, deps)
    assert deps.workflow.resumes == []


def test_a_cancelled_request_cannot_be_confirmed(deps):
    request = submit(deps)
    cancel_request(request.request_id, AGENT, deps)
    with pytest.raises(ConflictError, match="CANCELLED"):
        confirm_request(request.request_id, AGENT, deps)


def test_confirming_frees_no_marker(deps):
    request = submit(deps)
    confirm_request(request.request_id, AGENT, deps)
    assert deps.table.get("C1", open_request_key("CEASE_MARKETING")) is not None


# Cancel ----------------------------------------------------------------------------------------


def test_cancelling_ends_the_request_and_frees_the_marker(deps):
    request = submit(deps)
    cancelled = cancel_request(request.request_id, AGENT, deps)
    assert cancelled.status is RequestStatus.CANCELLED
    assert deps.table.get("C1", open_request_key("CEASE_MARKETING")) is None
    (entry,) = deps.trail.of("CANCELLED", request.request_id)
    assert entry["outcome"] == "CANCELLED"


def test_cancelling_aborts_the_waiting_workflow(deps):
    request = submit(deps)
    deps.requests.keep_task_token(request.request_id, "token-1")
    cancel_request(request.request_id, AGENT, deps)
    assert [(t, e) for t, e, _ in deps.workflow.aborts] == [("token-1", CANCELLED_ERROR)]


def test_cancelling_twice_changes_nothing(deps):
    request = submit(deps)
    cancel_request(request.request_id, AGENT, deps)
    entries = len(deps.trail.entries)
    assert cancel_request(request.request_id, AGENT, deps).status is RequestStatus.CANCELLED
    assert len(deps.trail.entries) == entries


def test_a_confirmed_request_cannot_be_cancelled(deps):
    request = submit(deps)
    confirm_request(request.request_id, AGENT, deps)
    with pytest.raises(ConflictError, match="only a request awaiting"):
        cancel_request(request.request_id, AGENT, deps)


# Reads -----------------------------------------------------------------------------------------


def test_a_customers_privacy_names_the_latest_request(deps):
    submit(deps)
    view = describe_customer_privacy("C1", deps)
    assert view.privacy.privacy_status is PrivacyStatus.ACTIVE
    assert view.current_status_text == "Cease Marketing Processing - Awaiting Confirmation"
    assert len(view.privacy.open_requests) == 1


def test_marketing_for_a_topic_needs_a_granted_consent(deps):
    deps.customers.add_customer(
        "C2",
        consents=[
            {"topic": "news", "channel": "email", "granted": True, "at": "t", "source": "crm"}
        ],
    )
    assert describe_permissions("C2", "news", deps)["permissions"]["marketing"] is True
    assert describe_permissions("C2", "offers", deps)["permissions"]["marketing"] is False
