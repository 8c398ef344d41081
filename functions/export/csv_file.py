"""The export file: one CSV row per fact, `category,record_id,field,value,recorded_at`, UTF-8 with a
header, every cell escaped against spreadsheet formula injection. Pure: no AWS here."""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from functions.shared.domain import CustomerRecord, PrivacyRequest

HEADER = ("category", "record_id", "field", "value", "recorded_at")
# What a spreadsheet may read as the start of a formula (OWASP's list: the four plus tab
# and carriage return).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The lock that marks an open request is bookkeeping, not a fact about the member; their requests
# themselves are exported from the requests table.
# Open-request markers are bookkeeping; a double opt-in confirmation holds a token's hash.
_NOT_EXPORTED = frozenset({"openRequestMarkers", "consentConfirmations"})
# Of a relation only the fact is exported: never who the other person is.
_RELATION_FIELDS = ("type", "role")
_RECORDED_AT = ("at", "recordedAt", "createdAt", "updatedAt")
CHUNK_BYTES = 256 * 1024

Row = tuple[str, str, str, Any, str]


def escape(text: str) -> str:
    """A leading quote makes a spreadsheet show the text instead of evaluating it."""
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        # A number we render ourselves is no formula: -500 points stays a number.
        return str(value)
    return escape(str(value))


def _flatten(fields: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Nested maps and lists as dotted field names (customAttributes.favouriteStore, tags.0)."""
    for name in sorted(fields):
        value = fields[name]
        path = f"{prefix}{name}"
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{path}.")
        elif isinstance(value, list | tuple):
            yield from _flatten({str(i): v for i, v in enumerate(value)}, f"{path}.")
        else:
            yield path, value


def customer_rows(records: Iterable[CustomerRecord]) -> Iterator[Row]:
    relations: Counter[str] = Counter()
    for record in records:
        if record.category in _NOT_EXPORTED:
            continue
        key, fields = record.key, record.fields
        if record.category == "relations":
            # The sort key names the other person: number the relations of each type instead.
            kind = str(fields.get("type", ""))
            relations[kind] += 1
            key = f"{kind}#{relations[kind]}"
            fields = {name: fields[name] for name in _RELATION_FIELDS if name in fields}
        recorded_at = next(
            (str(fields[name]) for name in _RECORDED_AT if fields.get(name)),
            record.updated_at or "",
        )
        for name, value in _flatten(fields):
            yield record.category, key, name, value, recorded_at


def request_rows(requests: Iterable[PrivacyRequest]) -> Iterator[Row]:
    """The member's own privacy requests and their outcomes; not which staff member acted."""
    for request in sorted(requests, key=lambda r: r.created_at):
        fields = {
            "type": request.type.value,
            "status": request.status.value,
            "statusText": request.status_text,
            "reason": request.reason,
            "identityVerifiedAt": request.identity_verified_at,
            "createdAt": request.created_at,
            "confirmedAt": request.confirmed_at,
            "completedAt": request.completed_at,
            "rejectionReason": request.rejection_reason,
        }
        for name, value in fields.items():
            if value is not None:
                yield "privacyRequests", request.request_id, name, value, request.created_at


@dataclass
class Tally:
    """What the file holds, counted as it streams past: data rows, bytes and SHA-256."""

    rows: int = 0
    bytes: int = 0
    digest: Any = field(default_factory=hashlib.sha256)

    @property
    def sha256(self) -> str:
        return str(self.digest.hexdigest())


def csv_chunks(rows: Iterable[Row], tally: Tally) -> Iterator[bytes]:
    """The CSV as UTF-8 chunks of about CHUNK_BYTES, never the whole file at once."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> bytes:
        data = buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        tally.bytes += len(data)
        tally.digest.update(data)
        return data

    writer.writerow(HEADER)
    for row in rows:
        writer.writerow([cell(value) for value in row])
        tally.rows += 1
        if buffer.tell() >= CHUNK_BYTES:
            yield flush()
    yield flush()
