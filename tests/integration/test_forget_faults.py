"""FORGET under faults on the local stack (issue 15): the keep-out transaction fails, the Nth
batch write of a cascade fails, an invocation times out. Each time everyone planned answers
FORGOTTEN at once and is dropped by the audience filter, `privacyctl retry` (where the request
ended FAILED) finishes the job, each audit entry exists once, and nothing of anyone planned is
stored anywhere."""

from __future__ import annotations

from collections import Counter
from typing import Any

import botocore.client
import botocore.exceptions
import pytest

from functions.forget import handler as forget_handler
from functions.forget import service as forget_service
from functions.shared.identifiers import IdentifierKind
from functions.shared.models import CustomerItem, SuppressionItem, bind
from functions.shared.suppression import SuppressionRepository
from functions.shared.suppression_reasons import screening_reasons
from infra.local import dispatch
from privacyctl.cli import main as privacyctl
from privacyctl.client import ApiError
from tests.integration.conftest import audit_entries, wait_for
from tests.integration.test_cease_resume import _hasher
from tests.integration.test_forget import _everything_stored, _family, _personal_values

PLANNED = ("parent", "child-a", "child-b")


def _submit_and_confirm(agent, customer_id: str, cascade: bool = True) -> str:
    body = {"type": "FORGET", "identityVerified": True, "cascade": cascade, "reason": "by letter"}
    request_id = agent.submit(customer_id, body)["requestId"]
    agent.confirm(request_id)
    return request_id


def _kept_out(stack, agent, record: dict[str, Any]) -> None:
    """FORGOTTEN for permissions and privacy, 409 for a new request, and in the suppression
    snapshot the audience filter screens with (a strongly consistent scan: at once)."""
    customer_id = record["customerId"]
    assert agent.privacy(customer_id)["privacyStatus"] == "FORGOTTEN", customer_id
    permissions = agent.permissions(customer_id)
    assert permissions["privacyStatus"] == "FORGOTTEN"
    assert not any(permissions["permissions"].values())
    with pytest.raises(ApiError) as refused:
        agent.submit(customer_id, {"type": "CEASE_MARKETING", "identityVerified": True})
    assert refused.value.status == 409
    hasher = _hasher()
    snapshot = SuppressionRepository(
        bind(SuppressionItem, stack.env["SUPPRESSION_TABLE"])
    ).snapshot(screening_reasons(None))
    for kind, value in (
        (IdentifierKind.CUSTOMER_ID, customer_id),
        (IdentifierKind.EMAIL, record["profile"]["email"]),
        (IdentifierKind.PHONE, record["profile"]["phone"]),
    ):
        assert snapshot.get(bytes.fromhex(hasher.hash(kind, value))) == "FORGOTTEN", kind


def _no_clear_id_on(request: dict[str, Any], *records: dict[str, Any]) -> None:
    text = str(request)
    assert request["customerId"].startswith("forgotten:") and "reason" not in request
    for record in records:
        assert record["customerId"] not in text


def _retry(stack, request_id: str, capsys) -> dict[str, Any]:
    code = privacyctl(
        ["--api", stack.api_url, "--token", "dev:carol:compliance", "retry", request_id]
    )
    assert code == 0, capsys.readouterr()
    return wait_for_api(stack, request_id)


def wait_for_api(stack, request_id: str) -> dict[str, Any]:
    from privacyctl.client import ApiClient

    return wait_for(ApiClient(stack.api_url, "dev:alice:agent"), request_id, timeout=60)


def _finished(stack, family, request_id: str, events: list[str], cascaded_count: int) -> None:
    stored = _everything_stored(stack)
    for name in PLANNED[: 1 + cascaded_count]:
        for value in _personal_values(family[name]):
            assert value not in stored, f"{name}'s data survived"
    kept = family["grandchild"]
    assert kept["customerId"] in stored and kept["profile"]["lastName"] in stored
    entries = audit_entries(stack, request_id)
    per_subject = Counter((e.event_type, e.customer_hash) for e in entries)
    assert all(n == 1 for n in per_subject.values()), per_subject
    counts = Counter(e.event_type for e in entries)
    hasher = _hasher()
    cascaded = {e.customer_hash for e in entries if e.event_type == "FORGOTTEN_BY_CASCADE"}
    assert cascaded == {
        hasher.customer(family[n]["customerId"]) for n in PLANNED[1 : 1 + cascaded_count]
    }
    assert len(cascaded) == cascaded_count
    assert [e for e in events if counts[e] != 1] == []


