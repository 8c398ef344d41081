"""Audit entries are append-only: no function code updates or deletes one (checked in the source
and at run time over a full demo run), and no entry holds a name, e-mail or phone."""

from __future__ import annotations

import ast
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import botocore.client
import pytest

from functions.audit.handler import deadline_check
from functions.audit.service import check_deadlines
from tests.integration.conftest import personal_values, run_request

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
MUTATIONS = {"update", "delete", "update_item", "delete_item", "batch_write_item", "remove"}


def audit_mutations(source: str) -> list[str]:
    """Calls that update or delete, on anything named like the audit table or its entries
    (the receiver, or the item handed to a transaction or batch)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in MUTATIONS:
            continue
        touched = [node.func.value, *node.args, *(k.value for k in node.keywords)]
        if any("audit" in ast.unparse(part).lower() for part in touched):
            found.append(ast.unparse(node))
    return found


def test_the_source_check_finds_what_it_looks_for():
    bad = (
        "t.audit(entry_id).delete()\n"
        "tw.update(t.audit(x), actions=[])\n"
        "client.delete_item(TableName=settings.audit_table, Key=k)\n"
        "batch.delete(self._audit_model(k))\n"
        "t.requests(r).update(actions=[])\n"
    )
    assert len(audit_mutations(bad)) == 4


def test_no_function_code_updates_or_deletes_an_audit_entry():
    offenders = {
        str(path.relative_to(FUNCTIONS)): calls
        for path in FUNCTIONS.rglob("*.py")
        if (calls := audit_mutations(path.read_text()))
    }
    assert offenders == {}


@pytest.fixture
def audit_writes(stack, monkeypatch):
    """Every DynamoDB call of this process that writes to the audit table."""
    table = stack.env["AUDIT_TABLE"]
    writes: list[tuple[str, dict]] = []
    real_call = botocore.client.BaseClient._make_api_call

    def record(self, operation, params):
        if self.meta.service_model.service_name == "dynamodb":
            if operation == "TransactWriteItems":
                for item in params["TransactItems"]:
                    ((kind, op),) = item.items()
                    if op["TableName"] == table:
                        writes.append((kind, op))
            elif operation == "BatchWriteItem" and table in params["RequestItems"]:
                writes.extend(("Batch", r) for r in params["RequestItems"][table])
            elif params.get("TableName") == table and operation not in ("Query", "Scan"):
                writes.append((operation, params))
        return real_call(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", record)
    return writes


def test_a_full_run_only_appends_and_keeps_no_personal_data(
    stack, agent, compliance, new_customer, audit_writes
):
    people = [new_customer(template) for template in ("C-1001", "C-1006", "C-1009")]
    (ceased_id, _), (forgotten_id, _), (open_id, _) = people
    run_request(agent, ceased_id, "CEASE_MARKETING")
    run_request(agent, ceased_id, "RESUME_MARKETING")
    cancelled = agent.submit(ceased_id, {"type": "CEASE_MARKETING", "identityVerified": True})
    agent.cancel(cancelled["requestId"])
    run_request(agent, forgotten_id, "FORGET")
    agent.submit(open_id, {"type": "CEASE_MARKETING", "identityVerified": True})
    check_deadlines(deadline_check.dependencies(), 7, now=datetime.now(UTC) + timedelta(days=40))
    stack.client("lambda").invoke(FunctionName=stack.function_arns["AuditDigest"], Payload=b"{}")
    compliance.audit({"customerId": forgotten_id})
    assert compliance.audit_verify()["intact"]

    assert audit_writes, "the recorder saw no audit writes"
    kinds = {kind for kind, _ in audit_writes}
    assert kinds == {"Put"}, kinds
    for _, op in audit_writes:
        assert op["ConditionExpression"].startswith("attribute_not_exists"), op

    entries = json.dumps(stack.client("dynamodb").scan(TableName=stack.env["AUDIT_TABLE"])["Items"])
    for _, record in people:
        for value in personal_values(record):
            assert value not in entries, "personal data in the audit trail"
