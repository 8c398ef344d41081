"""Phone numbers of every region libphonenumber has examples for, in every form a CRM or
spreadsheet export holds them, normalise to the number's E.164 (the same person) and a number one
digit away does not (a different person); the E.164 fast path is libphonenumber's own answer."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Iterator

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from phonenumbers.phonemetadata import PhoneMetadata

from functions.shared.errors import ValidationError
from functions.shared.identifiers import IdentifierKind, KeyedHasher
from functions.shared.legacy_identifiers import normalise_phone_v1
from functions.shared.phones import canonical_e164, normalise_phone, parsed_e164
from functions.shared.settings import HashingSettings

KEY = bytes(range(32))
FULL_WIDTH = str.maketrans(
    "+0123456789", "\uff0b\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19"
)
TYPES = [PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE]


def _example(region: str) -> phonenumbers.PhoneNumber | None:
    for kind in TYPES:
        number = phonenumbers.example_number_for_type(region, kind)
        if number is not None:
            return number
    return None


REGIONS = sorted(r for r in phonenumbers.SUPPORTED_REGIONS if _example(r) is not None)


def _fmt(number: phonenumbers.PhoneNumber, style: int) -> str:
    return phonenumbers.format_number(number, style)


def forms(region: str, number: phonenumbers.PhoneNumber) -> Iterator[tuple[str, str, str | None]]:
    """(form, raw text, the region it is read with) for one number of `region`."""
    e164 = _fmt(number, PhoneNumberFormat.E164)
    international = _fmt(number, PhoneNumberFormat.INTERNATIONAL)
    national = _fmt(number, PhoneNumberFormat.NATIONAL)
    cc, nsn = str(number.country_code), phonenumbers.national_significant_number(number)
    yield "e164", e164, None
    yield "e164, padded", f"  {e164}\t", "GB"
    yield "international", international, None
    yield "national, the deployment's region", national, region
    yield "RFC 3966", _fmt(number, PhoneNumberFormat.RFC3966), None
    yield "RFC 3966, phone-context", f"tel:{nsn};phone-context=+{cc}", None
    yield "extension", f"{international} ext. 123", None
    yield "00 prefix (from GB)", f"00 {cc} {nsn}", "GB"
    yield "011 prefix (from US)", f"011 {cc} {nsn}", "US"
    lengths = PhoneMetadata.metadata_for_region(region).general_desc.possible_length
    if len(cc + nsn) not in lengths:
        # Only where the digits cannot also be a national number: '4915123456789' is 13
        # digits, a possible German national number, so libphonenumber reads it as one.
        yield "country code without +", f"{cc}{nsn}", region
    yield "full-width digits", international.translate(FULL_WIDTH), None
    yield "en-dash separators", international.replace(" ", "\u2013"), None
    yield "non-breaking hyphens", international.replace(" ", "\u2011"), None
    yield "no-break spaces", international.replace(" ", "\u00a0"), None
    yield "zero-width space", e164[:4] + "\u200b" + e164[4:], None
    yield "dotted", f"+{cc}." + ".".join(nsn[i : i + 3] for i in range(0, len(nsn), 3)), None
    prefix = PhoneMetadata.metadata_for_region(region).national_prefix
    if prefix == "0" and national.startswith("0") and not nsn.startswith("0"):
        # '+44 (0)20 ...' and '+44 020 ...': the trunk 0 its national form is dialled with,
        # written after the country code.
        yield "+cc (0)", f"+{cc} (0){nsn}", None
        yield "+cc 0", f"+{cc} 0{nsn}", None


def _other(number: phonenumbers.PhoneNumber) -> str:
    """The same number with its last digit changed: someone else's."""
    e164 = _fmt(number, PhoneNumberFormat.E164)
    return e164[:-1] + str((int(e164[-1]) + 1) % 10)


def _normalised(raw: str, region: str | None) -> str | None:
    try:
        return normalise_phone(raw, region)
    except ValidationError:
        return None


def test_the_battery_covers_at_least_forty_regions():
    assert len(REGIONS) >= 40
    assert {"GB", "DE", "US", "IT", "RU", "FR", "JP", "BR", "IN", "AR", "MX", "AU"} <= set(REGIONS)


