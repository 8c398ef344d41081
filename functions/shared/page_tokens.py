"""Opaque page tokens: DynamoDB's LastEvaluatedKey, sealed with a keyed MAC over the key and the
query it belongs to. A token that was not issued for this query (forged, edited, truncated, or
taken from another filter, whose index has other key attributes) is a 400, never a DynamoDB
ValidationException turned into a 500."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from typing import Any

from functions.shared.errors import ValidationError
from functions.shared.identifiers import KeyedHasher

_PURPOSE = "page-token"
_ATTRIBUTE_TYPES = {"S", "N"}


class PageTokens:
    def __init__(self, hasher: KeyedHasher) -> None:
        self._hasher = hasher

    def seal(self, key: dict[str, Any], query: str) -> str:
        """`query` names what the key continues (the index and every filter value)."""
        payload = base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode())
        body = payload.decode().rstrip("=")
        return f"{body}.{self._mac(body, query)}"

    def open(self, token: str | None, query: str) -> dict[str, Any] | None:
        if not token:
            return None
        body, _, mac = token.partition(".")
        if not hmac.compare_digest(mac.encode(), self._mac(body, query).encode()):
            raise ValidationError("nextToken was not issued for this query")
        try:
            key = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except (ValueError, binascii.Error):  # only a token we sealed gets here: defensive
            raise ValidationError("nextToken was not issued for this query") from None
        if not isinstance(key, dict) or not all(_is_attribute(v) for v in key.values()):
            raise ValidationError("nextToken was not issued for this query")
        return key

    def _mac(self, body: str, query: str) -> str:
        return self._hasher.secret(_PURPOSE, f"{query}\n{body}")


def _is_attribute(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and len(value) == 1
        and set(value) <= _ATTRIBUTE_TYPES
        and all(isinstance(v, str) for v in value.values())
    )


def query_of(index: str, **filters: Any) -> str:
    """A canonical name for a query: the index and its filters, in a stable order."""
    return json.dumps({"index": index, **filters}, sort_keys=True, default=str)
