"""EXPORT applied on the fakes (the upload is FakeExportFiles)."""

import pytest

from functions.export.service import FILE_PRODUCED, export_customer_data
from functions.requests.apply import ApplyOutcome
from functions.shared.customers import tombstone_key
from functions.shared.domain import PrivacyStatus, RequestStatus, RequestType
from functions.shared.errors import TransientError
from tests.fakes import Item, fail_once
from tests.unit.conftest import confirmed


def exported(deps):
    request = confirmed(deps, kind=RequestType.EXPORT)
    return request, export_customer_data(request.request_id, deps)


def test_the_export_is_written_and_the_request_applied(deps):
    request, outcome = exported(deps)
    assert outcome is ApplyOutcome.APPLIED
    assert deps.requests.get(request.request_id).status is RequestStatus.APPLIED
    body = deps.exports.body(request.request_id).decode()
    assert "Ann@Example.com" in body


def test_the_result_is_saved_with_the_files_version(deps):
    request, _ = exported(deps)
    result = deps.requests.get(request.request_id).result
    assert result["versionId"] == "v1"
    assert result["bytes"] == len(deps.exports.body(request.request_id))


def test_the_file_produced_is_audited_once_with_its_checksum(deps):
    request, _ = exported(deps)
    (entry,) = deps.trail.of(FILE_PRODUCED, request.request_id)
    result = deps.requests.get(request.request_id).result
    assert entry["details"] == {k: result[k] for k in ("rows", "bytes", "sha256")}


def test_a_retry_after_the_result_was_saved_reuses_it(deps):
    request = confirmed(deps, kind=RequestType.EXPORT)
    fail_once(deps.requests, "advance", TransientError("throttled"))
    with pytest.raises(TransientError):
        export_customer_data(request.request_id, deps)
    assert export_customer_data(request.request_id, deps) is ApplyOutcome.APPLIED
    assert deps.exports.uploads == 1
    assert len(deps.trail.of(FILE_PRODUCED, request.request_id)) == 1
    assert len(deps.trail.of("APPLIED", request.request_id)) == 1


def test_a_retry_after_applied_writes_nothing(deps):
    request, _ = exported(deps)
    entries = len(deps.trail.entries)
    assert export_customer_data(request.request_id, deps) is ApplyOutcome.APPLIED
    assert deps.exports.uploads == 1 and len(deps.trail.entries) == entries


def test_a_ceased_customer_may_export(deps):
    deps.customers.add_customer("C1", email="a@example.com", status=PrivacyStatus.CEASED)
    _, outcome = exported(deps)
    assert outcome is ApplyOutcome.APPLIED


def test_a_customer_forgotten_before_the_export_is_rejected(deps):
    request = confirmed(deps, kind=RequestType.EXPORT)
    deps.table.put(*tombstone_key(deps.hasher.customer("C1")), Item(privacy_status="FORGOTTEN"))
    assert export_customer_data(request.request_id, deps) is ApplyOutcome.REJECTED
    assert deps.exports.uploads == 0
    assert deps.requests.get(request.request_id).status is RequestStatus.REJECTED


def test_a_customer_forgotten_while_the_file_was_written_leaves_no_file(deps):
    request = confirmed(deps, kind=RequestType.EXPORT)
    upload = deps.exports.upload

    def upload_then_forget(request_id, chunks):
        version = upload(request_id, chunks)
        deps.table.put(*tombstone_key(deps.hasher.customer("C1")), Item(privacy_status="FORGOTTEN"))
        return version

    deps.exports.upload = upload_then_forget
    assert export_customer_data(request.request_id, deps) is ApplyOutcome.REJECTED
    assert deps.exports.count_versions(request.request_id) == 0
    assert not deps.trail.of(FILE_PRODUCED)
