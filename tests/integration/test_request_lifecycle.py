"""Cancel, expiry, rejection at validation; retries and duplicates change nothing twice."""

from __future__ import annotations

from dataclasses import replace

import pytest

from functions.api.auth import Caller
from functions.api.dependencies import api_dependencies
from functions.requests import service as services
from functions.requests.workflow import RequestWorkflow
from functions.shared.domain import RequestType
from functions.shared.errors import TransientError
from functions.shared.models import CustomerItem, bind
from infra.local import dispatch
from privacyctl.client import ApiClient, ApiError
from tests.integration.conftest import (
    audit_entries,
    count_items,
    run_request,
    wait_for,
)


def _execution(stack, request_id):
    arn = stack.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{request_id}"
    return stack.client("stepfunctions").describe_execution(executionArn=arn)


def test_cancel_while_awaiting_confirmation(stack, agent, new_customer):
    customer_id, _ = new_customer()
    submitted = agent.submit(customer_id, {"type": "CEASE_MARKETING", "identityVerified": True})

    cancelled = agent.cancel(submitted["requestId"])
    assert cancelled["status"] == "CANCELLED"
    final = wait_for(agent, submitted["requestId"])
    assert final["status"] == "CANCELLED"
    assert final["statusText"] == "Cease Marketing Processing - Cancelled"
    with pytest.raises(ApiError) as error:
        agent.confirm(submitted["requestId"])
    assert error.value.status == 409
    assert agent.privacy(customer_id)["privacyStatus"] == "ACTIVE"
    events = [e.event_type for e in audit_entries(stack, submitted["requestId"])]
    assert events == ["SUBMITTED", "CANCELLED"]
    # The open-request marker went with the cancellation: a new cease may be submitted.
    assert run_request(agent, customer_id, "CEASE_MARKETING")["status"] == "COMPLETED"


def test_unconfirmed_request_expires(stack, new_customer):
    """The confirmation deadline travels with the request (confirmBy) into the state machine's
    TimeoutSecondsPath; this one is given one second."""
    customer_id, _ = new_customer()
    deps = api_dependencies()
    submission = services.Submission(customer_id, RequestType.CEASE_MARKETING, True)
    briefly = replace(deps.policy, confirmation_timeout_seconds=1)
    request = services.submit_request(
        submission, Caller("alice", frozenset({"agent"})), replace(deps, policy=briefly)
    )
    summary = {"requestId": request.request_id}

    api = ApiClient(stack.api_url, "dev:alice:agent")
    final = wait_for(api, summary["requestId"], timeout=20)
    assert final["status"] == "EXPIRED"
    assert final["statusText"] == "Cease Marketing Processing - Expired"
    assert [e.event_type for e in audit_entries(stack, summary["requestId"])] == [
        "SUBMITTED",
        "EXPIRED",
    ]
    assert api.privacy(customer_id)["privacyStatus"] == "ACTIVE"


def test_validation_at_execution_time_rejects_a_request_overtaken_by_events(
    stack, agent, new_customer
):
    """A resume is submitted while the customer is ceased; before its workflow validates it, the
    customer's status changes behind its back (the race the API's own check cannot close). The
    workflow ends it REJECTED with a reason and an audit entry, and changes nothing else."""
    customer_id, _ = new_customer()
    run_request(agent, customer_id, "CEASE_MARKETING")
    deps = api_dependencies()
    submission = services.Submission(customer_id, RequestType.RESUME_MARKETING, True)
    request = services.submit_request(
        submission, Caller("bob", frozenset({"agent"})), replace(deps, workflow=_NotStarted())
    )
    pending = {"requestId": request.request_id}
    customers = bind(CustomerItem, stack.env["CUSTOMERS_TABLE"])
    customers(customer_id, "PRIVACY").update(actions=[customers.privacy_status.set("ACTIVE")])

    RequestWorkflow(stack.state_machine_arn).start(pending["requestId"])

    final = wait_for(agent, pending["requestId"])
    assert final["status"] == "REJECTED"
    assert final["statusText"] == "Resume Marketing Processing - Rejected"
    assert "not ceased" in final["rejectionReason"]
    assert [e.event_type for e in audit_entries(stack, pending["requestId"])] == [
        "SUBMITTED",
        "REJECTED",
    ]
    assert agent.privacy(customer_id)["openRequests"] == []


