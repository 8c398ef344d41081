"""Normalisation rule v1: what the suppression index was hashed with before issue 14.

Kept verbatim, for screening only: entries written under v1 stay in the index (a forgotten
person's raw identifiers are gone, so their FORGOTTEN entries can never be re-hashed), and the
audience filter looks their v1 hash up too wherever v1 and v2 disagree (README, "Audience
filter", Migration). Nothing writes v1 hashes any more."""

from __future__ import annotations

import re

from functions.shared.errors import ValidationError

_PHONE_SEPARATORS = re.compile(r"[\s().\-/]")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def normalise_email_v1(value: str) -> str:
    return value.strip().lower()


def normalise_phone_v1(value: str, default_country_code: str | None = None) -> str:
    """To '+' and digits by a hand-written rule ('00' as the international prefix, a leading 0
    replaced by the deployment's country code)."""
    digits = _PHONE_SEPARATORS.sub("", value.strip().replace("(0)", ""))
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    elif not digits.startswith("+"):
        if default_country_code is None:
            digits = "+" + digits
        else:
            digits = "+" + default_country_code + digits.removeprefix("0")
    if not _E164.match(digits):
        raise ValidationError("a phone number is not a valid international number")
    return digits
