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
        "",
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
    ],
    IdentifierKind.CUSTOMER_ID: ["C-1001", " C-1001 ", "c-1001", "\u00dcml\u00e4ut-7", ""],
}


@pytest.mark.parametrize("country", [None, "44", "1"])
@pytest.mark.parametrize("key", [bytes(range(32)), b"k" * 64, b"long-key" * 20])
def test_digester_yields_the_keyed_hash_for_every_spelling(key, country):
    hasher = KeyedHasher(key, country)
    for kind, spellings in SPELLINGS.items():
        digest = hasher.digester(kind)
        for value in spellings:
            try:
                expected = hasher.hash(kind, value)
            except ValidationError:
                with pytest.raises(ValidationError):
                    digest(value)
                continue
            assert digest(value).hex() == expected, (kind, country)