def test_the_keep_out_transaction_fails(stack, agent, monkeypatch, capsys):
    family = _family(stack)
    parent = family["parent"]
    real = forget_service.keep_out
    attempts = []

    def failing(request, deps):  # every attempt of the Apply step; the pre-failure step works
        attempts.append(request.request_id)
        raise botocore.exceptions.ClientError(
            {"Error": {"Code": "InternalServerError", "Message": "simulated"}},
            "TransactWriteItems",
        )

    monkeypatch.setattr(forget_service, "keep_out", failing)
    request_id = _submit_and_confirm(agent, parent["customerId"])
    failed = wait_for(agent, request_id, timeout=60)
    monkeypatch.setattr(forget_service, "keep_out", real)

    assert failed["status"] == "FAILED" and len(attempts) > 1
    _no_clear_id_on(failed, *(family[n] for n in PLANNED))
    for name in PLANNED:
        _kept_out(stack, agent, family[name])
    customers = bind(CustomerItem, stack.env["CUSTOMERS_TABLE"])
    assert list(customers.query(parent["customerId"])), "nothing may be erased before it"

    done = _retry(stack, request_id, capsys)
    assert done["status"] == "COMPLETED"
    _finished(stack, family, request_id, ["KEPT_OUT", "FAILED", "RETRIED", "APPLIED"], 2)


def test_the_nth_batch_write_of_a_cascade_fails(stack, agent, monkeypatch, capsys):
    family = _family(stack)
    parent = family["parent"]
    parent["activity"] = [
        {"id": f"N{i}", "at": f"2026-05-02T00:00:{i % 60:02d}Z", "amount": i} for i in range(300)
    ]
    stack.seed([parent])
    batch_writes = []
    broken = {"on": True}
    real_call = botocore.client.BaseClient._make_api_call

    def fail_from_the_6th(self, operation, params):
        dynamodb = self.meta.service_model.service_name == "dynamodb"
        if dynamodb and operation == "BatchWriteItem" and broken["on"]:
            batch_writes.append(operation)
            if len(batch_writes) >= 6:
                raise botocore.exceptions.ClientError(
                    {"Error": {"Code": "InternalServerError", "Message": "simulated"}}, operation
                )
        return real_call(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", fail_from_the_6th)
    request_id = _submit_and_confirm(agent, parent["customerId"])
    failed = wait_for(agent, request_id, timeout=60)
    broken["on"] = False

    assert failed["status"] == "FAILED"
    _no_clear_id_on(failed, *(family[n] for n in PLANNED))
    for name in PLANNED:
        _kept_out(stack, agent, family[name])

    done = _retry(stack, request_id, capsys)
    assert done["status"] == "COMPLETED"
    _finished(stack, family, request_id, ["KEPT_OUT", "FAILED", "RETRIED", "APPLIED"], 2)
    # The counts are the plan's, made before the first batch went.
    applied = next(e for e in audit_entries(stack, request_id) if e.event_type == "APPLIED")
    assert applied.details.as_dict()["erased"]["activity"] >= 300


def test_an_invocation_times_out(stack, agent, monkeypatch):
    family = _family(stack)
    parent = family["parent"]
    parent["activity"] = [
        {"id": f"T{i}", "at": f"2026-05-03T00:00:{i % 60:02d}Z", "amount": i} for i in range(300)
    ]
    stack.seed([parent])
    # Small chunks: the erasure takes several invocations of the loop.
    monkeypatch.setattr(forget_handler.handler.dependencies(), "erasure_batches", 2)
    invocations = []
    seen_meanwhile = []

    def time_out(function_name: str, payload: dict) -> None:
        if not function_name.endswith("-Forget") or payload.get("failing"):
            return
        invocations.append(payload)
        if len(invocations) == 3:
            # The chunk runs, then Lambda kills the invocation: its answer is lost.
            dispatch.resolve("functions.forget.handler.handler")(payload, _Context())
            seen_meanwhile.append(agent.permissions(parent["customerId"]))
            raise LambdaTimeout("Task timed out after 300.00 seconds")

    dispatch.add_fault(time_out)
    try:
        request_id = _submit_and_confirm(agent, parent["customerId"], cascade=False)
        done = wait_for(agent, request_id, timeout=60)
    finally:
        dispatch.remove_fault(time_out)

    assert done["status"] == "COMPLETED"
    assert seen_meanwhile and seen_meanwhile[0]["privacyStatus"] == "FORGOTTEN"
    assert not any(seen_meanwhile[0]["permissions"].values())
    assert len(invocations) > 4, "the erasure went in one invocation"
    sfn = stack.client("stepfunctions")
    execution = stack.state_machine_arn.replace(":stateMachine:", ":execution:")
    history = sfn.get_execution_history(executionArn=f"{execution}:{request_id}", maxResults=1000)
    failed = [
        e["taskFailedEventDetails"]["error"] for e in history["events"] if e["type"] == "TaskFailed"
    ]
    assert failed == ["Sandbox.Timedout"]
    _finished(stack, family, request_id, ["KEPT_OUT", "APPLIED", "COMPLETED"], 0)


class LambdaTimeout(Exception):
    """What Lambda reports when an invocation outlives its timeout (errorType)."""


LambdaTimeout.__name__ = "Sandbox.Timedout"


class _Context:
    function_name = "privacy-local-Forget"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:privacy-local-Forget"
    aws_request_id = "timeout-test"
