"""Authorized agents over DRP 1.0 on the local stack, with an in-test agent (PyNaCl keys, as
the reference agent signs): registration, pairwise key setup, every exercise end to end through
the real workflow, the status callbacks, and every refusal writing nothing."""

from __future__ import annotations

import base64
import json
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from nacl.signing import SigningKey

from functions.api import dependencies
from functions.shared.models import AuditEntryItem, CustomerItem, bind
from infra.local.stack import DRP_BUSINESS_ID, LocalStack
from privacyctl.cli import main as privacyctl
from privacyctl.client import ApiClient, ApiError
from tests.drp_agent import Callbacks, DrpAgent, stamp
from tests.integration.conftest import demo_record

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def callbacks() -> Iterator[Callbacks]:
    endpoint = Callbacks()
    yield endpoint
    endpoint.close()


@pytest.fixture
def sale_topic(stack: LocalStack) -> Iterator[str]:
    """The API as deployed with GPC_TOPIC=offers (the sale-and-sharing topic)."""
    deps = stack.api_dependencies()
    dependencies.use(replace(deps, drp_config=replace(deps.drp_config, sale_topic="offers")))
    yield "offers"
    dependencies.use(None)


@pytest.fixture
def person(stack: LocalStack):
    """A fresh customer with an e-mail and a phone number of their own (the demo's are shared
    by every copy, and a shared identifier matches no single person)."""

    def make() -> tuple[str, dict[str, Any]]:
        record = demo_record()
        suffix = uuid.uuid4().hex[:10]
        record["customerId"] = f"T-{suffix}"
        record["profile"]["email"] = f"drp.{suffix}@example.com"
        record["profile"]["phone"] = f"+4477009{int(suffix[:5], 16) % 100000:05d}"
        stack.seed([record])
        return record["customerId"], record

    return make


def registered(stack: LocalStack, compliance: ApiClient, *, trusted: bool = False) -> DrpAgent:
    agent = DrpAgent(stack.api_url, DRP_BUSINESS_ID)
    body = {"agentId": agent.agent_id, "verifyKey": agent.verify_key, "trusted": trusted}
    compliance.call("POST", "/drp/agents", body)
    return agent


@pytest.fixture
def drp_agent(stack: LocalStack, compliance: ApiClient) -> DrpAgent:
    agent = registered(stack, compliance)
    agent.pair()
    return agent


@pytest.fixture
def trusted_agent(stack: LocalStack, compliance: ApiClient) -> DrpAgent:
    agent = registered(stack, compliance, trusted=True)
    agent.pair()
    return agent


def customer_items(stack: LocalStack) -> int:
    model = bind(CustomerItem, stack.env["CUSTOMERS_TABLE"])
    return sum(1 for _ in model.scan())


def wait_status(agent: DrpAgent, request_id: str, status: str, timeout: float = 60) -> dict:
    deadline = datetime.now(UTC) + timedelta(seconds=timeout)
    while True:
        code, answer = agent.status(request_id)
        assert code == 200, answer
        if answer["status"] == status or datetime.now(UTC) > deadline:
            return answer
        import time

        time.sleep(0.2)


# Registration -----------------------------------------------------------------------------------


