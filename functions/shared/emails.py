"""E-mail addresses in the one form the suppression index hashes (rule v2).

Every step undoes a way the same mailbox reaches us spelt differently from a CRM or spreadsheet
export; none merges two mailboxes that mail systems keep apart. So: no Gmail dot or '+tag'
removal (they are provider rules, and would drop a stranger's row for someone else's cease), and
`lower`, not `casefold`: casefold also maps 'ß' to 'ss' (and a final sigma to sigma), merging
addresses that are different mailboxes (IDNA 2008 keeps 'ß' distinct in domains too); `lower` is
what the v1 rule did, so a plain address hashes as it always has."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

# ASCII that may need more than strip + lower: name-addr brackets, a 'mailto:' colon, inner
# whitespace, a trailing dot, an ACE ('xn--') label. An ASCII address without any of them is
# already in its v2 form once stripped and lower-cased (the byte path relies on this).
NEEDS_FULL_RULE = re.compile(rb"[<>:\t\n\x0b\x0c\r\x1c-\x1f ]|\.\Z|xn--")
_SPECIAL_ASCII = b"<>:\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f "


def column_needs_full_rule(joined: bytes) -> bool:
    """NEEDS_FULL_RULE for any of a column of stripped, lower-cased ASCII values joined by LF
    (which no value holds): C-level finds, ten times cheaper than the regex over the column."""
    return (
        len(joined.translate(None, _SPECIAL_ASCII)) != len(joined) - joined.count(b"\n")
        or b".\n" in joined
        or joined.endswith(b".")
        or b"xn--" in joined
    )


# Full stops UTS 46 maps to '.' in domains (NFKC already maps U+FF0E and U+FF61 to these).
_IDEOGRAPHIC_STOPS = str.maketrans({"\u3002": "."})
_MAILTO = "mailto:"


def normalise_email(value: str) -> str:
    """NFKC; invisible (category Cf) characters dropped; a name-addr ('Ann <ann@x>') reduced to
    its address and a 'mailto:' URI unwrapped; whitespace dropped; the domain without a trailing
    dot, its ACE labels decoded to Unicode (one form for an internationalised domain); lower-case.
    Never fails: any text is some address, and one nobody ceased matches nothing."""
    text = unicodedata.normalize("NFKC", value)
    if not text.isascii():
        text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    text = text.strip()
    if text.endswith(">") and "<" in text:
        text = text[text.rindex("<") + 1 : -1]
    if text[: len(_MAILTO)].lower() == _MAILTO:
        text = unquote(text[len(_MAILTO) :].partition("?")[0])
    text = "".join(text.split())
    local, at, domain = text.rpartition("@")
    if at:
        text = local + at + _domain(domain)
    # Lower-casing may leave text that is not NFKC (e.g. 'İ' -> 'i' + U+0307 stays, others not).
    return unicodedata.normalize("NFKC", text.lower())


def _domain(domain: str) -> str:
    labels = domain.translate(_IDEOGRAPHIC_STOPS).rstrip(".").split(".")
    return ".".join(map(_u_label, labels))


def _u_label(label: str) -> str:
    if label[:4].lower() != "xn--":
        return label
    try:
        return label[4:].encode("ascii").decode("punycode")
    except UnicodeError:
        return label  # not valid punycode: compared as written