@pytest.mark.parametrize("region", REGIONS)
def test_every_form_of_a_regions_number_is_the_same_person(region):
    number = _example(region)
    assert number is not None
    expected = _fmt(number, PhoneNumberFormat.E164)
    hasher = KeyedHasher(KEY)
    for form, raw, read_as in forms(region, number):
        assert _normalised(raw, read_as) == expected, (region, form)
        by_region = KeyedHasher(KEY, read_as)
        digest = by_region.screening_bytes_digester(IdentifierKind.PHONE)(raw.encode())
        assert digest is not None and digest[0].hex() == hasher.hash(IdentifierKind.PHONE, expected)
    other = _other(number)
    for form, raw, read_as in forms(region, phonenumbers.parse(other)):
        assert _normalised(raw, read_as) != expected, (region, form, "a different number")


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        # The forms issue 14 found the v1 rule getting wrong.
        ("+44 07400 123456", "GB", "+447400123456"),
        ("447400123456", "GB", "+447400123456"),
        ("8 (912) 345-67-89", "RU", "+79123456789"),
        ("06 1234 5678", "IT", "+390612345678"),
        ("1-415-555-0132", "US", "+14155550132"),
        ("tel:+44-7400-123456", "GB", "+447400123456"),
        (
            "\uff0b\uff14\uff14 \uff17\uff14\uff10\uff10 \uff11\uff12\uff13\uff14\uff15\uff16",
            "GB",
            "+447400123456",
        ),
        ("+44\u20137400\u2013123456", "GB", "+447400123456"),
        ("+44\u20117400\u2011123456", "GB", "+447400123456"),
        ("+44\u200b7400123456", "GB", "+447400123456"),
        ("0049 30 901820", "DE", "+4930901820"),
        ("011 44 7400 123456", "US", "+447400123456"),
        ("07400 123456", "GB", "+447400123456"),
    ],
)
def test_the_forms_the_issue_names(raw, region, expected):
    assert normalise_phone(raw, region) == expected


@pytest.mark.parametrize("raw", ["", "+", "call me", "+0123456", "12", "+44 12", "+999 1234567"])
def test_what_libphonenumber_cannot_parse_as_possible_is_malformed(raw):
    with pytest.raises(ValidationError) as error:
        normalise_phone(raw, "GB")
    assert raw.strip() == "" or raw not in str(error.value)


def _all_examples() -> Iterator[str]:
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in PhoneNumberType.values():
            for get in (phonenumbers.example_number_for_type, _invalid_example):
                number = get(region, kind)
                if number is not None:
                    yield _fmt(number, PhoneNumberFormat.E164)
    for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS:
        number = phonenumbers.example_number_for_non_geo_entity(code)
        if number is not None:
            yield _fmt(number, PhoneNumberFormat.E164)


def _invalid_example(region: str, kind: int) -> phonenumbers.PhoneNumber | None:
    return phonenumbers.invalid_example_number(region) if kind == 0 else None


def _fast_path_agrees(value: str) -> bool:
    """Where the fast path answers, libphonenumber answers the same, for any default region."""
    if not canonical_e164(value.encode()):
        return False
    for region in (None, "GB", "US", "DE"):
        assert parsed_e164(value, region) == value, value
    # One HMAC suffices there: the v1 rule gives the same string or refuses it.
    with contextlib.suppress(ValidationError):
        assert normalise_phone_v1(value, "44") == value
    return True


def test_the_fast_path_is_libphonenumbers_answer_for_every_example_number():
    examples = sorted(set(_all_examples()))
    taken = sum(map(_fast_path_agrees, examples))
    assert len(examples) > 1000
    # It must also be worth having: most E.164 numbers take it.
    assert taken / len(examples) > 0.6, taken
    assert canonical_e164(b"+447400123456") and canonical_e164(b"+14155550132")


def _random_digit_strings(seed: int, count: int) -> Iterator[str]:
    pick = random.Random(seed)
    codes = sorted(map(str, phonenumbers.COUNTRY_CODE_TO_REGION_CODE))
    for _ in range(count):
        head = pick.choice(codes) if pick.random() < 0.9 else str(pick.randrange(1, 1000))
        tail = "".join(pick.choice("0123456789") for _ in range(pick.randrange(0, 16)))
        yield "+" + head + tail


@pytest.mark.parametrize("seed", range(4))
def test_the_fast_path_is_libphonenumbers_answer_for_random_digit_strings(seed):
    taken = sum(map(_fast_path_agrees, _random_digit_strings(seed, 5000)))
    assert taken > 500


@pytest.mark.parametrize("value", [b"+447400123456 ", b"447400123456", b"+44 7400", b"+", b"+4"])
def test_the_fast_path_declines_anything_but_plain_e164(value):
    assert not canonical_e164(value)


def test_a_value_repeated_in_a_file_is_parsed_once():
    calls: list[str] = []
    hasher = KeyedHasher(KEY, "GB")
    digests = hasher.screening_digester(IdentifierKind.PHONE)
    wrapped: Callable[[str], object] = digests
    for _ in range(3):
        calls.append(wrapped("07400 123456")[0].hex())  # type: ignore[index]
    assert len(set(calls)) == 1
    assert digests.cache_info().hits == 2  # type: ignore[attr-defined]


@pytest.mark.parametrize(("raw", "expected"), [("GB", "GB"), ("de", "DE"), (" us ", "US")])
def test_the_default_region_is_read_at_cold_start(raw, expected):
    settings = HashingSettings.from_env({"HMAC_KEY_PARAMETER": "/k", "DEFAULT_REGION": raw})
    assert settings.default_region == expected


@pytest.mark.parametrize("raw", ["44", "UK", "XX", "", "GBR"])
def test_an_unknown_default_region_fails_the_cold_start_by_name(raw):
    with pytest.raises(RuntimeError, match="DEFAULT_REGION"):
        HashingSettings.from_env({"HMAC_KEY_PARAMETER": "/k", "DEFAULT_REGION": raw})
