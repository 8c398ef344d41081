"""GET /audit: each filter through its own index, newest first, paged; privacyctl audit."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta

import botocore.client
import pytest

from privacyctl.cli import main
from privacyctl.client import ApiError
from tests.integration.conftest import run_request


@pytest.fixture
def dynamodb_calls(monkeypatch):
    calls: list[tuple[str, dict]] = []
    real_call = botocore.client.BaseClient._make_api_call

    def record(self, operation, params):
        if self.meta.service_model.service_name == "dynamodb":
            calls.append((operation, params))
        return real_call(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", record)
    return calls


def _ids(page: dict) -> list[str]:
    return [e["entryId"] for e in page["entries"]]


def test_filters_each_use_an_index_and_never_scan(
    stack, agent, compliance, new_customer, dynamodb_calls
):
    customer_id, _ = new_customer()
    ceased = run_request(agent, customer_id, "CEASE_MARKETING")
    resumed = run_request(agent, customer_id, "RESUME_MARKETING")
    dynamodb_calls.clear()

    mine = compliance.audit({"customerId": customer_id})
    assert {e["requestId"] for e in mine["entries"]} == {ceased["requestId"], resumed["requestId"]}
    ats = [e["at"] for e in mine["entries"]]
    assert ats == sorted(ats, reverse=True) and len(ats) == 8  # newest first
    assert customer_id not in str(mine)  # the keyed hash, never the id

    by_request = compliance.audit({"requestId": ceased["requestId"]})
    assert [e["eventType"] for e in by_request["entries"]] == [
        "COMPLETED",
        "APPLIED",
        "CONFIRMED",
        "SUBMITTED",
    ]
    submitted_at = datetime.fromisoformat(by_request["entries"][-1]["at"].replace("Z", "+00:00"))
    window = {
        "from": (submitted_at - timedelta(seconds=1)).isoformat(),
        "to": by_request["entries"][0]["at"],
        "customerId": customer_id,
    }
    in_window = compliance.audit(window)
    since = {"from": window["from"], "limit": "1000"}
    by_event = compliance.audit({"type": "SUBMITTED", **since})
    submitted = {e["requestId"] for e in by_event["entries"]}
    assert {ceased["requestId"], resumed["requestId"]} <= submitted
    assert {e["eventType"] for e in by_event["entries"]} == {"SUBMITTED"}
    by_request_type = compliance.audit({"type": "RESUME_MARKETING", **since})
    assert resumed["requestId"] in {e["requestId"] for e in by_request_type["entries"]}
    assert ceased["requestId"] not in {e["requestId"] for e in by_request_type["entries"]}
    by_actor = compliance.audit({"actor": "alice", **since})
    assert {e["actor"] for e in by_actor["entries"]} == {"alice"}
    assert len([e for e in by_actor["entries"] if e["requestId"] == resumed["requestId"]]) == 2
    assert {e["requestId"] for e in in_window["entries"]} >= {ceased["requestId"]}
    later = compliance.audit({"from": datetime.now(UTC).isoformat(), "type": "SUBMITTED"})
    assert later["entries"] == []
    everything_today = compliance.audit({"from": datetime.now(UTC).date().isoformat()})
    assert everything_today["count"] > 0

    operations = [op for op, _ in dynamodb_calls]
    assert "Scan" not in operations
    indexes = {params.get("IndexName") for op, params in dynamodb_calls if op == "Query"}
    assert indexes == {
        "byCustomer",
        "byRequest",
        "byEventType",
        "byRequestType",
        "byActor",
        "byTime",
    }


def test_pages_follow_next_token_newest_first(stack, agent, compliance, new_customer):
    customer_id, _ = new_customer()
    run_request(agent, customer_id, "CEASE_MARKETING")
    run_request(agent, customer_id, "RESUME_MARKETING")
    everything = compliance.audit({"customerId": customer_id})["entries"]
    pages, token = [], None
    while True:
        page = compliance.audit(
            {"customerId": customer_id, "limit": "3", **({"nextToken": token} if token else {})}
        )
        pages.append(_ids(page))
        token = page.get("nextToken")
        if not token:
            break
    assert [len(p) for p in pages][:2] == [3, 3]
    assert [i for p in pages for i in p] == [e["entryId"] for e in everything]


def test_a_token_continues_only_the_query_it_came_from(stack, agent, compliance, new_customer):
    customer_id, _ = new_customer()
    run_request(agent, customer_id, "CEASE_MARKETING")
    token = compliance.audit({"customerId": customer_id, "limit": "1"})["nextToken"]
    body, _, mac = token.partition(".")
    forged = [
        # Another filter's index has other key attributes: DynamoDB would refuse the key.
        {"actor": "alice", "nextToken": token},
        {"requestId": "R-1", "nextToken": token},
        {"customerId": "C-other", "nextToken": token},
        {"customerId": customer_id, "nextToken": body + "." + mac[::-1]},
        {"customerId": customer_id, "nextToken": body[:-2] + "." + mac},
        {"customerId": customer_id, "nextToken": body},
        {"customerId": customer_id, "nextToken": "eyJlbnRyeUlkIjp7IkJPT0wiOnRydWV9fQ.x"},
    ]
    for params in forged:
        with pytest.raises(ApiError) as error:
            compliance.audit(params)
        assert (error.value.status, error.value.code) == (400, "VALIDATION_ERROR"), params
    # The same query (at another page size) still continues.
    assert compliance.audit({"customerId": customer_id, "limit": "5", "nextToken": token})


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "ten"},
        {"from": "yesterday"},
        {"from": "2026-11-23T10:00:00"},  # no time zone
        {"from": "2026-11-24", "to": "2026-11-23"},
        {"nextToken": "not-a-token"},
        {"nextToken": "eyJ4IjoxfQ=="},  # valid base64 and JSON, not a key
        {"customer": "C-1001"},
    ],
)
def test_bad_queries_are_400(stack, compliance, params):
    with pytest.raises(ApiError) as error:
        compliance.audit(params)
    assert error.value.status == 400 and error.value.code == "VALIDATION_ERROR"


def test_only_compliance_reads_the_trail(stack, agent):
    with pytest.raises(ApiError) as error:
        agent.audit({})
    assert error.value.status == 403


def test_forgotten_customers_entries_are_still_found_by_id(stack, agent, compliance, new_customer):
    customer_id, _ = new_customer("C-1005")
    forgotten = run_request(agent, customer_id, "FORGET")
    entries = compliance.audit({"customerId": customer_id})["entries"]
    assert forgotten["requestId"] in {e["requestId"] for e in entries}


def test_privacyctl_audit_verify_and_report(stack, agent, new_customer, capsys, tmp_path):
    customer_id, _ = new_customer()
    completed = run_request(agent, customer_id, "CEASE_MARKETING")
    cancelled = agent.submit(customer_id, {"type": "RESUME_MARKETING", "identityVerified": True})
    agent.cancel(cancelled["requestId"])
    base = ["--api", stack.api_url, "--token", "dev:carol:compliance", "audit"]

    assert main([*base, "verify"]) == 0
    assert '"intact": true' in capsys.readouterr().out

    out = tmp_path / "report.csv"
    today = datetime.now(UTC).date().isoformat()
    code = main(
        [*base, "report", "--from", today, "--to", today, "--customer", customer_id, "-o", str(out)]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    rows = list(csv.DictReader(out.open()))
    assert {r["requestId"] for r in rows} == {completed["requestId"], cancelled["requestId"]}
    assert [int(r["chainSeq"]) for r in rows] == sorted(int(r["chainSeq"]) for r in rows)
    summary = {
        (r["section"], r["measure"]): r["value"]
        for r in csv.DictReader((tmp_path / "report.summary.csv").open())
    }
    assert summary[("requests CEASE_MARKETING", "COMPLETED")] == "1"
    assert summary[("requests RESUME_MARKETING", "CANCELLED")] == "1"
    assert summary[("timing", "completed requests measured")] == "1"
    assert float(summary[("timing", "worst hours submission to completion")]) >= 0
    assert summary[("deadlines", "open past legal deadline")] == "0"
    assert "trail verified: intact" in printed
