"""EXPORT end to end: the CSV read back through its presigned link (a real HTTP GET against the
emulated S3), every category of a rich member, formula escaping, who may export, audited links."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import time
import urllib.request
import uuid
from typing import Any
from urllib.parse import parse_qs, urlparse

import botocore.client
import pytest

from privacyctl.cli import main as privacyctl
from privacyctl.client import ApiClient, ApiError
from tests.integration.conftest import audit_entries, demo_record, run_request, wait_for

EVERY_CATEGORY = {
    "profile",
    "privacyStatus",
    "loyalty",
    "activity",
    "pointsLedger",
    "tags",
    "rewards",
    "offers",
    "cards",
    "campaigns",
    "notes",
    "consents",
    "metrics",
    "relations",
    "privacyRequests",
}


def _member(stack, template: str = "C-1007") -> dict[str, Any]:
    """A fresh copy of a rich demo member, related to another member (a household)."""
    record = demo_record(template)
    record["customerId"] = f"T-{uuid.uuid4().hex[:12]}"
    other = demo_record("C-1008")
    other["customerId"] = f"T-{uuid.uuid4().hex[:12]}"
    record["relations"] = [
        {"type": "household", "role": "parent", "customerId": other["customerId"]}
    ]
    other["relations"] = [
        {"type": "household", "role": "child", "customerId": record["customerId"]}
    ]
    stack.seed([record, other])
    return record


def _export(api: ApiClient, customer_id: str) -> dict[str, Any]:
    return run_request(api, customer_id, "EXPORT")


def _link(api: ApiClient, done: dict[str, Any]) -> str:
    """The export's file is fetched through an explicitly issued link."""
    return str(api.download_link(done["requestId"])["downloadUrl"])


def _download(url: str) -> tuple[bytes, list[dict[str, str]]]:
    with urllib.request.urlopen(url, timeout=30) as response:
        body = response.read()
    return body, list(csv.DictReader(io.StringIO(body.decode("utf-8"), newline="")))


def _facts(rows: list[dict[str, str]]) -> dict[tuple[str, str, str], dict[str, str]]:
    return {(r["category"], r["record_id"], r["field"]): r for r in rows}


def test_export_holds_every_category_read_back_through_the_link(stack, agent):
    record = _member(stack)
    customer_id = record["customerId"]
    ceased = run_request(agent, customer_id, "CEASE_MARKETING")

    done = _export(agent, customer_id)

    assert done["status"] == "COMPLETED", done
    assert done["statusText"] == "Export Processing - Completed"
    result = done["result"]
    assert result["fileAvailable"] is True and "downloadUrl" not in result
    url = _link(agent, done)
    body, rows = _download(url)
    assert body.startswith(b"category,record_id,field,value,recorded_at\r\n")
    assert len(rows) == result["rows"] and len(body) == result["bytes"]
    assert hashlib.sha256(body).hexdigest() == result["sha256"]
    assert {r["category"] for r in rows} == EVERY_CATEGORY

    facts = _facts(rows)
    profile = record["profile"]
    assert facts["profile", "PROFILE", "email"]["value"] == profile["email"]
    assert facts["profile", "PROFILE", "customAttributes.favouriteStore"]["value"] == "Soho"
    assert facts["profile", "PROFILE", "externalIds.crm"]["value"] == profile["externalIds"]["crm"]
    assert facts["privacyStatus", "PRIVACY", "privacyStatus"]["value"] == "CEASED"
    loyalty = record["loyalty"]
    assert facts["loyalty", "LOYALTY", "tier"]["value"] == loyalty["tier"]
    assert facts["loyalty", "LOYALTY", "tierProgress"]["value"] == str(loyalty["tierProgress"])
    assert facts["pointsLedger", "2026-06-01T09:00:00Z#L-1007-2", "points"]["value"] == "-500"
    consent = facts["consents", "newsletter#email", "source"]
    assert consent["value"] == "preference-centre"
    assert consent["recorded_at"] == "2026-01-10T09:00:00Z"
    assert facts["metrics", "churnRisk", "value"]["value"] == str(record["metrics"]["churnRisk"])
    assert facts["notes", "2026-05-03T15:20:00Z#N-1007-1", "text"]["value"].startswith("Asked")
    assert facts["campaigns", "CMP-2026-SPRING", "outcome"]["value"] == "opened"
    assert sum(r["category"] == "activity" for r in rows) == sum(len(a) for a in record["activity"])
    # The member's own requests and their outcomes, this one included.
    assert facts["privacyRequests", ceased["requestId"], "status"]["value"] == "COMPLETED"
    assert facts["privacyRequests", done["requestId"], "type"]["value"] == "EXPORT"
    # Of the related contact, only the fact of the relation.
    other_id = record["relations"][0]["customerId"]
    assert other_id.encode() not in body
    assert {k[2]: v["value"] for k, v in facts.items() if k[0] == "relations"} == {
        "type": "household",
        "role": "parent",
    }
    # Bookkeeping is no fact about the member; staff names are not theirs either.
    assert b"OPENREQ" not in body and b"alice" not in body

    s3 = stack.client("s3")
    bucket = stack.env["EXPORTS_BUCKET"]
    key = f"exports/{done['requestId']}/export.csv"
    assert urlparse(url).path.endswith(key)
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == stack.env["EXPORTS_KMS_KEY_ARN"]
    assert head["ContentType"] == "text/csv; charset=utf-8"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rule["Status"] == "Enabled" and rule["Expiration"] == {"Days": 7}
    assert "NoncurrentVersionExpiration" in rule

    entries = audit_entries(stack, done["requestId"])
    events = [e.event_type for e in entries]
    assert events[:5] == ["SUBMITTED", "CONFIRMED", "EXPORT_FILE_PRODUCED", "APPLIED", "COMPLETED"]
    assert events[5:] == ["DOWNLOAD_LINK_ISSUED"]
    produced = entries[2].details.as_dict()
    assert produced == {"rows": len(rows), "bytes": len(body), "sha256": result["sha256"]}
    assert entries[0].details.as_dict()["submittedBy"] == "alice"
    assert entries[1].actor == "alice"
    stored = json.dumps([e.to_simple_dict() for e in entries])
    assert profile["email"] not in stored and profile["lastName"] not in stored