def test_compliance_registers_lists_and_removes_agents(
    stack: LocalStack, compliance: ApiClient, agent: ApiClient, customer: ApiClient
) -> None:
    assert customer.call("GET", "/drp/business") == {"businessId": DRP_BUSINESS_ID}
    drp = DrpAgent(stack.api_url, DRP_BUSINESS_ID)
    body = {"agentId": drp.agent_id, "verifyKey": drp.verify_key}
    made = compliance.call("POST", "/drp/agents", body)
    assert made["agentId"] == drp.agent_id and made["trusted"] is False
    assert made["registeredBy"] == "carol"
    listed = compliance.call("GET", "/drp/agents")["agents"]
    assert drp.agent_id in {a["agentId"] for a in listed}
    with pytest.raises(ApiError) as refused:
        agent.call("POST", "/drp/agents", body)  # an agent (staff) is not compliance
    assert refused.value.status == 403
    for bad in (
        {"agentId": "x", "verifyKey": "not base64!"},
        {"agentId": "x", "verifyKey": base64.b64encode(b"short").decode()},
        {"agentId": "bad id", "verifyKey": drp.verify_key},
        {"agentId": "x", "verifyKey": drp.verify_key, "trusted": "yes"},
    ):
        with pytest.raises(ApiError) as invalid:
            compliance.call("POST", "/drp/agents", bad)
        assert invalid.value.status == 400
    drp.pair()
    assert drp.send("GET", f"/v1/agent/{drp.agent_id}") == (200, {})
    # A new key for the same agent: tokens issued under the old one stop working.
    old_token, old_key = drp.token, drp.key
    drp.key = SigningKey.generate()
    compliance.call("POST", "/drp/agents", {"agentId": drp.agent_id, "verifyKey": drp.verify_key})
    assert drp.send("GET", f"/v1/agent/{drp.agent_id}", token=old_token)[0] == 403
    assert (
        drp.send("POST", f"/v1/agent/{drp.agent_id}", drp.sign(drp.envelope(), old_key), token="")[
            0
        ]
        == 403
    )
    drp.pair()
    assert drp.send("GET", f"/v1/agent/{drp.agent_id}") == (200, {})
    compliance.call("DELETE", f"/drp/agents/{drp.agent_id}")
    # Its token stops working at once.
    code, answer = drp.send("GET", f"/v1/agent/{drp.agent_id}")
    assert code == 403 and answer["code"] == "403"
    with pytest.raises(ApiError) as gone:
        compliance.call("DELETE", f"/drp/agents/{drp.agent_id}")
    assert gone.value.status == 404
    trail = compliance.call("GET", "/audit", None)["entries"]
    events = {e["eventType"] for e in trail if e.get("requestId") == f"drp-agent:{drp.agent_id}"}
    assert {"DRP_AGENT_REGISTERED", "DRP_TOKEN_ISSUED", "DRP_AGENT_REMOVED"} <= events


# Pairwise key setup -----------------------------------------------------------------------------


def test_pairwise_key_setup_refuses_with_a_bare_403(
    stack: LocalStack, compliance: ApiClient
) -> None:
    drp = registered(stack, compliance)
    path = f"/v1/agent/{drp.agent_id}"
    before = customer_items(stack)
    now = datetime.now(UTC)
    refusals = {
        "other key": drp.sign(drp.envelope(), SigningKey.generate()),
        "other agent in body": drp.sign(drp.envelope(**{"agent-id": "SOMEONE_ELSE"})),
        "other business": drp.sign(drp.envelope(**{"business-id": "OTHER_BUSINESS"})),
        "expired": drp.sign(drp.envelope(**{"expires-at": stamp(now - timedelta(seconds=1))})),
        "not yet issued": drp.sign(drp.envelope(**{"issued-at": stamp(now + timedelta(hours=1))})),
        "no version": drp.sign({k: v for k, v in drp.envelope().items() if k != "drp.version"}),
        "not base64": "%%%",
        "empty": "",
    }
    for why, body in refusals.items():
        assert drp.send("POST", path, body, token="") == (403, None), why
    # An unknown agent (the path names one nobody registered).
    assert drp.send("POST", "/v1/agent/NOBODY", drp.sign(drp.envelope()), token="") == (403, None)
    assert customer_items(stack) == before
    signed = drp.sign(drp.envelope())
    code, answer = drp.send("POST", path, signed, token="")
    assert code == 200 and answer["agent-id"] == drp.agent_id and len(answer["token"]) >= 40
    # The same signed message again: a replay.
    assert drp.send("POST", path, signed, token="") == (403, None)


