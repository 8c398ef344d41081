"""Trying to break the double opt-in on the local stack (issue 16: it is the customer's act).

The token reaches the customer alone, through the messaging system (here: the local stack's
outbox): an agent's PUT answer has none (body and headers searched), no answer an agent or a
compliance user can get has it (privacy, permissions, audit, export), no log line has it (the
product's logger at DEBUG, and everything the process writes); the agent's old route is gone and
the public route refuses a staff session even with the right token. A reused, tampered, expired
or malformed token is a 4xx that writes nothing (tables, audit, outbox counted before and after),
and two confirmations at once write once."""

from __future__ import annotations

import csv
import io
import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from functions.shared.models import CustomerItem, bind
from functions.shared.observability import logger as product_logger
from privacyctl.client import ApiClient, ApiError
from tests.integration.conftest import (
    audit_entries,
    confirm_as_customer,
    count_items,
    customer_items,
    run_request,
    seed_unique_person,
    sent_tokens,
)

TOPIC = "newsletter"


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # The message and every extra field the record carries, formatted or not.
        self.lines.append(f"{record.getMessage()} {record.__dict__!r}")


@pytest.fixture
def logs(capfd) -> Iterator[Any]:
    """Everything logged while the test runs: the product's logger (powertools, at DEBUG, more
    than any deployment logs), the root logger, and all the process writes to stdout/stderr."""
    collect = _Collect()
    level = product_logger.log_level
    root = logging.getLogger()
    product_logger.setLevel("DEBUG")
    logging.getLogger(product_logger.name).addHandler(collect)
    root.addHandler(collect)

    def text() -> str:
        out = capfd.readouterr()
        return "\n".join([*collect.lines, out.out, out.err])

    try:
        yield text
    finally:
        root.removeHandler(collect)
        logging.getLogger(product_logger.name).removeHandler(collect)
        product_logger.setLevel(level)


