"""Extending a legal deadline on the fakes: once, within the jurisdiction's limit, only while
the request is open and its deadline has not passed, audited once without the reason."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from functions.audit.service import DEADLINE_NEAR, check_deadlines
from functions.requests.deadlines import add_months, extended_due_at
from functions.requests.extension import DEADLINE_EXTENDED, ExtensionAsked, extend_deadline
from functions.requests.factory import SubmissionPolicy
from functions.requests.queue import queue_filter
from functions.requests.service import cancel_request, describe_request, list_requests
from functions.shared import clock
from functions.shared.caller import Caller
from functions.shared.domain import pseudonym
from functions.shared.errors import ConflictError, ValidationError
from tests.fakes import fake_stores
from tests.unit.conftest import AGENT, submit

COMPLIANCE = Caller("carol", frozenset({"compliance"}))
REASON = "complex request: records held by three brands (ticket 4411)"


def _written(deps):
    return (dict(deps.requests.items), len(deps.trail.entries))


def _extend(deps, request_id, days=None, reason=REASON):
    return extend_deadline(request_id, ExtensionAsked(reason, days), COMPLIANCE, deps)


def test_gdpr_extends_by_two_further_months_and_is_audited_once_without_the_reason(deps):
    request = submit(deps)
    extended = _extend(deps, request.request_id)
    first_due = clock.parse(request.due_at)
    assert extended.due_at == clock.iso(add_months(first_due, 2), "seconds")
    assert extended.extension is not None
    assert extended.extension.previous_due_at == request.due_at
    assert extended.extension.reason == REASON and extended.extension.extended_by == "carol"
    assert deps.requests.get(request.request_id).due_at == extended.due_at
    (entry,) = deps.trail.of(DEADLINE_EXTENDED, request.request_id)
    assert entry["details"] == {
        "previousDueAt": request.due_at,
        "dueAt": extended.due_at,
        "jurisdiction": "GDPR",
        "extendedBy": "carol",
    }
    assert REASON not in str(deps.trail.entries)


def test_ccpa_extends_once_by_at_most_45_days(deps):
    deps.customers.add_customer("US1", jurisdiction="CCPA")
    request = submit(deps, "US1")
    with pytest.raises(ValidationError, match="at most 45"):
        _extend(deps, request.request_id, days=46)
    extended = _extend(deps, request.request_id, days=45)
    assert clock.parse(extended.due_at) - clock.parse(request.due_at) == timedelta(days=45)


@pytest.mark.parametrize(("days", "allowed"), [(10, True), (62, True), (63, False)])
def test_gdpr_days_are_bounded_by_the_two_months(deps, days, allowed):
    # Submitted 23 November: due 23 December; two further months end 23 February (62 days).
    request = submit(deps)
    if allowed:
        extended = _extend(deps, request.request_id, days=days)
        assert clock.parse(extended.due_at) - clock.parse(request.due_at) == timedelta(days=days)
    else:
        before = _written(deps)
        with pytest.raises(ValidationError, match="at most 62"):
            _extend(deps, request.request_id, days=days)
        assert _written(deps) == before


def test_a_second_extension_is_a_conflict_and_writes_nothing(deps):
    request = submit(deps)
    _extend(deps, request.request_id, days=5)
    before = _written(deps)
    with pytest.raises(ConflictError, match="once"):
        _extend(deps, request.request_id, days=5)
    assert _written(deps) == before
    assert len(deps.trail.of(DEADLINE_EXTENDED, request.request_id)) == 1


def test_a_closed_request_is_a_conflict(deps):
    request = submit(deps)
    cancel_request(request.request_id, AGENT, deps)
    with pytest.raises(ConflictError, match="CANCELLED"):
        _extend(deps, request.request_id)


def test_a_deadline_that_has_passed_cannot_be_extended(deps, frozen):
    request = submit(deps)
    frozen.moment = clock.parse(request.due_at) + timedelta(seconds=1)
    with pytest.raises(ConflictError, match="passed"):
        _extend(deps, request.request_id)


def test_a_jurisdiction_without_an_extension_cannot_be_extended(frozen):
    policy = SubmissionPolicy(3600, legal_extensions={"CCPA": "P45D"})
    deps = fake_stores(policy=policy)
    deps.customers.add_customer("C1")
    request = submit(deps)
    with pytest.raises(ConflictError, match="GDPR"):
        _extend(deps, request.request_id)


def test_the_raw_rule():
    due = clock.parse("2026-01-31T10:00:00Z")
    assert extended_due_at(due, "GDPR", {"GDPR": "P2M"}, None) == clock.parse(
        "2026-03-31T10:00:00Z"
    )
    with pytest.raises(ConflictError):
        extended_due_at(due, "MARS", {"GDPR": "P2M"}, None)


def test_the_queue_the_detail_and_the_deadline_check_use_the_new_deadline(deps):
    request = submit(deps)
    old_due = clock.parse(request.due_at)
    extended = _extend(deps, request.request_id)
    assert describe_request(request.request_id, deps).request.due_at == extended.due_at
    (listed,) = list_requests(queue_filter(customer_id="C1"), 10, None, deps).requests
    assert listed.due_at == extended.due_at and listed.extension == extended.extension
    # Near the old deadline: no longer reported; near the new one: reported and audited.
    assert check_deadlines(deps, 7, now=old_due - timedelta(days=1)).near == 0
    new_due = clock.parse(extended.due_at)
    report = check_deadlines(deps, 7, now=new_due - timedelta(days=1))
    assert (report.near, report.audited) == (1, 1)
    (near,) = deps.trail.of(DEADLINE_NEAR, request.request_id)
    assert near["details"]["dueAt"] == extended.due_at
    assert not list_requests(queue_filter(overdue=True), 10, None, deps).requests


def test_a_near_deadline_audited_before_the_extension_is_audited_again_for_the_new_one(deps):
    request = submit(deps)
    old_due = clock.parse(request.due_at)
    assert check_deadlines(deps, 7, now=old_due - timedelta(days=1)).audited == 1
    extended = _extend(deps, request.request_id)
    new_due = clock.parse(extended.due_at)
    assert check_deadlines(deps, 7, now=new_due - timedelta(days=1)).audited == 1
    assert check_deadlines(deps, 7, now=new_due - timedelta(days=1)).audited == 0
    assert len(deps.trail.of(DEADLINE_NEAR, request.request_id)) == 2


def test_the_reason_is_never_logged_and_goes_with_a_forget(deps, caplog, capsys):
    request = submit(deps)
    with caplog.at_level(logging.DEBUG):
        _extend(deps, request.request_id)
    assert REASON not in caplog.text and REASON not in capsys.readouterr().out
    deps.requests.pseudonymise(request.request_id, pseudonym(deps.hasher.customer("C1")))
    stored = deps.requests.get(request.request_id)
    assert stored.extension is not None and stored.extension.reason is None