def test_agent_information_answers_only_the_tokens_own_agent(
    stack: LocalStack, compliance: ApiClient, drp_agent: DrpAgent
) -> None:
    other = registered(stack, compliance)
    other.pair()
    assert drp_agent.send("GET", f"/v1/agent/{drp_agent.agent_id}") == (200, {})
    code, answer = drp_agent.send("GET", f"/v1/agent/{other.agent_id}")
    assert code == 403 and answer["code"] == "403" and answer["message"]
    code, answer = drp_agent.send("GET", f"/v1/agent/{drp_agent.agent_id}", token="made-up")
    assert code == 403
    code, answer = DrpAgent(stack.api_url, DRP_BUSINESS_ID).send(
        "GET", f"/v1/agent/{drp_agent.agent_id}", token=""
    )
    assert code == 401 and answer == {"code": "401", "message": answer["message"]}


# Exercise refusals ------------------------------------------------------------------------------


def test_every_refused_exercise_answers_the_spec_error_and_writes_nothing(
    stack: LocalStack, compliance: ApiClient, drp_agent: DrpAgent, person: Any
) -> None:
    _, record = person()
    email = record["profile"]["email"]
    other = registered(stack, compliance)
    other.pair()
    now = datetime.now(UTC)
    good = drp_agent.envelope(exercise="deletion", email=email, email_verified=True)

    def signed(**changes: Any) -> str:
        return drp_agent.sign({**good, **changes})

    cases: dict[str, tuple[str, str | None, int]] = {
        "bad signature": (drp_agent.sign(good, SigningKey.generate()), None, 403),
        "another agent's token": (signed(), other.token, 403),
        "agent-id not the token's": (signed(**{"agent-id": other.agent_id}), None, 403),
        "wrong business": (signed(**{"business-id": "OTHER_BUSINESS"}), None, 403),
        "expired": (signed(**{"expires-at": stamp(now - timedelta(seconds=1))}), None, 400),
        "issued in the future": (
            signed(**{"issued-at": stamp(now + timedelta(hours=1))}),
            None,
            400,
        ),
        "no timestamps": (
            drp_agent.sign({k: v for k, v in good.items() if "-at" not in k}),
            None,
            400,
        ),
        "unsupported exercise": (signed(exercise="access:specific"), None, 400),
        "sale without a sale topic": (signed(exercise="sale:opt-out"), None, 400),
        "bad version": (signed(**{"drp.version": "0.9"}), None, 400),
        "bad regime": (signed(regime="gdpr"), None, 400),
        "http callback elsewhere": (signed(status_callback="http://example.com/cb"), None, 400),
        "callback not a string": (signed(status_callback=7), None, 400),
        "not base64": ("this is not base64 ~~", None, 400),
        "too short": (base64.b64encode(b"x" * 10).decode(), None, 400),
        "signed non-JSON": (
            base64.b64encode(drp_agent.key.sign(b"not json")).decode(),
            None,
            400,
        ),
        "signed array": (base64.b64encode(drp_agent.key.sign(b"[1]")).decode(), None, 400),
        "no token": (signed(), "", 401),
    }
    before = customer_items(stack)
    queue = compliance.call("GET", f"/privacy-requests?submittedBy=drp:{drp_agent.agent_id}")
    for why, (body, token, status) in cases.items():
        code, answer = drp_agent.send("POST", "/v1/data-rights-request", body, token=token)
        assert code == status, (why, answer)
        assert answer["code"] == str(status) and answer["message"], why
        assert email not in answer["message"], why
    code, answer = drp_agent.send("POST", "/v1/data-rights-request", "", None)
    assert code == 400
    assert customer_items(stack) == before
    after = compliance.call("GET", f"/privacy-requests?submittedBy=drp:{drp_agent.agent_id}")
    assert after["requests"] == queue["requests"] == []
    fatal = drp_agent.send(
        "POST", "/v1/data-rights-request", signed(**{"expires-at": stamp(now)}), None
    )[1]
    assert fatal["fatal"] is True


