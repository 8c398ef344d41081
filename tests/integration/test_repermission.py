"""Re-permission campaigns on the local stack: a campaign with a deadline a few seconds ahead over
seeded customers; the confirmer keeps their consent, the rest get the outcome (REVOKE, FORGET)
through the normal paths; bad input; a repeated start; a forced failure and its resume."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.campaigns.repository import campaign_key
from functions.campaigns.steps import forget_request_id
from functions.shared.clock import parse
from functions.shared.models import AuditEntryItem, bind
from infra.local import dispatch
from privacyctl.client import ApiClient, ApiError
from tests.integration.conftest import (
    audit_entries,
    confirm_as_customer,
    count_items,
    customer_items,
    personal_values,
    run_request,
    sent_tokens,
    suppression_entries,
    unique_person,
    wait_for,
)
from tests.integration.test_consents import _screen

CAMPAIGNS = "/repermission-campaigns"


def _seed(stack, topic: str) -> dict[str, Any]:
    """A customer nobody shares identifiers with, holding a granted e-mail consent for `topic`."""
    record = unique_person()
    record["consents"] = [
        {
            "topic": topic,
            "channel": "email",
            "granted": True,
            "at": "2026-01-10T09:00:00Z",
            "source": "preference-centre",
        }
    ]
    stack.seed([record])
    return record


@pytest.fixture
def topic() -> str:
    # Each test's own topic: campaigns enrol everyone holding it, and the stack is shared.
    return f"rp-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def requests_for_confirmation(stack, topic) -> Iterator[Callable[[], dict[str, str]]]:
    """The ConsentConfirmationRequested messages of this topic, as customer id -> token: read
    from the local stack's outbox, which keeps the campaigns' messages like every other."""
    yield lambda: sent_tokens(stack, topic=topic)


def _in(seconds: int) -> str:
    moment = datetime.now(UTC) + timedelta(seconds=seconds)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _start(api: ApiClient, topic: str, **body: Any) -> dict[str, Any]:
    return api.call("POST", CAMPAIGNS, {"topic": topic, "channel": "email", **body})


def _campaign(api: ApiClient, campaign_id: str) -> dict[str, Any]:
    return api.call("GET", f"{CAMPAIGNS}/{campaign_id}")


def _until(
    api: ApiClient, campaign_id: str, done: Callable[[dict[str, Any]], bool], timeout: float = 40
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        campaign = _campaign(api, campaign_id)
        if done(campaign):
            return campaign
        if time.monotonic() > deadline:
            raise AssertionError(f"campaign stuck: {campaign}")
        time.sleep(0.1)


def _ended(campaign: dict[str, Any]) -> bool:
    return campaign["status"] in ("COMPLETED", "FAILED")


def _consent(stack, customer_id: str, topic: str) -> dict[str, Any]:
    return customer_items(stack, customer_id)[f"CONSENT#{topic}#email"]["data"]


def _campaign_audit(stack, campaign_id: str) -> list[str]:
    return [e.event_type for e in audit_entries(stack, campaign_id)]


def test_revoke_keeps_the_confirmer_and_opts_the_rest_out(
    stack, compliance, agent, customer, topic, requests_for_confirmation
):
    keeper, *others = [_seed(stack, topic) for _ in range(4)]
    ceased = others.pop()
    # Asking for consent to marketing is marketing: someone ceased already is not asked.
    ceased_before = _seed(stack, topic)
    assert run_request(agent, ceased_before["customerId"], "CEASE_MARKETING")["status"] == (
        "COMPLETED"
    )
    started = _start(compliance, topic, deadline=_in(8), outcome="revoke", pageSize=2)
    campaign_id = started["campaignId"]
    assert started["status"] == "RUNNING" and started["outcome"] == "REVOKE"

    waiting = _until(compliance, campaign_id, lambda c: c["phase"] != "ENROLLING")
    assert waiting["phase"] == "AWAITING_DEADLINE" and waiting["progress"]["enrolled"] == 4
    tokens = requests_for_confirmation()
    everyone = [keeper, *others, ceased]
    assert set(tokens) == {p["customerId"] for p in everyone}
    # The customer's confirmation route every double opt-in uses; the consent stays GRANTED.
    confirmed = confirm_as_customer(customer, tokens[keeper["customerId"]])
    assert confirmed["status"] == "GRANTED" and confirmed["source"] == "double-opt-in"
    with pytest.raises(ApiError) as reused:
        confirm_as_customer(customer, tokens[keeper["customerId"]])
    assert reused.value.status == 409
    (entry,) = audit_entries(stack, confirmed["changeId"])
    assert (entry.event_type, entry.actor) == ("CONSENT_CONFIRMED", "customer")
    assert _campaign(compliance, campaign_id)["progress"]["confirmed"] == 1
    assert run_request(agent, ceased["customerId"], "CEASE_MARKETING")["status"] == "COMPLETED"

    done = _until(compliance, campaign_id, _ended)
    assert done["status"] == "COMPLETED" and done["phase"] == "DONE"
    progress = done["progress"]
    assert (progress["enrolled"], progress["confirmed"], progress["kept"]) == (4, 1, 1)
    assert (progress["revoked"], progress["skippedCeased"]) == (2, 2)
    assert progress["outcomePages"] == 2

    assert _consent(stack, keeper["customerId"], topic)["status"] == "GRANTED"
    assert _screen(stack, keeper, topic) == 1
    for person in others:
        consent = _consent(stack, person["customerId"], topic)
        assert consent["status"] == "REVOKED" and consent["source"] == "repermission-campaign"
        assert consent["changedBy"] == f"campaign:{campaign_id}"
        assert _screen(stack, person, topic) == 0  # OPTED_OUT:<topic>
        assert _screen(stack, person, "newsletter") == 1  # other topics keep them
    # Skipped: the imported consent is as it was (ceased people are out of every topic anyway).
    assert _consent(stack, ceased["customerId"], topic)["granted"] is True
    assert "changedBy" not in _consent(stack, ceased["customerId"], topic)
    assert _campaign_audit(stack, campaign_id) == [
        "CAMPAIGN_STARTED",
        "CAMPAIGN_ENROLLED",
        "CAMPAIGN_DEADLINE_REACHED",
        "CAMPAIGN_COMPLETED",
    ]
    # Nothing of the outcome happens before the deadline (a date-time a few seconds ahead).
    deadline = parse(started["deadline"])
    reached = [e for e in audit_entries(stack, campaign_id) if "DEADLINE" in e.event_type]
    assert reached and all(parse(e.at) >= deadline for e in reached)
    for person in others:
        assert parse(_consent(stack, person["customerId"], topic)["at"]) >= deadline
    # Counts survive; who was enrolled does not.
    assert list(customer_items(stack, campaign_key(campaign_id)[0])) == ["CAMPAIGN"]
    sfn = stack.client("stepfunctions")
    execution = stack.campaign_state_machine_arn.replace(":stateMachine:", ":execution:")
    history = sfn.get_execution_history(executionArn=f"{execution}:{campaign_id}")["events"]
    audit = [e.to_simple_dict() for e in audit_entries(stack, campaign_id)]
    text = json.dumps([audit, history], default=str)
    assert not [v for p in everyone for v in personal_values(p) if v in text]
    assert not [t for t in tokens.values() if t in text]  # tokens go to the messaging system only


def test_forget_submits_campaign_confirmed_requests_through_the_workflow(
    stack, compliance, agent, customer, topic, requests_for_confirmation
):
    keeper, forgotten_meanwhile, *others = [_seed(stack, topic) for _ in range(4)]
    started = _start(compliance, topic, deadline=_in(8), outcome="FORGET")
    campaign_id = started["campaignId"]
    _until(compliance, campaign_id, lambda c: c["phase"] != "ENROLLING")
    token = requests_for_confirmation()[keeper["customerId"]]
    confirm_as_customer(customer, token)
    assert run_request(agent, forgotten_meanwhile["customerId"], "FORGET")["status"] == "COMPLETED"

    done = _until(compliance, campaign_id, _ended)
    assert done["status"] == "COMPLETED"
    progress = done["progress"]
    assert (progress["kept"], progress["forgetRequested"]) == (1, 2)
    assert progress["skippedForgotten"] == 1
    for person in others:
        request_id = forget_request_id(campaign_id, person["customerId"])
        request = wait_for(agent, request_id)
        assert request["status"] == "COMPLETED" and request["type"] == "FORGET"
        assert request["submittedBy"] == "carol" and request["confirmedBy"] == "carol"
        assert agent.privacy(person["customerId"])["privacyStatus"] == "FORGOTTEN"
        confirmed = [e for e in audit_entries(stack, request_id) if e.event_type == "CONFIRMED"]
        (entry,) = confirmed
        assert entry.actor == "carol"
        assert entry.details["confirmedAs"] == "CAMPAIGN"
        assert entry.details["campaignId"] == campaign_id
        assert [e.event_type for e in audit_entries(stack, request_id)][-1] == "COMPLETED"
    assert agent.privacy(keeper["customerId"])["privacyStatus"] == "ACTIVE"
    assert _consent(stack, keeper["customerId"], topic)["status"] == "GRANTED"


def test_bad_input_is_400_and_writes_nothing(stack, compliance, agent, topic):
    before = {t: count_items(stack, t) for t in ("CUSTOMERS_TABLE", "AUDIT_TABLE")}
    for body in (
        {"topic": "Not A Topic", "deadline": _in(60)},
        {"topic": topic, "deadline": "2020-01-31"},
        {"topic": topic, "deadline": "next tuesday"},
        {"topic": topic, "deadline": "2027-01-31T10:00:00"},  # no offset
        {"topic": topic, "deadline": _in(60), "outcome": "delete"},
        {"topic": topic, "deadline": _in(60), "channel": "fax"},
        {"topic": topic, "deadline": _in(60), "pageSize": 0},
        {"topic": topic, "deadline": _in(60), "unknown": 1},
    ):
        with pytest.raises(ApiError) as bad:
            compliance.call("POST", CAMPAIGNS, body)
        assert bad.value.status == 400, body
    with pytest.raises(ApiError) as agents:
        _start(agent, topic, deadline=_in(60))
    assert agents.value.status == 403
    with pytest.raises(ApiError) as unknown:
        _campaign(compliance, uuid.uuid4().hex)
    assert unknown.value.status == 404
    assert before == {t: count_items(stack, t) for t in before}


def test_starting_the_same_campaign_twice_changes_nothing_twice(stack, compliance, topic):
    body = {"deadline": _in(6), "outcome": "REVOKE"}
    headers = {"Idempotency-Key": f"k-{topic}"}
    first = compliance.call("POST", CAMPAIGNS, {"topic": topic, **body}, headers)
    second = compliance.call("POST", CAMPAIGNS, {"topic": topic, **body}, headers)
    assert first["campaignId"] == second["campaignId"]
    other = {"Idempotency-Key": "x"}
    other_key = compliance.call("POST", CAMPAIGNS, {"topic": topic, **body}, other)
    assert other_key["campaignId"] != first["campaignId"]
    for campaign_id in (first["campaignId"], other_key["campaignId"]):
        assert _until(compliance, campaign_id, _ended)["status"] == "COMPLETED"
    assert _campaign_audit(stack, first["campaignId"]).count("CAMPAIGN_STARTED") == 1
    executions = stack.client("stepfunctions").list_executions(
        stateMachineArn=stack.campaign_state_machine_arn
    )["executions"]
    assert [e["name"] for e in executions].count(first["campaignId"]) == 1


def test_a_failed_campaign_resumes_from_its_cursor_without_redoing_work(
    stack, compliance, agent, topic
):
    people = sorted((_seed(stack, topic) for _ in range(4)), key=lambda p: p["customerId"])
    failures: list[int] = []

    def fail_second_record(function_name: str, payload: Any) -> None:
        # After page 1's outcome is applied and before it is counted: the worst moment.
        recording = payload.get("action") == "record_page" and payload.get("page") == 1
        if function_name.endswith("-CampaignProgress") and recording and not failures:
            failures.append(1)
            raise RuntimeError("injected failure")

    dispatch.add_fault(fail_second_record)
    try:
        started = _start(compliance, topic, deadline=_in(5), outcome="REVOKE", pageSize=1)
        campaign_id = started["campaignId"]
        failed = _until(compliance, campaign_id, _ended)
    finally:
        dispatch.remove_fault(fail_second_record)
    assert failed["status"] == "FAILED" and failed["lastError"] == "RuntimeError"
    assert failed["progress"]["outcomePages"] == 1 and failed["progress"]["revoked"] == 1
    with pytest.raises(ApiError) as agents:
        agent.call("POST", f"{CAMPAIGNS}/{campaign_id}/resume", {})
    assert agents.value.status == 403

    resumed = compliance.call("POST", f"{CAMPAIGNS}/{campaign_id}/resume", {})
    assert resumed["status"] == "RUNNING" and resumed["executions"] == 2
    done = _until(compliance, campaign_id, _ended)
    assert done["status"] == "COMPLETED"
    assert (done["progress"]["revoked"], done["progress"]["outcomePages"]) == (4, 4)
    with pytest.raises(ApiError) as again:
        compliance.call("POST", f"{CAMPAIGNS}/{campaign_id}/resume", {})
    assert again.value.status == 409
    audit = bind(AuditEntryItem, stack.env["AUDIT_TABLE"])
    for person in people:
        history = [
            v["data"]
            for k, v in customer_items(stack, person["customerId"]).items()
            if k.startswith("CONSENTLOG#")
        ]
        assert [h["status"] for h in history] == ["REVOKED"]  # once, though page 1 ran twice
        revocations = [
            e
            for e in audit.by_request.query(history[0]["changeId"])
            if e.event_type == "CONSENT_REVOKED"
        ]
        assert len(revocations) == 1
    opted_out = [e for e in suppression_entries(stack) if e.reason == f"OPTED_OUT:{topic}"]
    assert len(opted_out) == 3 * len(people)
    assert _campaign_audit(stack, campaign_id).count("CAMPAIGN_FAILED") == 1
    assert "CAMPAIGN_RESUMED" in _campaign_audit(stack, campaign_id)


def test_privacyctl_starts_shows_and_refuses(stack, capsys, topic):
    from privacyctl.cli import main

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["--api", stack.api_url, "--token", "dev:carol:compliance", *argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, _ = run("repermission", "start", "--topic", topic, "--deadline", _in(4))
    started = json.loads(out[out.index("{\n") :])
    assert code == 0 and started["outcome"] == "REVOKE" and started["channel"] == "email"
    deadline = time.monotonic() + 30
    while True:
        code, out, _ = run("repermission", "status", started["campaignId"])
        shown = json.loads(out[out.index("{\n") :])
        if shown["status"] == "COMPLETED" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert shown["status"] == "COMPLETED" and shown["progress"]["enrolled"] == 0
    code, _, err = run("repermission", "start", "--topic", topic, "--deadline", "2020-01-01")
    assert code == 1 and "the deadline must be in the future" in err
    code, _, err = run("repermission", "resume", started["campaignId"])
    assert code == 1 and "only a FAILED campaign can be resumed" in err
