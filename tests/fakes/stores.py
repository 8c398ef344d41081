"""In-memory fakes of the repositories, with the real ones' public method names and parameters
(tests/unit/test_fakes_match.py keeps them so). The customers table is one dict of partitions
shared by FakeCustomers, FakeConsents and FakeCampaigns, as the real table is; writes for the
unit of work are MemoryWrites whose conditions are the real repositories' conditions."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from functions.audit.repository import AuditFilter, AuditPage
from functions.campaigns.repository import (
    ENROL_PREFIX,
    campaign_fields,
    campaign_key,
    enrolment_token_fields,
    to_campaign,
)
from functions.campaigns.rules import (
    END_CURSOR,
    Campaign,
    CustomerResult,
    Enrolment,
)
from functions.consents.repository import (
    CurrentConsent,
    PendingConfirmation,
    _fields,
    consent_key,
    consent_log_key,
    consent_token_key,
    pending_from,
    used_token_fields,
)
from functions.consents.rules import ConsentChange
from functions.requests.queue import (
    Cursor,
    Position,
    QueueFilter,
    QueuePage,
    QueuePlan,
    matches,
    merged_page,
    plan,
)
from functions.shared.audit_chain import ChainHead, Digest
from functions.shared.clock import utc_now
from functions.shared.customers import (
    BATCH_SIZE,
    CONSENT_PREFIX,
    ERASED_LAST,
    ERASING,
    OPEN_REQUEST_PREFIX,
    PRIVACY,
    PROFILE,
    READ_FIRST,
    RELATION_PREFIX,
    ErasedChunk,
    StatusChange,
    consent_from,
    customer_items,
    open_request_key,
    tombstone_key,
)
from functions.shared.domain import (
    ConsentStatus,
    CustomerIdentifiers,
    CustomerPrivacy,
    CustomerRecord,
    Extension,
    HistoryEntry,
    PrivacyRequest,
    PrivacyStatus,
    Relation,
    RequestStatus,
    Suppression,
    category_of,
    status_of,
)
from functions.shared.errors import (
    ConflictError,
    CustomerNotFoundError,
    NotFoundError,
    RequestNotFoundError,
    ValidationError,
)
from functions.shared.identifiers import IdentifierKind, KeyedHasher
from functions.shared.suppression_reasons import strongest

from .work import AuditTrail, MemoryWrite, always


def nothing() -> None:
    return None


# The customers table ---------------------------------------------------------------------------


@dataclass
class Item:
    """One item of the customers table, as the real model holds it."""

    data: dict[str, Any] = field(default_factory=dict)
    privacy_status: str | None = None
    request_id: str | None = None
    updated_at: str | None = None
    ceased_at: str | None = None


class CustomersTable:
    """Partitions (customerId) of items (sk)."""

    def __init__(self) -> None:
        self.partitions: dict[str, dict[str, Item]] = {}

    def get(self, pk: str, sk: str) -> Item | None:
        return self.partitions.get(pk, {}).get(sk)

    def put(self, pk: str, sk: str, item: Item) -> None:
        self.partitions.setdefault(pk, {})[sk] = item

    def delete(self, pk: str, sk: str) -> None:
        partition = self.partitions.get(pk, {})
        partition.pop(sk, None)
        if not partition:
            self.partitions.pop(pk, None)

    def query(self, pk: str, prefix: str = "") -> list[tuple[str, Item]]:
        partition = self.partitions.get(pk, {})
        return [(sk, partition[sk]) for sk in sorted(partition) if sk.startswith(prefix)]

    def keys(self, pk: str) -> list[str]:
        return sorted(self.partitions.get(pk, {}))


def _record(sk: str, item: Item) -> CustomerRecord:
    prefix, _, key = sk.partition("#")
    data = dict(item.data)
    if item.privacy_status:
        data["privacyStatus"] = item.privacy_status
    if item.ceased_at:
        data["ceasedAt"] = item.ceased_at
    return CustomerRecord(
        category=category_of(sk), key=key or prefix, fields=data, updated_at=item.updated_at
    )


class FakeCustomers:
    def __init__(self, table: CustomersTable, hasher: KeyedHasher) -> None:
        self.table = table
        self._hasher = hasher
        self.erase_calls: list[str] = []
        # Batch writes made by erase(), as DynamoDB would count them.
        self.batches = 0

    # Seeding ---------------------------------------------------------------------------------

    def add(self, record: Mapping[str, Any]) -> None:
        """A CRM customer record (the shape of events/demo/customers.json)."""
        for pk, sk, data in customer_items(_Row, dict(record)):  # type: ignore[arg-type]
            self.table.put(pk, sk, Item(data=dict(data)))

    def add_customer(
        self,
        customer_id: str,
        *,
        email: str | None = None,
        phone: str | None = None,
        jurisdiction: str | None = None,
        status: PrivacyStatus | None = None,
        relations: Iterable[tuple[str, str, str]] = (),
        consents: Iterable[Mapping[str, Any]] = (),
        **extra: Any,
    ) -> None:
        """A customer with a profile; `relations` as (type, role, other customer id)."""
        profile: dict[str, Any] = {"firstName": "Test"}
        if email:
            profile["email"] = email
        if phone:
            profile["phone"] = phone
        if jurisdiction:
            profile["jurisdiction"] = jurisdiction
        record: dict[str, Any] = {
            "customerId": customer_id,
            "profile": profile,
            "relations": [{"type": t, "role": r, "customerId": o} for t, r, o in relations],
            "consents": [dict(c) for c in consents],
            **extra,
        }
        self.add(record)
        if status is not None:
            at = utc_now()
            ceased = at if status is PrivacyStatus.CEASED else None
            self.table.put(
                customer_id,
                PRIVACY,
                Item(privacy_status=status.value, updated_at=at, ceased_at=ceased),
            )

    # Writes for the unit of work -------------------------------------------------------------

    def exists(self, customer_id: str) -> MemoryWrite:
        return MemoryWrite(
            lambda: self.table.get(customer_id, PROFILE) is not None,
            nothing,
            lambda: CustomerNotFoundError(customer_id),
        )

    def open_request(self, request: PrivacyRequest) -> MemoryWrite:
        key = open_request_key(request.type.value)
        marker = Item(request_id=request.request_id, updated_at=request.created_at)
        return MemoryWrite(
            lambda: self.table.get(request.customer_id, key) is None,
            lambda: self.table.put(request.customer_id, key, marker),
            lambda: ConflictError(
                f"a {request.type.value} request is already open for this customer"
            ),
        )

    def close_request(self, request: PrivacyRequest) -> MemoryWrite:
        key = open_request_key(request.type.value)

        def mine() -> bool:
            marker = self.table.get(request.customer_id, key)
            return marker is None or marker.request_id in (None, request.request_id)

        return MemoryWrite(
            mine,
            lambda: self.table.delete(request.customer_id, key),
            lambda: ConflictError("the open-request marker belongs to another request"),
        )

    def change_status(
        self, customer_id: str, change: StatusChange, request_id: str, at: str
    ) -> MemoryWrite:
        def holds() -> bool:
            item = self.table.get(customer_id, PRIVACY)
            status = item.privacy_status if item else None
            if status is None:
                return PrivacyStatus.ACTIVE in change.expected
            return status in {s.value for s in change.expected}

        def apply() -> None:
            item = self.table.get(customer_id, PRIVACY) or Item()
            item.privacy_status = change.to.value
            item.request_id = request_id
            item.updated_at = at
            item.ceased_at = at if change.to is PrivacyStatus.CEASED else None
            self.table.put(customer_id, PRIVACY, item)

        return MemoryWrite(
            holds, apply, lambda: ConflictError("the customer's privacy status changed meanwhile")
        )

    def tombstone(
        self, customer_hash: str, request_id: str, at: str, erasing: str | None = None
    ) -> MemoryWrite:
        key = tombstone_key(customer_hash)
        item = Item(
            data={ERASING: erasing} if erasing else {},
            privacy_status=PrivacyStatus.FORGOTTEN.value,
            request_id=request_id,
            updated_at=at,
        )
        return MemoryWrite(
            lambda: self.table.get(*key) is None,
            lambda: self.table.put(*key, item),
            lambda: ConflictError("the customer has been forgotten already"),
        )

    def erased(self, customer_hash: str, at: str) -> MemoryWrite:
        key = tombstone_key(customer_hash)

        def apply() -> None:
            item = self.table.get(*key)
            assert item is not None
            item.data = {}
            item.updated_at = at

        return MemoryWrite(
            lambda: bool(getattr(self.table.get(*key), "data", None)),
            apply,
            lambda: ConflictError("the erasure was recorded as done already"),
        )

    # Reads and non-transactional writes ------------------------------------------------------

    def erasing(self, customer_hash: str) -> str | None:
        item = self.table.get(*tombstone_key(customer_hash))
        value = item.data.get(ERASING) if item is not None else None
        return str(value) if value else None

    def privacy_status(self, customer_id: str) -> PrivacyStatus:
        if self.table.get(*tombstone_key(self._hasher.customer(customer_id))) is not None:
            return PrivacyStatus.FORGOTTEN
        privacy = self.table.get(customer_id, PRIVACY)
        if privacy is not None and privacy.privacy_status:
            return PrivacyStatus(privacy.privacy_status)
        if self.table.get(customer_id, PROFILE) is None:
            raise CustomerNotFoundError(customer_id)
        return PrivacyStatus.ACTIVE

    def ceased_among(self, customer_ids: Iterable[str]) -> set[str]:
        found = set()
        for customer_id in set(customer_ids):
            item = self.table.get(customer_id, PRIVACY)
            if item is not None and item.privacy_status == PrivacyStatus.CEASED.value:
                found.add(customer_id)
        return found

    def get_privacy(self, customer_id: str) -> CustomerPrivacy:
        status = self.privacy_status(customer_id)
        if status is PrivacyStatus.FORGOTTEN:
            return CustomerPrivacy(customer_id=customer_id, privacy_status=status)
        privacy = self.table.get(customer_id, PRIVACY)
        consents = tuple(
            consent_from(_record(sk, item).fields)
            for sk, item in self.table.query(customer_id, CONSENT_PREFIX)
        )
        open_requests = tuple(
            str(item.request_id) for _, item in self.table.query(customer_id, OPEN_REQUEST_PREFIX)
        )
        return CustomerPrivacy(
            customer_id=customer_id,
            privacy_status=status,
            ceased_at=privacy.ceased_at if privacy else None,
            consents=consents,
            open_requests=open_requests,
        )

    def customer_by_email(self, email: str) -> str | None:
        try:
            wanted = self._hasher.hash(IdentifierKind.EMAIL, email)
        except ValidationError:
            return None
        found = {
            pk
            for pk, items in self.table.partitions.items()
            if (item := items.get(PROFILE)) is not None
            and item.data.get("email")
            and self._hasher.hash(IdentifierKind.EMAIL, item.data["email"]) == wanted
        }
        return found.pop() if len(found) == 1 else None

    def customer_by_phone(self, phone: str) -> str | None:
        try:
            wanted = self._hasher.hash(IdentifierKind.PHONE, phone)
        except ValidationError:
            return None
        found = {
            pk
            for pk, items in self.table.partitions.items()
            if (item := items.get(PROFILE)) is not None
            and item.data.get("phone")
            and self._hasher.hash(IdentifierKind.PHONE, item.data["phone"]) == wanted
        }
        return found.pop() if len(found) == 1 else None

    def get_identifiers(self, customer_id: str) -> CustomerIdentifiers:
        profile = self.table.get(customer_id, PROFILE)
        if profile is None:
            raise CustomerNotFoundError(customer_id)
        data = profile.data
        return CustomerIdentifiers(
            customer_id=customer_id,
            emails=tuple(v for v in (data.get("email"), *data.get("otherEmails", [])) if v),
            phones=tuple(v for v in (data.get("phone"), *data.get("otherPhones", [])) if v),
        )

    def jurisdiction(self, customer_id: str) -> str | None:
        profile = self.table.get(customer_id, PROFILE)
        if profile is None:
            return None
        value = profile.data.get("jurisdiction")
        return str(value) if value else None

    def relations(self, customer_id: str) -> list[Relation]:
        return [
            Relation(type=i.data["type"], role=i.data["role"], customer_id=i.data["customerId"])
            for _, i in self.table.query(customer_id, RELATION_PREFIX)
        ]

    def remove_relation(self, owner_id: str, relation: Relation, other_id: str) -> None:
        self.table.delete(owner_id, f"{RELATION_PREFIX}{relation.type}#{other_id}")

    def inventory(self, customer_id: str) -> dict[str, int]:
        return dict(Counter(category_of(sk) for sk in self.table.keys(customer_id)))

    def records(self, customer_id: str) -> Iterator[CustomerRecord]:
        for sk in READ_FIRST:
            item = self.table.get(customer_id, sk)
            if item is not None:
                yield _record(sk, item)
        for sk, item in self.table.query(customer_id):
            if sk not in READ_FIRST:
                yield _record(sk, item)

    def erase(self, customer_id: str, max_batches: int) -> ErasedChunk:
        limit = max_batches * BATCH_SIZE
        keys = self.table.keys(customer_id)
        others = [sk for sk in keys if sk not in ERASED_LAST]
        first = others[:limit]
        last = [sk for sk in ERASED_LAST if sk in keys]
        done = len(others) <= limit and len(first) + len(last) <= limit
        doomed = [*first, *last] if done else first
        for sk in doomed:
            self.table.delete(customer_id, sk)
        self.erase_calls.append(customer_id)
        batches = -(-len(doomed) // BATCH_SIZE)
        self.batches += batches
        return ErasedChunk(batches, done)


class _Row(tuple):
    """Stands in for the model in `customer_items`: (customerId, sk, data)."""

    def __new__(cls, customer_id: str, sk: str, data: dict[str, Any]) -> _Row:
        return super().__new__(cls, (customer_id, sk, data))


# Privacy requests ------------------------------------------------------------------------------


class FakeRequests:
    def __init__(self) -> None:
        self.items: dict[str, PrivacyRequest] = {}
        self.erasure_plans_saved = 0
        # Which index each queue page was read through (the plan), for tests of the plan.
        self.queue_plans: list[QueuePlan] = []

    def put(self, request: PrivacyRequest) -> None:
        self.items[request.request_id] = request

    # Writes for the unit of work -------------------------------------------------------------

    def new(self, request: PrivacyRequest) -> MemoryWrite:
        return MemoryWrite(
            lambda: request.request_id not in self.items,
            lambda: self.put(request),
            lambda: ConflictError(f"privacy request {request.request_id} already exists"),
        )

    def _is(self, request: PrivacyRequest) -> bool:
        stored = self.items.get(request.request_id)
        return stored is not None and stored.status is request.status

    def advance(
        self, request: PrivacyRequest, entry: HistoryEntry, updates: Mapping[str, Any]
    ) -> MemoryWrite:
        def apply() -> None:
            stored = self.items[request.request_id]
            changed = replace(
                stored,
                status=entry.status,
                updated_at=entry.at,
                history=(*stored.history, entry),
                **dict(updates),
            )
            if entry.status.is_terminal:
                changed = replace(changed, task_token=None)
            self.put(changed)

        return MemoryWrite(
            lambda: self._is(request),
            apply,
            lambda: ConflictError(
                f"privacy request {request.request_id} is no longer {request.status.value}"
            ),
        )

    def unchanged(self, request: PrivacyRequest) -> MemoryWrite:
        return MemoryWrite(
            lambda: self._is(request),
            nothing,
            lambda: ConflictError(f"privacy request {request.request_id} has moved on"),
        )

    def begin_erasure(self, request: PrivacyRequest, plan: Mapping[str, Any]) -> MemoryWrite:
        def holds() -> bool:
            stored = self.items.get(request.request_id)
            return (
                stored is not None
                and stored.status is RequestStatus.CONFIRMED
                and not stored.result
            )

        def apply() -> None:
            self.erasure_plans_saved += 1
            stored = self.items[request.request_id]
            self.put(replace(stored, result={"erasure": json.loads(json.dumps(plan))}))

        return MemoryWrite(
            holds,
            apply,
            lambda: ConflictError(f"the erasure of request {request.request_id} has begun"),
        )

    def extend(self, request: PrivacyRequest, extension: Extension) -> MemoryWrite:
        def holds() -> bool:
            return self._is(request) and self.items[request.request_id].extension is None

        def apply() -> None:
            stored = self.items[request.request_id]
            self.put(
                replace(
                    stored,
                    due_at=extension.due_at,
                    updated_at=extension.extended_at,
                    extension=extension,
                )
            )

        return MemoryWrite(
            holds,
            apply,
            lambda: ConflictError(
                f"the deadline of privacy request {request.request_id} has been extended "
                "already, or the request has moved on"
            ),
        )

    # Reads and single-item writes ------------------------------------------------------------

    def get(self, request_id: str) -> PrivacyRequest:
        try:
            return self.items[request_id]
        except KeyError:
            raise RequestNotFoundError(request_id) from None

    def for_customer(self, customer_id: str) -> list[PrivacyRequest]:
        found = [r for r in self.items.values() if r.customer_id == customer_id]
        return sorted(found, key=lambda r: r.created_at)

    def latest_for_customer(self, customer_id: str) -> PrivacyRequest | None:
        found = self.for_customer(customer_id)
        return found[-1] if found else None

    def save_result_once(self, request_id: str, result: dict[str, Any]) -> PrivacyRequest:
        stored = self.items.get(request_id)
        if stored is not None and stored.status is RequestStatus.CONFIRMED and not stored.result:
            self.put(replace(stored, result=json.loads(json.dumps(result))))
        return self.get(request_id)

    def pseudonymise(self, request_id: str, stand_in: str) -> None:
        stored = self.items.get(request_id)
        if stored is not None:
            extension = stored.extension and replace(stored.extension, reason=None)
            self.put(replace(stored, customer_id=stand_in, reason=None, extension=extension))

    def latest_closed_for_customer(self, customer_id: str) -> str | None:
        for request in reversed(self.for_customer(customer_id)):
            if request.status.is_terminal:
                return request.request_id
        return None

    def open_due_by(self, moment: str) -> list[PrivacyRequest]:
        found = [
            r
            for r in self.items.values()
            if r.due_at and not r.status.is_terminal and r.due_at <= moment
        ]
        return sorted(found, key=lambda r: r.due_at or "")

    def queue(self, where: QueueFilter, limit: int, cursor: Cursor | None, now: str) -> QueuePage:
        """The same plan and merge as the real queue, each partition read from memory."""
        queue_plan = plan(where)
        self.queue_plans.append(queue_plan)

        def read(key: str, position: Position) -> Iterator[PrivacyRequest]:
            found = sorted(
                (
                    r
                    for r in self.items.values()
                    if str(getattr(r, queue_plan.attribute)) == key and matches(r, where, now)
                ),
                key=lambda r: (r.created_at, r.request_id),
                reverse=True,
            )
            return (r for r in found if position is None or (r.created_at, r.request_id) < position)

        return merged_page(queue_plan, read, limit, cursor)

    def keep_task_token(self, request_id: str, task_token: str) -> PrivacyRequest:
        stored = self.get(request_id)
        self.put(replace(stored, task_token=task_token))
        return self.get(request_id)


# The suppression index -------------------------------------------------------------------------


@dataclass(frozen=True)
class SuppressionRow:
    entry: Suppression
    at: str
    cause_id: str


class FakeSuppression:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], SuppressionRow] = {}

    def _put(self, entry: Suppression, at: str, cause_id: str) -> None:
        self.rows[(entry.identifier_hash, entry.entry)] = SuppressionRow(entry, at, cause_id)

    def _delete(self, entry: Suppression) -> None:
        self.rows.pop((entry.identifier_hash, entry.entry), None)

    def reasons(self) -> set[str]:
        return {row.entry.reason for row in self.rows.values()}

    def add(self, entry: Suppression, at: str, cause_id: str) -> MemoryWrite:
        return MemoryWrite(
            always, lambda: self._put(entry, at, cause_id), lambda: ConflictError("suppression")
        )

    def lift(self, entry: Suppression) -> MemoryWrite:
        return MemoryWrite(
            always, lambda: self._delete(entry), lambda: ConflictError("suppression")
        )

    def changes(
        self, add: list[Suppression], lift: list[Suppression], at: str, cause_id: str
    ) -> list[MemoryWrite]:
        return [self.add(s, at, cause_id) for s in add] + [self.lift(s) for s in lift]

    def entries_of(self, subject_hash: str, reason: str) -> list[Suppression]:
        return [
            s for s in self.entries_of_subject(subject_hash) if s.entry.startswith(f"{reason}#")
        ]

    def entries_of_subject(self, subject_hash: str) -> list[Suppression]:
        return [r.entry for r in self.rows.values() if r.entry.subject_hash == subject_hash]

    def put_all(self, entries: list[Suppression], request_id: str) -> None:
        now = utc_now()
        for s in entries:
            self._put(s, now, request_id)

    def remove_all(self, entries: list[Suppression]) -> None:
        for s in entries:
            self._delete(s)

    def entries_at(self, identifier_hash: str) -> list[Suppression]:
        return [r.entry for (h, _), r in self.rows.items() if h == identifier_hash]

    def reasons_for(self, identifier_hash: str) -> set[str]:
        return {r.entry.reason for (h, _), r in self.rows.items() if h == identifier_hash}

    def snapshot(self, reasons: frozenset[str]) -> dict[bytes, str]:
        found: dict[bytes, set[str]] = {}
        for (digest, _), row in self.rows.items():
            if row.entry.reason in reasons:
                found.setdefault(bytes.fromhex(digest), set()).add(row.entry.reason)
        return {digest: strongest(rs) for digest, rs in found.items()}


# Consents --------------------------------------------------------------------------------------


class FakeConsents:
    def __init__(self, table: CustomersTable) -> None:
        self.table = table

    def record(self, change: ConsentChange, expected_change_id: str | None) -> list[MemoryWrite]:
        choice, customer_id = change.choice, change.choice.customer_id
        key = consent_key(choice.key)
        log_key = consent_log_key(change.at, change.change_id)
        fields = _fields(change)
        previous = {"previousStatus": change.previous.value} if change.previous else {}

        def unchanged() -> bool:
            item = self.table.get(customer_id, key)
            stored = item.request_id if item else None
            return stored is None if expected_change_id is None else stored == expected_change_id

        current = Item(data=fields, request_id=change.change_id, updated_at=change.at)
        log = Item(data={**fields, **previous}, updated_at=change.at)
        return [
            MemoryWrite(
                unchanged,
                lambda: self.table.put(customer_id, key, current),
                lambda: ConflictError("the consent changed meanwhile; read it again and retry"),
            ),
            MemoryWrite(
                lambda: self.table.get(customer_id, log_key) is None,
                lambda: self.table.put(customer_id, log_key, log),
                lambda: ConflictError("this consent change was already recorded"),
            ),
        ]

    def issue_token(self, change: ConsentChange, token_hash: str, expires_at: str) -> MemoryWrite:
        customer_id = change.choice.customer_id
        key = consent_token_key(token_hash)
        pending = Item(
            data={**_fields(change), "consentKey": change.choice.key, "expiresAt": expires_at},
            request_id=change.change_id,
            updated_at=change.at,
        )
        return MemoryWrite(
            lambda: self.table.get(customer_id, key) is None,
            lambda: self.table.put(customer_id, key, pending),
            lambda: ConflictError("confirmation token collision; retry"),
        )

    def use_token(self, change: ConsentChange, used: PendingConfirmation) -> MemoryWrite:
        customer_id = change.choice.customer_id
        key = consent_token_key(used.token_hash)
        item = Item(
            data=used_token_fields(change, used),
            request_id=used.change_id,
            updated_at=change.at,
        )

        def same_version() -> bool:
            stored = self.table.get(customer_id, key)
            return stored is not None and stored.updated_at == used.version

        return MemoryWrite(
            same_version,
            lambda: self.table.put(customer_id, key, item),
            lambda: ConflictError("this confirmation token has already been used"),
        )

    def current(self, customer_id: str, key: str) -> CurrentConsent | None:
        item = self.table.get(customer_id, consent_key(key))
        if item is None:
            return None
        data = item.data
        return CurrentConsent(
            status_of(data), item.request_id, str(data.get("at", "")), str(data.get("source", ""))
        )

    def pending_confirmation(self, customer_id: str, token_hash: str) -> PendingConfirmation | None:
        item = self.table.get(customer_id, consent_token_key(token_hash))
        if item is None:
            return None
        data = item.data
        return pending_from(token_hash, data, str(item.updated_at))


# Re-permission campaigns -----------------------------------------------------------------------


class FakeCampaigns:
    def __init__(self, table: CustomersTable) -> None:
        self.table = table

    def _item(self, campaign_id: str) -> Item | None:
        return self.table.get(*campaign_key(campaign_id))

    def create(self, campaign: Campaign) -> MemoryWrite:
        item = Item(data=campaign_fields(campaign), updated_at=utc_now())
        return MemoryWrite(
            lambda: self._item(campaign.campaign_id) is None,
            lambda: self.table.put(*campaign_key(campaign.campaign_id), item),
            lambda: ConflictError(f"campaign {campaign.campaign_id} exists already"),
        )

    def change(
        self, campaign_id: str, changes: Mapping[str, Any], expected: Mapping[str, Any]
    ) -> MemoryWrite:
        def holds() -> bool:
            item = self._item(campaign_id)
            return item is not None and all(
                name in item.data and item.data[name] == value for name, value in expected.items()
            )

        def apply() -> None:
            item = self._item(campaign_id)
            assert item is not None
            for name, value in changes.items():
                if value is None:
                    item.data.pop(name, None)
                else:
                    item.data[name] = value
            item.updated_at = utc_now()

        return MemoryWrite(
            holds, apply, lambda: ConflictError(f"campaign {campaign_id} has moved on")
        )

    def count_confirmation(self, campaign_id: str) -> MemoryWrite:
        def apply() -> None:
            item = self._item(campaign_id)
            assert item is not None
            item.data["confirmed"] = item.data.get("confirmed", 0) + 1

        return MemoryWrite(
            lambda: self._item(campaign_id) is not None,
            apply,
            lambda: ConflictError("the token's campaign does not exist"),
        )

    def get(self, campaign_id: str) -> Campaign:
        item = self._item(campaign_id)
        if item is None:
            raise NotFoundError(f"re-permission campaign {campaign_id} was not found")
        return to_campaign(item.data, item.updated_at)

    def consent_holders(
        self, key: str, cursor: str | None, wanted: int
    ) -> tuple[list[Enrolment], str | None]:
        sk = consent_key(key)
        holders = [
            Enrolment(pk, item.request_id or "")
            for pk in sorted(self.table.partitions)
            if (item := self.table.get(pk, sk)) is not None
            and status_of(item.data) is ConsentStatus.GRANTED
        ]
        start = json.loads(cursor) if cursor else 0
        end = start + wanted
        return holders[start:end], json.dumps(end) if end < len(holders) else None

    def enrolled_already(self, campaign_id: str, customer_ids: Iterable[str]) -> set[str]:
        partition, _ = campaign_key(campaign_id)
        return {c for c in customer_ids if self.table.get(partition, f"{ENROL_PREFIX}{c}")}

    def enrol(self, campaign: Campaign, enrolments: list[tuple[Enrolment, str]], at: str) -> None:
        partition, _ = campaign_key(campaign.campaign_id)
        for enrolment, token_hash in enrolments:
            self.table.put(
                partition,
                f"{ENROL_PREFIX}{enrolment.customer_id}",
                Item(data={"changeId": enrolment.change_id}, updated_at=at),
            )
            self.table.put(
                enrolment.customer_id,
                consent_token_key(token_hash),
                Item(
                    data=enrolment_token_fields(campaign, enrolment),
                    request_id=enrolment.change_id or None,
                    updated_at=at,
                ),
            )

    def _advance(self, campaign_id: str, counter: str, page: int, changes: dict[str, Any]) -> bool:
        item = self._item(campaign_id)
        if item is None or item.data.get(counter) != page:
            return False
        for name, value in changes.items():
            if isinstance(value, _Add):
                item.data[name] = item.data.get(name, 0) + value.amount
            else:
                item.data[name] = value
        item.updated_at = utc_now()
        return True

    def record_enrol_page(
        self, campaign_id: str, page: int, cursor: str | None, enrolled: int, ceased: int = 0
    ) -> bool:
        changes: dict[str, Any] = {
            "enrolPages": page + 1,
            "enrolled": _Add(enrolled),
            "enrolCursor": cursor or END_CURSOR,
        }
        if ceased:
            changes[CustomerResult.SKIPPED_CEASED.value] = _Add(ceased)
        return self._advance(campaign_id, "enrolPages", page, changes)

    def enrolments(
        self, campaign_id: str, cursor: str | None, limit: int
    ) -> tuple[list[Enrolment], str | None]:
        partition, _ = campaign_key(campaign_id)
        after = json.loads(cursor) if cursor else ""
        rows = [(sk, i) for sk, i in self.table.query(partition, ENROL_PREFIX) if sk > after]
        page = rows[:limit]
        found = [
            Enrolment(sk.removeprefix(ENROL_PREFIX), str(i.data.get("changeId", "")))
            for sk, i in page
        ]
        # Like DynamoDB: a full page hands back where it stopped, even when nothing follows.
        return found, json.dumps(page[-1][0]) if page and len(page) == limit else None

    def record_outcome_page(
        self, campaign_id: str, page: int, cursor: str | None, tally: Mapping[str, int]
    ) -> bool:
        changes: dict[str, Any] = {"outcomePages": page + 1}
        changes.update({name: _Add(count) for name, count in tally.items() if count})
        changes["outcomeCursor"] = cursor or END_CURSOR
        return self._advance(campaign_id, "outcomePages", page, changes)

    def remove_enrolments(self, campaign_id: str, customer_ids: Iterable[str]) -> None:
        partition, _ = campaign_key(campaign_id)
        for customer_id in customer_ids:
            self.table.delete(partition, f"{ENROL_PREFIX}{customer_id}")


@dataclass(frozen=True)
class _Add:
    amount: int


# Export files, workflows, events, the audit trail ----------------------------------------------


class FakeExportFiles:
    """Versions of each request's export file; `fail_upload` makes the next upload raise."""

    def __init__(self) -> None:
        self.versions: dict[str, list[tuple[str, bytes]]] = {}
        self.uploads = 0
        self.fail_upload: Exception | None = None
        self.links: list[tuple[str, str, int]] = []

    def count_versions(self, request_id: str) -> int:
        return len(self.versions.get(request_id, []))

    def delete_all_versions(self, request_id: str) -> int:
        return len(self.versions.pop(request_id, []))

    def upload(self, request_id: str, chunks: Iterable[bytes]) -> str:
        body = b"".join(chunks)
        if self.fail_upload is not None:
            exc, self.fail_upload = self.fail_upload, None
            raise exc
        self.uploads += 1
        version_id = f"v{self.uploads}"
        self.versions.setdefault(request_id, []).append((version_id, body))
        return version_id

    def download_link(self, request_id: str, version_id: str, seconds: int) -> str:
        self.links.append((request_id, version_id, seconds))
        return f"https://exports.example/{request_id}/export.csv?versionId={version_id}"

    def body(self, request_id: str) -> bytes:
        return self.versions[request_id][-1][1]


