"""The campaign's rules: what may be started, deadlines, ids, batches and tokens."""

from datetime import UTC, datetime

import pytest

from functions.campaigns.rules import (
    Campaign,
    CampaignOutcome,
    batches,
    parse_deadline,
    validate_campaign,
)
from functions.consents.rules import campaign_token, token_customer, token_hash
from functions.shared.errors import ValidationError
from functions.shared.identifiers import IdentifierKind, KeyedHasher

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_a_date_deadline_is_the_whole_day_and_offsets_become_utc():
    assert parse_deadline("2027-01-31", NOW) == "2027-02-01T00:00:00Z"
    assert parse_deadline("2026-12-01T10:00:00+01:00", NOW) == "2026-12-01T09:00:00Z"
    assert parse_deadline("2026-12-01T10:00:00.250Z", NOW) == "2026-12-01T10:00:00Z"


@pytest.mark.parametrize(
    "raw", ["2026-11-22", "2026-11-23T11:59:59Z", "2028-01-01", "tomorrow", "2027-01-31T10:00:00"]
)
def test_past_far_unparsable_or_naive_deadlines_are_refused(raw):
    with pytest.raises(ValidationError):
        parse_deadline(raw, NOW)


def test_topic_channel_outcome_and_page_size_are_checked():
    request = validate_campaign("newsletter", "email", "2027-01-31", "forget", 200, NOW)
    assert request.outcome is CampaignOutcome.FORGET
    for args in (
        ("News Letter", "email", "2027-01-31", "REVOKE", 200),
        ("newsletter", "fax", "2027-01-31", "REVOKE", 200),
        ("newsletter", "email", "2027-01-31", "DELETE", 200),
        ("newsletter", "email", "2027-01-31", "REVOKE", 0),
        ("newsletter", "email", "2027-01-31", "REVOKE", 1001),
    ):
        with pytest.raises(ValidationError):
            validate_campaign(*args, NOW)


def test_the_same_campaign_has_the_same_id_and_the_key_tells_two_apart():
    request = validate_campaign("newsletter", "email", "2027-01-31", "REVOKE", 200, NOW)
    again = validate_campaign("newsletter", "email", "2027-01-31", "revoke", 50, NOW)
    assert request.campaign_id(None) == again.campaign_id(None)
    assert request.campaign_id("a") != request.campaign_id("b") != request.campaign_id(None)
    assert len(request.campaign_id(None)) == 32


def test_a_page_is_at_most_ten_batches():
    campaign = Campaign("c" * 32, "t", "email", "d", CampaignOutcome.REVOKE, "op", "at")
    assert campaign.batch_size() == 20
    assert [len(b) for b in batches(list(range(45)), 20)] == [20, 20, 5]
    assert batches([], 20) == []


def test_campaign_tokens_are_derived_secret_and_carry_the_customer():
    hasher = KeyedHasher(b"k" * 32)
    secret = hasher.secret("repermission-token", "campaign/C-1")
    assert secret == hasher.secret("repermission-token", "campaign/C-1")
    assert secret != hasher.secret("repermission-token", "campaign/C-2")
    assert secret != KeyedHasher(b"j" * 32).secret("repermission-token", "campaign/C-1")
    assert secret not in hasher.hash(IdentifierKind.CUSTOMER_ID, "C-1")
    token, hashed = campaign_token(secret, "C-1")
    assert token_customer(token) == "C-1" and hashed == token_hash(token)
