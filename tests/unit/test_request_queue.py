"""The request queue on the fakes: each filter answers exactly the requests it names, through the
index the plan says, and the pages of a small limit hold every request once."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from functions.api.handler import app
from functions.api.request_schemas import QueuePage, queue_query
from functions.forget.service import forget_customer
from functions.requests.queue import OPEN_STATUSES, plan, queue_filter
from functions.requests.service import (
    Submission,
    cancel_request,
    confirm_request,
    list_requests,
    submit_request,
)
from functions.requests.steps import finish_request
from functions.shared import clock
from functions.shared.caller import Caller
from functions.shared.domain import RequestStatus, RequestType, pseudonym
from functions.shared.errors import ValidationError
from tests.unit.conftest import AGENT, confirmed

BOB = Caller("bob", frozenset({"agent"}))
TYPES = (RequestType.CEASE_MARKETING, RequestType.EXPORT, RequestType.FORGET)


@pytest.fixture
def seeded(deps, frozen):
    """Twelve requests through the services: four customers (one CCPA) by two agents, three
    types, left awaiting, confirmed or cancelled, a minute apart."""
    for n in range(4):
        deps.customers.add_customer(f"Q{n}", jurisdiction="CCPA" if n == 3 else None)
    made = []
    for i in range(12):
        frozen.advance(minutes=1)
        who = AGENT if i % 2 else BOB
        kind = TYPES[i % 3]
        request = submit_request(Submission(f"Q{i // 3}", kind, True), who, deps)
        if i % 4 == 1:
            request = confirm_request(request.request_id, who, deps)
        elif i % 4 == 2:
            request = cancel_request(request.request_id, who, deps)
        made.append(deps.requests.get(request.request_id))
    return made


def listed(deps, limit=100, **filters):
    where = queue_filter(**filters)
    pages, token = [], None
    while True:
        page = list_requests(where, limit, token, deps)
        pages.append(page.requests)
        token = page.next_token
        if token is None:
            return [r.request_id for p in pages for r in p], pages


def expected(requests, keep):
    chosen = [r for r in requests if keep(r)]
    return [r.request_id for r in sorted(chosen, key=lambda r: r.created_at, reverse=True)]


def test_everything_newest_first(deps, seeded):
    ids, _ = listed(deps)
    assert ids == expected(seeded, lambda r: True)


@pytest.mark.parametrize(
    ("filters", "keep"),
    [
        ({"statuses": (RequestStatus.CONFIRMED,)}, lambda r: r.status is RequestStatus.CONFIRMED),
        (
            {"statuses": (RequestStatus.CANCELLED, RequestStatus.AWAITING_CONFIRMATION)},
            lambda r: r.status in (RequestStatus.CANCELLED, RequestStatus.AWAITING_CONFIRMATION),
        ),
        ({"type": RequestType.EXPORT}, lambda r: r.type is RequestType.EXPORT),
        ({"customer_id": "Q2"}, lambda r: r.customer_id == "Q2"),
        ({"submitted_by": "bob"}, lambda r: r.submitted_by == "bob"),
        (
            {"submitted_by": "agent-7", "type": RequestType.FORGET},
            lambda r: r.submitted_by == "agent-7" and r.type is RequestType.FORGET,
        ),
        (
            {"customer_id": "Q2", "statuses": (RequestStatus.CANCELLED,)},
            lambda r: r.customer_id == "Q2" and r.status is RequestStatus.CANCELLED,
        ),
        (
            {
                "statuses": (RequestStatus.AWAITING_CONFIRMATION,),
                "type": RequestType.CEASE_MARKETING,
            },
            lambda r: (
                r.status is RequestStatus.AWAITING_CONFIRMATION
                and r.type is RequestType.CEASE_MARKETING
            ),
        ),
    ],
)
def test_each_filter_answers_exactly_its_requests(deps, seeded, filters, keep):
    ids, _ = listed(deps, **filters)
    assert ids == expected(seeded, keep)
    assert ids  # the seed holds some of each


def test_a_creation_time_range(deps, seeded):
    start, end = seeded[3].created_at, seeded[7].created_at
    ids, _ = listed(deps, start=start, end=end)
    assert ids == expected(seeded, lambda r: start <= r.created_at <= end)
    assert len(ids) == 5


def test_due_before_and_overdue_select_open_requests_by_deadline(deps, seeded, frozen):
    ccpa_due = min(r.due_at for r in seeded if r.jurisdiction == "CCPA")
    # Between the CCPA requests' deadlines (45 days) and the GDPR ones (a month from November
    # is 31 days: earlier). Pick a moment after every GDPR deadline and before the CCPA ones.
    gdpr_due = max(r.due_at for r in seeded if r.jurisdiction == "GDPR")
    assert gdpr_due < ccpa_due
    moment = clock.parse(gdpr_due) + timedelta(seconds=1)
    is_open = lambda r: r.status in OPEN_STATUSES  # noqa: E731
    ids, _ = listed(deps, due_before=moment)
    assert ids == expected(seeded, lambda r: is_open(r) and r.due_at < clock.iso(moment, "seconds"))
    assert ids and not any(deps.requests.get(i).jurisdiction == "CCPA" for i in ids)
    assert listed(deps, overdue=True)[0] == []
    frozen.moment = moment
    assert listed(deps, overdue=True)[0] == ids


def test_overdue_with_only_closed_statuses_is_bad_input():
    with pytest.raises(ValidationError, match="open requests"):
        queue_filter(statuses=(RequestStatus.CANCELLED,), overdue=True)


@pytest.mark.parametrize("limit", [1, 2, 5])
def test_small_pages_hold_every_request_once(deps, seeded, limit):
    for filters in ({}, {"statuses": tuple(RequestStatus)}, {"submitted_by": "bob"}):
        ids, pages = listed(deps, limit=limit, **filters)
        assert len(ids) == len(set(ids))
        assert all(0 < len(p) <= limit for p in pages)  # no empty last page
        assert ids == listed(deps, **filters)[0]


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({}, "byType"),
        ({"type": RequestType.EXPORT}, "byType"),
        ({"statuses": (RequestStatus.CONFIRMED,), "type": RequestType.EXPORT}, "byStatus"),
        ({"overdue": True}, "byStatus"),
        ({"submitted_by": "bob", "statuses": (RequestStatus.CONFIRMED,)}, "bySubmitter"),
        ({"customer_id": "Q1", "submitted_by": "bob"}, "byCustomer"),
    ],
)
def test_the_plan_names_one_index_and_filters_the_rest(filters, index):
    chosen = plan(queue_filter(**filters))
    assert chosen.index == index
    assert chosen.attribute not in chosen.filtered


def test_a_token_is_bound_to_its_filters_and_cannot_be_edited(deps, seeded):
    where = queue_filter(submitted_by="bob")
    token = list_requests(where, 1, None, deps).next_token
    assert token
    other = queue_filter(submitted_by="agent-7")
    for bad, filters in (
        (token, other),  # another filter's token
        (token[:-3], where),  # truncated
        ("x" + token[1:], where),  # edited position
        (token.split(".")[0], where),  # no MAC
        ("not-a-token", where),
        ("é" * 10, where),
    ):
        with pytest.raises(ValidationError, match="nextToken"):
            list_requests(filters, 1, bad, deps)


def test_a_forgotten_customers_requests_are_found_under_their_pseudonym(deps):
    request = confirmed(deps, "C1", RequestType.FORGET)
    forget_customer(request.request_id, deps)
    finish_request(request.request_id, RequestStatus.COMPLETED, deps, None)
    stand_in = pseudonym(deps.hasher.customer("C1"))
    for asked in ("C1", stand_in):
        page = list_requests(queue_filter(customer_id=asked), 10, None, deps)
        assert [r.request_id for r in page.requests] == [request.request_id]
        (row,) = QueuePage.of(page, clock.now()).model_dump(by_alias=True)["requests"]
        assert row["customerId"] == stand_in


def test_a_row_says_days_left_and_the_extension(deps, seeded, frozen):
    page = list_requests(queue_filter(customer_id="Q0"), 10, None, deps)
    rows = QueuePage.of(page, clock.now()).model_dump(by_alias=True)["requests"]
    open_row = next(r for r in rows if r["status"] == "AWAITING_CONFIRMATION")
    closed_row = next(r for r in rows if r["status"] == "CANCELLED")
    assert open_row["daysLeft"] == 30 and open_row["overdue"] is False
    assert closed_row["daysLeft"] is None and closed_row["extension"] is None


def _queue_event(params: dict[str, list[str]]) -> dict:
    return {
        "httpMethod": "GET",
        "path": "/privacy-requests",
        "multiValueQueryStringParameters": params,
        "queryStringParameters": {k: v[-1] for k, v in params.items()},
        "requestContext": {
            "requestId": "r",
            "authorizer": {"claims": {"cognito:username": "a", "cognito:groups": "agent"}},
        },
    }


@pytest.mark.parametrize(
    "params",
    [
        {"status": ["DONE"]},
        {"type": ["cease"]},
        {"type": ["EXPORT", "FORGET"]},
        {"limit": ["0"]},
        {"limit": ["201"]},
        {"limit": ["ten"]},
        {"from": ["yesterday"]},
        {"dueBefore": ["2026-13-01"]},
        {"to": ["2026-11-01T10:00:00"]},  # no time zone
        {"from": ["2026-11-02"], "to": ["2026-11-01"]},
        {"overdue": ["yes"]},
        {"customerId": ["x" * 201]},
        {"sort": ["asc"]},
        {"overdue": ["true"], "status": ["COMPLETED"]},
    ],
)
def test_bad_filter_values_are_bad_input(params):
    # Refused by the route's declared parameters or its filter rules, before any store is read.
    response = app.resolve(_queue_event(params), {})
    assert response["statusCode"] == 400, params
    assert json.loads(response["body"])["error"]["code"] == "VALIDATION_ERROR"


def test_status_repeats_and_dates_read_as_the_audit_reads_them():
    statuses = [RequestStatus.CONFIRMED, RequestStatus.APPLIED, RequestStatus.CONFIRMED]
    where = queue_query(statuses, None, None, None, None, False, "2026-11-01", None)
    assert where.statuses == (RequestStatus.CONFIRMED, RequestStatus.APPLIED)
    assert where.start == "2026-11-01T00:00:00.000000Z"