class FakeWorkflow:
    """The request state machine: executions started (once per name), callbacks answered."""

    def __init__(self) -> None:
        self.starts: list[str] = []
        self.resumes: list[tuple[str, dict[str, Any]]] = []
        self.aborts: list[tuple[str, str, str]] = []
        self.fail_start: Exception | None = None

    def start(self, request_id: str) -> None:
        if self.fail_start is not None:
            raise self.fail_start
        self.starts.append(request_id)

    def resume(self, task_token: str, output: dict[str, Any]) -> None:
        self.resumes.append((task_token, output))

    def restart(self, request_id: str, attempt: int, request_type: str) -> None:
        if self.fail_start is not None:
            raise self.fail_start
        self.starts.append(f"{request_id}-{attempt}")

    def abort(self, task_token: str, error: str, cause: str) -> None:
        self.aborts.append((task_token, error, cause))


class FakeCampaignWorkflow:
    def __init__(self, configured: bool = True) -> None:
        self.configured = configured
        self.starts: list[tuple[str, int]] = []
        self.fail_start: Exception | None = None

    def require(self) -> None:
        if not self.configured:
            from functions.campaigns.workflow import NoCampaignWorkflow

            NoCampaignWorkflow().require()

    def start(self, campaign_id: str, attempt: int) -> None:
        self.require()
        if self.fail_start is not None:
            raise self.fail_start
        self.starts.append((campaign_id, attempt))