class _NotStarted:
    def start(self, request_id: str) -> str:
        return "started later by the test"


def test_same_idempotency_key_answers_the_same_request(stack, agent, new_customer):
    customer_id, _ = new_customer()
    body = {"type": "CEASE_MARKETING", "identityVerified": True}
    requests_before = count_items(stack, "REQUESTS_TABLE")

    first = agent.submit(customer_id, body, idempotency_key="key-1")
    again = agent.submit(customer_id, body, idempotency_key="key-1")
    assert again == first
    with pytest.raises(ApiError) as reused:
        agent.submit(customer_id, {**body, "reason": "other"}, idempotency_key="key-1")
    assert reused.value.status == 409
    assert "different request body" in reused.value.message
    with pytest.raises(ApiError) as open_already:
        agent.submit(customer_id, body, idempotency_key="key-2")
    assert open_already.value.status == 409

    assert count_items(stack, "REQUESTS_TABLE") == requests_before + 1
    assert [e.event_type for e in audit_entries(stack, first["requestId"])] == ["SUBMITTED"]


def test_same_body_without_key_answers_the_same_request(stack, agent, new_customer):
    customer_id, _ = new_customer()
    body = {"type": "CEASE_MARKETING", "identityVerified": True, "reason": "double click"}
    first = agent.submit(customer_id, body)
    assert agent.submit(customer_id, body) == first
    with pytest.raises(ApiError) as error:
        agent.submit(customer_id, {**body, "reason": "a second, different request"})
    assert error.value.status == 409
    assert "already open" in error.value.message


def test_duplicate_confirmation_changes_nothing(stack, agent, new_customer):
    customer_id, _ = new_customer()
    submitted = agent.submit(customer_id, {"type": "CEASE_MARKETING", "identityVerified": True})
    agent.confirm(submitted["requestId"])
    agent.confirm(submitted["requestId"])
    wait_for(agent, submitted["requestId"])
    agent.confirm(submitted["requestId"])
    events = [e.event_type for e in audit_entries(stack, submitted["requestId"])]
    assert events == ["SUBMITTED", "CONFIRMED", "APPLIED", "COMPLETED"]


def test_step_functions_retry_after_a_crash_applies_once(stack, agent, new_customer):
    """The Cease step commits, then 'crashes' before answering; Step Functions retries it. The
    retry finds the change made and writes nothing: one APPLIED entry, one set of suppressions."""
    customer_id, _ = new_customer()
    crashes = []

    def crash_after_commit(function_name: str, payload: dict) -> None:
        if function_name.endswith("-Cease") and not crashes:
            crashes.append(payload)
            dispatch.resolve("functions.cease.handler.handler")(payload, _Context())
            raise TransientError("simulated crash after the transaction committed")

    dispatch.add_fault(crash_after_commit)
    try:
        request = run_request(agent, customer_id, "CEASE_MARKETING")
    finally:
        dispatch.remove_fault(crash_after_commit)

    assert crashes, "the fault was never injected"
    assert request["status"] == "COMPLETED"
    events = [e.event_type for e in audit_entries(stack, request["requestId"])]
    assert events == ["SUBMITTED", "CONFIRMED", "APPLIED", "COMPLETED"]
    history = stack.client("stepfunctions").get_execution_history(
        executionArn=_execution(stack, request["requestId"])["executionArn"]
    )["events"]
    assert sum(e["type"] == "TaskFailed" for e in history) == 1


class _Context:
    function_name = "privacy-local-Cease"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:privacy-local-Cease"
    aws_request_id = "retry-test"
