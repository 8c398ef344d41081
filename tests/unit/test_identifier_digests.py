"""The audience filter's fast digests are the suppression index's hashes, spelling for spelling."""

import pytest

from functions.shared.errors import ValidationError
from functions.shared.identifiers import IdentifierKind, KeyedHasher

SPELLINGS = {
    IdentifierKind.EMAIL: [
        "alice@example.com",
        "Alice@Example.COM",
        "  alice@example.com\t",
        "\u00a0ALICE@EXAMPLE.COM\u2003",
        "jos\u00e9@exampl\u00e9.com",
        "JOS\u00c9@EXAMPL\u00c9.COM",
        "stra\u00dfe@example.de",
        "a+tag@example.com\r\n",
        "\x1cbob@example.com\x1f\x0b",
        " \u2003",
        "",
        # Rule v2's forms (issue 14).
        "\u200bAlice@Example.com",
        "\ufeffalice@example.com",
        "alice\uff20example.com",
        "mailto:Alice@Example.com",
        "Alice Lee <alice@example.com>",
        '"Lee, Alice" <alice@example.com>',
        "alice@example.com.",
        "jose\u0301@example.com",
        "alice@xn--exampl-gva.com",
        "alice@XN--EXAMPL-GVA.com",
        "a b@example.com",
    ],
    IdentifierKind.PHONE: [
        "+44 20 7946 0101",
        "+44 (0)20 7946 0103",
        "0044-20-7946-0101",
        "020 7946 0102",
        "+1 (415) 555-0107",
        "415.555.0107",
        "  +49 30 901820 05 ",
        "+44/20/7946/0101",
        # Rule v2's forms (issue 14).
        "+442079460101",
        "+44 020 7946 0101",
        "442079460101",
        "tel:+44-20-7946-0101",
        "\uff0b\uff14\uff14\uff12\uff10\uff17\uff19\uff14\uff16\uff10\uff11\uff10\uff11",
        "+44\u201320\u20137946\u20130101",
        "+44\u200b2079460101",
        "+44 20 7946 0101 ext. 7",
        "8 (912) 345-67-89",
        "1-415-555-0132",
        "+4412",
    ],
    IdentifierKind.CUSTOMER_ID: ["C-1001", " C-1001 ", "c-1001", "\u00dcml\u00e4ut-7", ""],
}


@pytest.mark.parametrize("region", [None, "GB", "US"])
@pytest.mark.parametrize("key", [bytes(range(32)), b"k" * 64, b"long-key" * 20])
def test_digester_yields_the_keyed_hash_for_every_spelling(key, region):
    hasher = KeyedHasher(key, region)
    for kind, spellings in SPELLINGS.items():
        digest = hasher.digester(kind)
        for value in spellings:
            try:
                expected = hasher.hash(kind, value)
            except ValidationError:
                with pytest.raises(ValidationError):
                    digest(value)
                continue
            assert digest(value).hex() == expected, (kind, region)


@pytest.mark.parametrize("region", [None, "GB"])
def test_bytes_digester_yields_the_keyed_hash_for_every_spelling(region):
    hasher = KeyedHasher(bytes(range(32)), region)
    for kind, spellings in SPELLINGS.items():
        digest = hasher.bytes_digester(kind)
        for value in spellings:
            try:
                expected = hasher.hash(kind, value)
            except ValidationError:
                with pytest.raises(ValidationError):
                    digest(value.encode())
                continue
            if not value.strip():
                assert digest(value.encode()) is None, (kind, value)
            else:
                assert digest(value.encode()).hex() == expected, (kind, value)


@pytest.mark.parametrize("kind", [IdentifierKind.EMAIL, IdentifierKind.CUSTOMER_ID])
def test_bytes_digester_agrees_on_every_ascii_character_around_a_value(kind):
    """The byte path normalises ASCII itself: every ASCII character, leading, trailing or inside,
    must give what the text path gives."""
    hasher = KeyedHasher(bytes(range(32)))
    by_bytes, by_text = hasher.bytes_digester(kind), hasher.digester(kind)
    for c in map(chr, range(128)):
        for value in (f"{c}Ab@Ex.com", f"Ab@Ex.com{c}", f"A{c}b@Ex.com", c, c * 3):
            expected = by_text(value) if value.strip() else None
            assert by_bytes(value.encode()) == expected, (kind, value)


def test_bytes_digester_refuses_bytes_that_are_not_utf8():
    digest = KeyedHasher(bytes(range(32))).bytes_digester(IdentifierKind.EMAIL)
    with pytest.raises(UnicodeDecodeError):
        digest(b"caf\xe9@example.com")
