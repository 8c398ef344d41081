"""Trying to break the lite sign-up on the local stack (issue 19): nothing is stored before the
address's owner confirms; the answer is the same for known and unknown addresses; a token is
single-use, tamper-evident and expires; one address makes one customer; a forgotten person may
come back only by their own confirmed act (a new id, the tombstone kept, their other
identifiers still suppressed), and nothing else brings them back."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest

from functions.shared import clock
from functions.shared.identifiers import IdentifierKind
from functions.shared.models import AuditEntryItem, CustomerItem, bind
from privacyctl.client import ApiClient, ApiError
from tests.integration.conftest import run_request, seed_unique_person
from tests.integration.test_audience_filter import drop_with_topic
from tests.integration.test_consents import _screen
from tests.integration.test_preference_centre import _counts

SIGN_UP = "SignUpConfirmationRequested"


def _address() -> str:
    return f"new-{uuid.uuid4().hex[:10]}@example.org"


def _sign_up(customer: ApiClient, email: str, topic: str = "newsletter") -> dict[str, Any]:
    return customer.call("POST", "/public/signup", {"email": email, "topic": topic})


def _sent_to(stack, email: str) -> list[dict[str, Any]]:
    return [
        m for m in stack.outbox_messages() if m["type"] == SIGN_UP and m["detail"]["email"] == email
    ]


def _confirm(customer: ApiClient, token: str) -> dict[str, Any]:
    return customer.call("POST", "/public/signup/confirm", {"token": token})


def _lite_customers(stack, email: str) -> list[CustomerItem]:
    hashed = stack.api_dependencies().hasher.hash(IdentifierKind.EMAIL, email)
    return list(bind(CustomerItem, stack.env["CUSTOMERS_TABLE"]).by_email.query(hashed))


def test_an_unknown_address_writes_nothing_until_confirmed_then_becomes_a_lite_customer(
    stack, customer
):
    email = _address()
    before = _counts(stack)
    accepted = _sign_up(customer, email)
    assert accepted == {"message": "check your inbox: the e-mail we sent asks you to confirm"}
    assert _counts(stack) == before  # nothing stored: the address is only in the token
    (sent,) = _sent_to(stack, email)
    token = sent["detail"]["token"]
    assert email not in token and sent["detail"]["topic"] == "newsletter"

    confirmed = _confirm(customer, token)
    assert confirmed == {"topic": "newsletter", "channel": "email", "status": "GRANTED"}
    (profile,) = _lite_customers(stack, email)
    cid = profile.customer_id
    assert cid.startswith("L-")
    privacy = ApiClient(stack.api_url, "dev:alice:agent").privacy(cid)
    assert privacy["privacyStatus"] == "ACTIVE"
    (consent,) = privacy["consents"]
    assert consent["status"] == "GRANTED" and consent["source"] == "double-opt-in"
    entries = list(bind(AuditEntryItem, stack.env["AUDIT_TABLE"]).scan())
    subject = stack.api_dependencies().hasher.customer(cid)
    (signed_up,) = [e for e in entries if e.customer_hash == subject]
    assert signed_up.event_type == "CONSENT_SIGNED_UP"
    assert signed_up.actor == "customer"
    assert email not in json.dumps([e.to_simple_dict() for e in entries], default=str)
    assert _screen(stack, {"profile": {"email": email}}, "newsletter") == 1


def test_a_token_is_single_use_and_one_address_makes_one_customer(stack, customer):
    email = _address()
    _sign_up(customer, email)
    _sign_up(customer, email)
    first, second = (m["detail"]["token"] for m in _sent_to(stack, email))
    _confirm(customer, first)
    before = _counts(stack)
    for token in (first, second):
        with pytest.raises(ApiError) as refused:
            _confirm(customer, token)
        assert refused.value.status == 409
    assert _counts(stack) == before
    assert len(_lite_customers(stack, email)) == 1


def _tampered(token: str) -> list[str]:
    version, body = token.split(".", 1)
    middle = len(body) // 2
    flipped = body[:middle] + ("A" if body[middle] != "A" else "B") + body[middle + 1 :]
    return [
        f"{version}.{flipped}",
        f"s2.{body}",
        body,
        token[:-4],
        token + "AAAA",
        "s1." + "A" * 60,
    ]


def test_tampered_and_expired_tokens_are_404_and_write_nothing(stack, customer):
    email = _address()
    _sign_up(customer, email)
    (sent,) = _sent_to(stack, email)
    token = sent["detail"]["token"]
    before = _counts(stack)
    for bad in _tampered(token):
        with pytest.raises(ApiError) as refused:
            _confirm(customer, bad)
        assert refused.value.status == 404, bad
    later = datetime.now(UTC) + timedelta(days=1, seconds=1)
    with mock.patch.object(clock, "now", return_value=later):
        with pytest.raises(ApiError) as expired:
            _confirm(customer, token)
        assert expired.value.status == 404
    assert _counts(stack) == before


def test_a_customers_address_gets_the_usual_double_opt_in_and_the_same_answer(stack, customer):
    person = seed_unique_person(stack)
    known = _sign_up(customer, person["profile"]["email"].upper(), "offers")
    unknown = _sign_up(customer, _address(), "offers")
    assert known == unknown
    assert _sent_to(stack, person["profile"]["email"]) == []
    kinds = [m["type"] for m in stack.outbox_messages(person["customerId"])]
    assert kinds[-1] == "ConsentConfirmationRequested"


def test_bad_sign_ups_are_400_or_403_and_write_nothing(stack, customer, agent):
    before = _counts(stack)
    for body in (
        {"email": _address(), "topic": "no-such-topic"},
        {"email": "not an address", "topic": "newsletter"},
        {"email": _address(), "topic": "newsletter", "brand": "nobrand"},
        {"email": _address(), "topic": "newsletter", "extra": 1},
    ):
        with pytest.raises(ApiError) as refused:
            customer.call("POST", "/public/signup", body)
        assert refused.value.status == 400, body
    with pytest.raises(ApiError) as staff:
        agent.call("POST", "/public/signup", {"email": _address(), "topic": "newsletter"})
    assert staff.value.status == 403
    assert _counts(stack) == before
    assert [
        m for m in stack.outbox_messages() if m["type"] == SIGN_UP and "nobrand" in str(m)
    ] == []


def test_a_forgotten_person_may_sign_up_again_with_a_new_id_and_nothing_else_revives_them(
    stack, customer, agent
):
    person = seed_unique_person(stack)
    old_id, email, phone = (
        person["customerId"],
        person["profile"]["email"],
        person["profile"]["phone"],
    )
    assert run_request(agent, old_id, "FORGET")["status"] == "COMPLETED"
    assert _screen(stack, person, "newsletter") == 0
    # Nothing but the person's own confirmed act brings them back: the old id stays forgotten.
    with pytest.raises(ApiError) as refused:
        agent.call(
            "PUT",
            f"/customers/{old_id}/consents/newsletter",
            {"channel": "email", "granted": True, "source": "crm"},
        )
    assert refused.value.status in (404, 409)

    _sign_up(customer, email)
    (sent,) = _sent_to(stack, email)
    _confirm(customer, sent["detail"]["token"])
    (profile,) = _lite_customers(stack, email)
    assert profile.customer_id != old_id
    assert agent.privacy(old_id)["privacyStatus"] == "FORGOTTEN"  # the tombstone stays
    assert _screen(stack, {"profile": {"email": email}}, "newsletter") == 1
    # Their other identifiers stay suppressed: they gave this address again, not their phone.
    body = f"email,phone\n,{phone}\n".encode()
    dropped = drop_with_topic(stack, f"p-{uuid.uuid4().hex[:6]}.csv", body, "newsletter")
    assert int(dropped["rowsOut"]) == 0


def test_forget_erases_the_link_and_sign_up_lookups(stack, customer, agent):
    from functions.shared.customers import link_key, signup_key

    email = _address()
    _sign_up(customer, email)
    (sent,) = _sent_to(stack, email)
    _confirm(customer, sent["detail"]["token"])
    (profile,) = _lite_customers(stack, email)
    cid = profile.customer_id
    agent.call("POST", f"/customers/{cid}/preference-link")
    deps = stack.api_dependencies()
    model = bind(CustomerItem, stack.env["CUSTOMERS_TABLE"])
    keys = [
        link_key(deps.hasher.customer(cid)),
        signup_key(deps.hasher.hash(IdentifierKind.EMAIL, email)),
    ]
    assert all(model.count(pk, model.sk == sk) == 1 for pk, sk in keys)
    assert run_request(agent, cid, "FORGET")["status"] == "COMPLETED"
    assert all(model.count(pk, model.sk == sk) == 0 for pk, sk in keys)


def test_confirmations_at_once_make_one_customer(stack, customer):
    from concurrent.futures import ThreadPoolExecutor

    email = _address()
    for _ in range(2):
        _sign_up(customer, email)
    tokens = [m["detail"]["token"] for m in _sent_to(stack, email)] * 2

    def confirm(token: str) -> int:
        try:
            _confirm(customer, token)
            return 200
        except ApiError as exc:
            return exc.status

    with ThreadPoolExecutor(len(tokens)) as pool:
        statuses = sorted(pool.map(confirm, tokens))
    assert statuses == [200, 409, 409, 409]
    assert len(_lite_customers(stack, email)) == 1


def test_the_address_is_never_logged_or_audited(stack, customer, captured_logs):
    email = _address()
    _sign_up(customer, email)
    (sent,) = _sent_to(stack, email)
    _confirm(customer, sent["detail"]["token"])
    assert email not in captured_logs.getvalue()
    entries = bind(AuditEntryItem, stack.env["AUDIT_TABLE"]).scan()
    assert email not in json.dumps([e.to_simple_dict() for e in entries], default=str)
