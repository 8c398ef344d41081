"""Normalisation and keyed hashing of identifiers, defined once for the suppression index, the
audit log and the audience filter: the same input must give the same hash everywhere.

Rule v2 (issue 14) is what everything writes: e-mails by functions/shared/emails.py, phones by
libphonenumber (functions/shared/phones.py), customer ids stripped as ever (tombstones and subject
hashes never change). Screening also looks up the v1 hash (functions/shared/legacy_identifiers.py)
of a value whose v1 form differs, so entries written before v2 keep matching (README, "Audience
filter", Migration)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterable
from enum import StrEnum
from functools import lru_cache, partial
from itertools import compress, repeat
from typing import Any

from functions.shared.emails import NEEDS_FULL_RULE, column_needs_full_rule, normalise_email
from functions.shared.errors import ValidationError
from functions.shared.legacy_identifiers import normalise_email_v1, normalise_phone_v1
from functions.shared.phones import (
    PLUS_DIGITS_COLUMN,
    canonical_e164,
    country_code_for,
    e164_kept,
    normalise_phone,
)

__all__ = ["normalise_email", "normalise_phone"]

# Kept here, not in the domain module, which imports this one.
PSEUDONYM_PREFIX = "forgotten:"
# Distinct phone spellings remembered per screening (a file repeats the same national forms):
# bounded, and dropped with the screener, so no number outlives the job in a warm process.
PHONE_MEMO = 1 << 16


class IdentifierKind(StrEnum):
    CUSTOMER_ID = "customerId"
    EMAIL = "email"
    PHONE = "phone"


# The raw digests to look a value up by: its v2 hash, and its v1 hash where v1 differs (else None).
Digests = tuple[bytes, bytes | None]
# A column's digests: the v2 digest of each value (None where blank or invalid), the v1 digests
# where v1 differs (by position), and the positions of values v2 cannot normalise.
ColumnDigests = tuple[list[bytes | None], dict[int, bytes], list[int]]


def normalise_customer_id(value: str) -> str:
    return value.strip()


def normaliser(kind: IdentifierKind, default_region: str | None = None) -> Callable[[str], str]:
    """The normalisation (rule v2) of one kind of identifier, chosen once for bulk use."""
    if kind is IdentifierKind.EMAIL:
        return normalise_email
    if kind is IdentifierKind.PHONE:
        return partial(normalise_phone, region=default_region)
    return normalise_customer_id


def legacy_normaliser(
    kind: IdentifierKind, default_region: str | None = None
) -> Callable[[str], str]:
    """Rule v1, with the country code the deployment's region has (the old DEFAULT_COUNTRY_CODE:
    44 for GB). Customer ids never changed."""
    if kind is IdentifierKind.EMAIL:
        return normalise_email_v1
    if kind is IdentifierKind.PHONE:
        return partial(normalise_phone_v1, default_country_code=country_code_for(default_region))
    return normalise_customer_id


def normalise(kind: IdentifierKind, value: str, default_region: str | None = None) -> str:
    return normaliser(kind, default_region)(value)


class KeyedHasher:
    """HMAC-SHA256 over 'kind:normalised value'. The kind is part of the message so that an e-mail
    and a customer id that happen to be equal strings never share a hash."""

    def __init__(self, key: bytes, default_region: str | None = None) -> None:
        if len(key) < 32:
            raise ValueError("the HMAC key must be at least 32 bytes")
        self._key = key
        self._region = default_region

    def hash(self, kind: IdentifierKind, value: str) -> str:
        return self._hmac(kind, normalise(kind, value, self._region))

    def hash_v1(self, kind: IdentifierKind, value: str) -> str:
        """The hash an entry written before rule v2 holds (for tests and migration checks)."""
        return self._hmac(kind, legacy_normaliser(kind, self._region)(value))

    def _hmac(self, kind: IdentifierKind, normalised: str) -> str:
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
        """The raw digest of `hash` for one kind, for bulk use: the same normalisation and
        message, with the HMAC's inner and outer pads keyed once instead of once per value
        (a third of the per-value cost). `digester(kind)(v).hex() == hash(kind, v)`."""
        mac = self._mac(kind)
        normalised = normaliser(kind, self._region)
        return lambda value: mac(normalised(value).encode())

    def screening_digester(self, kind: IdentifierKind) -> Callable[[str], Digests]:
        """What screening looks a value up by: (v2 digest, v1 digest or None). The v1 digest is
        given only where v1 normalises the value to another string (a malformed v1 phone has no
        v1 entry either). Raises ValidationError where v2 cannot normalise the value."""
        mac = self._mac(kind)
        new, old = normaliser(kind, self._region), legacy_normaliser(kind, self._region)
        if kind is IdentifierKind.CUSTOMER_ID:
            return lambda value: (mac(new(value).encode()), None)

        def digests(value: str) -> Digests:
            v2 = new(value)
            try:
                v1: str | None = old(value)
            except ValidationError:
                v1 = None
            return mac(v2.encode()), None if v1 is None or v1 == v2 else mac(v1.encode())

        if kind is IdentifierKind.PHONE:
            return lru_cache(maxsize=PHONE_MEMO)(digests)
        return digests

    def bytes_digester(self, kind: IdentifierKind) -> Callable[[bytes], bytes | None]:
        """`digester` for a value as the UTF-8 bytes a file holds, None for a blank value. Raises
        UnicodeDecodeError for bytes that are not UTF-8, ValidationError as `digester` does."""
        screening = self.screening_bytes_digester(kind)

        def digest(value: bytes) -> bytes | None:
            found = screening(value)
            return None if found is None else found[0]

        return digest

    def screening_bytes_digester(self, kind: IdentifierKind) -> Callable[[bytes], Digests | None]:
        """`screening_digester` for a value as the UTF-8 bytes a file holds, None for a blank
        value (no identifier at all). Values already in their v2 form (an ASCII customer id or
        plain e-mail once stripped and lower-cased, a phone in canonical E.164) are hashed
        without decoding: for those v1 gives the same string, so one HMAC suffices. Everything
        else is decoded and takes `screening_digester`. Raises UnicodeDecodeError for bytes that
        are not UTF-8, ValidationError where v2 cannot normalise the value."""
        by_text = self.screening_digester(kind)

        def by_decoding(value: bytes) -> Digests | None:
            text = value.decode()
            return None if not text or text.isspace() else by_text(text)

        inner, outer = _keyed_pads(self._key)
        inner.update(f"{kind.value}:".encode())  # every message starts so: absorb it once

        def mac(normalised: bytes) -> Digests:
            i = inner.copy()
            i.update(normalised)
            o = outer.copy()
            o.update(i.digest())
            return o.digest(), None

        if kind is IdentifierKind.PHONE:

            def phone(value: bytes) -> Digests | None:
                stripped = value.strip(ASCII_SPACE)
                return mac(stripped) if canonical_e164(stripped) else by_decoding(value)

            return phone
        email = kind is IdentifierKind.EMAIL

        def digest(value: bytes) -> Digests | None:
            if not value.isascii():
                return by_decoding(value)
            stripped = value.strip(ASCII_SPACE)
            if not stripped:
                return None
            if not email:
                return mac(stripped)
            lowered = stripped.lower()
            return by_decoding(value) if NEEDS_FULL_RULE.search(lowered) else mac(lowered)

        return digest

    def column_digester(self, kind: IdentifierKind) -> Callable[[list[bytes]], ColumnDigests]:
        """`screening_bytes_digester` over a column of values as a block of a file holds them.
        A column whose values all are in their v2 form already (every plain ASCII e-mail, every
        phone in canonical E.164) is checked in C-level passes over the whole column, leaving
        only the HMAC per value; any other value takes `screening_bytes_digester`."""
        one = self.screening_bytes_digester(kind)
        inner, outer = _keyed_pads(self._key)
        inner.update(f"{kind.value}:".encode())

        def by_value(values: list[bytes], positions: Iterable[int]) -> ColumnDigests:
            new: list[bytes | None] = [None] * len(values)
            old: dict[int, bytes] = {}
            invalid: list[int] = []
            for i in positions:
                try:
                    found = one(values[i])
                except ValidationError:
                    invalid.append(i)
                    continue
                if found is not None:
                    new[i] = found[0]
                    if found[1] is not None:
                        old[i] = found[1]
            return new, old, invalid

        # The HMAC written out, not called: a call per value costs a tenth of the hash.
        def plain(value: bytes) -> bytes | None:
            if not value:
                return None
            i = inner.copy()
            i.update(value)
            o = outer.copy()
            o.update(i.digest())
            return o.digest()

        if kind is IdentifierKind.EMAIL:

            def emails(values: list[bytes]) -> ColumnDigests:
                joined = b"\n".join(map(bytes.strip, values, repeat(ASCII_SPACE))).lower()
                if joined.isascii() and not column_needs_full_rule(joined):
                    return list(map(plain, joined.split(b"\n"))), {}, []
                return by_value(values, range(len(values)))

            return emails
        if kind is IdentifierKind.PHONE:

            def phones(values: list[bytes]) -> ColumnDigests:
                stripped = list(map(bytes.strip, values, repeat(ASCII_SPACE)))
                if not PLUS_DIGITS_COLUMN.fullmatch(b"\n".join(stripped)):
                    return by_value(values, range(len(values)))
                kept = list(map(e164_kept, stripped))
                if all(kept):
                    return list(map(plain, stripped)), {}, []
                new, old, invalid = by_value(values, [i for i, k in enumerate(kept) if not k])
                for i in compress(range(len(kept)), kept):
                    new[i] = plain(stripped[i])
                return new, old, invalid

            return phones
        return lambda values: by_value(values, range(len(values)))

    def _mac(self, kind: IdentifierKind) -> Callable[[bytes], bytes]:
        inner, outer = _keyed_pads(self._key)
        inner.update(f"{kind.value}:".encode())

        def mac(normalised: bytes) -> bytes:
            i = inner.copy()
            i.update(normalised)
            o = outer.copy()
            o.update(i.digest())
            return o.digest()

        return mac


# The ASCII characters str.strip() removes (bytes.strip() alone would keep \x1c-\x1f).
ASCII_SPACE = bytes(c for c in range(128) if chr(c).isspace())


def _keyed_pads(key: bytes) -> tuple[Any, Any]:
    """HMAC (RFC 2104) with SHA-256: H((K ^ opad) || H((K ^ ipad) || m)), K padded to 64 bytes."""
    block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
    return inner, outer
