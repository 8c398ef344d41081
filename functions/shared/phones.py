"""Phone numbers to E.164 by libphonenumber (the `phonenumbers` port), with a fast path for
numbers already in E.164 that gives libphonenumber's own answer without parsing.

`phonenumbers.parse` costs about 15-19 us a number, ten times the keyed hash: screening a column
of phones would cost ten times a column of e-mails. Most files hold E.164 already; for those the
fast path checks, from the same metadata libphonenumber parses with, that parsing would change
nothing (tests/unit/test_phone_battery.py proves it equal over every region's example numbers
and random digit strings). Everything else is parsed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat
from phonenumbers.phonemetadata import PhoneMetadata

from functions.shared.errors import ValidationError

# The error never quotes the number: it ends up in reports and logs.
_INVALID = "a phone number is not a possible international number"
_MAX_COUNTRY_CODE_DIGITS = 3


def supported_region(region: str) -> str:
    """An ISO 3166 region libphonenumber knows (e.g. 'GB'), upper-cased; ValueError otherwise."""
    upper = region.strip().upper()
    if upper not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"{region!r} is not a region libphonenumber knows (e.g. GB, DE, US)")
    return upper


def country_code_for(region: str | None) -> str | None:
    """The calling code of a region ('GB' -> '44'): what the v1 rule was configured with."""
    return None if region is None else str(phonenumbers.country_code_for_region(region))


def normalise_phone(value: str, region: str | None = None) -> str:
    """E.164 ('+' and digits) as libphonenumber formats it; national forms are read as numbers of
    `region`. Raises ValidationError for what it cannot parse as a possible number."""
    stripped = value.strip()
    if stripped[:1] == "+" and stripped.isascii() and canonical_e164(stripped.encode()):
        return stripped
    return parsed_e164(value, region)


def parsed_e164(value: str, region: str | None) -> str:
    """libphonenumber's answer itself: the slow path, and the reference the fast one is tested
    against."""
    try:
        number = phonenumbers.parse(value, region)
    except NumberParseException:
        raise ValidationError(_INVALID) from None
    if not phonenumbers.is_possible_number(number):
        raise ValidationError(_INVALID)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def canonical_e164(value: bytes) -> bool:
    """True only when `value` is '+' and ASCII digits that libphonenumber parses and formats
    back to exactly `value` (whatever the default region: a '+' number does not use it). False
    means 'parse it', not 'invalid'."""
    if value[:1] != b"+" or not value[1:].isdigit():
        return False
    for size in range(1, _MAX_COUNTRY_CODE_DIGITS + 1):
        # Calling codes are prefix-free: libphonenumber takes the first that exists.
        rule = _rule(value[1 : 1 + size])
        if rule is not None:
            return rule.keeps(value[1 + size :])
    return False


@dataclass(frozen=True)
class _CountryRule:
    """What parsing a '+cc' number does to its national significant number (NSN)."""

    # Lengths libphonenumber calls possible (not local-only) for the calling code.
    lengths: frozenset[int]
    # The national prefix it would try to strip (e.g. '0', '8', Argentina's '0?(...15)?').
    national_prefix: re.Pattern[bytes] | None

    def keeps(self, nsn: bytes) -> bool:
        # A leading 0 is either stripped (a trunk prefix) or kept as an Italian leading zero, and
        # any national prefix match may be stripped or transformed: all those are parsed.
        if len(nsn) not in self.lengths or nsn[:1] == b"0":
            return False
        return self.national_prefix is None or self.national_prefix.match(nsn) is None


@cache
def _rule(country_code: bytes) -> _CountryRule | None:
    """None for digits that are no calling code; built once per code, on first sight, so a cold
    start loads only the metadata it needs (libphonenumber loads it lazily too)."""
    code = int(country_code) if country_code.isdigit() and country_code[:1] != b"0" else 0
    if code not in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
        return None
    region = phonenumbers.region_code_for_country_code(code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, region)
    if metadata is None or metadata.general_desc is None:
        return _CountryRule(frozenset(), None)
    desc = metadata.general_desc
    lengths = frozenset(desc.possible_length or ()) - frozenset(desc.possible_length_local_only)
    prefix = metadata.national_prefix_for_parsing
    pattern = re.compile(prefix.encode()) if prefix else None
    return _CountryRule(lengths - {-1}, pattern)
