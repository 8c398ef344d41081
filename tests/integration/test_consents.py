"""Consent per topic and channel on the local stack: opt-out and opt-in with their suppression
entries, history and audit; double opt-in (the token goes to the customer only, through the
outbox, and is redeemed on the public route as the customer's act); bad input; forgotten
customers; events. tests/integration/test_double_opt_in.py tries to break the double opt-in."""

from __future__ import annotations

import csv
import io
import json
import urllib.request
import uuid
from typing import Any

import pytest

from functions.shared.models import CustomerItem, bind
from privacyctl.client import ApiClient, ApiError
from tests.integration.conftest import (
    audit_entries,
    confirm_as_customer,
    count_items,
    customer_items,
    demo_record,
    personal_values,
    run_request,
    seed_unique_person,
    sent_tokens,
    suppression_entries,
    unique_person,
)
from tests.integration.test_audience_filter import drop_with_topic


@pytest.fixture
def person(stack):
    """A fresh customer whose e-mail and phone nobody else has (suppression is per identifier)."""

    def make() -> dict[str, Any]:
        return seed_unique_person(stack)

    return make


def _put(api: ApiClient, customer_id: str, topic: str, **body: Any) -> dict[str, Any]:
    payload = {"channel": "email", "source": "crm", **body}
    return api.call("PUT", f"/customers/{customer_id}/consents/{topic}", payload)


def _sent(stack, customer_id: str) -> str:
    """The token of the last confirmation the customer was sent (the outbox)."""
    return sent_tokens(stack)[customer_id]


def _opted_out(stack, customer_id: str, topic: str) -> list[str]:
    """The identifier kinds suppressed for the topic whose entries this customer's choices made."""
    return sorted(
        e.identifier_kind
        for e in suppression_entries(stack)
        if e.reason == f"OPTED_OUT:{topic}" and e.request_id in _change_ids(stack, customer_id)
    )


def _change_ids(stack, customer_id: str) -> set[str]:
    items = customer_items(stack, customer_id)
    return {v["data"]["changeId"] for k, v in items.items() if k.startswith("CONSENTLOG#")}


def _history(stack, customer_id: str) -> list[dict[str, Any]]:
    items = customer_items(stack, customer_id)
    return [v["data"] for k, v in sorted(items.items()) if k.startswith("CONSENTLOG#")]


def _screen(stack, record: dict[str, Any], topic: str) -> int:
    """Rows kept when an audience of this one person is screened for `topic`."""
    name = f"consent-{uuid.uuid4().hex[:8]}.csv"
    body = f"email,phone\n{record['profile']['email']},\n".encode()
    return int(drop_with_topic(stack, name, body, topic)["rowsOut"])


def test_opt_out_suppresses_the_topic_only_and_opt_in_lifts_it(stack, agent, compliance, person):
    record = person()
    customer_id = record["customerId"]

    out = _put(agent, customer_id, "newsletter", granted=False, source="preference-centre")
    assert out["status"] == "REVOKED" and out["granted"] is False and out["changed"] is True
    assert _opted_out(stack, customer_id, "newsletter") == ["customerId", "email", "phone"]
    assert _screen(stack, record, "newsletter") == 0
    assert _screen(stack, record, "offers") == 1

    consents = agent.privacy(customer_id)["consents"]
    newsletter = [c for c in consents if c["topic"] == "newsletter" and c["channel"] == "email"]
    assert newsletter == [
        {
            "topic": "newsletter",
            "channel": "email",
            "granted": False,
            "status": "REVOKED",
            "at": out["at"],
            "source": "preference-centre",
        }
    ]
    # The same choice again changes nothing: no history, no audit entry.
    again = _put(agent, customer_id, "newsletter", granted=False, source="preference-centre")
    assert again["changed"] is False and again["changeId"] == out["changeId"]
    assert len(_history(stack, customer_id)) == 1

    back = _put(agent, customer_id, "newsletter", granted=True, source="crm")
    assert back["status"] == "GRANTED" and back["granted"] is True
    assert not [e for e in suppression_entries(stack) if e.request_id == out["changeId"]]
    assert _screen(stack, record, "newsletter") == 1

    history = _history(stack, customer_id)
    assert [(h["status"], h["source"], h["changedBy"]) for h in history] == [
        ("REVOKED", "preference-centre", "alice"),
        ("GRANTED", "crm", "alice"),
    ]
    assert history[1]["previousStatus"] == "REVOKED"
    (revoked,) = audit_entries(stack, out["changeId"])
    assert revoked.event_type == "CONSENT_REVOKED" and revoked.request_type == "CONSENT"
    assert revoked.details["suppressionEntriesAdded"] == {"customerId": 1, "email": 1, "phone": 1}
    (granted,) = audit_entries(stack, back["changeId"])
    assert (
        granted.details["suppressionEntriesRemoved"] == revoked.details["suppressionEntriesAdded"]
    )
    text = json.dumps([revoked.to_simple_dict(), granted.to_simple_dict()])
    assert not [v for v in personal_values(record) if v in text]
    # Consent entries join the hash chain like every other audit entry, and are found by type.
    assert compliance.audit_verify()["intact"] is True
    found = compliance.audit_entries({"customerId": customer_id, "type": "CONSENT"})
    assert {e["eventType"] for e in found} == {"CONSENT_REVOKED", "CONSENT_GRANTED"}


