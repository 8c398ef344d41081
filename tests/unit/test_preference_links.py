"""The preference centre's magic-link tokens: only what we issued, for its purpose, until it
expires; the customer id never in the token."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest

from functions.consents.preference_links import InvalidLink, LinkPurpose, PreferenceLinks
from functions.shared import clock
from functions.shared.identifiers import KeyedHasher

HASHER = KeyedHasher(b"k" * 32)
LINKS = PreferenceLinks(HASHER)


def test_a_token_opens_for_its_purpose_with_the_customer_hash_and_not_the_id():
    token, claims = LINKS.issue("C-1001", LinkPurpose.UNSUBSCRIBE, "newsletter", "acme")
    assert "C-1001" not in token
    opened = LINKS.open(token, LinkPurpose.UNSUBSCRIBE)
    assert opened == claims and opened.subject == HASHER.customer("C-1001")
    assert (opened.topic, opened.brand) == ("newsletter", "acme")


def test_the_other_purpose_is_refused():
    token, _ = LINKS.issue("C-1001", LinkPurpose.PREFERENCES)
    with pytest.raises(InvalidLink):
        LINKS.open(token, LinkPurpose.UNSUBSCRIBE)


def test_it_lives_24_hours():
    token, claims = LINKS.issue("C-1001", LinkPurpose.PREFERENCES)
    assert claims.expires - clock.now().timestamp() == pytest.approx(24 * 3600, abs=2)
    later = datetime.now(UTC) + timedelta(hours=24, seconds=1)
    with mock.patch.object(clock, "now", return_value=later), pytest.raises(InvalidLink):
        LINKS.open(token, LinkPurpose.PREFERENCES)


@pytest.mark.parametrize("position", range(0, 200, 7))
def test_any_changed_character_is_refused(position):
    token, _ = LINKS.issue("C-1001", LinkPurpose.PREFERENCES)
    if position >= len(token):
        return
    swapped = "A" if token[position] != "A" else "B"
    with pytest.raises(InvalidLink):
        LINKS.open(token[:position] + swapped + token[position + 1 :], LinkPurpose.PREFERENCES)


def test_another_key_or_a_page_token_mac_is_refused():
    token, _ = PreferenceLinks(KeyedHasher(b"x" * 32)).issue("C-1001", LinkPurpose.PREFERENCES)
    with pytest.raises(InvalidLink):
        LINKS.open(token, LinkPurpose.PREFERENCES)
    version, body, _ = token.split(".")
    page_mac = HASHER.secret("page-token", body)
    with pytest.raises(InvalidLink):
        LINKS.open(f"{version}.{body}.{page_mac}", LinkPurpose.PREFERENCES)


@pytest.mark.parametrize("junk", ["", ".", "v1..", "v1.e30.", "v1.%%%.abc", "x" * 64])
def test_junk_is_refused(junk):
    with pytest.raises(InvalidLink):
        LINKS.open(junk, LinkPurpose.PREFERENCES)
