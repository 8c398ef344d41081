"""One local stack per test session (moto server + real handlers + local gateway on free ports).
Each test works on customers of its own, so tests never see each other's data."""

from __future__ import annotations

import copy
import io
import json
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from functions.shared.models import AuditEntryItem, CustomerItem, SuppressionItem, bind
from functions.shared.observability import logger
from infra.local.stack import DEMO_CUSTOMERS, LocalStack
from privacyctl.client import ApiClient

TERMINAL = {"COMPLETED", "REJECTED", "CANCELLED", "EXPIRED", "FAILED"}


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    local = LocalStack(api_port=0).start(seed=False)
    yield local
    local.stop()


@pytest.fixture
def agent(stack: LocalStack) -> ApiClient:
    return ApiClient(stack.api_url, "dev:alice:agent")


@pytest.fixture
def compliance(stack: LocalStack) -> ApiClient:
    return ApiClient(stack.api_url, "dev:carol:compliance")


@pytest.fixture
def customer(stack: LocalStack) -> ApiClient:
    """The customer's side: no staff token (the public routes' callers)."""
    return ApiClient(stack.api_url, None)


def sent_tokens(stack: LocalStack, **detail: str) -> dict[str, str]:
    """Customer id -> the last confirmation token the outbox holds for them, of the messages
    whose detail has these values (e.g. topic=...): what the customer was sent."""
    return {
        m["customerId"]: m["detail"]["token"]
        for m in stack.outbox_messages()
        if m["type"] == "ConsentConfirmationRequested"
        and all(m["detail"].get(k) == v for k, v in detail.items())
    }


def confirm_as_customer(customer: ApiClient, token: str) -> dict[str, Any]:
    return customer.call("POST", "/public/consents/confirm", {"token": token})


def demo_record(template: str = "C-1001") -> dict[str, Any]:
    records = {r["customerId"]: r for r in json.loads(DEMO_CUSTOMERS.read_text())}
    return copy.deepcopy(records[template])


@pytest.fixture
def new_customer(stack: LocalStack):
    """Seeds a fresh copy of a demo customer under a new id and answers (id, record)."""

    def make(template: str = "C-1001") -> tuple[str, dict[str, Any]]:
        record = demo_record(template)
        record["customerId"] = f"T-{uuid.uuid4().hex[:12]}"
        stack.seed([record])
        return record["customerId"], record

    return make


def wait_for(api: ApiClient, request_id: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        request = api.request(request_id)
        if request["status"] in TERMINAL:
            return request
        if time.monotonic() > deadline:
            raise AssertionError(f"request stuck in {request['status']}")
        time.sleep(0.05)


def run_request(api: ApiClient, customer_id: str, request_type: str) -> dict[str, Any]:
    submitted = api.submit(customer_id, {"type": request_type, "identityVerified": True})
    api.confirm(submitted["requestId"])
    return wait_for(api, submitted["requestId"])


def audit_entries(stack: LocalStack, request_id: str) -> list[AuditEntryItem]:
    model = bind(AuditEntryItem, stack.env["AUDIT_TABLE"])
    return sorted(model.by_request.query(request_id), key=lambda e: e.seq)


def customer_items(stack: LocalStack, customer_id: str) -> dict[str, dict[str, Any]]:
    model = bind(CustomerItem, stack.env["CUSTOMERS_TABLE"])
    return {item.sk: item.to_simple_dict() for item in model.query(customer_id)}


def suppression_entries(stack: LocalStack) -> list[SuppressionItem]:
    return list(bind(SuppressionItem, stack.env["SUPPRESSION_TABLE"]).scan())


def count_items(stack: LocalStack, env_var: str) -> int:
    table = stack.client("dynamodb").scan(TableName=stack.env[env_var], Select="COUNT")
    return int(table["Count"])


def personal_values(record: dict[str, Any]) -> list[str]:
    """What identifies the person in a demo record: none of it may be logged or audited."""
    profile = record["profile"]
    return [
        profile["email"].strip(),
        profile["email"].strip().lower(),
        profile["phone"],
        profile["firstName"],
        profile["lastName"],
        profile["postcode"],
    ]


def seed_unique_person(stack: LocalStack) -> dict[str, Any]:
    record = unique_person()
    stack.seed([record])
    return record


def unique_person() -> dict[str, Any]:
    """A fresh customer record whose id, e-mail and phone nobody else has (suppression is per
    identifier, so a shared one would leak between tests)."""
    tag = uuid.uuid4().hex[:10]
    digits = str(int(tag, 16))[-6:].rjust(6, "0")
    record = demo_record("C-1002")
    record["customerId"] = f"T-{tag}"
    record["profile"]["email"] = f"{tag}@example.com"
    record["profile"]["phone"] = f"+44 20 79{digits[:2]} {digits[2:]}"
    record["relations"] = []
    # Consenting to every topic: a test that wants an opt-out records it (an imported one is
    # recorded through the consent service and would suppress the person from the start).
    for consent in record["consents"]:
        consent["granted"] = True
    return record


@pytest.fixture
def captured_logs():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger._logger.addHandler(handler)
    previous = logger.log_level
    logger.setLevel("DEBUG")
    yield stream
    logger.setLevel(previous)
    logger._logger.removeHandler(handler)
