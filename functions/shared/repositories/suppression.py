"""Reads of the suppression ('Ceased') index."""

from __future__ import annotations

from functions.shared.domain import Suppression, utc_now
from functions.shared.identifiers import IdentifierKind
from functions.shared.models import SuppressionItem


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
                batch.save(
                    self._model(
                        s.identifier_hash,
                        s.entry,
                        reason=s.reason,
                        identifier_kind=s.identifier_kind.value,
                        subject_hash=s.subject_hash,
                        at=now,
                        request_id=request_id,
                    )
                )

    def remove_all(self, entries: list[Suppression]) -> None:
        with self._model.batch_write() as batch:
            for s in entries:
                batch.delete(self._model(s.identifier_hash, s.entry))

    def reasons_for(self, identifier_hash: str) -> set[str]:
        return {item.reason for item in self._model.query(identifier_hash)}


def _to_domain(item: SuppressionItem) -> Suppression:
    return Suppression(
        identifier_hash=item.identifier_hash,
        identifier_kind=IdentifierKind(item.identifier_kind),
        reason=item.reason,
        subject_hash=item.subject_hash,
    )
