"""Pagination tokens (`nextToken`): opaque to the caller, tamper-proof and bound to the query that
issued them. A token is the page's position (plain JSON) and a keyed MAC, made with the key the
identifiers are hashed with, over the kind of listing, the query's filters and the position: a
forged, truncated or edited token, one of another listing or one sent with other filters fails
the MAC and is a 400, never a read from a position nobody issued."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Mapping
from typing import Any

from functions.shared.errors import ValidationError
from functions.shared.identifiers import KeyedHasher

# Longer than any position a listing issues (the request queue's is at most nine cursors).
MAX_TOKEN_CHARS = 4096
_NOT_OURS = "nextToken is not a token this API issued for these filters"


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _mac(hasher: KeyedHasher, kind: str, query: Mapping[str, Any], payload: str) -> str:
    return hasher.secret(f"page-token:{kind}", f"{_canonical(dict(query))}\n{payload}")


def issue(hasher: KeyedHasher, kind: str, query: Mapping[str, Any], position: Any) -> str:
    """The token of `position` in the listing `kind` for exactly these filters."""
    payload = base64.urlsafe_b64encode(_canonical(position).encode()).decode().rstrip("=")
    return f"{payload}.{_mac(hasher, kind, query, payload)}"


def redeem(
    hasher: KeyedHasher, kind: str, query: Mapping[str, Any], token: str | None
) -> Any | None:
    """The position a token issued by `issue` for the same listing and filters holds; None
    without a token; ValidationError for anything else."""
    if not token:
        return None
    if len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        raise ValidationError(_NOT_OURS)
    payload, mac = token.split(".")
    if not hmac.compare_digest(mac.encode(), _mac(hasher, kind, query, payload).encode()):
        raise ValidationError(_NOT_OURS)
    try:
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        # Only a token we signed gets here, so this is a bug of ours; still a 400, not a 500.
        raise ValidationError(_NOT_OURS) from None