def test_double_opt_in_is_pending_until_the_customer_confirms_once(stack, agent, customer, person):
    record = person()
    customer_id = record["customerId"]
    _put(agent, customer_id, "offers", granted=False, channel="sms")

    pending = _put(agent, customer_id, "offers", granted=True, channel="sms", source="import")
    assert pending["status"] == "PENDING" and pending["granted"] is False
    # The answer says until when; the token went to the customer, not to the agent.
    assert set(pending["confirmation"]) == {"expiresAt"}
    token = _sent(stack, customer_id)
    assert token not in json.dumps(pending)
    # Pending is no consent: still suppressed, not permitted.
    assert _screen(stack, record, "offers") == 0
    permissions = agent.call("GET", f"/customers/{customer_id}/processing-permissions?topic=offers")
    assert permissions["topic"]["consented"] is False
    # Only the token's hash is stored.
    assert token not in json.dumps(customer_items(stack, customer_id))
    # An unconfirmed opt-in never downgrades, and a repeated one sends a fresh token.
    _put(agent, customer_id, "offers", granted=True, channel="sms", source="import")
    assert _sent(stack, customer_id) != token

    with pytest.raises(ApiError) as superseded:
        confirm_as_customer(customer, token)
    assert superseded.value.status == 409 and "changed after" in superseded.value.message

    fresh = _put(agent, customer_id, "offers", granted=True, channel="push", source="import")
    fresh_token = _sent(stack, customer_id)
    confirmed = confirm_as_customer(customer, fresh_token)
    assert confirmed["status"] == "GRANTED" and confirmed["source"] == "double-opt-in"
    assert _screen(stack, record, "offers") == 1
    (entry,) = audit_entries(stack, confirmed["changeId"])
    assert entry.event_type == "CONSENT_CONFIRMED"
    assert entry.details["confirms"] == fresh["changeId"]
    # The customer's act: the agent recorded the opt-in, the customer confirmed it.
    assert entry.actor == "customer"
    assert [e.actor for e in audit_entries(stack, fresh["changeId"])] == ["alice"]
    assert _history(stack, customer_id)[-1]["changedBy"] == "customer"

    with pytest.raises(ApiError) as reused:
        confirm_as_customer(customer, fresh_token)
    assert reused.value.status == 409 and "already been used" in reused.value.message
    statuses = {(c["channel"], c["status"]) for c in agent.privacy(customer_id)["consents"]}
    assert {("sms", "PENDING"), ("push", "GRANTED")} <= statuses


def test_expired_unknown_and_malformed_tokens_are_rejected(stack, agent, customer, person):
    customer_id = person()["customerId"]
    _put(agent, customer_id, "partner-news", granted=True, source="preference-centre")
    token = _sent(stack, customer_id)
    # The clock moves past the token's expiry.
    model = bind(CustomerItem, stack.env["CUSTOMERS_TABLE"])
    (item,) = [i for i in model.query(customer_id) if i.sk.startswith("CONSENTTOKEN#")]
    item.data["expiresAt"] = "2020-01-01T00:00:00Z"
    item.save()

    with pytest.raises(ApiError) as expired:
        confirm_as_customer(customer, token)
    assert expired.value.status == 409 and "expired" in expired.value.message
    with pytest.raises(ApiError) as unknown:
        confirm_as_customer(customer, f"{customer_id}.{'x' * 43}")
    assert unknown.value.status == 404
    with pytest.raises(ApiError) as malformed:
        confirm_as_customer(customer, "x" * 40)
    assert malformed.value.status == 400
    consents = agent.privacy(customer_id)["consents"]
    assert [c["status"] for c in consents if c["topic"] == "partner-news"] == ["PENDING"]


