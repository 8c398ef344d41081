"""FORGET end to end: all erased, the person kept out by keyed hashes, accountability kept."""

from __future__ import annotations

import json
import uuid
from typing import Any

import botocore.client
import pytest

from functions.shared.identifiers import IdentifierKind, normalise_email, normalise_phone
from functions.shared.keys import load_hasher
from functions.shared.models import CustomerItem, bind
from functions.shared.settings import HashingSettings
from privacyctl.client import ApiError
from tests.integration.conftest import (
    audit_entries,
    demo_record,
    run_request,
    suppression_entries,
    wait_for,
)
from tests.integration.test_cease_resume import _hasher

EVENTS = ["SUBMITTED", "CONFIRMED", "KEPT_OUT", "APPLIED", "COMPLETED"]


def _family(stack) -> dict[str, dict[str, Any]]:
    """parent -> child-a, child-b; child-a -> grandchild. Fresh ids and identifiers per test."""
    tag = uuid.uuid4().hex[:8]
    ids = {name: f"T-{name}-{tag}" for name in ("parent", "child-a", "child-b", "grandchild")}
    records = {}
    for i, (name, template) in enumerate(
        zip(ids, ("C-1001", "C-1002", "C-1003", "C-1004"), strict=True)
    ):
        record = demo_record(template)
        record["customerId"] = ids[name]
        record["profile"]["email"] = f" {name.title()}.{tag}@Example.com "
        # Unique per family and member: a number shared across tests would be suppressed by both.
        record["profile"]["phone"] = f"+44 20 {int(tag, 16) % 10**7:07d}{i}"
        record["profile"]["lastName"] = f"Surname-{name}-{tag}"
        record["profile"]["externalIds"] = {"crm": f"CRM-{name}-{tag}", "pos": f"POS-{name}-{tag}"}
        record["relations"] = []
        records[name] = record

    def relate(parent: str, child: str, kind: str = "parent-child") -> None:
        records[parent]["relations"].append(
            {"type": kind, "role": "parent", "customerId": ids[child]}
        )
        records[child]["relations"].append(
            {"type": kind, "role": "child", "customerId": ids[parent]}
        )

    relate("parent", "child-a")
    relate("parent", "child-b")
    relate("child-a", "grandchild")
    stack.seed(list(records.values()))
    return records


def _personal_values(record: dict[str, Any]) -> list[str]:
    profile = record["profile"]
    return [
        record["customerId"],
        profile["email"].strip(),
        normalise_email(profile["email"]),
        profile["phone"],
        normalise_phone(profile["phone"]),
        profile["lastName"],
        *profile["externalIds"].values(),
    ]


def _everything_stored(stack) -> str:
    """Every item of every table and every version of every S3 object, as one text."""
    dynamodb, s3 = stack.client("dynamodb"), stack.client("s3")
    parts = []
    for table in dynamodb.list_tables()["TableNames"]:
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            parts.append(json.dumps(page["Items"]))
    for bucket in s3.list_buckets()["Buckets"]:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket["Name"]):
            for version in page.get("Versions", []):
                body = s3.get_object(
                    Bucket=bucket["Name"], Key=version["Key"], VersionId=version["VersionId"]
                )["Body"].read()
                parts.append(version["Key"] + body.decode(errors="replace"))
    return "\n".join(parts)


def _put_export(stack, request_id: str, record: dict[str, Any]) -> None:
    s3 = stack.client("s3")
    for _ in range(2):  # two versions: both must go
        s3.put_object(
            Bucket=stack.env["EXPORTS_BUCKET"],
            Key=f"exports/{request_id}/export.csv",
            Body=f"profile,email,{record['profile']['email']}\n".encode(),
        )


def _forget(agent, customer_id: str, cascade: bool = False) -> dict[str, Any]:
    submitted = agent.submit(
        customer_id,
        {"type": "FORGET", "identityVerified": True, "cascade": cascade, "reason": "by letter"},
    )
    agent.confirm(submitted["requestId"])
    return wait_for(agent, submitted["requestId"])


