"""Reads of the suppression ('Ceased') index."""

from __future__ import annotations

from functions.shared.domain import Suppression
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
        return [
            Suppression(
                identifier_hash=item.identifier_hash,
                identifier_kind=IdentifierKind(item.identifier_kind),
                reason=item.reason,
                subject_hash=item.subject_hash,
            )
            for item in items
        ]

    def reasons_for(self, identifier_hash: str) -> set[str]:
        return {item.reason for item in self._model.query(identifier_hash)}
