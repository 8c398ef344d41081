"""E-mail addresses in every form a CRM or spreadsheet export holds them normalise to one form
(the same person), near misses do not (someone else), and the byte path agrees with the text
path on all of them."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import pytest

from functions.shared.emails import normalise_email
from functions.shared.identifiers import IdentifierKind, KeyedHasher

KEY = bytes(range(32))
ADDRESSES = [
    "ann@example.com",
    "ann.lee+news@example.co.uk",
    "jos\u00e9@example.com",
    "ann@b\u00fccher.example",
    "stra\u00dfe@example.de",
    "o'brien@example.ie",
]
FULL_WIDTH_AT = "\uff20"
FORMS: dict[str, Callable[[str], str]] = {
    "as is": lambda a: a,
    # ASCII only: 'ß'.upper() is 'SS', another mailbox (see the casefold test below).
    "upper case": lambda a: "".join(c.upper() if c.isascii() else c for c in a),
    "padded": lambda a: f" \t{a}\u2003",
    "zero-width space": lambda a: "\u200b" + a.replace("@", "@\u200b"),
    "BOM": lambda a: "\ufeff" + a,
    "soft hyphen": lambda a: a.replace("@", "\u00ad@"),
    "full-width @": lambda a: a.replace("@", FULL_WIDTH_AT),
    "full-width letters": lambda a: unicodedata.normalize("NFKC", a).translate(
        {c: c + 0xFEE0 for c in range(0x21, 0x7F) if chr(c) not in "@."}
    ),
    "mailto:": lambda a: "mailto:" + a,
    "MAILTO: with a query": lambda a: f"MAILTO:{a}?subject=Hello",
    "mailto: percent-encoded": lambda a: "mailto:" + a.replace("@", "%40"),
    "name-addr": lambda a: f"Ann Lee <{a}>",
    "quoted name-addr": lambda a: f'"Lee, Ann" <{a}>',
    "angle brackets": lambda a: f"<{a}>",
    "name-addr, mailto": lambda a: f"Ann <mailto:{a}>",
    "trailing dot of the domain": lambda a: a + ".",
    "NFD": lambda a: unicodedata.normalize("NFD", a),
    "NFC": lambda a: unicodedata.normalize("NFC", a),
    "ideographic full stops in the domain": lambda a: _domain_stops(a),
    "ACE domain": lambda a: _ace(a),
}
NEAR_MISSES: dict[str, Callable[[str], str]] = {
    "another local part": lambda a: "x" + a,
    "another domain": lambda a: a.replace("@", "@x"),
    "a dot removed (no Gmail rule)": lambda a: a.replace(".", "", 1),
    "a +tag added (no tag rule)": lambda a: a.replace("@", "+tag@"),
    "a character dropped": lambda a: a[:-2] + a[-1],
    "another top-level domain": lambda a: a.rsplit(".", 1)[0] + ".org",
    "a space in the middle kept as no separator": lambda a: a.replace("@", "@m"),
}


def _domain_stops(address: str) -> str:
    local, _, domain = address.rpartition("@")
    return local + "@" + domain.replace(".", "\u3002")


def _ace(address: str) -> str:
    local, _, domain = address.partition("@")
    labels = [
        "xn--" + label.encode("punycode").decode() if not label.isascii() else label
        for label in unicodedata.normalize("NFC", domain).split(".")
    ]
    return f"{local}@{'.'.join(labels)}"


def _canonical(address: str) -> str:
    return normalise_email(address)


@pytest.mark.parametrize("address", ADDRESSES)
@pytest.mark.parametrize("form", FORMS)
def test_every_form_is_the_same_person(address, form):
    raw = FORMS[form](address)
    assert normalise_email(raw) == _canonical(address), (form, raw)
    hasher = KeyedHasher(KEY)
    expected = hasher.hash(IdentifierKind.EMAIL, address)
    assert hasher.hash(IdentifierKind.EMAIL, raw) == expected
    found = hasher.screening_bytes_digester(IdentifierKind.EMAIL)(raw.encode())
    assert found is not None and found[0].hex() == expected


@pytest.mark.parametrize("address", ADDRESSES)
@pytest.mark.parametrize("miss", NEAR_MISSES)
def test_a_near_miss_is_someone_else(address, miss):
    raw = NEAR_MISSES[miss](address)
    assert normalise_email(raw) != _canonical(address), (miss, raw)


def test_lower_not_casefold_keeps_sharp_s_apart():
    # casefold would merge these two mailboxes; lower keeps them (and keeps v1's hashes).
    assert normalise_email("STRASSE@example.de") != normalise_email("Stra\u00dfe@example.de")
    assert normalise_email("Stra\u00dfe@Example.de") == "stra\u00dfe@example.de"


def test_a_plain_address_keeps_its_v1_form():
    """So its hash is the one the index already holds: the screening looks up one HMAC."""
    hasher = KeyedHasher(KEY)
    for address in ("ann@example.com", "  Ann@Example.COM "):
        assert hasher.hash(IdentifierKind.EMAIL, address) == hasher.hash_v1(
            IdentifierKind.EMAIL, address
        )
        new, old = hasher.screening_digester(IdentifierKind.EMAIL)(address)
        assert old is None and new.hex() == hasher.hash(IdentifierKind.EMAIL, address)


def test_a_form_v1_spelt_differently_is_also_looked_up_by_its_v1_hash():
    hasher = KeyedHasher(KEY)
    raw = "Ann Lee <Ann@Example.com>"
    v1 = hasher.hash_v1(IdentifierKind.EMAIL, raw)
    for digests in (
        hasher.screening_digester(IdentifierKind.EMAIL)(raw),
        hasher.screening_bytes_digester(IdentifierKind.EMAIL)(raw.encode()),
    ):
        assert digests is not None
        new, old = digests
        assert new.hex() == hasher.hash(IdentifierKind.EMAIL, "ann@example.com")
        assert old is not None and old.hex() == v1