def test_values_that_spreadsheets_would_evaluate_are_escaped(stack, agent):
    record = demo_record("C-1007")
    record["customerId"] = f"T-{uuid.uuid4().hex[:12]}"
    record["profile"]["firstName"] = "=1+1"
    record["profile"]["customAttributes"] = {"@SUM(A1)": "-2+3", "plain": "ok"}
    record["tags"] = [{"tag": "+cmd", "at": "2026-01-01T00:00:00Z", "source": "crm"}]
    record["notes"] = [
        {"id": "N1", "at": "2026-01-02T00:00:00Z", "text": '=HYPERLINK("http://x","click")'}
    ]
    stack.seed([record])

    done = _export(agent, record["customerId"])
    _, rows = _download(_link(agent, done))

    facts = _facts(rows)
    assert facts["profile", "PROFILE", "firstName"]["value"] == "'=1+1"
    assert facts["profile", "PROFILE", "customAttributes.plain"]["value"] == "ok"
    assert facts["profile", "PROFILE", "customAttributes.@SUM(A1)"]["value"] == "'-2+3"
    assert facts["tags", "'+cmd", "tag"]["value"] == "'+cmd"
    note = facts["notes", "2026-01-02T00:00:00Z#N1", "text"]["value"]
    assert note == '\'=HYPERLINK("http://x","click")'
    for row in rows:
        for value in row.values():
            number = value.lstrip("-").replace(".", "", 1).isdigit()
            assert number or not value.startswith(("=", "+", "-", "@")), row


def test_ceased_members_can_export_forgotten_ones_cannot(stack, agent):
    record = _member(stack, "C-1003")
    customer_id = record["customerId"]
    run_request(agent, customer_id, "CEASE_MARKETING")
    exported = _export(agent, customer_id)
    assert exported["status"] == "COMPLETED" and exported["result"]["fileAvailable"]

    assert run_request(agent, customer_id, "FORGET")["status"] == "COMPLETED"

    with pytest.raises(ApiError) as error:
        agent.submit(customer_id, {"type": "EXPORT", "identityVerified": True})
    assert error.value.status == 409 and "forgotten" in error.value.message
    # The earlier export went with them: no file, and no link to nothing.
    after = agent.request(exported["requestId"])
    assert after["result"]["fileAvailable"] is False and "fileAvailableUntil" not in after["result"]
    with pytest.raises(ApiError) as gone:
        agent.download_link(exported["requestId"])
    assert gone.value.status == 409
    versions = stack.client("s3").list_object_versions(
        Bucket=stack.env["EXPORTS_BUCKET"], Prefix=f"exports/{exported['requestId']}"
    )
    assert not versions.get("Versions")


