"""A FORGET's keep-out is one transaction: a cascade it could not hold is refused when it is
submitted, and one that grew past it since ends FAILED with nothing written and a clear reason."""

from __future__ import annotations

import pytest

from functions.forget.keep_out import MAX_CASCADE, keep_out
from functions.requests.service import Submission, submit_request
from functions.shared.domain import PrivacyStatus, RequestType
from functions.shared.errors import ValidationError
from tests.fakes.stores import Item
from tests.unit.conftest import AGENT, confirmed

FAMILY = "parent-child"


def _parent_of(deps, children: int) -> None:
    deps.customers.add_customer(
        "P1", relations=[(FAMILY, "parent", f"K{n}") for n in range(children)]
    )
    for n in range(children):
        deps.customers.add_customer(f"K{n}", email=f"k{n}@example.com", phone=None)


def test_a_cascade_over_the_limit_is_refused_at_submission_and_writes_nothing(deps):
    _parent_of(deps, MAX_CASCADE + 1)
    entries = len(deps.trail.entries)
    with pytest.raises(ValidationError, match=f"at most {MAX_CASCADE} related contacts"):
        submit_request(Submission("P1", RequestType.FORGET, True, cascade=True), AGENT, deps)
    assert len(deps.trail.entries) == entries and deps.workflow.starts == []


def test_a_cascade_at_the_limit_is_kept_out_in_one_transaction(deps):
    _parent_of(deps, MAX_CASCADE)
    request = confirmed(deps, "P1", RequestType.FORGET, cascade=True)
    keep_out(request, deps)
    for customer in ["P1", *(f"K{n}" for n in range(MAX_CASCADE))]:
        assert deps.customers.privacy_status(customer) is PrivacyStatus.FORGOTTEN


def test_a_cascade_that_grew_past_one_transaction_writes_nothing(deps):
    _parent_of(deps, MAX_CASCADE)
    request = confirmed(deps, "P1", RequestType.FORGET, cascade=True)
    for n in range(MAX_CASCADE, 3 * MAX_CASCADE):  # related after submission
        deps.customers.add_customer(f"K{n}", email=f"k{n}@example.com")
        relation = {"type": FAMILY, "role": "parent", "customerId": f"K{n}"}
        deps.table.put("P1", f"RELATION#{FAMILY}#K{n}", Item(data=relation))
    entries = len(deps.trail.entries)
    with pytest.raises(ValidationError, match="more than one transaction"):
        keep_out(request, deps)
    assert len(deps.trail.entries) == entries
    assert deps.customers.privacy_status("P1") is PrivacyStatus.ACTIVE
