"""Every request has a legal deadline (dueAt); the daily check reports and audits the late ones."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from functions.audit.handler import deadline_check
from functions.audit.service import check_deadlines
from tests.integration.conftest import audit_entries, demo_record, wait_for


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _customer(stack, jurisdiction: str | None = None) -> str:
    record = demo_record("C-1002")
    record["customerId"] = f"T-dl-{datetime.now(UTC).timestamp():.6f}".replace(".", "")
    if jurisdiction:
        record["profile"]["jurisdiction"] = jurisdiction
    stack.seed([record])
    return record["customerId"]


def test_due_dates_follow_the_customers_jurisdiction(stack, agent):
    gdpr = agent.submit(_customer(stack), {"type": "CEASE_MARKETING", "identityVerified": True})
    ccpa = agent.submit(
        _customer(stack, "CCPA"), {"type": "CEASE_MARKETING", "identityVerified": True}
    )
    shown_gdpr, shown_ccpa = agent.request(gdpr["requestId"]), agent.request(ccpa["requestId"])

    created = _at(shown_gdpr["createdAt"])
    due = _at(shown_gdpr["dueAt"])
    assert shown_gdpr["jurisdiction"] == "GDPR"
    assert (due.year * 12 + due.month) - (created.year * 12 + created.month) == 1
    assert due.day == created.day or due.day >= 28  # the same day, or the month's last
    assert shown_ccpa["jurisdiction"] == "CCPA"
    ccpa_due = _at(shown_ccpa["dueAt"]) - _at(shown_ccpa["createdAt"])
    assert timedelta(days=44, hours=23) < ccpa_due <= timedelta(days=45)
    submitted = audit_entries(stack, gdpr["requestId"])[0].details.as_dict()
    assert submitted["dueAt"] == shown_gdpr["dueAt"]
    for request in (gdpr, ccpa):
        agent.cancel(request["requestId"])


def test_the_daily_check_audits_near_and_past_deadlines_once(stack, agent):
    request = agent.submit(_customer(stack), {"type": "CEASE_MARKETING", "identityVerified": True})
    request_id = request["requestId"]
    due = _at(agent.request(request_id)["dueAt"])
    deps = deadline_check.dependencies()

    near = check_deadlines(deps, warning_days=7, now=due - timedelta(days=3))
    again = check_deadlines(deps, warning_days=7, now=due - timedelta(days=2))
    past = check_deadlines(deps, warning_days=7, now=due + timedelta(days=1))

    assert near.near >= 1 and near.audited >= 1
    assert again.audited == 0  # a second run adds nothing
    assert past.past >= 1 and past.audited >= 1
    entries = audit_entries(stack, request_id)
    assert [e.event_type for e in entries] == ["SUBMITTED", "DEADLINE_NEAR", "DEADLINE_PASSED"]
    assert entries[-1].actor == "deadline-check"
    assert entries[-1].details.as_dict()["dueAt"] == agent.request(request_id)["dueAt"]

    agent.cancel(request_id)
    wait_for(agent, request_id)
    horizon = (due + timedelta(days=60)).isoformat()
    assert request_id not in {r.request_id for r in deps.requests.open_due_by(horizon)}
    check_deadlines(deps, warning_days=7, now=due + timedelta(days=2))
    assert len(audit_entries(stack, request_id)) == len(entries) + 1  # only CANCELLED


def test_the_scheduled_function_runs_on_the_stack(stack):
    response = stack.client("lambda").invoke(
        FunctionName=stack.function_arns["DeadlineCheck"], Payload=b"{}"
    )
    answer = json.loads(response["Payload"].read())
    assert "FunctionError" not in response
    assert set(answer) == {"pastDeadline", "nearDeadline", "audited"}
