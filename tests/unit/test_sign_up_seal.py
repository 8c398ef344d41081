"""The sign-up token seals the address: only our key opens it, any changed byte or another key
is refused (one refusal), and it expires."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest

from functions.consents.preferences import PreferenceTopics
from functions.consents.signup import InvalidSignUp, SignUpSeal
from functions.shared import clock
from functions.shared.identifiers import KeyedHasher
from functions.shared.steady import no_sooner_than

SEAL = SignUpSeal(KeyedHasher(b"k" * 32), 24 * 3600)


def test_it_opens_with_the_address_topic_and_brand_and_hides_the_address():
    token, claims = SEAL.issue("ann@example.org", "offers", "north")
    assert "ann" not in token and "example" not in token
    opened = SEAL.open(token)
    assert (opened.email, opened.topic, opened.brand) == ("ann@example.org", "offers", "north")
    assert opened.expires == claims.expires


@pytest.mark.parametrize("position", range(3, 60, 7))
def test_any_changed_character_is_refused(position):
    token, _ = SEAL.issue("ann@example.org", "offers", None)
    swapped = "B" if token[position] != "B" else "C"
    with pytest.raises(InvalidSignUp):
        SEAL.open(token[:position] + swapped + token[position + 1 :])


def test_another_key_and_junk_are_refused():
    token, _ = SignUpSeal(KeyedHasher(b"x" * 32), 3600).issue("a@b.org", "offers", None)
    for junk in (token, "s1.", "s1", "", "s1.!!!!", "v1." + token[3:]):
        with pytest.raises(InvalidSignUp):
            SEAL.open(junk)


def test_it_expires():
    token, _ = SEAL.issue("ann@example.org", "offers", None)
    later = datetime.now(UTC) + timedelta(days=1, seconds=1)
    with mock.patch.object(clock, "now", return_value=later), pytest.raises(InvalidSignUp):
        SEAL.open(token)


def test_more_topics_than_one_transaction_can_revoke_are_refused_at_start():
    brands = {f"brand-{n}": ["news", "offers"] for n in range(5)}
    with pytest.raises(ValueError, match="at most 30"):
        PreferenceTopics.parse(f'{{"topics": ["general"], "brands": {brands}}}'.replace("'", '"'))
    assert PreferenceTopics.parse('{"topics": ["a"], "brands": {"b": ["c"]}}').choices() == 6


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.mark.parametrize("work", [0.0, 0.05, 0.29])
def test_a_steady_answer_ends_at_the_floor_whatever_the_work_took(work):
    fake = FakeClock()
    with no_sooner_than(0.3, fake, fake.sleep):
        fake.now += work
    assert fake.now == pytest.approx(100.3)


def test_a_steady_answer_waits_on_an_error_too_and_never_shortens_slow_work():
    fake = FakeClock()
    with pytest.raises(RuntimeError), no_sooner_than(0.3, fake, fake.sleep):
        raise RuntimeError("refused")
    assert fake.now == pytest.approx(100.3)
    with no_sooner_than(0.3, fake, fake.sleep):
        fake.now += 1.0
    assert fake.now == pytest.approx(101.3)
