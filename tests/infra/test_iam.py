"""Least privilege, checked on the synthesized policies: who may touch which table with what.

The audit trail is append-only for every role in the stack. The API deletes only what its code
deletes: the customer's open-request marker when a request ends (inside the state-change
transaction) and Powertools' own idempotency records; never a request, an audit entry or a
suppression entry."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from typing import Any

import pytest

from infra.cdk.access import ACCESS
from infra.cdk.lambdas import reads_hmac_key
from infra.functions import API, FUNCTIONS
from tests.infra.conftest import Synth

# One synthesized app, one build directory: every infra test runs in one xdist worker.
pytestmark = pytest.mark.xdist_group("infra")

TRANSACTION_ONLY = {"StringEquals": {"dynamodb:EnclosingOperation": "TransactWriteItems"}}
# Every action that can change or remove an existing item.
ITEM_CHANGES = (
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _grants(statement: dict[str, Any], action: str) -> bool:
    return any(fnmatchcase(action.lower(), a.lower()) for a in _listed(statement["Action"]))


def _touches(statement: dict[str, Any], logical_id: str) -> bool:
    resources = _listed(statement["Resource"])
    return any(r == "*" or logical_id in json.dumps(r) for r in resources)


def _all_statements(synth: Synth) -> dict[str, list[dict[str, Any]]]:
    """Every Allow statement of every identity policy in the stack, by role: the role's default
    policy and, once that passes IAM's size limit, the overflow managed policies CDK adds (the
    API's role has one)."""
    by_role: dict[str, list[dict[str, Any]]] = {}
    policies = [
        *synth.of_type("AWS::IAM::Policy").values(),
        *synth.of_type("AWS::IAM::ManagedPolicy").values(),
    ]
    for policy in policies:
        for role in policy["Properties"].get("Roles", []):
            by_role.setdefault(role["Ref"], []).extend(
                policy["Properties"]["PolicyDocument"]["Statement"]
            )
    for role_id, role in synth.of_type("AWS::IAM::Role").items():
        for inline in role["Properties"].get("Policies", []):
            by_role.setdefault(role_id, []).extend(inline["PolicyDocument"]["Statement"])
    return {
        role: [s for s in statements if s["Effect"] == "Allow"]
        for role, statements in by_role.items()
    }


def _function_statements(synth: Synth, name: str) -> list[dict[str, Any]]:
    role_id = synth.function(name)[1]["Properties"]["Role"]["Fn::GetAtt"][0]
    return _all_statements(synth)[role_id]


def test_no_role_may_update_or_delete_audit_entries(synth: Synth) -> None:
    audit_id, _ = synth.table("audit")
    for role, statements in _all_statements(synth).items():
        for statement in statements:
            for action in ITEM_CHANGES:
                assert not (_grants(statement, action) and _touches(statement, audit_id)), (
                    role,
                    action,
                )


def test_audit_entries_are_written_only_inside_the_state_change_transaction(
    synth: Synth,
) -> None:
    audit_id, _ = synth.table("audit")
    writers = 0
    for statements in _all_statements(synth).values():
        for statement in statements:
            if _touches(statement, audit_id) and _grants(statement, "dynamodb:PutItem"):
                assert statement["Action"] == "dynamodb:PutItem"
                assert statement.get("Condition") == TRANSACTION_ONLY
                writers += 1
    assert writers >= 1


def test_api_deletes_no_request_audit_or_suppression_entry(synth: Synth) -> None:
    statements = _function_statements(synth, API.name)
    deleting = [s for s in statements if _grants(s, "dynamodb:DeleteItem")]
    for suffix in ("requests", "audit"):
        table_id, _ = synth.table(suffix)
        assert not [s for s in deleting if _touches(s, table_id)], suffix
    customers_id, _ = synth.table("customers")
    suppression_id, _ = synth.table("suppression")
    idempotency_id, _ = synth.table("idempotency")
    for statement in deleting:
        targets = [_touches(statement, t) for t in (customers_id, suppression_id, idempotency_id)]
        assert sorted(targets) == [False, False, True], statement
        if not _touches(statement, idempotency_id):
            # Only the open-request marker, released by the transaction that ends a request,
            # and a topic opt-out lifted by the transaction of the opt-in that ends it.
            assert statement["Condition"] == TRANSACTION_ONLY


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_function_policies_name_their_resources(synth: Synth, spec: Any) -> None:
    for statement in _function_statements(synth, spec.name):
        assert "*" not in _listed(statement["Resource"]), statement
        assert not any("*" in action for action in _listed(statement["Action"])), statement