def test_forget_erases_everything_and_keeps_them_out(stack, agent):
    family = _family(stack)
    parent = family["parent"]
    customer_id = parent["customerId"]
    earlier = run_request(agent, customer_id, "CEASE_MARKETING")
    _put_export(stack, earlier["requestId"], parent)
    assert any(v in _everything_stored(stack) for v in _personal_values(parent))

    forgotten = _forget(agent, customer_id)

    assert forgotten["status"] == "COMPLETED"
    assert forgotten["statusText"] == "Forget Processing - Completed"
    assert forgotten["customerId"].startswith("forgotten:") and "reason" not in forgotten
    assert agent.privacy(customer_id) == {
        "customerId": customer_id,
        "privacyStatus": "FORGOTTEN",
        "currentDataPrivacyStatus": "Forget Processing - Completed",
    }
    assert not any(agent.permissions(customer_id)["permissions"].values())
    for request_type in ("CEASE_MARKETING", "FORGET"):
        with pytest.raises(ApiError) as error:
            agent.submit(customer_id, {"type": request_type, "identityVerified": True})
        assert error.value.status == 409 and "forgotten" in error.value.message

    stored = _everything_stored(stack)
    for value in _personal_values(parent):
        assert value not in stored, "personal data survived the forget"

    hasher = _hasher()
    subject = hasher.customer(customer_id)
    mine = [e for e in suppression_entries(stack) if e.subject_hash == subject]
    assert {e.reason for e in mine} == {"FORGOTTEN"}
    assert {e.identifier_hash for e in mine} == {
        hasher.hash(IdentifierKind.CUSTOMER_ID, customer_id),
        hasher.hash(IdentifierKind.EMAIL, parent["profile"]["email"]),
        hasher.hash(IdentifierKind.PHONE, parent["profile"]["phone"]),
    }

    # Without cascade the children stay, minus their relation to the forgotten parent.
    children = bind(CustomerItem, stack.env["CUSTOMERS_TABLE"])
    child = {i.sk for i in children.query(family["child-a"]["customerId"])}
    assert "PROFILE" in child
    assert not any(customer_id in sk for sk in child)
    assert any(family["grandchild"]["customerId"] in sk for sk in child)

    entries = audit_entries(stack, forgotten["requestId"])
    assert [e.event_type for e in entries] == EVENTS
    erased = entries[3].details.as_dict()["erased"]
    assert erased == {
        "profile": 1,
        "privacyStatus": 1,
        "loyalty": 1,
        "activity": len(parent["activity"]),
        "consents": len(parent["consents"]),
        "relations": 2,
        "metrics": len(parent["metrics"]),
        "offers": len(parent["wallet"]),
        "openRequestMarkers": 1,
        "exportFiles": 2,
    }


def test_cascade_forgets_children_but_not_their_children(stack, agent):
    family = _family(stack)
    ids = {name: r["customerId"] for name, r in family.items()}

    forgotten = _forget(agent, ids["parent"], cascade=True)

    assert forgotten["status"] == "COMPLETED"
    for name in ("parent", "child-a", "child-b"):
        assert agent.privacy(ids[name])["privacyStatus"] == "FORGOTTEN", name
    grandchild = agent.privacy(ids["grandchild"])
    assert grandchild["privacyStatus"] == "ACTIVE" and grandchild["consents"]
    stored = _everything_stored(stack)
    for name in ("parent", "child-a", "child-b"):
        for value in _personal_values(family[name]):
            assert value not in stored, f"{name}'s data survived"
    kept = family["grandchild"]
    for value in (kept["customerId"], kept["profile"]["email"], kept["profile"]["lastName"]):
        assert value in stored, "the grandchild must not be touched"

    hasher = _hasher()
    entries = audit_entries(stack, forgotten["requestId"])
    cascaded = [e for e in entries if e.event_type == "FORGOTTEN_BY_CASCADE"]
    assert {e.customer_hash for e in cascaded} == {
        hasher.customer(ids["child-a"]),
        hasher.customer(ids["child-b"]),
    }
    applied = next(e for e in entries if e.event_type == "APPLIED").details.as_dict()
    assert {c["customerHash"] for c in applied["cascaded"]} == {
        hasher.customer(ids["child-a"]),
        hasher.customer(ids["child-b"]),
    }
    assert all(c["relationType"] == "parent-child" for c in applied["cascaded"])


