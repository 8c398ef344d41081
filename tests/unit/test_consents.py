"""The consent rules: what may be recorded, what a choice becomes, how tokens look."""

from __future__ import annotations

import pytest

from functions.consents.rules import (
    ConsentStatus,
    new_token,
    token_customer,
    token_hash,
    validate_choice,
)
from functions.consents.service import _already
from functions.shared.domain import category_of, status_of
from functions.shared.errors import ValidationError


@pytest.mark.parametrize(
    ("granted", "source", "status"),
    [
        (False, "preference-centre", ConsentStatus.REVOKED),
        (False, "import", ConsentStatus.REVOKED),
        (True, "crm", ConsentStatus.GRANTED),
        (True, "double-opt-in", ConsentStatus.GRANTED),
        (True, "preference-centre", ConsentStatus.PENDING),
        (True, "import", ConsentStatus.PENDING),
    ],
)
def test_only_confirmed_sources_grant_at_once(granted, source, status):
    assert validate_choice("C-1", "newsletter", "email", granted, source, None).status is status


@pytest.mark.parametrize(
    ("topic", "channel", "source", "brand", "named"),
    [
        ("News Letter", "email", "crm", None, "topic"),
        ("newsletter", "fax", "crm", None, "channel"),
        ("newsletter", "email", "guess", None, "source"),
        ("newsletter", "email", "crm", "Big#Brand", "topic"),
    ],
)
def test_bad_choices_name_what_is_wrong(topic, channel, source, brand, named):
    with pytest.raises(ValidationError, match=named):
        validate_choice("C-1", topic, channel, True, source, brand)


def test_a_brand_keys_its_own_consent():
    plain = validate_choice("C-1", "partner-news", "sms", True, "crm", None)
    branded = validate_choice("C-1", "partner-news", "sms", True, "crm", "acme")
    assert (plain.key, branded.key) == ("partner-news#sms", "partner-news#sms#acme")


def test_repeats_change_nothing_but_a_pending_opt_in_is_reissued():
    assert _already(ConsentStatus.REVOKED, ConsentStatus.REVOKED)
    assert _already(ConsentStatus.GRANTED, ConsentStatus.PENDING)  # no downgrade
    assert not _already(ConsentStatus.PENDING, ConsentStatus.PENDING)
    assert not _already(ConsentStatus.PENDING, ConsentStatus.REVOKED)


def test_tokens_carry_the_customer_and_only_their_hash_is_kept():
    token, hashed = new_token("C-1.x")
    assert token_customer(token) == "C-1.x"
    assert hashed == token_hash(token) and token not in hashed and len(hashed) == 64
    assert new_token("C-1")[0] != new_token("C-1")[0]
    for bad in ("no-separator", "C-1.short", ".secretsecretsecretsecretsecretsecret"):
        with pytest.raises(ValidationError):
            token_customer(bad)


def test_imported_consents_without_a_status_read_from_granted():
    assert status_of({"granted": True}) is ConsentStatus.GRANTED
    assert status_of({"granted": False}) is ConsentStatus.REVOKED
    assert status_of({"granted": False, "status": "PENDING"}) is ConsentStatus.PENDING


def test_history_and_confirmations_have_their_own_categories():
    assert category_of("CONSENT#newsletter#email") == "consents"
    assert category_of("CONSENTLOG#2026-11-23T10:00:00Z#abc") == "consentHistory"
    assert category_of("CONSENTTOKEN#ab12") == "consentConfirmations"