def test_workflow_and_event_permissions_go_only_where_used(synth: Synth) -> None:
    machine_id, _ = synth.state_machine()
    split_id, _ = synth.state_machine("audience-split")
    campaigns_id, _ = synth.state_machine("repermission-campaign")
    (bus_id,) = synth.of_type("AWS::Events::EventBus")
    machine_name = synth.resources[machine_id]["Properties"]["StateMachineName"]
    for spec in FUNCTIONS:
        statements = _function_statements(synth, spec.name)
        access = ACCESS[spec.name]
        starts = [s for s in statements if _grants(s, "states:StartExecution")]
        start = [s for s in starts if s["Resource"] == {"Ref": machine_id}]
        start_split = [s for s in starts if s["Resource"] == {"Ref": split_id}]
        start_campaign = [s for s in starts if s["Resource"] == {"Ref": campaigns_id}]
        assert len(start) + len(start_split) + len(start_campaign) == len(starts), starts
        assert bool(start_split) == access.starts_audience_split
        assert bool(start_campaign) == access.start_campaigns
        answer = [s for s in statements if _grants(s, "states:SendTaskSuccess")]
        put = [s for s in statements if _grants(s, "events:PutEvents")]
        assert bool(start) == access.start_execution
        assert bool(answer) == access.answer_tasks
        assert bool(put) == access.put_events
        assert all(machine_name in json.dumps(s["Resource"]) for s in answer)
        assert all(s["Resource"] == {"Fn::GetAtt": [bus_id, "Arn"]} for s in put)


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_function_reads_the_hmac_key_and_nothing_else_of_ssm(synth: Synth, spec: Any) -> None:
    (secret_id,) = synth.of_type("AWS::SecretsManager::Secret")
    variables = synth.function(spec.name)[1]["Properties"]["Environment"]["Variables"]
    statements = _function_statements(synth, spec.name)
    if not reads_hmac_key(spec):  # e.g. the audit digest: it hashes nobody
        assert "HMAC_KEY_PARAMETER" not in variables
        assert not [s for s in statements if _grants(s, "ssm:GetParameter")]
        assert not [s for s in statements if _grants(s, "secretsmanager:GetSecretValue")]
        return
    parameter = variables["HMAC_KEY_PARAMETER"]
    ssm = [s for s in statements if any(a.startswith("ssm:") for a in _listed(s["Action"]))]
    assert [s["Action"] for s in ssm] == ["ssm:GetParameter"]
    assert json.dumps(ssm[0]["Resource"]).endswith(f':parameter{parameter}"]]}}')
    secrets = [s for s in statements if _grants(s, "secretsmanager:GetSecretValue")]
    assert [s["Resource"] for s in secrets] == [{"Ref": secret_id}]


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_the_audit_key_keys_entries_for_writers_and_verifies_for_the_api_alone(
    synth: Synth, spec: Any
) -> None:
    """No role may export or otherwise use the chain's HMAC key: writers generate MACs, the API
    (GET /audit/verify) also verifies them, and the key itself never leaves KMS."""
    keys = [
        (k, r)
        for k, r in synth.of_type("AWS::KMS::Key").items()
        if r["Properties"].get("KeySpec") == "HMAC_256"
    ]
    (key_id, key), *others = keys
    assert not others and key["Properties"]["KeyUsage"] == "GENERATE_VERIFY_MAC"
    variables = synth.function(spec.name)[1]["Properties"]["Environment"]["Variables"]
    touching = [s for s in _function_statements(synth, spec.name) if _touches(s, key_id)]
    actions = sorted(a for s in touching for a in _listed(s["Action"]))
    if "AUDIT_KEY_ID" not in variables:
        assert actions == []
        return
    assert actions == sorted(["kms:GenerateMac", *(["kms:VerifyMac"] if spec is API else [])]), (
        actions
    )


# Issue 16: only what writes clean files signs their receipts; the API hands out the public key.
RECEIPT_SIGNERS = {"AudienceFilter", "AudienceCombine"}


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_the_receipt_key_signs_for_the_screening_functions_alone(synth: Synth, spec: Any) -> None:
    """An asymmetric key (ECC_NIST_P256, SIGN_VERIFY): kms:Sign for the functions that write
    clean files, kms:GetPublicKey for the API, nothing else for anyone."""
    keys = [
        (k, r)
        for k, r in synth.of_type("AWS::KMS::Key").items()
        if r["Properties"].get("KeySpec") == "ECC_NIST_P256"
    ]
    (key_id, key), *others = keys
    assert not others and key["Properties"]["KeyUsage"] == "SIGN_VERIFY"
    touching = [s for s in _function_statements(synth, spec.name) if _touches(s, key_id)]
    actions = sorted(a for s in touching for a in _listed(s["Action"]))
    variables = synth.function(spec.name)[1]["Properties"]["Environment"]["Variables"]
    if spec.name in RECEIPT_SIGNERS:
        assert actions == ["kms:Sign"] and "RECEIPT_KEY_ID" in variables
    elif spec is API:
        assert actions == ["kms:GetPublicKey"] and "RECEIPT_KEY_ID" in variables
    else:
        assert actions == [] and "RECEIPT_KEY_ID" not in variables


def test_no_role_may_delete_rewrite_or_unlock_a_digest(synth: Synth) -> None:
    """The digest bucket is written by the digest function alone, with PutObject (and its own
    retention); nobody may delete a version, shorten a lock or bypass it."""
    forbidden = (
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        "s3:PutObjectRetention",
        "s3:BypassGovernanceRetention",
        "s3:PutBucketObjectLockConfiguration",
        "s3:PutLifecycleConfiguration",
    )
    writers = set()
    for role, statements in _all_statements(synth).items():
        for statement in statements:
            if "-audit-digests-" not in json.dumps(statement["Resource"]):
                continue
            for action in forbidden:
                assert not _grants(statement, action), (role, action)
            if _grants(statement, "s3:PutObject"):
                writers.add(role)
    digest_role = synth.function("AuditDigest")[1]["Properties"]["Role"]["Fn::GetAtt"][0]
    assert writers == {digest_role}
