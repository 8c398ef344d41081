import pytest

from functions.shared.domain import pseudonym
from functions.shared.errors import ValidationError
from functions.shared.identifiers import (
    IdentifierKind,
    KeyedHasher,
    normalise_email,
    normalise_phone,
)

KEY = bytes(range(32))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Alice@Example.COM", "alice@example.com"),
        ("  bob@example.com\t", "bob@example.com"),
        ("carol@example.com", "carol@example.com"),
    ],
)
def test_email_is_trimmed_and_lower_cased(raw, expected):
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+44 20 7946 0101", None, "+442079460101"),
        ("+44 (0)20 7946 0103", None, "+442079460103"),
        # '00' is the international prefix of GB (libphonenumber knows each region's).
        ("0044-20-7946-0101", "GB", "+442079460101"),
        ("020 7946 0102", "GB", "+442079460102"),
        ("+1 (415) 555-0107", None, "+14155550107"),
        ("415.555.0107", "US", "+14155550107"),
        ("  +49 30 901820 05 ", None, "+493090182005"),
    ],
)
def test_phone_becomes_e164(raw, region, expected):
    assert normalise_phone(raw, region) == expected


@pytest.mark.parametrize("raw", ["", "+", "call me", "+0123456", "12"])
def test_unusable_phone_is_refused_without_echoing_it(raw):
    with pytest.raises(ValidationError) as error:
        normalise_phone(raw, "GB")
    assert raw.strip() == "" or raw not in str(error.value)


def test_same_identifier_in_any_spelling_hashes_the_same():
    hasher = KeyedHasher(KEY, default_region="GB")
    assert hasher.hash(IdentifierKind.EMAIL, " Avery@Example.com ") == hasher.hash(
        IdentifierKind.EMAIL, "avery@example.com"
    )
    assert hasher.hash(IdentifierKind.PHONE, "020 7946 0101") == hasher.hash(
        IdentifierKind.PHONE, "+44 20 7946 0101"
    )


def test_kind_is_part_of_the_hash_and_the_key_matters():
    hasher = KeyedHasher(KEY)
    value = "+442079460101"
    assert hasher.hash(IdentifierKind.CUSTOMER_ID, value) != hasher.hash(
        IdentifierKind.PHONE, value
    )
    other = KeyedHasher(bytes(reversed(range(32))))
    assert hasher.customer("C-1") != other.customer("C-1")
    assert len(hasher.customer("C-1")) == 64


def test_short_keys_are_refused():
    with pytest.raises(ValueError):
        KeyedHasher(b"too short")


def test_a_forgotten_customers_pseudonym_hashes_to_itself():
    hasher = KeyedHasher(KEY)
    customer_hash = hasher.customer("C-1")
    assert pseudonym(customer_hash) == f"forgotten:{customer_hash}"
    # Records kept under the pseudonym still resolve to the same subject in the audit trail.
    assert hasher.customer(pseudonym(customer_hash)) == customer_hash