def test_unverified_or_unmatched_people_are_denied(drp_agent: DrpAgent, person: Any) -> None:
    _, record = person()
    email = record["profile"]["email"]
    code, denied = drp_agent.exercise("deletion", email=email, email_verified=False)
    assert code == 200
    assert (denied["status"], denied["reason"]) == ("denied", "insuf_verification")
    code, nobody = drp_agent.exercise(
        "access", email="nobody.at.all@example.org", email_verified=True
    )
    assert (nobody["status"], nobody["reason"]) == ("denied", "no_match")
    assert drp_agent.status(nobody["request_id"])[1]["reason"] == "no_match"


def test_a_replayed_exercise_is_refused(drp_agent: DrpAgent, person: Any) -> None:
    _, record = person()
    body = drp_agent.sign(
        drp_agent.envelope(exercise="access", email=record["profile"]["email"], email_verified=True)
    )
    first = drp_agent.send("POST", "/v1/data-rights-request", body)
    assert first[0] == 200 and first[1]["status"] == "in_progress"
    code, replay = drp_agent.send("POST", "/v1/data-rights-request", body)
    assert code == 409 and "replay" in replay["message"]
    # A denied one too (nothing else would refuse it).
    denied = drp_agent.sign(drp_agent.envelope(exercise="access", email="x@example.org"))
    assert drp_agent.send("POST", "/v1/data-rights-request", denied)[1]["status"] == "denied"
    assert drp_agent.send("POST", "/v1/data-rights-request", denied)[0] == 409


# Exercises end to end ---------------------------------------------------------------------------


def test_deletion_is_a_forget_confirmed_from_the_queue_and_called_back(
    stack: LocalStack,
    drp_agent: DrpAgent,
    agent: ApiClient,
    compliance: ApiClient,
    callbacks: Callbacks,
    person: Any,
) -> None:
    customer_id, record = person()
    code, status = drp_agent.exercise(
        "deletion",
        email=record["profile"]["email"].upper(),  # normalised as everywhere
        email_verified=True,
        status_callback=callbacks.url,
        **{"agent-request-id": "agent-42"},
    )
    assert code == 200, status
    request_id = status["request_id"]
    assert status["status"] == "in_progress" and status["agent_request_id"] == "agent-42"
    received = datetime.fromisoformat(status["received_at"].replace("Z", "+00:00"))
    expected = datetime.fromisoformat(status["expected_by"].replace("Z", "+00:00"))
    assert timedelta(days=44) < expected - received <= timedelta(days=45, seconds=1)  # CCPA
    queued = compliance.call("GET", f"/privacy-requests?submittedBy=drp:{drp_agent.agent_id}")
    (row,) = queued["requests"]
    assert (row["requestId"], row["type"], row["status"]) == (
        request_id,
        "FORGET",
        "AWAITING_CONFIRMATION",
    )
    assert row["customerId"] == customer_id
    # Extended by compliance: the new expected_by is called back.
    compliance.call("POST", f"/privacy-requests/{request_id}/extend", {"reason": "three brands"})
    extended = callbacks.wait_for(request_id, "in_progress")
    assert extended["expected_by"] > status["expected_by"]
    agent.confirm(request_id)
    done = callbacks.wait_for(request_id, "fulfilled")
    assert done["agent_request_id"] == "agent-42" and "expected_by" not in done
    assert drp_agent.status(request_id)[1]["status"] == "fulfilled"
    assert agent.privacy(customer_id)["privacyStatus"] == "FORGOTTEN"
    # Once applied, a revoke is refused.
    code, late = drp_agent.revoke(request_id)
    assert code == 409 and late["code"] == "409"
    entries = compliance.call("GET", f"/audit?requestId={request_id}")["entries"]
    by_event = {e["eventType"]: e["actor"] for e in entries}
    assert by_event["SUBMITTED"] == f"drp:{drp_agent.agent_id}"
    assert by_event["CONFIRMED"] == "alice"
    assert record["profile"]["email"].lower() not in str(entries).lower()


