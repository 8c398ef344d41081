"""Cease and resume end to end: HTTP -> API function -> Step Functions -> DynamoDB, on moto."""

from __future__ import annotations

import json

from functions.shared.identifiers import IdentifierKind
from functions.shared.keys import load_hasher
from functions.shared.settings import HashingSettings
from tests.integration.conftest import (
    audit_entries,
    customer_items,
    run_request,
    suppression_entries,
    wait_for,
)


def _hasher():
    return load_hasher(HashingSettings.from_env())


def test_cease_then_resume_marketing(stack, agent, new_customer):
    customer_id, record = new_customer()

    submitted = agent.submit(
        customer_id, {"type": "CEASE_MARKETING", "identityVerified": True, "reason": "phoned in"}
    )
    assert submitted["status"] == "AWAITING_CONFIRMATION"
    assert agent.privacy(customer_id)["openRequests"] == [submitted["requestId"]]
    agent.confirm(submitted["requestId"])
    ceased = wait_for(agent, submitted["requestId"])

    assert ceased["status"] == "COMPLETED"
    assert ceased["statusText"] == "Cease Marketing Processing - Completed"
    assert ceased["confirmedBy"] == "alice" and ceased["identityVerifiedBy"] == "alice"
    assert [h["status"] for h in ceased["history"]] == [
        "RECEIVED",
        "AWAITING_CONFIRMATION",
        "CONFIRMED",
        "APPLIED",
        "COMPLETED",
    ]
    privacy = agent.privacy(customer_id)
    assert privacy["privacyStatus"] == "CEASED"
    assert privacy["currentDataPrivacyStatus"] == "Cease Marketing Processing - Completed"
    assert privacy["ceasedAt"] and privacy["openRequests"] == []
    assert agent.permissions(customer_id)["permissions"] == {
        "marketing": False,
        "audiences": False,
        "campaigns": False,
        "loyalty": True,
        "applicationAccess": False,
    }

    hasher = _hasher()
    subject = hasher.customer(customer_id)
    expected = {
        hasher.hash(IdentifierKind.CUSTOMER_ID, customer_id),
        hasher.hash(IdentifierKind.EMAIL, record["profile"]["email"]),
        hasher.hash(IdentifierKind.PHONE, record["profile"]["phone"]),
    }
    mine = [e for e in suppression_entries(stack) if e.subject_hash == subject]
    assert {e.identifier_hash for e in mine} == expected
    assert {e.reason for e in mine} == {"CEASED"}

    resumed = run_request(agent, customer_id, "RESUME_MARKETING")
    assert resumed["status"] == "COMPLETED"
    assert resumed["statusText"] == "Resume Marketing Processing - Completed"
    privacy = agent.privacy(customer_id)
    assert privacy["privacyStatus"] == "ACTIVE"
    assert "ceasedAt" not in privacy or privacy["ceasedAt"] is None
    assert agent.permissions(customer_id)["permissions"]["marketing"] is True
    assert [e for e in suppression_entries(stack) if e.subject_hash == subject] == []


def test_every_state_change_is_audited_once_without_personal_data(stack, agent, new_customer):
    customer_id, record = new_customer()
    request = run_request(agent, customer_id, "CEASE_MARKETING")

    entries = audit_entries(stack, request["requestId"])
    assert [e.event_type for e in entries] == ["SUBMITTED", "CONFIRMED", "APPLIED", "COMPLETED"]
    assert [e.actor for e in entries] == ["alice", "alice", "workflow", "workflow"]
    assert {e.customer_hash for e in entries} == {_hasher().customer(customer_id)}
    dumped = json.dumps([e.to_simple_dict() for e in entries])
    profile = record["profile"]
    for personal in (customer_id, profile["email"], profile["phone"], profile["lastName"]):
        assert personal.strip() not in dumped


def test_cease_never_touches_loyalty(stack, agent, new_customer):
    customer_id, _ = new_customer()
    before = customer_items(stack, customer_id)

    run_request(agent, customer_id, "CEASE_MARKETING")

    after = customer_items(stack, customer_id)
    changed = {sk for sk in before.keys() | after.keys() if before.get(sk) != after.get(sk)}
    assert changed == {"PRIVACY"}, "cease may only write the customer's privacy status"
    assert any(sk.startswith("WALLET#") for sk in after) and "LOYALTY" in after
    assert agent.permissions(customer_id)["permissions"]["loyalty"] is True


def test_completion_is_announced_on_the_event_bus(stack, agent, new_customer):
    sqs, events = stack.client("sqs"), stack.client("events")
    queue_url = sqs.create_queue(QueueName="completed-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    bus = stack.env["EVENT_BUS_NAME"]
    events.put_rule(
        Name="completed",
        EventBusName=bus,
        EventPattern=json.dumps({"detail-type": ["PrivacyRequestCompleted"]}),
    )
    events.put_targets(Rule="completed", EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn}])
    customer_id, _ = new_customer()

    request = run_request(agent, customer_id, "CEASE_MARKETING")

    # Announced just after COMPLETED is written: wait for it rather than race it.
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=10)[
        "Messages"
    ]
    details = [json.loads(m["Body"])["detail"] for m in messages]
    assert {
        "requestId": request["requestId"],
        "customerId": customer_id,
        # What the CloudWatch Logs archive keeps instead of the id (infra/cdk/events.py).
        "customerHash": _hasher().customer(customer_id),
        "type": "CEASE_MARKETING",
        "status": "COMPLETED",
        "completedAt": request["completedAt"],
    } in details
