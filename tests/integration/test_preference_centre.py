"""Trying to break the preference centre's backend on the local stack (issue 19): magic-link
tokens (tampered, expired, wrong purpose, forged: 404 and nothing written), the public routes
refusing staff sessions, RFC 8058 one-click unsubscribe (200 when repeated, audited once, the
audience filter drops the person at once), and no e-mail in answers, messages or audit."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest

from functions.shared import clock
from functions.shared.models import AuditEntryItem, bind
from privacyctl.client import ApiClient, ApiError
from tests.integration.conftest import count_items, seed_unique_person
from tests.integration.test_consents import _screen

TABLES = ("CUSTOMERS_TABLE", "SUPPRESSION_TABLE", "AUDIT_TABLE")


def _counts(stack) -> dict[str, int]:
    return {t: count_items(stack, t) for t in TABLES}


def _link_token(stack, agent: ApiClient, customer_id: str) -> str:
    answer = agent.call("POST", f"/customers/{customer_id}/preference-link")
    assert answer == {"message": "the link is on its way to the customer"}
    sent = [m for m in stack.outbox_messages(customer_id) if m["type"] == "PreferenceLinkRequested"]
    assert sent[-1]["action"]["url"].endswith("/public/preferences")
    return str(sent[-1]["detail"]["token"])


def _unsubscribe_headers(agent: ApiClient, customer_id: str, topic: str) -> dict[str, Any]:
    return agent.call("POST", f"/customers/{customer_id}/unsubscribe-link", {"topic": topic})


def _one_click(url: str, body: bytes = b"List-Unsubscribe=One-Click", **headers: str):
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def person(stack) -> dict[str, Any]:
    return seed_unique_person(stack)


def test_a_link_reads_every_offered_topic_without_the_customer_id_or_email(
    stack, agent, customer, person
):
    token = _link_token(stack, agent, person["customerId"])
    assert person["customerId"] not in token and person["profile"]["email"] not in token
    answer = customer.call("POST", "/public/preferences", {"token": token})
    topics = {(p["topic"], p["channel"]) for p in answer["preferences"]}
    assert {("newsletter", "email"), ("offers", "sms")} <= topics
    assert person["customerId"] not in json.dumps(answer)
    assert answer["expiresAt"].endswith("Z")


def test_an_opt_out_is_immediate_and_an_opt_in_is_pending_double_opt_in(
    stack, agent, customer, person
):
    cid = person["customerId"]
    token = _link_token(stack, agent, cid)
    assert _screen(stack, person, "newsletter") == 1
    out = customer.call(
        "POST",
        "/public/preferences/change",
        {"token": token, "topic": "newsletter", "channel": "email", "granted": False},
    )
    assert out["status"] == "REVOKED" and out["source"] == "preference-centre"
    assert _screen(stack, person, "newsletter") == 0
    back = customer.call(
        "POST",
        "/public/preferences/change",
        {"token": token, "topic": "newsletter", "channel": "email", "granted": True},
    )
    assert back["status"] == "PENDING" and "confirmation" in back
    kinds = [m["type"] for m in stack.outbox_messages(cid)]
    assert kinds[-1] == "ConsentConfirmationRequested"
    read = customer.call("POST", "/public/preferences", {"token": token})
    (newsletter,) = [
        p for p in read["preferences"] if (p["topic"], p["channel"]) == ("newsletter", "email")
    ]
    assert newsletter["status"] == "PENDING" and newsletter["source"] == "preference-centre"
    # The actor is the link's pseudonym (customer:<hash>), never an address.
    entries = list(bind(AuditEntryItem, stack.env["AUDIT_TABLE"]).scan())
    mine = [e for e in entries if e.actor.startswith("customer:")]
    assert {"CONSENT_REVOKED", "CONSENT_PENDING"} <= {e.event_type for e in mine}
    text = json.dumps([e.to_simple_dict() for e in entries], default=str)
    messages = json.dumps(stack.outbox_messages())
    assert person["profile"]["email"] not in text and person["profile"]["email"] not in messages


def _tampered(token: str) -> list[str]:
    version, body, mac = token.split(".")
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    return [
        f"{version}.{flipped}.{mac}",
        f"{version}.{body}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}",
        f"v2.{body}.{mac}",
        f"{body}.{mac}",
        token + "x",
        "x" * 40,
    ]


def test_tampered_expired_and_wrong_purpose_tokens_are_404_and_write_nothing(
    stack, agent, customer, person
):
    cid = person["customerId"]
    token = _link_token(stack, agent, cid)
    unsub = _unsubscribe_headers(agent, cid, "newsletter")["listUnsubscribe"].strip("<>")
    unsub_token = unsub.split("token=", 1)[1]
    before = _counts(stack)
    change = {"topic": "newsletter", "channel": "email", "granted": False}
    for bad in [*_tampered(token), unsub_token]:
        for path, body in (
            ("/public/preferences", {"token": bad}),
            ("/public/preferences/change", {"token": bad, **change}),
        ):
            with pytest.raises(ApiError) as refused:
                customer.call("POST", path, body)
            assert refused.value.status == 404, (path, bad)
    # A preferences token is no unsubscribe token.
    status, _ = _one_click(f"{stack.api_url}/public/unsubscribe?token={token}")
    assert status == 404
    # Expired: the clock a day and a second on.
    later = datetime.now(UTC) + timedelta(days=1, seconds=1)
    with mock.patch.object(clock, "now", return_value=later):
        with pytest.raises(ApiError) as expired:
            customer.call("POST", "/public/preferences/change", {"token": token, **change})
        assert expired.value.status == 404
        status, _ = _one_click(f"{stack.api_url}/public/unsubscribe?token={unsub_token}")
        assert status == 404
    assert _counts(stack) == before


def test_a_staff_session_on_the_public_routes_is_403(stack, agent, person):
    token = _link_token(stack, agent, person["customerId"])
    for path, body in (
        ("/public/preferences", {"token": token}),
        (
            "/public/preferences/change",
            {"token": token, "topic": "newsletter", "channel": "email", "granted": False},
        ),
    ):
        with pytest.raises(ApiError) as refused:
            agent.call("POST", path, body)
        assert refused.value.status == 403
    status, _ = _one_click(
        f"{stack.api_url}/public/unsubscribe?token={token}", Authorization="Bearer dev:alice:agent"
    )
    assert status == 403


def test_one_click_unsubscribe_is_200_twice_audited_once_and_screens_out_at_once(
    stack, agent, person
):
    cid = person["customerId"]
    headers = _unsubscribe_headers(agent, cid, "newsletter")
    assert headers["listUnsubscribePost"] == "List-Unsubscribe=One-Click"
    url = headers["listUnsubscribe"]
    assert url.startswith(f"<{stack.api_url}/public/unsubscribe?token=") and url.endswith(">")
    assert _screen(stack, person, "newsletter") == 1
    audit_before = count_items(stack, "AUDIT_TABLE")
    assert _one_click(url.strip("<>")) == (200, {"unsubscribed": True})
    assert _one_click(url.strip("<>")) == (200, {"unsubscribed": True})
    assert count_items(stack, "AUDIT_TABLE") == audit_before + 1
    assert _screen(stack, person, "newsletter") == 0
    assert _screen(stack, person, "offers") == 1


def test_one_click_needs_its_exact_body_and_other_routes_still_refuse_forms(stack, agent, person):
    url = _unsubscribe_headers(agent, person["customerId"], "newsletter")["listUnsubscribe"]
    before = _counts(stack)
    status, _ = _one_click(url.strip("<>"), b"List-Unsubscribe=Nope")
    assert status == 400
    status, _ = _one_click(url.strip("<>") + "&extra=1")
    assert status == 400
    assert _counts(stack) == before
    token = _link_token(stack, agent, person["customerId"])
    status, error = _one_click(f"{stack.api_url}/public/preferences", f"token={token}".encode())
    assert status == 415 and error["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    status, _ = _one_click(f"{stack.api_url}/public/consents/confirm", b"token=x")
    assert status == 415


def test_a_link_for_a_topic_not_offered_is_a_400(stack, agent, person):
    with pytest.raises(ApiError) as refused:
        _unsubscribe_headers(agent, person["customerId"], "no-such-topic")
    assert refused.value.status == 400


def test_privacyctl_prints_exactly_the_two_headers_and_they_work(stack, person, capsys):
    from privacyctl.cli import main

    argv = ["unsubscribe-link", person["customerId"], "--topic", "offers"]
    with mock.patch.dict("os.environ", {"PRIVACYCTL_API": stack.api_url}):
        assert main([*argv, "--api", stack.api_url, "--token", "dev:alice:agent"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"List-Unsubscribe: <{stack.api_url}/public/unsubscribe?token=")
    assert lines[1] == "List-Unsubscribe-Post: List-Unsubscribe=One-Click"
    url = lines[0].removeprefix("List-Unsubscribe: ").strip("<>")
    assert _one_click(url) == (200, {"unsubscribed": True})


def _ask_link(stack, email: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        f"{stack.api_url}/public/preferences/link",
        data=json.dumps({"email": email}).encode(),
        method="POST",
        headers={"Content-Type": "application/json", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _comparable(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower() not in ("x-request-id", "date")}


def test_asking_by_email_answers_the_same_for_known_and_unknown_and_sends_only_to_a_customer(
    stack, person
):
    cid, email = person["customerId"], person["profile"]["email"]
    known = _ask_link(stack, "  " + email.upper() + " ")  # the normalisation of everywhere
    unknown = _ask_link(stack, f"nobody-{cid.lower()}@example.org")
    assert known[0] == unknown[0] == 202
    assert known[2] == unknown[2]
    assert _comparable(known[1]) == _comparable(unknown[1])
    (sent,) = [m for m in stack.outbox_messages(cid) if m["type"] == "PreferenceLinkRequested"]
    assert set(sent["detail"]) == {"customerId", "token", "expiresAt"}
    assert email not in json.dumps(stack.outbox_messages())
    token = sent["detail"]["token"]
    read = ApiClient(stack.api_url, None).call("POST", "/public/preferences", {"token": token})
    assert read["preferences"]
    status, _, _ = _ask_link(stack, email, Authorization="Bearer dev:alice:agent")
    assert status == 403


def test_the_email_is_never_logged(stack, person, captured_logs):
    email = person["profile"]["email"]
    _ask_link(stack, email)
    assert email not in captured_logs.getvalue()


def test_the_lookup_item_holds_the_id_only_and_expires_with_the_link(stack, agent, person):
    from functions.shared.customers import link_key
    from functions.shared.models import CustomerItem

    cid = person["customerId"]
    _link_token(stack, agent, cid)
    subject = stack.api_dependencies().hasher.customer(cid)
    item = bind(CustomerItem, stack.env["CUSTOMERS_TABLE"]).get(*link_key(subject))
    assert item.data.as_dict() == {"customerId": cid}
    remaining = item.expires.timestamp() - datetime.now(UTC).timestamp()
    assert 24 * 3600 - 60 < remaining <= 24 * 3600


@pytest.fixture
def gpc_offers(stack):
    """The API as deployed with GPC_TOPIC=offers."""
    from dataclasses import replace

    from functions.api import dependencies

    dependencies.use(replace(stack.api_dependencies(), gpc_topic="offers"))
    yield
    dependencies.use(None)


def test_gpc_signal_with_a_valid_link_opts_out_of_the_sale_topic_once(
    stack, agent, customer, person, gpc_offers
):
    token = _link_token(stack, agent, person["customerId"])
    assert customer.call("GET", "/.well-known/gpc.json") == {
        "gpc": True,
        "lastUpdate": "2026-12-02",
    }
    assert _screen(stack, person, "offers") == 1
    customer.call("POST", "/public/preferences", {"token": token}, {"Sec-GPC": "0"})
    customer.call("POST", "/public/preferences", {"token": token}, {"Sec-GPC": "yes"})
    assert _screen(stack, person, "offers") == 1
    before = count_items(stack, "AUDIT_TABLE")
    read = customer.call("POST", "/public/preferences", {"token": token}, {"Sec-GPC": "1"})
    assert read["preferences"]
    assert count_items(stack, "AUDIT_TABLE") == before + 1
    customer.call("POST", "/public/preferences", {"token": token}, {"Sec-GPC": "1"})
    assert count_items(stack, "AUDIT_TABLE") == before + 1
    assert _screen(stack, person, "offers") == 0
    after = customer.call("POST", "/public/preferences", {"token": token})
    (offers,) = [
        p for p in after["preferences"] if (p["topic"], p["channel"]) == ("offers", "email")
    ]
    assert offers["status"] == "REVOKED" and offers["source"] == "gpc"


def test_gpc_without_a_valid_link_writes_nothing(stack, customer, gpc_offers):
    before = _counts(stack)
    with pytest.raises(ApiError) as refused:
        customer.call("POST", "/public/preferences", {"token": "v1." + "x" * 40}, {"Sec-GPC": "1"})
    assert refused.value.status == 404
    assert _counts(stack) == before


def test_gpc_is_not_claimed_unless_configured(customer):
    assert customer.call("GET", "/.well-known/gpc.json")["gpc"] is False


def test_unsubscribe_from_everything_is_one_act_audited_once_and_screens_out_every_topic(
    stack, agent, customer, person
):
    cid = person["customerId"]
    token = _link_token(stack, agent, cid)
    assert _screen(stack, person, "newsletter") == _screen(stack, person, "offers") == 1
    audit_before = count_items(stack, "AUDIT_TABLE")
    everything = customer.call("POST", "/public/preferences/unsubscribe-all", {"token": token})
    assert {p["status"] for p in everything["preferences"]} == {"REVOKED"}
    assert {p["source"] for p in everything["preferences"]} == {"preference-centre"}
    assert _screen(stack, person, "newsletter") == _screen(stack, person, "offers") == 0
    assert count_items(stack, "AUDIT_TABLE") == audit_before + 1
    subject = stack.api_dependencies().hasher.customer(cid)
    entries = bind(AuditEntryItem, stack.env["AUDIT_TABLE"]).scan()
    (act,) = [e for e in entries if e.event_type == "CONSENT_REVOKED_ALL"]
    assert act.actor == f"customer:{subject}" and act.customer_hash == subject
    changed = act.details.as_dict()["changes"] if hasattr(act.details, "as_dict") else None
    assert changed is None or len(changed) == len(everything["preferences"])
    # Repeated: nothing changes, nothing is audited again.
    again = customer.call("POST", "/public/preferences/unsubscribe-all", {"token": token})
    assert [p["status"] for p in again["preferences"]] == ["REVOKED"] * len(again["preferences"])
    assert count_items(stack, "AUDIT_TABLE") == audit_before + 1


def test_unsubscribe_from_everything_refuses_bad_tokens_staff_and_a_race_writing_nothing(
    stack, agent, customer, person
):
    from functions.consents.repository import ConsentRepository

    token = _link_token(stack, agent, person["customerId"])
    before = _counts(stack)
    for bad in _tampered(token):
        with pytest.raises(ApiError) as refused:
            customer.call("POST", "/public/preferences/unsubscribe-all", {"token": bad})
        assert refused.value.status == 404
    with pytest.raises(ApiError) as staff:
        agent.call("POST", "/public/preferences/unsubscribe-all", {"token": token})
    assert staff.value.status == 403
    # Another change lands between the read and the write (the consent a staff member just
    # recorded is read as if it were not there yet): the one transaction is refused whole, so
    # no consent, entry or audit entry of the act remains.
    agent.call(
        "PUT",
        f"/customers/{person['customerId']}/consents/offers",
        {"channel": "sms", "granted": True, "source": "crm"},
    )
    middle = _counts(stack)
    assert middle != before
    real = ConsentRepository.current

    def stale(self, customer_id, key):
        found = real(self, customer_id, key)
        return None if found is not None and found.change_id else found

    with mock.patch.object(ConsentRepository, "current", stale):
        with pytest.raises(ApiError) as raced:
            customer.call("POST", "/public/preferences/unsubscribe-all", {"token": token})
        assert raced.value.status == 409
    assert _counts(stack) == middle
    assert _screen(stack, person, "newsletter") == 1


def test_a_get_of_the_list_unsubscribe_url_shows_the_page_and_changes_nothing(stack, agent, person):
    url = _unsubscribe_headers(agent, person["customerId"], "newsletter")["listUnsubscribe"]
    token = url.strip("<>").split("token=", 1)[1]
    before = _counts(stack)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as answered:
        opener.open(url.strip("<>"), timeout=30)
    assert answered.value.code == 303
    assert answered.value.headers["Location"] == f"/preferences/unsubscribe.html#token={token}"
    assert _counts(stack) == before
    assert _screen(stack, person, "newsletter") == 1
    with pytest.raises(urllib.error.HTTPError) as bad:
        opener.open(f"{stack.api_url}/public/unsubscribe?token={'x' * 40}%0d%0aSet-Cookie:a")
    assert bad.value.code == 400


def test_the_topics_on_offer_are_public(customer):
    assert customer.call("GET", "/public/topics") == {
        "topics": ["newsletter", "offers"],
        "brands": {},
    }


def test_the_answer_says_when_the_gpc_signal_was_honoured(
    stack, agent, customer, person, gpc_offers
):
    token = _link_token(stack, agent, person["customerId"])
    plain = customer.call("POST", "/public/preferences", {"token": token})
    assert plain["gpcHonoured"] is False
    signalled = customer.call("POST", "/public/preferences", {"token": token}, {"Sec-GPC": "1"})
    assert signalled["gpcHonoured"] is True
