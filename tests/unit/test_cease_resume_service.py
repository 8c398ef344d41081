"""CEASE_MARKETING and RESUME_MARKETING applied on the fakes."""

import pytest

from functions.cease.service import cease_marketing
from functions.requests.apply import ApplyOutcome
from functions.resume.service import resume_marketing
from functions.shared.domain import PrivacyStatus, RequestStatus, RequestType
from functions.shared.errors import ConflictError, ValidationError
from functions.shared.suppression_reasons import CEASED
from tests.unit.conftest import confirmed, submit


def ceased(deps):
    request = confirmed(deps)
    assert cease_marketing(request.request_id, deps) is ApplyOutcome.APPLIED
    return request


def test_cease_marks_the_customer_ceased_and_the_request_applied(deps):
    request = ceased(deps)
    assert deps.customers.privacy_status("C1") is PrivacyStatus.CEASED
    assert deps.requests.get(request.request_id).status is RequestStatus.APPLIED


def test_cease_suppresses_every_identifier_as_ceased(deps):
    ceased(deps)
    rows = list(deps.suppression.rows.values())
    assert {r.entry.identifier_kind.value for r in rows} == {"customerId", "email", "phone"}
    assert {r.entry.reason for r in rows} == {CEASED}
    assert {r.entry.subject_hash for r in rows} == {deps.hasher.customer("C1")}


def test_cease_is_audited_with_counts_not_identifiers(deps):
    request = ceased(deps)
    (entry,) = deps.trail.of("APPLIED", request.request_id)
    assert entry["details"]["suppressionEntriesAdded"] == {"customerId": 1, "email": 1, "phone": 1}
    assert entry["details"]["privacyStatusTo"] == "CEASED"
    assert "Ann@Example.com" not in str(entry)


def test_a_retry_after_applied_writes_nothing(deps):
    request = ceased(deps)
    entries, rows = len(deps.trail.entries), dict(deps.suppression.rows)
    assert cease_marketing(request.request_id, deps) is ApplyOutcome.APPLIED
    assert len(deps.trail.entries) == entries
    assert deps.suppression.rows == rows


def test_cease_of_a_request_not_confirmed_is_a_conflict(deps):
    request = submit(deps)
    with pytest.raises(ConflictError, match="not CONFIRMED"):
        cease_marketing(request.request_id, deps)


def test_cease_of_another_type_is_refused(deps):
    request = confirmed(deps, kind=RequestType.EXPORT)
    with pytest.raises(ValidationError):
        cease_marketing(request.request_id, deps)


def test_cease_rejected_when_the_customer_was_ceased_meanwhile(deps):
    request = confirmed(deps)
    deps.customers.add_customer("C1", status=PrivacyStatus.CEASED)
    assert cease_marketing(request.request_id, deps) is ApplyOutcome.REJECTED
    assert deps.requests.get(request.request_id).status is RequestStatus.REJECTED
    assert deps.suppression.rows == {}


def test_a_status_change_racing_the_cease_fails_it_whole(deps):
    request = confirmed(deps)
    real = deps.customers.privacy_status
    deps.customers.privacy_status = lambda cid: PrivacyStatus.ACTIVE  # read before the race
    deps.customers.add_customer("C1", status=PrivacyStatus.CEASED)
    with pytest.raises(ConflictError, match="status changed"):
        cease_marketing(request.request_id, deps)
    deps.customers.privacy_status = real
    assert deps.suppression.rows == {}
    assert deps.requests.get(request.request_id).status is RequestStatus.CONFIRMED


def test_resume_lifts_exactly_the_ceased_entries_of_the_subject(deps):
    ceased(deps)
    from functions.requests.service import confirm_request
    from functions.requests.steps import finish_request
    from tests.unit.conftest import AGENT

    (cease,) = deps.requests.items.values()
    finish_request(cease.request_id, RequestStatus.COMPLETED, deps, None)
    deps.customers.add_customer("C9", email="other@example.com", status=PrivacyStatus.CEASED)
    other = deps.hasher.customer("C9")
    from functions.shared.suppression import entries_for

    deps.suppression.put_all(
        entries_for(deps.customers.get_identifiers("C9"), CEASED, deps.hasher), "R9"
    )
    resume = submit(deps, kind=RequestType.RESUME_MARKETING)
    confirm_request(resume.request_id, AGENT, deps)
    assert resume_marketing(resume.request_id, deps) is ApplyOutcome.APPLIED
    assert deps.customers.privacy_status("C1") is PrivacyStatus.ACTIVE
    assert {r.entry.subject_hash for r in deps.suppression.rows.values()} == {other}
    (entry,) = deps.trail.of("APPLIED", resume.request_id)
    assert entry["details"]["suppressionEntriesRemoved"] == {
        "customerId": 1,
        "email": 1,
        "phone": 1,
    }


def test_resume_rejected_when_the_customer_is_no_longer_ceased(deps):
    deps.customers.add_customer("C1", status=PrivacyStatus.CEASED)
    request = confirmed(deps, kind=RequestType.RESUME_MARKETING)
    deps.customers.add_customer("C1", status=PrivacyStatus.ACTIVE)
    assert resume_marketing(request.request_id, deps) is ApplyOutcome.REJECTED
    assert deps.trail.of("REJECTED", request.request_id)
