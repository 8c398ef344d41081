"""The DRP status object (functions/drp/status.py) of each product state: the product's own
request is the truth, mapped onto the spec's statuses and reasons (3.02, 3.03)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from functions.drp.callbacks import AgentCallbacks, callback_problem
from functions.drp.repository import DrpRequest
from functions.drp.status import status_object
from functions.shared.domain import (
    Extension,
    HistoryEntry,
    PrivacyRequest,
    RequestStatus,
    RequestType,
)

LINK = DrpRequest(
    request_id="r1",
    agent_id="AGENT",
    exercise="deletion",
    received_at="2026-12-01T10:00:00Z",
    product_request=True,
    agent_request_id="theirs-7",
)
REQUEST = PrivacyRequest(
    request_id="r1",
    customer_id="C-1",
    type=RequestType.FORGET,
    status=RequestStatus.AWAITING_CONFIRMATION,
    submitted_by="drp:AGENT",
    identity_verified_by="drp:AGENT",
    identity_verified_at="2026-12-01T10:00:00Z",
    created_at="2026-12-01T10:00:00Z",
    updated_at="2026-12-01T10:00:00Z",
    confirm_by="2026-12-08T10:00:00Z",
    due_at="2027-01-15T10:00:00Z",
)


def at(status: RequestStatus, actor: str = "alice") -> PrivacyRequest:
    return replace(REQUEST, status=status, history=(HistoryEntry(status, "t", actor),))


@pytest.mark.parametrize(
    ("status", "actor", "drp", "reason"),
    [
        (RequestStatus.AWAITING_CONFIRMATION, "drp:AGENT", "in_progress", None),
        (RequestStatus.CONFIRMED, "alice", "in_progress", None),
        (RequestStatus.APPLIED, "workflow", "in_progress", None),
        (RequestStatus.FAILED, "workflow", "in_progress", None),
        (RequestStatus.COMPLETED, "workflow", "fulfilled", None),
        (RequestStatus.CANCELLED, "drp:AGENT", "revoked", None),
        (RequestStatus.CANCELLED, "alice", "denied", "other"),
        (RequestStatus.EXPIRED, "workflow", "denied", "other"),
        (RequestStatus.REJECTED, "workflow", "denied", "other"),
    ],
)
def test_each_product_status_is_a_drp_status(
    status: RequestStatus, actor: str, drp: str, reason: str | None
) -> None:
    answer = status_object(LINK, at(status, actor))
    assert answer["status"] == drp
    assert answer.get("reason") == reason
    assert answer["request_id"] == "r1" and answer["agent_request_id"] == "theirs-7"
    assert answer["received_at"] == LINK.received_at
    # In progress: expected_by is the legal deadline (the spec: MUST once in progress).
    assert ("expected_by" in answer) == (drp == "in_progress")


def test_an_extension_moves_expected_by_and_says_why():
    extended = replace(
        at(RequestStatus.CONFIRMED),
        due_at="2027-03-01T10:00:00Z",
        extension=Extension("2027-01-15T10:00:00Z", "2027-03-01T10:00:00Z", "carol", "t"),
    )
    answer = status_object(LINK, extended)
    assert answer["expected_by"] == "2027-03-01T10:00:00Z"
    assert "extended" in answer["processing_details"]


def test_a_fulfilled_export_carries_the_link_it_was_given():
    export = replace(
        at(RequestStatus.COMPLETED),
        type=RequestType.EXPORT,
        result={"versionId": "v", "producedAt": "2099-01-01T00:00:00Z"},
    )
    answer = status_object(LINK, export, "https://files.example/x")
    assert answer["results_url"] == "https://files.example/x" and answer["expires_at"]
    assert "results_url" not in status_object(LINK, export)


def test_a_request_without_a_product_request_answers_its_stored_state():
    denied = replace(
        LINK, product_request=False, status="denied", reason="no_match", processing_details="x"
    )
    assert status_object(denied, None) == {
        "request_id": "r1",
        "received_at": LINK.received_at,
        "agent_request_id": "theirs-7",
        "status": "denied",
        "reason": "no_match",
        "processing_details": "x",
    }


@pytest.mark.parametrize(
    ("url", "local", "ok"),
    [
        ("https://agent.example/cb", False, True),
        ("http://agent.example/cb", False, False),
        ("http://127.0.0.1:8001/cb", False, False),
        ("http://127.0.0.1:8001/cb", True, True),
        ("http://localhost/cb", True, True),
        ("http://10.0.0.1/cb", True, False),
        ("https://user:pw@agent.example/cb", False, False),
        ("ftp://agent.example/cb", True, False),
        ("/relative", True, False),
        ("https://" + "a" * 3000, False, False),
    ],
)
def test_callbacks_are_https_or_this_machine_where_allowed(url: str, local: bool, ok: bool):
    assert (callback_problem(url, local) is None) is ok


class _Links:
    def __init__(self, link: DrpRequest | None) -> None:
        self.link = link
        self.reads = 0

    def request(self, request_id: str) -> DrpRequest | None:
        self.reads += 1
        return self.link


class _Sender:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[str, dict]] = []
        self.fail = fail

    def send(self, url: str, status: dict) -> None:
        if self.fail:
            raise OSError("the agent's server is down")
        self.sent.append((url, status))


def _callbacks(link: DrpRequest | None, sender: _Sender) -> tuple[AgentCallbacks, _Links]:
    links = _Links(link)
    return AgentCallbacks(links, sender), links  # type: ignore[arg-type]


def test_the_agent_hears_of_a_change_of_its_own_request_only():
    sender = _Sender()
    linked = replace(LINK, status_callback="https://agent.example/cb")
    callbacks, links = _callbacks(linked, sender)
    callbacks.request_changed(at(RequestStatus.COMPLETED))
    assert sender.sent == [
        ("https://agent.example/cb", status_object(linked, at(RequestStatus.COMPLETED)))
    ]
    staff_request = replace(at(RequestStatus.COMPLETED), submitted_by="alice")
    callbacks.request_changed(staff_request)
    assert links.reads == 1 and len(sender.sent) == 1  # not an agent's: not even read


def test_a_callback_never_fails_the_step_that_caused_it():
    linked = replace(LINK, status_callback="https://agent.example/cb")
    callbacks, _ = _callbacks(linked, _Sender(fail=True))
    callbacks.request_changed(at(RequestStatus.COMPLETED))  # the sender raised: swallowed

    def unreadable(request_id: str) -> PrivacyRequest:
        raise RuntimeError("the table is throttled")

    callbacks.request_ended("r1", unreadable)  # the read raised: swallowed
    without_url, _ = _callbacks(LINK, _Sender())
    without_url.request_changed(at(RequestStatus.COMPLETED))  # no status_callback: nothing
