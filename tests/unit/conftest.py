"""Fixtures of the unit tests on the fakes: the stores, a frozen clock, an agent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from functions.requests.service import Submission, confirm_request, submit_request
from functions.shared import clock
from functions.shared.caller import Caller
from functions.shared.domain import PrivacyRequest, RequestType
from tests.fakes import FakeStores, fake_stores

START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
AGENT = Caller("agent-7", frozenset({"agent"}))


class FrozenClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    frozen = FrozenClock(START)
    monkeypatch.setattr(clock, "now", frozen)
    return frozen


@pytest.fixture
def deps(frozen: FrozenClock) -> FakeStores:
    stores = fake_stores()
    stores.customers.add_customer("C1", email="Ann@Example.com", phone="+447700900001")
    return stores


def submit(
    deps: FakeStores, customer_id: str = "C1", kind: RequestType = RequestType.CEASE_MARKETING, **kw
) -> PrivacyRequest:
    return submit_request(Submission(customer_id, kind, True, **kw), AGENT, deps)


def confirmed(
    deps: FakeStores, customer_id: str = "C1", kind: RequestType = RequestType.CEASE_MARKETING, **kw
) -> PrivacyRequest:
    request = submit(deps, customer_id, kind, **kw)
    return confirm_request(request.request_id, AGENT, deps)
