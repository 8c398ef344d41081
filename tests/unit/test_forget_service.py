"""FORGET applied on the fakes: plan first, cascade one level, tombstones, resumable."""

import pytest

from functions.forget.service import FORGOTTEN_BY_CASCADE, forget_customer
from functions.requests.apply import ApplyOutcome
from functions.shared.audit_chain import verify
from functions.shared.customers import tombstone_key
from functions.shared.domain import PrivacyStatus, RequestStatus, RequestType, pseudonym
from functions.shared.errors import TransientError
from functions.shared.suppression import entries_for
from functions.shared.suppression_reasons import CEASED, FORGOTTEN
from tests.fakes import fail_once
from tests.unit.conftest import confirmed, submit

FAMILY = "household"


@pytest.fixture
def family(deps):
    """C1 is the parent of K1; K1 is the parent of G1 (C1's grandchild)."""
    deps.customers.add_customer(
        "C1", email="ann@example.com", relations=[(FAMILY, "parent", "K1")], loyalty={"tier": 1}
    )
    deps.customers.add_customer(
        "K1",
        email="kid@example.com",
        relations=[(FAMILY, "child", "C1"), (FAMILY, "parent", "G1")],
    )
    deps.customers.add_customer("G1", relations=[(FAMILY, "child", "K1")])
    return deps


def forget(deps, cascade=False):
    request = confirmed(deps, kind=RequestType.FORGET, cascade=cascade)
    return request, forget_customer(request.request_id, deps)


def test_forget_erases_the_partition_and_leaves_a_tombstone(deps):
    request, outcome = forget(deps)
    assert outcome is ApplyOutcome.APPLIED
    assert deps.customers.privacy_status("C1") is PrivacyStatus.FORGOTTEN
    assert deps.table.partitions.get("C1") is None
    assert deps.table.get(*tombstone_key(deps.hasher.customer("C1"))) is not None
    assert deps.requests.get(request.request_id).status is RequestStatus.APPLIED


def test_the_plan_is_saved_before_anything_is_erased(deps):
    request = confirmed(deps, kind=RequestType.FORGET)
    seen = {}

    def erase(customer_id):
        seen["plan"] = deps.requests.get(request.request_id).result.get("erasure")
        return 0

    deps.customers.erase = erase
    forget_customer(request.request_id, deps)
    assert seen["plan"]["subjects"][0]["customerId"] == "C1"
    assert seen["plan"]["subjects"][0]["erased"]["profile"] == 1


def test_the_person_is_suppressed_as_forgotten(deps):
    forget(deps)
    reasons = {r.entry.reason for r in deps.suppression.rows.values()}
    assert reasons == {FORGOTTEN}
    assert len(deps.suppression.rows) == 3  # id, e-mail, phone


def test_forgotten_entries_supersede_ceased_ones(deps):
    deps.suppression.put_all(
        entries_for(deps.customers.get_identifiers("C1"), CEASED, deps.hasher), "R0"
    )
    forget(deps)
    assert deps.suppression.reasons() == {FORGOTTEN}


def test_without_cascade_only_the_requester_is_forgotten(family):
    forget(family)
    assert family.customers.privacy_status("K1") is PrivacyStatus.ACTIVE


def test_cascade_forgets_children_one_level_only(family):
    request, _ = forget(family, cascade=True)
    assert family.customers.privacy_status("K1") is PrivacyStatus.FORGOTTEN
    assert family.customers.privacy_status("G1") is PrivacyStatus.ACTIVE
    (entry,) = family.trail.of(FORGOTTEN_BY_CASCADE, request.request_id)
    assert entry["customerHash"] == family.hasher.customer("K1")
    summary = family.requests.get(request.request_id).result
    assert [c["customerHash"] for c in summary["cascaded"]] == [family.hasher.customer("K1")]


def test_relations_pointing_at_the_forgotten_are_removed(family):
    forget(family, cascade=True)
    assert family.customers.relations("G1") == []


def test_earlier_requests_are_pseudonymised(deps):
    from functions.requests.service import cancel_request
    from tests.unit.conftest import AGENT

    earlier = submit(deps, kind=RequestType.EXPORT, reason="asked by phone")
    cancel_request(earlier.request_id, AGENT, deps)
    forget(deps)
    stored = deps.requests.get(earlier.request_id)
    assert stored.customer_id == pseudonym(deps.hasher.customer("C1"))
    assert stored.reason is None


def test_export_files_of_the_customer_are_deleted(deps):
    from functions.requests.service import cancel_request
    from tests.unit.conftest import AGENT

    earlier = submit(deps, kind=RequestType.EXPORT)
    deps.exports.upload(earlier.request_id, [b"a,b\n"])
    cancel_request(earlier.request_id, AGENT, deps)
    request, _ = forget(deps)
    assert deps.exports.count_versions(earlier.request_id) == 0
    assert deps.requests.get(request.request_id).result["erased"]["exportFiles"] == 1


def test_a_retry_after_a_failure_in_the_middle_finishes_and_audits_once(family):
    request = confirmed(family, kind=RequestType.FORGET, cascade=True)
    fail_once(family.customers, "erase", TransientError("throttled"), after=1)  # the requester
    with pytest.raises(TransientError):
        forget_customer(request.request_id, family)
    assert forget_customer(request.request_id, family) is ApplyOutcome.APPLIED
    assert family.requests.erasure_plans_saved == 1
    assert len(family.trail.of("APPLIED", request.request_id)) == 1
    assert len(family.trail.of(FORGOTTEN_BY_CASCADE, request.request_id)) == 1
    assert family.table.partitions.get("C1") is None
    assert verify(family.trail.entries, family.trail.head).intact


def test_a_retry_reports_the_counts_of_the_first_plan(deps):
    request = confirmed(deps, kind=RequestType.FORGET)
    fail_once(deps.customers, "erase", TransientError("throttled"))
    with pytest.raises(TransientError):
        forget_customer(request.request_id, deps)
    forget_customer(request.request_id, deps)
    assert deps.requests.get(request.request_id).result["erased"]["profile"] == 1


def test_a_retry_after_applied_changes_nothing(deps):
    request, _ = forget(deps)
    entries = len(deps.trail.entries)
    assert forget_customer(request.request_id, deps) is ApplyOutcome.APPLIED
    assert len(deps.trail.entries) == entries


def test_the_audit_entry_counts_and_names_nobody(deps):
    request, _ = forget(deps)
    (entry,) = deps.trail.of("APPLIED", request.request_id)
    assert entry["details"]["erased"]["profile"] == 1
    assert "C1" not in str(entry["details"]) and "example.com" not in str(entry)
