"""Phone numbers to E.164 by libphonenumber (the `phonenumbers` port), with a fast path for
numbers already in E.164 that gives libphonenumber's own answer without parsing.

`phonenumbers.parse` costs about 15-19 us a number, ten times the keyed hash: screening a column
of phones would cost ten times a column of e-mails. Most files hold E.164 already; for those the
fast path checks, from the same metadata libphonenumber parses with, that parsing would change
nothing (tests/unit/test_phone_battery.py proves it equal over every region's example numbers
and random digit strings). Everything else is parsed."""

from __future__ import annotations

import re
from collections.abc import Callable

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat
from phonenumbers.phonemetadata import PhoneMetadata

from functions.shared.errors import ValidationError

# The error never quotes the number: it ends up in reports and logs.
_INVALID = "a phone number is not a possible international number"


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
    return e164_kept(value)


# A column of stripped values joined by LF, each '+' and digits or blank: `e164_kept` applies.
PLUS_DIGITS_COLUMN = re.compile(rb"(?:\+[0-9]+)?(?:\n(?:\+[0-9]+)?)*")


def e164_kept(value: bytes) -> bool:
    """`canonical_e164` for a value known to be '+' and digits, or blank: the per-value hot
    path."""
    # Calling codes are prefix-free: libphonenumber takes the first (shortest) that exists.
    rule = _RULES[value[1:2]] or _RULES[value[1:3]] or _RULES[value[1:4]]
    if rule is None:
        return False
    lengths, size, national_prefix = rule
    nsn = value[size:]
    # A leading 0 is either stripped (a trunk prefix) or kept as an Italian leading zero, and
    # any national prefix match may be stripped or transformed: all those are parsed.
    return (
        len(nsn) in lengths
        and nsn[:1] != b"0"
        and (national_prefix is None or national_prefix(nsn) is None)
    )


# What parsing a '+cc' number does to its national significant number (NSN): the lengths
# libphonenumber calls possible (not local-only), where the NSN starts, and the match of the
# national prefix it would try to strip (e.g. '0', '8', Argentina's '0?(...15)?').
_Rule = tuple[frozenset[int], int, Callable[[bytes], object] | None]


class _Rules(dict[bytes, _Rule | None]):
    """Calling code digits -> rule, None for digits that are no calling code; each built on
    first sight, so a cold start loads only the metadata it needs (libphonenumber loads it
    lazily too), and every later look-up is a plain dict hit."""

    def __missing__(self, digits: bytes) -> _Rule | None:
        self[digits] = rule = _rule(digits)
        return rule


def _rule(digits: bytes) -> _Rule | None:
    code = int(digits) if digits.isdigit() and digits[:1] != b"0" else 0
    if code not in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
        return None
    region = phonenumbers.region_code_for_country_code(code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, region)
    if metadata is None or metadata.general_desc is None:
        return frozenset(), 0, None
    desc = metadata.general_desc
    lengths = frozenset(desc.possible_length or ()) - frozenset(desc.possible_length_local_only)
    prefix = metadata.national_prefix_for_parsing
    match = re.compile(prefix.encode()).match if prefix else None
    return lengths - {-1}, 1 + len(digits), match


_RULES = _Rules()