@pytest.mark.parametrize(
    ("topic", "body", "names"),
    [
        ("Not A Topic!", {}, "topic"),
        ("newsletter", {"channel": "fax"}, "channel"),
        ("newsletter", {"source": "guess"}, "source"),
        ("newsletter", {"granted": "yes"}, "granted"),
        ("newsletter", {"brand": "Big Brand"}, "topic"),
    ],
)
def test_bad_input_is_a_400_and_writes_nothing(stack, agent, person, topic, body, names):
    customer_id = person()["customerId"]
    before = customer_items(stack, customer_id)
    audit_before = count_items(stack, "AUDIT_TABLE")
    payload = {"channel": "email", "granted": True, "source": "crm", **body}
    path = f"/customers/{customer_id}/consents/{urllib.request.quote(topic)}"
    with pytest.raises(ApiError) as error:
        agent.call("PUT", path, payload)
    assert error.value.status == 400 and error.value.code == "VALIDATION_ERROR"
    assert names in error.value.message
    assert customer_items(stack, customer_id) == before
    assert count_items(stack, "AUDIT_TABLE") == audit_before


def test_unknown_and_forgotten_customers(stack, agent, person):
    with pytest.raises(ApiError) as unknown:
        _put(agent, f"T-{uuid.uuid4().hex[:12]}", "newsletter", granted=False)
    assert unknown.value.status == 404
    record = person()
    customer_id = record["customerId"]
    changed = _put(agent, customer_id, "newsletter", granted=False)
    _put(agent, customer_id, "offers", granted=True, source="import")

    # Export holds the consent history; forget erases it with the rest.
    exported = run_request(agent, customer_id, "EXPORT")
    link = agent.download_link(exported["requestId"])["downloadUrl"]
    with urllib.request.urlopen(link, timeout=30) as response:
        rows = list(csv.DictReader(io.StringIO(response.read().decode("utf-8"), newline="")))
    history = {r["value"] for r in rows if r["category"] == "consentHistory"}
    assert changed["changeId"] in history
    assert not [r for r in rows if r["category"] == "consentConfirmations"]

    assert run_request(agent, customer_id, "FORGET")["status"] == "COMPLETED"
    assert customer_items(stack, customer_id) == {}
    with pytest.raises(ApiError) as forgotten:
        _put(agent, customer_id, "newsletter", granted=True)
    assert forgotten.value.status == 409


def test_each_change_is_announced_without_personal_data(stack, agent, person):
    sqs, events = stack.client("sqs"), stack.client("events")
    queue_url = sqs.create_queue(QueueName="consent-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    bus = stack.env["EVENT_BUS_NAME"]
    events.put_rule(
        Name="consents",
        EventBusName=bus,
        EventPattern=json.dumps({"detail-type": ["ConsentChanged"]}),
    )
    events.put_targets(Rule="consents", EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn}])
    record = person()
    change = _put(agent, record["customerId"], "newsletter", granted=False, channel="sms")

    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    details = [json.loads(m["Body"])["detail"] for m in messages]
    assert {
        "changeId": change["changeId"],
        "customerId": record["customerId"],
        "topic": "newsletter",
        "channel": "sms",
        "brand": None,
        "status": "REVOKED",
        "granted": False,
        "source": "crm",
        "at": change["at"],
    } in details
    assert not [v for v in personal_values(record) if v in json.dumps(details)]


def test_an_imported_opt_out_keeps_the_person_out_from_the_start(stack, agent):
    """Seeding (the demo's, and every test's) imports the CRM record, then records its opt-outs
    through the consent service: the demo's C-1009 shows newsletter REVOKED and the filter drops
    them for newsletter at once, with the history and audit entry any opt-out has."""
    record = unique_person()
    record["consents"] = demo_record("C-1009")["consents"]  # newsletter revoked, offers granted
    stack.seed([record])
    customer_id = record["customerId"]

    consents = {c["topic"]: c for c in agent.privacy(customer_id)["consents"]}
    assert consents["newsletter"]["status"] == "REVOKED"
    assert consents["offers"]["status"] == "GRANTED"
    assert _opted_out(stack, customer_id, "newsletter") == ["customerId", "email", "phone"]
    assert _screen(stack, record, "newsletter") == 0
    assert _screen(stack, record, "offers") == 1
    assert [(h["topic"], h["status"]) for h in _history(stack, customer_id)] == [
        ("newsletter", "REVOKED")
    ]
    (change_id,) = _change_ids(stack, customer_id)
    (entry,) = audit_entries(stack, change_id)
    assert (entry.event_type, entry.actor) == ("CONSENT_REVOKED", "demo-seed")
