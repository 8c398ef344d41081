"""GET /privacy-requests and POST /privacy-requests/{id}/extend on the local stack (moto): each
filter answers exactly its requests from a Query of one index (never a Scan), pages hold every
request once, tokens that are not ours are 400, and the extension is compliance's, once."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.client
import pytest

from privacyctl.client import ApiClient, ApiError
from tests.integration.conftest import audit_entries, count_items, demo_record, wait_for

WRITTEN = ("REQUESTS_TABLE", "AUDIT_TABLE")


def _query(api: ApiClient, **params: Any) -> dict[str, Any]:
    query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None}, doseq=True)
    return api.call("GET", f"/privacy-requests?{query}")


def _all(api: ApiClient, **params: Any) -> tuple[list[str], int]:
    ids: list[str] = []
    pages, token = 0, None
    while True:
        page = _query(api, **params, nextToken=token)
        pages += 1
        ids += [r["requestId"] for r in page["requests"]]
        token = page.get("nextToken")
        if not token:
            return ids, pages


@contextmanager
def dynamodb_operations() -> Iterator[list[tuple[str, str | None]]]:
    """Every DynamoDB operation this process sends meanwhile (the API handler runs in it), with
    the index a Query names."""
    seen: list[tuple[str, str | None]] = []
    real = botocore.client.BaseClient._make_api_call

    def spy(self: Any, operation: str, params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            seen.append((operation, params.get("IndexName")))
        return real(self, operation, params)

    botocore.client.BaseClient._make_api_call = spy  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        botocore.client.BaseClient._make_api_call = real  # type: ignore[method-assign]


def _person(tag: str, n: int, jurisdiction: str | None = None) -> dict[str, Any]:
    record = demo_record("C-1002")
    record["customerId"] = f"T-q{tag}{n}"
    record["profile"]["email"] = f"q{tag}{n}@example.com"
    record["profile"]["phone"] = f"+44 20 7946 {int(tag[:4], 16) % 10000:04d}"
    if jurisdiction:
        record["profile"]["jurisdiction"] = jurisdiction
    return record


# (customer, type, agent, what happens to it): three customers (the third CCPA), two agents.
PLAN = [
    (0, "CEASE_MARKETING", "a", "complete"),
    (0, "EXPORT", "b", "await"),
    (0, "FORGET", "a", "cancel"),
    (1, "CEASE_MARKETING", "b", "await"),
    (1, "EXPORT", "a", "cancel"),
    (1, "FORGET", "b", "await"),
    (2, "CEASE_MARKETING", "a", "complete"),
    (2, "EXPORT", "b", "await"),
    (2, "FORGET", "a", "cancel"),
]


@pytest.fixture(scope="module")
def seeded(stack) -> Iterator[dict[str, Any]]:
    """Nine requests through the API, after a moment no other test of this worker's stack
    shares (`from` isolates them): awaiting, cancelled or completed."""
    tag = uuid.uuid4().hex[:8]
    start = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    stack.seed([_person(tag, n, "CCPA" if n == 2 else None) for n in range(3)])
    agents = {k: ApiClient(stack.api_url, f"dev:q{tag}{k}:agent") for k in "ab"}
    ids = []
    for n, kind, who, fate in PLAN:
        api = agents[who]
        request_id = api.submit(f"T-q{tag}{n}", {"type": kind, "identityVerified": True})[
            "requestId"
        ]
        if fate == "complete":
            api.confirm(request_id)
            wait_for(api, request_id)
        elif fate == "cancel":
            api.cancel(request_id)
        ids.append(request_id)
        time.sleep(0.002)  # distinct creation times, as real traffic has
    shown = {i: agents["a"].request(i) for i in ids}
    yield {
        "tag": tag,
        "start": start,
        "requests": shown,
        "agents": {k: f"q{tag}{k}" for k in "ab"},
        "customers": [f"T-q{tag}{n}" for n in range(3)],
        "api": agents["a"],
    }
    for request_id, request in shown.items():
        if request["status"] == "AWAITING_CONFIRMATION":
            agents["a"].cancel(request_id)


def _expected(seeded: dict[str, Any], keep) -> list[str]:
    chosen = [r for r in seeded["requests"].values() if keep(r)]
    return [r["requestId"] for r in sorted(chosen, key=lambda r: r["createdAt"], reverse=True)]


def _due_between_regimes(seeded: dict[str, Any]) -> str:
    gdpr = max(r["dueAt"] for r in seeded["requests"].values() if r["jurisdiction"] == "GDPR")
    return _after(gdpr)


def _after(moment: str) -> str:
    at = datetime.fromisoformat(moment.replace("Z", "+00:00")) + timedelta(seconds=1)
    return at.isoformat().replace("+00:00", "Z")


CASES = [
    ({}, lambda r, s: True, "byType"),
    ({"status": ["CANCELLED"]}, lambda r, s: r["status"] == "CANCELLED", "byStatus"),
    (
        {"status": ["AWAITING_CONFIRMATION", "COMPLETED"]},
        lambda r, s: r["status"] in ("AWAITING_CONFIRMATION", "COMPLETED"),
        "byStatus",
    ),
    ({"type": "EXPORT"}, lambda r, s: r["type"] == "EXPORT", "byType"),
    ({"customerId": 1}, lambda r, s: r["customerId"] == s["customers"][1], "byCustomer"),
    ({"submittedBy": "a"}, lambda r, s: r["submittedBy"] == s["agents"]["a"], "bySubmitter"),
    (
        {"submittedBy": "a", "type": "FORGET"},
        lambda r, s: r["submittedBy"] == s["agents"]["a"] and r["type"] == "FORGET",
        "bySubmitter",
    ),
    (
        {"status": ["AWAITING_CONFIRMATION"], "type": "CEASE_MARKETING"},
        lambda r, s: r["status"] == "AWAITING_CONFIRMATION" and r["type"] == "CEASE_MARKETING",
        "byStatus",
    ),
    (
        {"customerId": 0, "status": ["CANCELLED", "COMPLETED"]},
        lambda r, s: (
            r["customerId"] == s["customers"][0] and r["status"] in ("CANCELLED", "COMPLETED")
        ),
        "byCustomer",
    ),
    (
        {"dueBefore": "between"},
        lambda r, s: r["status"] == "AWAITING_CONFIRMATION" and r["jurisdiction"] == "GDPR",
        "byStatus",
    ),
    ({"overdue": "true"}, lambda r, s: False, "byStatus"),
]


def _params(seeded: dict[str, Any], filters: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {"from": seeded["start"], **filters}
    if "customerId" in filters:
        params["customerId"] = seeded["customers"][filters["customerId"]]
    if "submittedBy" in filters:
        params["submittedBy"] = seeded["agents"][filters["submittedBy"]]
    if filters.get("dueBefore") == "between":
        params["dueBefore"] = _due_between_regimes(seeded)
    return params


@pytest.mark.parametrize(("filters", "keep", "index"), CASES)
def test_each_filter_answers_exactly_its_requests_from_one_index(seeded, filters, keep, index):
    api = seeded["api"]
    with dynamodb_operations() as seen:
        ids, _ = _all(api, **_params(seeded, filters))
    assert ids == _expected(seeded, lambda r: keep(r, seeded))
    operations = {operation for operation, _ in seen}
    assert "Scan" not in operations and "Query" in operations
    assert {name for operation, name in seen if operation == "Query"} == {index}


def test_a_creation_time_range_on_the_index_key(seeded):
    created = sorted(r["createdAt"] for r in seeded["requests"].values())
    ids, _ = _all(seeded["api"], **{"from": created[2], "to": created[6]})
    assert ids == _expected(seeded, lambda r: created[2] <= r["createdAt"] <= created[6])
    assert len(ids) == 5


@pytest.mark.parametrize(
    "filters", [{}, {"status": ["AWAITING_CONFIRMATION", "CANCELLED"]}, {"submittedBy": "b"}]
)
def test_small_pages_hold_every_request_once(seeded, filters):
    params = _params(seeded, filters)
    whole, _ = _all(seeded["api"], **params)
    paged, pages = _all(seeded["api"], **params, limit=2)
    assert paged == whole and len(set(paged)) == len(paged)
    assert pages == -(-len(whole) // 2)  # no empty last page


def test_a_row_carries_what_the_queue_shows(seeded):
    customer = seeded["customers"][1]
    (row, *_) = _query(seeded["api"], customerId=customer, status="AWAITING_CONFIRMATION")[
        "requests"
    ]
    assert set(row) == {
        "requestId",
        "type",
        "status",
        "statusText",
        "customerId",
        "submittedBy",
        "createdAt",
        "dueAt",
        "daysLeft",
        "overdue",
        "jurisdiction",
        "extension",
    }
    assert row["daysLeft"] in (28, 29, 30, 31) and row["overdue"] is False
    assert row["statusText"].endswith("Awaiting Confirmation")


def _status_of(api: ApiClient, path: str) -> tuple[int, dict[str, Any]]:
    try:
        return 200, api.call("GET", path)
    except ApiError as exc:
        return exc.status, {"code": exc.code, "message": exc.message}


def test_tokens_that_are_not_ours_for_these_filters_are_400(seeded, compliance):
    api = seeded["api"]
    mine = _params(seeded, {"submittedBy": "a"})
    token = _query(api, **mine, limit=1)["nextToken"]
    theirs = _params(seeded, {"submittedBy": "b"})
    audit_token = compliance.audit({"limit": "1"}).get("nextToken")
    assert audit_token
    for params in (
        {**theirs, "nextToken": token},  # another filter's token
        {**mine, "nextToken": token[:-4]},  # truncated
        {**mine, "nextToken": token[::-1]},  # rearranged
        {**mine, "nextToken": "A" + token[1:]},  # an edited position
        {**mine, "nextToken": audit_token},  # another listing's token
        {**mine, "nextToken": "%%%"},
        {**mine, "nextToken": "x" * 5000},
    ):
        query = urllib.parse.urlencode(params, doseq=True)
        status, body = _status_of(api, f"/privacy-requests?{query}")
        assert (status, body["code"]) == (400, "VALIDATION_ERROR"), params
        assert "nextToken" in body["message"]


def test_bad_filters_are_400_in_the_error_shape(stack, seeded):
    request = urllib.request.Request(
        f"{stack.api_url}/privacy-requests?status=DONE",
        headers={"Authorization": "Bearer dev:alice:agent"},
    )
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request)
    body = json.loads(error.value.read())
    assert error.value.code == 400
    assert body["error"]["code"] == "VALIDATION_ERROR" and body["error"]["requestId"]
    for query in ("limit=0", "limit=500", "from=soon", "overdue=1", "type=X", "dueBefore=x"):
        status, _ = _status_of(seeded["api"], f"/privacy-requests?{query}")
        assert status == 400, query


def test_the_queue_is_for_agents_and_compliance(stack):
    export_job = ApiClient(stack.api_url, "dev:job:export-job")
    assert _status_of(export_job, "/privacy-requests")[0] == 403
    compliance = ApiClient(stack.api_url, "dev:carol:compliance")
    assert _status_of(compliance, "/privacy-requests?limit=1")[0] == 200


# Extension -------------------------------------------------------------------------------------


def _extend(api: ApiClient, request_id: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    try:
        return 200, api.call("POST", f"/privacy-requests/{request_id}/extend", body)
    except ApiError as exc:
        return exc.status, {"code": exc.code, "message": exc.message}


@pytest.fixture
def open_request(stack, agent) -> Iterator[tuple[str, dict[str, Any]]]:
    tag = uuid.uuid4().hex[:8]
    stack.seed([_person(tag, 7, "CCPA")])
    submitted = agent.submit(f"T-q{tag}7", {"type": "EXPORT", "identityVerified": True})
    yield submitted["requestId"], agent.request(submitted["requestId"])
    if agent.request(submitted["requestId"])["status"] == "AWAITING_CONFIRMATION":
        agent.cancel(submitted["requestId"])


def test_bad_extensions_and_agents_write_nothing(stack, agent, compliance, open_request):
    request_id, _ = open_request
    before = {name: count_items(stack, name) for name in WRITTEN}
    assert _extend(agent, request_id, {"reason": "busy"})[0] == 403
    for body in (
        {},
        {"reason": ""},
        {"reason": "   "},
        {"reason": "x" * 1001},
        {"reason": "bell\x07"},
        {"reason": "ok", "days": 0},
        {"reason": "ok", "days": "10"},
        {"reason": "ok", "days": 46},  # CCPA: 45 more days at most
        {"reason": "ok", "extra": True},
    ):
        assert _extend(compliance, request_id, body)[0] == 400, body
    assert _extend(compliance, "no-such-request", {"reason": "ok"})[0] == 404
    assert {name: count_items(stack, name) for name in WRITTEN} == before


def test_compliance_extends_once_and_everything_reads_the_new_deadline(
    stack, agent, compliance, open_request
):
    request_id, shown = open_request
    reason = "records held by three brands"
    status, answer = _extend(compliance, request_id, {"reason": reason, "days": 30})
    assert status == 200
    old_due = datetime.fromisoformat(shown["dueAt"].replace("Z", "+00:00"))
    new_due = datetime.fromisoformat(answer["dueAt"].replace("Z", "+00:00"))
    assert new_due - old_due == timedelta(days=30)
    assert answer["extension"]["reason"] == reason
    assert answer["extension"]["previousDueAt"] == shown["dueAt"]
    assert answer["extension"]["extendedBy"] == "carol"

    assert agent.request(request_id)["dueAt"] == answer["dueAt"]
    assert agent.request(request_id)["extension"] == answer["extension"]
    (row,) = _query(agent, customerId=shown["customerId"])["requests"]
    assert row["dueAt"] == answer["dueAt"] and row["extension"] == answer["extension"]

    again = _extend(compliance, request_id, {"reason": reason})
    assert again[0] == 409 and again[1]["code"] == "CONFLICT"
    entries = [e for e in audit_entries(stack, request_id) if e.event_type == "DEADLINE_EXTENDED"]
    assert len(entries) == 1
    assert reason not in json.dumps(entries[0].details.as_dict())
    assert entries[0].details.as_dict()["dueAt"] == answer["dueAt"]

    agent.cancel(request_id)
    assert _extend(compliance, request_id, {"reason": reason})[0] == 409


def test_application_access_follows_cease(stack, agent):
    tag = uuid.uuid4().hex[:8]
    stack.seed([_person(tag, 8)])
    customer = f"T-q{tag}8"
    assert agent.permissions(customer)["permissions"]["applicationAccess"] is True
    submitted = agent.submit(customer, {"type": "CEASE_MARKETING", "identityVerified": True})
    agent.confirm(submitted["requestId"])
    wait_for(agent, submitted["requestId"])
    permissions = agent.permissions(customer)["permissions"]
    assert permissions["applicationAccess"] is False and permissions["loyalty"] is True