class FakeEvents:
    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []

    def publish(self, detail_type: str, *details: Mapping[str, Any]) -> None:
        self.published.extend((detail_type, dict(d)) for d in details)

    def of(self, detail_type: str) -> list[dict[str, Any]]:
        return [d for t, d in self.published if t == detail_type]


class FakeAudit:
    """Reads of the fake trail, as AuditRepository reads the table."""

    def __init__(self, trail: AuditTrail) -> None:
        self.trail = trail

    def head(self) -> ChainHead:
        return self.trail.head

    def find(self, where: AuditFilter, limit: int, start_key: dict[str, Any] | None) -> AuditPage:
        wanted = {
            "customerHash": where.customer_hash,
            "requestId": where.request_id,
            "eventType": where.event_type,
            "requestType": where.request_type,
            "actor": where.actor,
        }
        found = [
            e
            for e in self.trail.entries
            if all(v is None or e[k] == v for k, v in wanted.items())
            and (where.start is None or e["at"] >= where.start)
            and (where.end is None or e["at"] <= where.end)
        ]
        found.sort(key=lambda e: e["at"], reverse=True)
        start = int((start_key or {}).get("offset", {}).get("N", 0))
        end = start + limit
        return AuditPage(
            found[start:end], {"offset": {"N": str(end)}} if end < len(found) else None
        )

    def everything(self) -> Iterator[dict[str, Any]]:
        yield from (dict(e) for e in self.trail.entries)


class FakeDigests:
    def __init__(self) -> None:
        self.digests: list[Digest] = []

    def put(self, head: ChainHead) -> Digest:
        digest = Digest(
            seq=head.seq,
            hash=head.hash,
            at=utc_now(),
            key=f"digest-{head.seq}",
            keyed=head.mac is not None,
        )
        self.digests.append(digest)
        return digest

    def all(self) -> Iterator[Digest]:
        yield from self.digests
