"""Deadline checks and trail verification on the fakes."""

from datetime import timedelta

from functions.audit.service import (
    DEADLINE_NEAR,
    DEADLINE_PASSED,
    DeadlineReport,
    check_deadlines,
    verify_trail,
)
from functions.requests.service import cancel_request
from functions.shared.domain import RequestType
from tests.unit.conftest import AGENT, START, submit


def test_a_request_past_its_deadline_is_audited_once(deps, frozen):
    request = submit(deps)
    frozen.advance(days=31)
    first = check_deadlines(deps, warning_days=3)
    second = check_deadlines(deps, warning_days=3)
    assert (first.past, first.audited) == (1, 1)
    assert (second.past, second.audited) == (1, 0)
    assert len(deps.trail.of(DEADLINE_PASSED, request.request_id)) == 1


def test_a_request_near_its_deadline_is_audited_near(deps, frozen):
    request = submit(deps)
    frozen.advance(days=28)
    report = check_deadlines(deps, warning_days=3)
    assert (report.near, report.past, report.audited) == (1, 0, 1)
    (entry,) = deps.trail.of(DEADLINE_NEAR, request.request_id)
    assert entry["details"] == {"dueAt": request.due_at, "jurisdiction": "GDPR"}


def test_a_request_far_from_its_deadline_is_not_reported(deps):
    submit(deps)
    assert check_deadlines(deps, warning_days=3) == DeadlineReport(past=0, near=0, audited=0)


def test_an_ended_request_is_not_reported(deps, frozen):
    request = submit(deps)
    cancel_request(request.request_id, AGENT, deps)
    frozen.advance(days=31)
    assert check_deadlines(deps, warning_days=3).past == 0


def test_a_request_that_moved_on_after_the_read_is_not_audited(deps, frozen):
    request = submit(deps)
    frozen.advance(days=31)
    read = deps.requests.open_due_by

    def read_then_cancel(moment):
        found = read(moment)
        cancel_request(request.request_id, AGENT, deps)
        return found

    deps.requests.open_due_by = read_then_cancel
    report = check_deadlines(deps, warning_days=3)
    assert (report.past, report.audited) == (1, 0)
    assert not deps.trail.of(DEADLINE_PASSED)


def test_the_now_given_is_the_one_judged(deps):
    submit(deps)
    assert check_deadlines(deps, 3, now=START + timedelta(days=40)).past == 1


def test_the_trail_the_services_wrote_verifies_with_its_digests(deps):
    submit(deps)
    deps.digests.put(deps.trail.head)
    submit(deps, kind=RequestType.EXPORT)
    result = verify_trail(deps.audit, deps.digests)
    assert result.intact and result.checked == 2 and result.digests_checked == 1


def test_a_rewritten_entry_is_found(deps):
    submit(deps)
    deps.trail.entries[0]["actor"] = "mallory"
    assert not verify_trail(deps.audit, deps.digests).intact
