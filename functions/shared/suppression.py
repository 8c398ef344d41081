"""The suppression ('Ceased') index: the only code that knows its items' layout. Entries are
added and lifted inside the transaction of the change that causes them (writes for the unit of
work), or in bulk where erasure must keep a person out before anything else happens."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from functions.shared.aws_errors import domain_errors
from functions.shared.clock import utc_now
from functions.shared.domain import CustomerIdentifiers, Suppression
from functions.shared.errors import ConflictError, ValidationError
from functions.shared.identifiers import IdentifierKind, KeyedHasher
from functions.shared.models import SuppressionItem
from functions.shared.observability import logger
from functions.shared.suppression_reasons import strongest
from functions.shared.unit_of_work import TableWrite

# Parallel scan segments: DynamoDB serves each from a different partition range.
SCAN_SEGMENTS = 8


def entries_for(
    identifiers: CustomerIdentifiers, reason: str, hasher: KeyedHasher
) -> list[Suppression]:
    """The index entries that keep this person out for `reason`: one per distinct keyed hash of
    their customer id, e-mails and phones."""
    subject = hasher.customer(identifiers.customer_id)
    found = [(IdentifierKind.CUSTOMER_ID, identifiers.customer_id)]
    found += [(IdentifierKind.EMAIL, e) for e in identifiers.emails]
    found += [(IdentifierKind.PHONE, p) for p in identifiers.phones]
    unique = set()
    for kind, value in found:
        try:
            unique.add((kind, hasher.hash(kind, value)))
        except ValidationError:
            # A stored phone that is no dialable number cannot match a normalised one either.
            logger.warning("identifier skipped: not normalisable", extra={"kind": kind.value})
    return [
        Suppression(identifier_hash=h, identifier_kind=kind, reason=reason, subject_hash=subject)
        for kind, h in sorted(unique)
    ]


def count_by_kind(entries: list[Suppression]) -> dict[str, int]:
    """What an audit entry says of a suppression change: how many of each kind, never which."""
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry.identifier_kind.value] = counts.get(entry.identifier_kind.value, 0) + 1
    return counts


@domain_errors
class SuppressionRepository:
    def __init__(self, model: type[SuppressionItem]) -> None:
        self._model = model

    def add(self, entry: Suppression, at: str, cause_id: str) -> TableWrite:
        item = suppression_item(self._model, entry, at, cause_id)
        return TableWrite(lambda tw: tw.save(item), lambda: ConflictError("suppression"))

    def lift(self, entry: Suppression) -> TableWrite:
        item = self._model(entry.identifier_hash, entry.entry)
        return TableWrite(lambda tw: tw.delete(item), lambda: ConflictError("suppression"))

    def changes(
        self, add: list[Suppression], lift: list[Suppression], at: str, cause_id: str
    ) -> list[TableWrite]:
        return [self.add(s, at, cause_id) for s in add] + [self.lift(s) for s in lift]

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

    def entries_at(self, identifier_hash: str) -> list[Suppression]:
        """Every entry of one identifier's keyed hash, whoever's request put it there."""
        return [_to_domain(item) for item in self._model.query(identifier_hash)]

    def reasons_for(self, identifier_hash: str) -> set[str]:
        return {entry.reason for entry in self.entries_at(identifier_hash)}

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
