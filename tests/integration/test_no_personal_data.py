"""No name, e-mail or phone in logs, metrics, audit entries, error messages or workflow history."""

from __future__ import annotations

import json

import pytest

from functions.shared.models import AuditEntryItem, bind
from privacyctl.client import ApiError
from tests.integration.conftest import personal_values, run_request, wait_for


def test_a_full_run_leaves_no_personal_data_behind(
    stack, agent, new_customer, captured_logs, capsys
):
    customer_id, record = new_customer("C-1006")
    personal = personal_values(record)

    ceased = run_request(agent, customer_id, "CEASE_MARKETING")
    with pytest.raises(ApiError) as conflict:
        agent.submit(customer_id, {"type": "CEASE_MARKETING", "identityVerified": True})
    cancelled = agent.submit(customer_id, {"type": "RESUME_MARKETING", "identityVerified": True})
    agent.cancel(cancelled["requestId"])
    wait_for(agent, cancelled["requestId"])
    run_request(agent, customer_id, "RESUME_MARKETING")

    sfn = stack.client("stepfunctions")
    histories = [
        sfn.get_execution_history(executionArn=e["executionArn"])["events"]
        for e in sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
        if e["name"] in (ceased["requestId"], cancelled["requestId"])
    ]
    audit = [e.to_simple_dict() for e in bind(AuditEntryItem, stack.env["AUDIT_TABLE"]).scan()]
    haystacks = {
        "logs": captured_logs.getvalue(),
        "stdout (logs and EMF metrics)": capsys.readouterr().out,
        "audit": json.dumps(audit),
        "error message": conflict.value.message,
        "workflow history": json.dumps(histories, default=str),
    }
    assert "request submitted" in haystacks["logs"], "the log capture saw nothing"
    for where, text in haystacks.items():
        for value in personal:
            assert value not in text, f"personal data in {where}"