def _put_raw(stack, customer_id: str) -> tuple[dict[str, str], str]:
    """An agent's PUT, answer headers and body as sent over the wire."""
    request = urllib.request.Request(
        f"{stack.api_url}/customers/{customer_id}/consents/{TOPIC}",
        data=json.dumps(
            {"channel": "email", "granted": True, "source": "preference-centre"}
        ).encode(),
        method="PUT",
        headers={"Authorization": "Bearer dev:alice:agent", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return dict(response.headers.items()), response.read().decode()


def _written(stack, customer_id: str) -> tuple[Any, ...]:
    """What a confirmation would change: the customer's items, the audit trail, the
    suppression index and the messages sent."""
    return (
        customer_items(stack, customer_id),
        count_items(stack, "AUDIT_TABLE"),
        count_items(stack, "SUPPRESSION_TABLE"),
        len(stack.outbox_messages()),
    )


def _pending(stack, agent) -> tuple[str, str]:
    record = seed_unique_person(stack)
    customer_id = record["customerId"]
    agent.call(
        "PUT",
        f"/customers/{customer_id}/consents/{TOPIC}",
        {"channel": "email", "granted": False, "source": "crm"},
    )
    agent.call(
        "PUT",
        f"/customers/{customer_id}/consents/{TOPIC}",
        {"channel": "email", "granted": True, "source": "preference-centre"},
    )
    return customer_id, sent_tokens(stack)[customer_id]


def _status(agent, customer_id: str) -> str:
    consents = agent.privacy(customer_id)["consents"]
    (consent,) = [c for c in consents if c["topic"] == TOPIC and c["channel"] == "email"]
    return str(consent["status"])


def test_the_agent_never_obtains_the_token_and_cannot_redeem_it(
    stack, agent, compliance, customer, logs
):
    product_logger.debug("log capture check")
    customer_id = seed_unique_person(stack)["customerId"]
    headers, body = _put_raw(stack, customer_id)
    assert json.loads(body)["status"] == "PENDING"
    token = sent_tokens(stack)[customer_id]
    secret = token.rpartition(".")[2]
    seen = [json.dumps(headers), body]

    # Every answer about this customer an agent or a compliance user can ask for.
    seen.append(json.dumps(agent.privacy(customer_id)))
    seen.append(json.dumps(agent.call("GET", f"/customers/{customer_id}/processing-permissions")))
    seen.append(json.dumps(list(compliance.audit_entries({"customerId": customer_id}))))
    seen.append(json.dumps(list(compliance.audit_entries({"type": "CONSENT"}))))
    exported = run_request(agent, customer_id, "EXPORT")
    link = agent.download_link(exported["requestId"])
    seen += [json.dumps(exported), json.dumps(link)]
    with urllib.request.urlopen(link["downloadUrl"], timeout=30) as response:
        rows = list(csv.DictReader(io.StringIO(response.read().decode("utf-8"), newline="")))
    seen.append(json.dumps(rows))
    # What is stored: the token's hash only, in the customer's items and the audit trail.
    seen.append(json.dumps(customer_items(stack, customer_id)))
    change_ids = {v["data"].get("changeId") for v in customer_items(stack, customer_id).values()}
    seen.append(
        json.dumps([e.to_simple_dict() for c in change_ids if c for e in audit_entries(stack, c)])
    )
    assert [t for t in seen if secret in t] == []

    # The agent's old route is gone; the public route refuses a staff session, even with the
    # right token: nothing is written either way.
    before = _written(stack, customer_id)
    with pytest.raises(ApiError) as gone:
        agent.call("POST", "/consents/confirm", {"token": token})
    assert gone.value.status == 404
    for staff in (agent, compliance):
        with pytest.raises(ApiError) as refused:
            staff.call("POST", "/public/consents/confirm", {"token": token})
        assert refused.value.status == 403 and refused.value.code == "FORBIDDEN"
    assert _written(stack, customer_id) == before
    assert _status(agent, customer_id) == "PENDING"

    confirmed = confirm_as_customer(customer, token)
    assert confirmed["status"] == "GRANTED"
    (entry,) = audit_entries(stack, confirmed["changeId"])
    assert entry.actor == "customer" and secret not in json.dumps(entry.to_simple_dict())

    text = logs()
    assert "log capture check" in text  # the capture sees the product's logger
    assert secret not in text


@pytest.mark.parametrize(
    ("tamper", "status"),
    [
        (lambda t, other: t[:-1] + ("A" if t[-1] != "A" else "B"), 404),  # one character off
        (lambda t, other: f"{other}.{t.rpartition('.')[2]}", 404),  # another customer's id
        (lambda t, other: t.rpartition(".")[2], 400),  # the secret alone
        (lambda t, other: t[: t.index(".") + 20], 400),  # cut short
        (lambda t, other: t.replace(".", ":"), 400),
        (lambda t, other: t + "x" * 300, 400),  # longer than any token
    ],
    ids=["one-char", "other-customer", "secret-only", "cut-short", "no-separator", "too-long"],
)
def test_a_tampered_token_is_a_4xx_and_writes_nothing(stack, agent, customer, tamper, status):
    customer_id, token = _pending(stack, agent)
    other = seed_unique_person(stack)["customerId"]
    before = _written(stack, customer_id)
    with pytest.raises(ApiError) as error:
        confirm_as_customer(customer, tamper(token, other))
    assert error.value.status == status
    assert secrets_absent(error.value.message, token)
    assert _written(stack, customer_id) == before
    assert _status(agent, customer_id) == "PENDING"


def secrets_absent(text: str, token: str) -> bool:
    return token.rpartition(".")[2][:16] not in text


@pytest.mark.parametrize(
    "body",
    [{}, {"token": None}, {"token": 12345678901234567890123456789012345}, {"token": "x" * 40}],
    ids=["empty", "null", "number", "malformed"],
)
def test_a_bad_body_is_a_400_and_writes_nothing(stack, agent, customer, body):
    customer_id, token = _pending(stack, agent)
    before = _written(stack, customer_id)
    with pytest.raises(ApiError) as error:
        customer.call("POST", "/public/consents/confirm", body)
    assert error.value.status == 400 and error.value.code == "VALIDATION_ERROR"
    with pytest.raises(ApiError) as extra:
        customer.call("POST", "/public/consents/confirm", {"token": token, "actor": "alice"})
    assert extra.value.status == 400
    assert _written(stack, customer_id) == before


def test_a_reused_or_expired_token_is_a_409_and_writes_nothing(stack, agent, customer):
    customer_id, token = _pending(stack, agent)
    confirm_as_customer(customer, token)
    before = _written(stack, customer_id)
    with pytest.raises(ApiError) as reused:
        confirm_as_customer(customer, token)
    assert reused.value.status == 409 and "already been used" in reused.value.message
    assert _written(stack, customer_id) == before

    customer_id, token = _pending(stack, agent)
    model = bind(CustomerItem, stack.env["CUSTOMERS_TABLE"])
    (item,) = [i for i in model.query(customer_id) if i.sk.startswith("CONSENTTOKEN#")]
    item.data["expiresAt"] = "2020-01-01T00:00:00Z"
    item.save()
    before = _written(stack, customer_id)
    with pytest.raises(ApiError) as expired:
        confirm_as_customer(customer, token)
    assert expired.value.status == 409 and "expired" in expired.value.message
    assert _written(stack, customer_id) == before
    assert _status(agent, customer_id) == "PENDING"


def test_two_confirmations_at_once_write_once(stack, agent):
    customer_id, token = _pending(stack, agent)
    audit_before = count_items(stack, "AUDIT_TABLE")
    answers: list[int] = []
    start = threading.Barrier(4)

    def confirm() -> None:
        start.wait()
        try:
            confirm_as_customer(ApiClient(stack.api_url, None), token)
            answers.append(200)
        except ApiError as exc:
            answers.append(exc.status)

    threads = [threading.Thread(target=confirm) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(answers) == [200, 409, 409, 409]
    assert count_items(stack, "AUDIT_TABLE") == audit_before + 1
    history = [k for k in customer_items(stack, customer_id) if k.startswith("CONSENTLOG#")]
    assert len(history) == 3  # opt-out, pending, confirmed: once
    assert _status(agent, customer_id) == "GRANTED"


@pytest.mark.parametrize(
    "raw",
    [
        b'{"token":' * 5000,
        b"[" * 5000 + b"]" * 5000,
        b"{token: x}",
        b"",
        b'{"token": "\xff\xfe"}',
    ],
    # A body over API Gateway's 10 MB gets the gateway's own answer: test_hostile_input.py.
    ids=["unbalanced", "deep", "not-json", "empty", "not-utf8"],
)
def test_hostile_bodies_on_the_public_route_are_4xx_and_write_nothing(stack, agent, raw):
    customer_id, _ = _pending(stack, agent)
    before = _written(stack, customer_id)
    request = urllib.request.Request(
        f"{stack.api_url}/public/consents/confirm",
        data=raw,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=60)
    assert error.value.code == 400
    assert json.loads(error.value.read())["error"]["code"] == "VALIDATION_ERROR"
    assert _written(stack, customer_id) == before
