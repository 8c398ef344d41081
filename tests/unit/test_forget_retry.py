"""A FORGET that ends FAILED: pseudonymised like a completed one, and resumable (retry) from
where it stopped, on the same plan, each person erased and audited once."""

import json

import pytest

from functions.forget.keep_out import KEPT_OUT
from functions.forget.retry import RETRIED, retry_request
from functions.forget.service import FORGOTTEN_BY_CASCADE, forget_customer
from functions.requests.apply import ApplyOutcome
from functions.requests.steps import finish_request
from functions.shared.audit_chain import verify
from functions.shared.domain import PrivacyStatus, RequestStatus, RequestType, pseudonym
from functions.shared.errors import ConflictError, TransientError
from tests.fakes import fail_once
from tests.unit.conftest import AGENT, confirmed, submit

FAMILY = "household"


@pytest.fixture
def family(deps):
    deps.customers.add_customer(
        "C1",
        email="ann@example.com",
        relations=[(FAMILY, "parent", "K1"), (FAMILY, "parent", "K2")],
    )
    for kid in ("K1", "K2"):
        deps.customers.add_customer(
            kid, email=f"{kid}@example.com", relations=[(FAMILY, "child", "C1")]
        )
    return deps


def _fail(deps, request_id):
    """What the state machine does when a step fails after its retries."""
    return finish_request(request_id, RequestStatus.FAILED, deps, {"Error": "TransientError"})


def _failed_half_way(deps):
    """A cascade whose erasure failed after the first contact: K1 done, K2 and C1 not."""
    request = confirmed(deps, kind=RequestType.FORGET, cascade=True, reason="by letter")
    fail_once(deps.customers, "erase", TransientError("throttled"), after=1)
    with pytest.raises(TransientError):
        forget_customer(request.request_id, deps)
    _fail(deps, request.request_id)
    return request


def test_a_failed_forget_holds_no_clear_identifier(family):
    request = _failed_half_way(family)
    stored = family.requests.get(request.request_id)
    assert stored.status is RequestStatus.FAILED
    assert stored.customer_id == pseudonym(family.hasher.customer("C1"))
    assert stored.reason is None
    # The MACs are base64: a chance "K1" in one is no identifier.
    entries = [{k: v for k, v in e.items() if k != "entryMac"} for e in family.trail.entries]
    text = json.dumps(stored.result) + json.dumps(entries)
    for clear in ("C1", "K1", "K2", "example.com", "by letter"):
        assert clear not in text


def test_everyone_planned_stays_forgotten_after_a_failure(family):
    _failed_half_way(family)
    for customer in ("C1", "K1", "K2"):
        assert family.customers.privacy_status(customer) is PrivacyStatus.FORGOTTEN


def test_retry_finishes_every_planned_contact_once(family):
    request = _failed_half_way(family)
    retried = retry_request(request.request_id, AGENT, family)
    assert retried.status is RequestStatus.CONFIRMED
    assert family.workflow.starts[-1] == f"{request.request_id}-2"
    # Meanwhile a new relation appears: the plan is kept, nobody new is forgotten.
    family.customers.add_customer("K3", relations=[(FAMILY, "child", "C1")])
    assert forget_customer(request.request_id, family) is ApplyOutcome.APPLIED
    for customer in ("C1", "K1", "K2"):
        assert family.table.partitions.get(customer) is None, customer
    assert family.customers.privacy_status("K3") is PrivacyStatus.ACTIVE
    cascaded = family.trail.of(FORGOTTEN_BY_CASCADE, request.request_id)
    assert sorted(e["customerHash"] for e in cascaded) == sorted(
        family.hasher.customer(k) for k in ("K1", "K2")
    )
    for event in (KEPT_OUT, RETRIED, "APPLIED", "FAILED"):
        assert len(family.trail.of(event, request.request_id)) == 1, event
    assert verify(family.trail.entries, family.trail.head).intact


def test_retry_is_audited_once_per_attempt_and_a_second_failure_is_recorded(family):
    request = _failed_half_way(family)
    retry_request(request.request_id, AGENT, family)
    _fail(family, request.request_id)
    retry_request(request.request_id, AGENT, family)
    assert family.workflow.starts[-2:] == [f"{request.request_id}-2", f"{request.request_id}-3"]
    assert len(family.trail.of(RETRIED, request.request_id)) == 2
    assert len(family.trail.of("FAILED", request.request_id)) == 2
    assert forget_customer(request.request_id, family) is ApplyOutcome.APPLIED


def test_only_a_failed_request_can_be_retried(deps):
    open_request = submit(deps, kind=RequestType.FORGET)
    with pytest.raises(ConflictError, match="only a FAILED request"):
        retry_request(open_request.request_id, AGENT, deps)
    assert deps.trail.of(RETRIED) == []


def test_a_forget_that_kept_nobody_out_cannot_be_retried(deps):
    request = submit(deps, kind=RequestType.FORGET)  # failed before confirmation
    _fail(deps, request.request_id)
    assert deps.requests.get(request.request_id).customer_id.startswith("forgotten:")
    with pytest.raises(ConflictError, match="nothing to continue"):
        retry_request(request.request_id, AGENT, deps)
    # Nothing was agreed: the person stays as they were, and may ask again.
    assert deps.customers.privacy_status("C1") is PrivacyStatus.ACTIVE
    assert submit(deps, kind=RequestType.FORGET).status is RequestStatus.AWAITING_CONFIRMATION


def test_a_retried_forget_announces_the_clear_id_and_then_keeps_none(family):
    request = _failed_half_way(family)
    retry_request(request.request_id, AGENT, family)
    forget_customer(request.request_id, family)
    finish_request(request.request_id, RequestStatus.COMPLETED, family, None)
    (event,) = family.events.of("PrivacyRequestCompleted")
    assert event["customerId"] == "C1" and event["customerHash"] == family.hasher.customer("C1")
    assert family.requests.get(request.request_id).status is RequestStatus.COMPLETED
    tombstones = [h for k, h in family.table.partitions.items() if k.startswith("forgotten:")]
    assert tombstones and all(not item.data for p in tombstones for item in p.values())