def test_access_is_an_export_with_a_short_lived_results_url(
    drp_agent: DrpAgent, trusted_agent: DrpAgent, callbacks: Callbacks, person: Any
) -> None:
    _, record = person()
    code, status = trusted_agent.exercise(
        "access:categories",
        phone_number=record["profile"]["phone"],
        phone_number_verified=True,
        status_callback=callbacks.url,
    )
    assert code == 200 and status["status"] == "in_progress", status
    request_id = status["request_id"]
    # A trusted agent's request is confirmed on receipt: the workflow runs to the end, and the
    # Finish step's callback carries a link to the file.
    called_back = callbacks.wait_for(request_id, "fulfilled")
    assert called_back["results_url"].startswith("http") and called_back["expires_at"]
    with urllib.request.urlopen(called_back["results_url"], timeout=30) as download:
        assert download.read().startswith(b"category,record_id,field,value,recorded_at")
    code, fulfilled = trusted_agent.status(request_id)
    assert fulfilled["status"] == "fulfilled"
    assert fulfilled["results_url"].startswith("http") and fulfilled["expires_at"]
    # Another agent may not read it.
    code, refused = drp_agent.status(request_id)
    assert code == 403 and refused["code"] == "403"
    assert drp_agent.status("no-such-request")[0] == 404
    assert drp_agent.status("x" * 3000)[0] == 404  # no key read DynamoDB would refuse
    assert drp_agent.send("POST", "/v1/agent/" + "A" * 3000, "e30=", token="")[0] == 403


def test_a_revoke_cancels_a_request_awaiting_confirmation(
    stack: LocalStack, compliance: ApiClient, drp_agent: DrpAgent, agent: ApiClient, person: Any
) -> None:
    _, record = person()
    _, status = drp_agent.exercise(
        "deletion", email=record["profile"]["email"], email_verified=True
    )
    other = registered(stack, compliance)
    other.pair()
    code, refused = other.revoke(status["request_id"])  # another agent's request
    assert code == 403 and refused["code"] == "403"
    assert agent.request(status["request_id"])["status"] == "AWAITING_CONFIRMATION"
    code, revoked = drp_agent.revoke(status["request_id"])
    assert code == 200 and revoked["status"] == "revoked"
    assert agent.request(status["request_id"])["status"] == "CANCELLED"
    assert drp_agent.revoke(status["request_id"])[1]["status"] == "revoked"  # again: the same
    # The revoke body names no request: the same signed body cannot revoke another one.
    _, second = drp_agent.exercise("access", email=record["profile"]["email"], email_verified=True)
    code, replayed = drp_agent.revoke(second["request_id"])
    assert code == 409 and replayed["code"] == "409"
    assert agent.request(second["request_id"])["status"] == "AWAITING_CONFIRMATION"
    code, revoked = drp_agent.revoke(second["request_id"], reason="a new body, signed anew")
    assert code == 200 and revoked["status"] == "revoked"
    code, _ = drp_agent.send(
        "DELETE",
        f"/v1/data-rights-request/{status['request_id']}",
        drp_agent.sign({"reason": "x"}, SigningKey.generate()),
    )
    assert code == 403


def test_a_staff_cancel_is_a_denial_called_back(
    drp_agent: DrpAgent, agent: ApiClient, callbacks: Callbacks, person: Any
) -> None:
    _, record = person()
    _, status = drp_agent.exercise(
        "access",
        email=record["profile"]["email"],
        email_verified=True,
        status_callback=callbacks.url,
    )
    agent.cancel(status["request_id"])
    denied = callbacks.wait_for(status["request_id"], "denied")
    assert denied["reason"] == "other"


