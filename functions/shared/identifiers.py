"""Normalisation and keyed hashing of identifiers, defined once for the suppression index,
the audit log and (later) the audience filter: the same input must give the same hash everywhere."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable
from enum import StrEnum
from functools import partial
from typing import Any

from functions.shared.errors import ValidationError

# Kept here, not in the domain module, which imports this one.
PSEUDONYM_PREFIX = "forgotten:"


class IdentifierKind(StrEnum):
    CUSTOMER_ID = "customerId"
    EMAIL = "email"
    PHONE = "phone"


_PHONE_SEPARATORS = re.compile(r"[\s().\-/]")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def normalise_customer_id(value: str) -> str:
    return value.strip()


def normalise_email(value: str) -> str:
    return value.strip().lower()


def normalise_phone(value: str, default_country_code: str | None = None) -> str:
    """To E.164 ('+' and digits). '00' is the international prefix; a national number with a
    leading 0 needs the deployment's default country calling code (e.g. '44')."""
    # '+44 (0)20 ...': the bracketed trunk zero is dialled nationally only.
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


def normaliser(
    kind: IdentifierKind, default_country_code: str | None = None
) -> Callable[[str], str]:
    """The normalisation of one kind of identifier, chosen once for bulk use."""
    if kind is IdentifierKind.EMAIL:
        return normalise_email
    if kind is IdentifierKind.PHONE:
        return partial(normalise_phone, default_country_code=default_country_code)
    return normalise_customer_id


def normalise(kind: IdentifierKind, value: str, default_country_code: str | None = None) -> str:
    return normaliser(kind, default_country_code)(value)


class KeyedHasher:
    """HMAC-SHA256 over 'kind:normalised value'. The kind is part of the message so that an e-mail
    and a customer id that happen to be equal strings never share a hash."""

    def __init__(self, key: bytes, default_country_code: str | None = None) -> None:
        if len(key) < 32:
            raise ValueError("the HMAC key must be at least 32 bytes")
        self._key = key
        self._default_country_code = default_country_code

    def hash(self, kind: IdentifierKind, value: str) -> str:
        normalised = normalise(kind, value, self._default_country_code)
        message = f"{kind.value}:{normalised}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def customer(self, customer_id: str) -> str:
        """The keyed hash of a customer id; a forgotten customer's stand-in already is one."""
        if customer_id.startswith(PSEUDONYM_PREFIX):
            return customer_id.removeprefix(PSEUDONYM_PREFIX)
        return self.hash(IdentifierKind.CUSTOMER_ID, customer_id)

    def secret(self, purpose: str, value: str) -> str:
        """A secret derived from the key for one purpose (e.g. a campaign's confirmation token):
        the same inputs give the same secret, so a retried step issues the same one. The message
        never starts with 'kind:', so it can never equal an identifier's hash."""
        digest = hmac.new(self._key, f"{purpose}\n{value}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def digester(self, kind: IdentifierKind) -> Callable[[str], bytes]:
        """The raw digest of `hash` for one kind, for bulk screening: the same normalisation and
        message, with the HMAC's inner and outer pads keyed once instead of once per value
        (a third of the per-value cost). `digester(kind)(v).hex() == hash(kind, v)`."""
        inner, outer = _keyed_pads(self._key)
        prefix = f"{kind.value}:".encode()
        normalised = normaliser(kind, self._default_country_code)

        def digest(value: str) -> bytes:
            message = prefix + normalised(value).encode()
            i = inner.copy()
            i.update(message)
            o = outer.copy()
            o.update(i.digest())
            return o.digest()

        return digest

    def bytes_digester(self, kind: IdentifierKind) -> Callable[[bytes], bytes | None]:
        """`digester` for a value as the UTF-8 bytes a file holds, None for a blank value (no
        identifier at all). An ASCII e-mail or customer id is normalised without decoding it
        (bytes.lower and a strip of ASCII_SPACE do to ASCII what str.lower and str.strip do);
        everything else is decoded and takes `digester`. Raises UnicodeDecodeError for bytes
        that are not UTF-8, ValidationError as `digester` does."""
        by_text = self.digester(kind)

        def by_decoding(value: bytes) -> bytes | None:
            text = value.decode()
            return None if not text or text.isspace() else by_text(text)

        if kind is IdentifierKind.PHONE:
            return by_decoding
        inner, outer = _keyed_pads(self._key)
        inner.update(f"{kind.value}:".encode())  # every message starts so: absorb it once
        lower = kind is IdentifierKind.EMAIL

        def digest(value: bytes) -> bytes | None:
            if not value.isascii():
                return by_decoding(value)
            value = value.strip(ASCII_SPACE)
            if not value:
                return None
            i = inner.copy()
            i.update(value.lower() if lower else value)
            o = outer.copy()
            o.update(i.digest())
            return o.digest()

        return digest


# The ASCII characters str.strip() removes (bytes.strip() alone would keep \x1c-\x1f).
ASCII_SPACE = bytes(c for c in range(128) if chr(c).isspace())


def _keyed_pads(key: bytes) -> tuple[Any, Any]:
    """HMAC (RFC 2104) with SHA-256: H((K ^ opad) || H((K ^ ipad) || m)), K padded to 64 bytes."""
    block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
    return inner, outer