def test_erasure_interrupted_half_way_resumes_and_audits_once(stack, agent, monkeypatch):
    family = _family(stack)
    parent = family["parent"]
    parent["activity"] = [
        {"id": f"X{i}", "at": f"2026-05-01T00:00:{i % 60:02d}Z", "type": "purchase", "amount": i}
        for i in range(300)
    ]
    stack.seed([parent])
    customer_id = parent["customerId"]
    customers = bind(CustomerItem, stack.env["CUSTOMERS_TABLE"])
    activity = sum(i.sk.startswith("ACTIVITY#") for i in customers.query(customer_id))
    assert activity > 300
    batch_writes = []
    real_call = botocore.client.BaseClient._make_api_call

    def fail_once_half_way(self, operation, params):
        if operation == "BatchWriteItem" and self.meta.service_model.service_name == "dynamodb":
            batch_writes.append(operation)
            if len(batch_writes) == 6:
                raise botocore.exceptions.ClientError(
                    {"Error": {"Code": "InternalServerError", "Message": "simulated crash"}},
                    operation,
                )
        return real_call(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", fail_once_half_way)
    forgotten = _forget(agent, customer_id)

    assert len(batch_writes) > 6, "the fault never fired"
    assert forgotten["status"] == "COMPLETED"
    entries = audit_entries(stack, forgotten["requestId"])
    assert [e.event_type for e in entries] == EVENTS
    sfn = stack.client("stepfunctions")
    execution = stack.state_machine_arn.replace(":stateMachine:", ":execution:")
    history = sfn.get_execution_history(executionArn=f"{execution}:{forgotten['requestId']}")
    failed = [e for e in history["events"] if e["type"] == "TaskFailed"]
    assert [e["taskFailedEventDetails"]["error"] for e in failed] == ["TransientError"]
    # The counts are those planned before the crash, not what was left after it.
    assert entries[3].details.as_dict()["erased"]["activity"] == activity
    assert not list(customers.query(customer_id))


def test_forget_deletes_with_batches_not_item_by_item(stack, agent, monkeypatch):
    family = _family(stack)
    parent = family["parent"]
    parent["activity"] = [
        {"id": f"Y{i}", "at": f"2026-06-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z", "amount": i}
        for i in range(1000)
    ]
    stack.seed([parent])
    calls: list[str] = []
    real_call = botocore.client.BaseClient._make_api_call

    def count(self, operation, params):
        if self.meta.service_model.service_name == "dynamodb":
            calls.append(operation)
        return real_call(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", count)
    _forget(agent, parent["customerId"])

    items = 1000 + 12
    assert calls.count("BatchWriteItem") <= items // 25 + 4
    assert calls.count("DeleteItem") <= 3  # relations removed from the two children
    # GetItem left out: the test's own polling of the request adds a timing-dependent number.
    # The +10: the audit chain head and the jurisdiction are read per change.
    assert len([c for c in calls if c != "GetItem"]) < items // 10 + 10


def test_forget_needs_a_known_customer_and_an_agent(stack, agent, new_customer):
    with pytest.raises(ApiError) as unknown:
        agent.submit("C-nobody", {"type": "FORGET", "identityVerified": True})
    assert unknown.value.status == 404
    customer_id, _ = new_customer()
    from privacyctl.client import ApiClient

    compliance = ApiClient(stack.api_url, "dev:carol:compliance")
    with pytest.raises(ApiError) as forbidden:
        compliance.submit(customer_id, {"type": "FORGET", "identityVerified": True})
    assert forbidden.value.status == 403
    assert agent.privacy(customer_id)["privacyStatus"] == "ACTIVE"


def test_key_is_read_from_ssm_not_code(stack):
    hasher = load_hasher(HashingSettings.from_env())
    assert hasher.customer("x") == _hasher().customer("x")