def test_sale_opt_out_and_opt_in_change_the_sale_and_sharing_consent(
    stack: LocalStack,
    sale_topic: str,
    drp_agent: DrpAgent,
    agent: ApiClient,
    compliance: ApiClient,
    person: Any,
) -> None:
    customer_id, record = person()
    email = record["profile"]["email"]
    code, out = drp_agent.exercise("sale:opt-out", email=email, email_verified=True)
    assert code == 200 and out["status"] == "fulfilled", out
    consents = {
        c["topic"]: c for c in agent.privacy(customer_id)["consents"] if c["channel"] == "email"
    }
    assert consents[sale_topic]["granted"] is False and consents[sale_topic]["source"] == "drp"
    assert drp_agent.revoke(out["request_id"])[0] == 409  # applied at once: nothing left to revoke
    code, opt_in = drp_agent.exercise("sale:opt-in", email=email, email_verified=True)
    assert opt_in["status"] == "in_progress" and "confirmation" in opt_in["processing_details"]
    trail = compliance.call("GET", f"/audit?customerId={customer_id}")["entries"]
    assert any(e["actor"] == f"drp:{drp_agent.agent_id}" for e in trail)


def test_privacyctl_registers_lists_and_removes_agents(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    drp = DrpAgent(stack.api_url, DRP_BUSINESS_ID)
    common = ["--api", stack.api_url, "--token", "dev:carol:compliance"]
    add = ["drp", "add-agent", drp.agent_id, "--verify-key", drp.verify_key, "--trusted"]
    assert privacyctl([*common, *add]) == 0
    assert "trusted" in capsys.readouterr().out
    assert privacyctl([*common, "--output", "json", "drp", "list-agents"]) == 0
    listed = json.loads(capsys.readouterr().out)["agents"]
    assert {"agentId": drp.agent_id, "trusted": True} in [
        {"agentId": a["agentId"], "trusted": a["trusted"]} for a in listed
    ]
    assert privacyctl([*common, "drp", "business"]) == 0
    assert capsys.readouterr().out.strip() == DRP_BUSINESS_ID
    assert privacyctl([*common, "drp", "remove-agent", drp.agent_id]) == 0
    assert privacyctl([*common, "drp", "remove-agent", drp.agent_id]) == 1  # 404: gone
    assert (
        privacyctl(["--api", stack.api_url, "--token", "dev:alice:agent", "drp", "list-agents"])
        == 1
    )


def test_no_claim_of_the_person_is_logged_audited_or_stored(
    stack: LocalStack,
    trusted_agent: DrpAgent,
    compliance: ApiClient,
    callbacks: Callbacks,
    person: Any,
    captured_logs: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, record = person()
    profile = record["profile"]
    claims = {
        "name": "Lindqvist, Avery",
        "email": profile["email"],
        "email_verified": True,
        "phone_number": profile["phone"],
        "phone_number_verified": True,
        "status_callback": callbacks.url,
    }
    _, status = trusted_agent.exercise("access", **claims)
    callbacks.wait_for(status["request_id"], "fulfilled")
    trusted_agent.exercise(
        "deletion", **{**claims, "email_verified": False, "phone_number_verified": False}
    )
    trusted_agent.exercise("deletion", **{**claims, "email": "someone.else@example.org"})
    model = bind(CustomerItem, stack.env["CUSTOMERS_TABLE"])
    drp_items = [i.to_simple_dict() for i in model.scan() if str(i.customer_id).startswith("drp-")]
    assert any(i["customerId"] == f"drp-request:{status['request_id']}" for i in drp_items)
    audit = [e.to_simple_dict() for e in bind(AuditEntryItem, stack.env["AUDIT_TABLE"]).scan()]
    sfn = stack.client("stepfunctions")
    history = sfn.get_execution_history(
        executionArn=f"{stack.state_machine_arn.replace(':stateMachine:', ':execution:')}:"
        f"{status['request_id']}"
    )["events"]
    haystacks = {
        "logs": captured_logs.getvalue(),
        "stdout": capsys.readouterr().out,
        "audit": json.dumps(audit),
        "drp items": json.dumps(drp_items),
        "callbacks": json.dumps(callbacks.of(status["request_id"])),
        "workflow history": json.dumps(history, default=str),
    }
    assert "drp request submitted" in haystacks["logs"], "the log capture saw nothing"
    personal = [profile["email"], profile["phone"], "Lindqvist", "someone.else@example.org"]
    for where, text in haystacks.items():
        for value in personal:
            assert value.lower() not in text.lower(), f"personal data in {where}"