def test_a_link_is_issued_only_when_asked_and_audited_once_each(stack, agent, compliance):
    record = _member(stack)
    done = _export(agent, record["customerId"])
    request_id = done["requestId"]
    before = len(audit_entries(stack, request_id))

    # Reading the request, however often and by whom, signs nothing and audits nothing.
    for reader in (agent, compliance, agent):
        result = reader.request(request_id)["result"]
        assert result["fileAvailable"] is True and "downloadUrl" not in result
        assert result["fileAvailableUntil"] > done["completedAt"]
    assert len(audit_entries(stack, request_id)) == before

    first = agent.download_link(request_id)
    time.sleep(1.1)  # SigV4 signs to the second: a later link must differ
    second = compliance.download_link(request_id)

    assert first["downloadUrl"] != second["downloadUrl"] and first["linkId"] != second["linkId"]
    query = parse_qs(urlparse(second["downloadUrl"]).query)
    assert query["X-Amz-Expires"] == ["900"] and query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert second["expiresAt"] > first["expiresAt"]
    assert _download(first["downloadUrl"])[0] == _download(second["downloadUrl"])[0]
    issued = [e for e in audit_entries(stack, request_id)[before:]]
    assert [(e.event_type, e.actor, e.details["issuedTo"]) for e in issued] == [
        ("DOWNLOAD_LINK_ISSUED", "alice", "alice"),
        ("DOWNLOAD_LINK_ISSUED", "carol", "carol"),
    ]
    assert [e.details["linkId"] for e in issued] == [first["linkId"], second["linkId"]]
    assert issued[1].details["groups"] == ["compliance"]
    assert issued[1].details["expiresAt"] == second["expiresAt"]

    # Another agent, an export job, or any request that has no file: refused, nothing audited.
    refusals = [
        (ApiClient(stack.api_url, "dev:bob:agent"), request_id, 403),
        (ApiClient(stack.api_url, "dev:job:export-job"), request_id, 403),
        (agent, run_request(agent, record["customerId"], "CEASE_MARKETING")["requestId"], 409),
        (agent, "R-nobody", 404),
    ]
    count = len(audit_entries(stack, request_id))
    for caller, target, status in refusals:
        with pytest.raises(ApiError) as error:
            caller.download_link(target)
        assert error.value.status == status, (target, status)
    assert len(audit_entries(stack, request_id)) == count


def test_a_crash_after_the_file_was_recorded_reuses_it_and_audits_once(stack, agent, monkeypatch):
    record = _member(stack)
    real_call = botocore.client.BaseClient._make_api_call
    crashed = []

    def crash_once(self, operation, params):
        if (
            operation == "TransactWriteItems"
            and not crashed
            and "EXPORT_FILE_PRODUCED" in json.dumps(params, default=str)
        ):
            crashed.append(operation)
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "InternalServerError", "Message": "simulated crash"}},
                operation,
            )
        return real_call(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", crash_once)
    done = _export(agent, record["customerId"])

    assert crashed and done["status"] == "COMPLETED"
    versions = stack.client("s3").list_object_versions(
        Bucket=stack.env["EXPORTS_BUCKET"], Prefix=f"exports/{done['requestId']}"
    )["Versions"]
    assert len(versions) == 1, "the retry wrote the file again"
    events = [e.event_type for e in audit_entries(stack, done["requestId"])]
    assert events.count("EXPORT_FILE_PRODUCED") == 1 and events.count("APPLIED") == 1
    body, _ = _download(_link(agent, done))
    assert hashlib.sha256(body).hexdigest() == done["result"]["sha256"]


def test_export_needs_an_agent_and_a_known_member(stack, agent, compliance):
    with pytest.raises(ApiError) as unknown:
        agent.submit("C-nobody", {"type": "EXPORT", "identityVerified": True})
    assert unknown.value.status == 404
    record = _member(stack)
    with pytest.raises(ApiError) as forbidden:
        compliance.submit(record["customerId"], {"type": "EXPORT", "identityVerified": True})
    assert forbidden.value.status == 403
    with pytest.raises(ApiError) as unverified:
        agent.submit(record["customerId"], {"type": "EXPORT", "identityVerified": False})
    assert unverified.value.status == 400
    waiting = agent.submit(record["customerId"], {"type": "EXPORT", "identityVerified": True})
    assert "result" not in agent.request(waiting["requestId"])
    with pytest.raises(ApiError) as twice:
        agent.submit(
            record["customerId"], {"type": "EXPORT", "identityVerified": True, "reason": "again"}
        )
    assert twice.value.status == 409
    agent.cancel(waiting["requestId"])
    assert wait_for(agent, waiting["requestId"])["status"] == "CANCELLED"


def test_privacyctl_exports_and_prints_the_link(stack, capsys):
    record = _member(stack)
    argv = ["--api", stack.api_url, "--token", "dev:alice:agent", "export", record["customerId"]]
    code = privacyctl([*argv, "--identity-verified", "--yes"], ask=lambda question: False)
    out = capsys.readouterr().out
    assert code == 0 and "COMPLETED (Export Processing - Completed)" in out
    link = re.search(r"download \(until \S+\): (\S+)", out)
    assert link is not None
    _, rows = _download(link.group(1))
    # Never ceased: no privacy-status item is kept for them, so none is exported.
    assert {r["category"] for r in rows} == EVERY_CATEGORY - {"privacyStatus"}
