"""Reads of the suppression ('Ceased') index."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from functions.shared.domain import Suppression, utc_now
from functions.shared.identifiers import IdentifierKind
from functions.shared.models import SuppressionItem
from functions.shared.suppression_reasons import strongest

# Parallel scan segments: DynamoDB serves each from a different partition range.
SCAN_SEGMENTS = 8


class SuppressionRepository:
    def __init__(self, model: type[SuppressionItem]) -> None:
        self._model = model

    def entries_of(self, subject_hash: str, reason: str) -> list[Suppression]:
        """The entries a customer's own requests put in the index for `reason`."""
        items = self._model.by_subject.query(
            subject_hash, self._model.entry.startswith(f"{reason}#")
        )
        return [_to_domain(item) for item in items]

    def entries_of_subject(self, subject_hash: str) -> list[Suppression]:
        return [_to_domain(item) for item in self._model.by_subject.query(subject_hash)]

    def put_all(self, entries: list[Suppression], request_id: str) -> None:
        """Idempotent puts outside a transaction, for erasure: the person is kept out of
        audiences before anything of theirs is deleted."""
        now = utc_now()
        with self._model.batch_write() as batch:
            for s in entries:
                batch.save(suppression_item(self._model, s, now, request_id))

    def remove_all(self, entries: list[Suppression]) -> None:
        with self._model.batch_write() as batch:
            for s in entries:
                batch.delete(self._model(s.identifier_hash, s.entry))

    def reasons_for(self, identifier_hash: str) -> set[str]:
        return {item.reason for item in self._model.query(identifier_hash)}

    def snapshot(self, reasons: frozenset[str]) -> dict[bytes, str]:
        """Every keyed hash suppressed for one of `reasons`, as raw digest -> strongest reason,
        read in bulk by a strongly consistent parallel scan: anything written before the scan
        starts is in it. Only the hash and reason are read, never the subject."""
        with ThreadPoolExecutor(SCAN_SEGMENTS) as pool:
            parts = list(pool.map(lambda s: self._scan_segment(s, reasons), range(SCAN_SEGMENTS)))
        found: dict[bytes, set[str]] = {}
        for part in parts:
            for digest, reason in part:
                found.setdefault(digest, set()).add(reason)
        return {digest: strongest(rs) for digest, rs in found.items()}

    def _scan_segment(self, segment: int, reasons: frozenset[str]) -> list[tuple[bytes, str]]:
        items = self._model.scan(
            self._model.reason.is_in(*sorted(reasons)),
            segment=segment,
            total_segments=SCAN_SEGMENTS,
            consistent_read=True,
            attributes_to_get=["identifierHash", "reason"],
        )
        return [(bytes.fromhex(item.identifier_hash), item.reason) for item in items]


def suppression_item(
    model: type[SuppressionItem], s: Suppression, at: str, request_id: str
) -> SuppressionItem:
    return model(
        s.identifier_hash,
        s.entry,
        reason=s.reason,
        identifier_kind=s.identifier_kind.value,
        subject_hash=s.subject_hash,
        at=at,
        request_id=request_id,
    )


def _to_domain(item: SuppressionItem) -> Suppression:
    return Suppression(
        identifier_hash=item.identifier_hash,
        identifier_kind=IdentifierKind(item.identifier_kind),
        reason=item.reason,
        subject_hash=item.subject_hash,
    )
