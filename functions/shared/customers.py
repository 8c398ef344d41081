"""A customer's partition in the customers table: the only code that knows its items' layout
(profile, privacy status, open-request markers, relations, tombstones). Reads answer domain
objects, never pynamodb items; changes are writes contributed to the unit of work."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from pynamodb.expressions.update import Action

from functions.shared.aws_errors import domain_errors
from functions.shared.domain import (
    Consent,
    ConsentStatus,
    CustomerIdentifiers,
    CustomerPrivacy,
    CustomerRecord,
    PrivacyRequest,
    PrivacyStatus,
    Relation,
    category_of,
    pseudonym,
    status_of,
)
from functions.shared.errors import ConflictError, CustomerNotFoundError, ValidationError
from functions.shared.identifiers import IdentifierKind, KeyedHasher
from functions.shared.models import CustomerItem
from functions.shared.unit_of_work import TableWrite

PROFILE = "PROFILE"
PRIVACY = "PRIVACY"
CONSENT_PREFIX = "CONSENT#"
OPEN_REQUEST_PREFIX = "OPENREQ#"
RELATION_PREFIX = "RELATION#"
# The tombstone's field that holds a clear id until that person's erasure is done.
ERASING = "erasing"
# Two lookup items of the preference centre, each in a partition of its own (never a customer
# id, which has no ':'; never a tombstone's 'forgotten:'), each deleted by DynamoDB's TTL and, on
# a forget, with the customer's partition (`erase`):
# - `link:<customer hash>`: the customer a magic link's token names (consents/preference_links);
# - `signup:<e-mail hash>`: a confirmed lite sign-up, so one address makes one customer
#   (consents/signup).
LINK_PREFIX = "link:"
LINK_SK = "LINK"
SIGNUP_PREFIX = "signup:"
SIGNUP_SK = "SIGNUP"
# What one BatchWriteItem call deletes at most.
BATCH_SIZE = 25
# Erased last: while the profile exists, an interrupted erasure can still find its customer.
ERASED_LAST = (PRIVACY, PROFILE)
# Read first by records(): who the customer is before what they did.
READ_FIRST = (PROFILE, PRIVACY, "LOYALTY")


def open_request_key(request_type: str) -> str:
    return f"{OPEN_REQUEST_PREFIX}{request_type}"


def link_key(customer_hash: str) -> tuple[str, str]:
    return f"{LINK_PREFIX}{customer_hash}", LINK_SK


def signup_key(email_hash: str) -> tuple[str, str]:
    return f"{SIGNUP_PREFIX}{email_hash}", SIGNUP_SK


def tombstone_key(customer_hash: str) -> tuple[str, str]:
    """Where a forgotten customer's status lives: under their keyed hash, not their id."""
    return pseudonym(customer_hash), PRIVACY


@dataclass(frozen=True)
class ErasedChunk:
    """What one bounded erasure call did: the batch writes it made, and whether the partition
    is now empty."""

    batches: int
    done: bool


@dataclass(frozen=True)
class StatusChange:
    """The customer's privacy status moves to `to` from one of `expected`."""

    to: PrivacyStatus
    expected: frozenset[PrivacyStatus]


@domain_errors
class CustomerRepository:
    def __init__(self, model: type[CustomerItem], hasher: KeyedHasher) -> None:
        self._model = model
        self._hasher = hasher

    # Writes for the unit of work -------------------------------------------------------------

    def exists(self, customer_id: str) -> TableWrite:
        m = self._model
        return TableWrite(
            lambda tw: tw.condition_check(m, customer_id, PROFILE, condition=m.sk.exists()),
            lambda: CustomerNotFoundError(customer_id),
        )

    def open_request(self, request: PrivacyRequest) -> TableWrite:
        """The marker that keeps a second request of the type from opening while this one is."""
        m = self._model
        lock = m(
            request.customer_id,
            open_request_key(request.type.value),
            request_id=request.request_id,
            updated_at=request.created_at,
        )
        return TableWrite(
            lambda tw: tw.save(lock, condition=m.sk.does_not_exist()),
            lambda: ConflictError(
                f"a {request.type.value} request is already open for this customer"
            ),
        )

    def close_request(self, request: PrivacyRequest) -> TableWrite:
        m = self._model
        lock = m(request.customer_id, open_request_key(request.type.value))
        mine = m.request_id.does_not_exist() | (m.request_id == request.request_id)
        return TableWrite(
            lambda tw: tw.delete(lock, condition=mine),
            lambda: ConflictError("the open-request marker belongs to another request"),
        )

    def change_status(
        self, customer_id: str, change: StatusChange, request_id: str, at: str
    ) -> TableWrite:
        m = self._model
        actions: list[Action] = [
            m.privacy_status.set(change.to.value),
            m.request_id.set(request_id),
            m.updated_at.set(at),
            m.ceased_at.set(at) if change.to is PrivacyStatus.CEASED else m.ceased_at.remove(),
        ]
        condition = m.privacy_status.is_in(*(s.value for s in change.expected))
        if PrivacyStatus.ACTIVE in change.expected:
            # A customer who never had a privacy request has no PRIVACY item: they are ACTIVE.
            condition = condition | m.privacy_status.does_not_exist()
        return TableWrite(
            lambda tw: tw.update(m(customer_id, PRIVACY), actions=actions, condition=condition),
            lambda: ConflictError("the customer's privacy status changed meanwhile"),
        )

    def tombstone(
        self, customer_hash: str, request_id: str, at: str, erasing: str | None = None
    ) -> TableWrite:
        """What answers FORGOTTEN for a customer from then on, under their keyed hash. Written
        before anything of theirs is erased; while the erasure is unfinished it holds their clear
        id (`erasing`), next to the data it is there to find, so that nothing else must."""
        m = self._model
        item = m(
            *tombstone_key(customer_hash),
            privacy_status=PrivacyStatus.FORGOTTEN.value,
            request_id=request_id,
            updated_at=at,
            data={ERASING: erasing} if erasing else None,
        )
        return TableWrite(
            lambda tw: tw.save(item, condition=m.sk.does_not_exist()),
            lambda: ConflictError("the customer has been forgotten already"),
        )

    def erased(self, customer_hash: str, at: str) -> TableWrite:
        """The erasure the tombstone waited for is done: its clear id goes (once)."""
        m = self._model
        return TableWrite(
            lambda tw: tw.update(
                m(*tombstone_key(customer_hash)),
                actions=[m.data.remove(), m.updated_at.set(at)],
                condition=m.data.exists(),
            ),
            lambda: ConflictError("the erasure was recorded as done already"),
        )

    # Reads and non-transactional writes ------------------------------------------------------

    def _items(self, customer_id: str, prefix: str) -> list[CustomerItem]:
        return list(self._model.query(customer_id, self._model.sk.startswith(prefix)))

    def _get(self, customer_id: str, sk: str) -> CustomerItem | None:
        try:
            return self._model.get(customer_id, sk, consistent_read=True)
        except self._model.DoesNotExist:
            return None

    def erasing(self, customer_hash: str) -> str | None:
        """The clear id of a person whose erasure began and is not done; None once it is done
        (or when there is no tombstone)."""
        item = self._get(*tombstone_key(customer_hash))
        data = _plain(item.data) if item is not None else None
        return str(data[ERASING]) if data and data.get(ERASING) else None

    def customer_by_email(self, email: str) -> str | None:
        """Whose profile has this e-mail (rule v2), if exactly one customer's does."""
        return self._customer_by(IdentifierKind.EMAIL, email, self._model.by_email)

    def customer_by_phone(self, phone: str) -> str | None:
        """Whose profile has this phone number (E.164 after normalisation), if exactly one
        customer's does."""
        return self._customer_by(IdentifierKind.PHONE, phone, self._model.by_phone)

    def _customer_by(self, kind: IdentifierKind, value: str, index: Any) -> str | None:
        """The hash is always computed and the index always queried, matched or not, so that
        the work done does not tell a known identifier from an unknown one."""
        try:
            hashed = self._hasher.hash(kind, value)
        except ValidationError:
            hashed = self._hasher.hash(IdentifierKind.CUSTOMER_ID, "")  # the same work, no match
        found = {item.customer_id for item in index.query(hashed, limit=2)}
        return found.pop() if len(found) == 1 else None

    def privacy_status(self, customer_id: str) -> PrivacyStatus:
        """The customer's status; CustomerNotFoundError when we hold nothing about them."""
        if self._get(*tombstone_key(self._hasher.customer(customer_id))) is not None:
            return PrivacyStatus.FORGOTTEN
        privacy = self._get(customer_id, PRIVACY)
        if privacy is not None and privacy.privacy_status:
            return PrivacyStatus(privacy.privacy_status)
        if self._get(customer_id, PROFILE) is None:
            raise CustomerNotFoundError(customer_id)
        return PrivacyStatus.ACTIVE

    def ceased_among(self, customer_ids: Iterable[str]) -> set[str]:
        """Which of these customers are ceased: one batched read of their privacy items."""
        keys = [(customer_id, PRIVACY) for customer_id in set(customer_ids)]
        return {
            item.customer_id
            for item in self._model.batch_get(keys, consistent_read=True)
            if item.privacy_status == PrivacyStatus.CEASED.value
        }

    def get_privacy(self, customer_id: str) -> CustomerPrivacy:
        status = self.privacy_status(customer_id)
        if status is PrivacyStatus.FORGOTTEN:
            return CustomerPrivacy(customer_id=customer_id, privacy_status=status)
        privacy = self._get(customer_id, PRIVACY)
        consents = tuple(
            consent_from(_record(item).fields) for item in self._items(customer_id, CONSENT_PREFIX)
        )
        open_requests = tuple(
            str(item.request_id) for item in self._items(customer_id, OPEN_REQUEST_PREFIX)
        )
        return CustomerPrivacy(
            customer_id=customer_id,
            privacy_status=status,
            ceased_at=privacy.ceased_at if privacy else None,
            consents=consents,
            open_requests=open_requests,
        )

    def get_identifiers(self, customer_id: str) -> CustomerIdentifiers:
        profile = self._get(customer_id, PROFILE)
        if profile is None:
            raise CustomerNotFoundError(customer_id)
        data = profile.data.as_dict() if hasattr(profile.data, "as_dict") else dict(profile.data)
        return CustomerIdentifiers(
            customer_id=customer_id,
            emails=tuple(v for v in (data.get("email"), *data.get("otherEmails", [])) if v),
            phones=tuple(v for v in (data.get("phone"), *data.get("otherPhones", [])) if v),
        )

    def jurisdiction(self, customer_id: str) -> str | None:
        """The jurisdiction the customer's profile names, if any (it sets the legal deadline)."""
        profile = self._get(customer_id, PROFILE)
        if profile is None:
            return None
        data = profile.data.as_dict() if hasattr(profile.data, "as_dict") else dict(profile.data)
        return str(data["jurisdiction"]) if data.get("jurisdiction") else None

    def relations(self, customer_id: str) -> list[Relation]:
        return [
            Relation(
                type=item.data["type"], role=item.data["role"], customer_id=item.data["customerId"]
            )
            for item in self._items(customer_id, RELATION_PREFIX)
        ]

    def remove_relation(self, owner_id: str, relation: Relation, other_id: str) -> None:
        """Delete owner's relation item that points at other_id (idempotent)."""
        self._model(owner_id, f"{RELATION_PREFIX}{relation.type}#{other_id}").delete()

    def _keys(self, customer_id: str) -> list[str]:
        # Keys only: a paginated query whose pages hold thousands of keys each.
        query = self._model.query(customer_id, attributes_to_get=["customerId", "sk"])
        return [item.sk for item in query]

    def inventory(self, customer_id: str) -> dict[str, int]:
        """How many items of each category the customer's partition holds."""
        return dict(Counter(category_of(sk) for sk in self._keys(customer_id)))

    def records(self, customer_id: str) -> Iterator[CustomerRecord]:
        """Every item of the customer's partition as data: profile, privacy and loyalty first,
        the rest in key order. A lazily paginated query: a large partition is never held whole."""
        for sk in READ_FIRST:
            item = self._get(customer_id, sk)
            if item is not None:
                yield _record(item)
        for item in self._model.query(customer_id, consistent_read=True):
            if item.sk not in READ_FIRST:
                yield _record(item)

    def erase(self, customer_id: str, max_batches: int) -> ErasedChunk:
        """Delete at most `max_batches` batch writes (25 items each) of the customer's partition,
        the profile and privacy items in the last call. Bounded, so that one invocation stays far
        inside its timeout whatever the size; idempotent, so a second run finds less, or nothing.
        Each call starts its keys-only query afresh: what an earlier call deleted is gone."""
        limit = max_batches * BATCH_SIZE
        query = self._model.query(
            customer_id,
            attributes_to_get=["customerId", "sk", "emailHash"],
            page_size=min(limit + 2, 1000),
        )
        first: list[str] = []
        last: list[str] = []
        email_hash: str | None = None
        more = False
        for item in query:
            if item.sk in ERASED_LAST:
                last.append(item.sk)
                email_hash = email_hash or item.email_hash
            elif len(first) < limit:
                first.append(item.sk)
            else:
                more = True
                break
        # The profile and privacy items go in the last call, once nothing else is left.
        done = not more and len(first) + len(last) <= limit
        doomed = [(customer_id, sk) for sk in (first + last if done else first)]
        if done:
            doomed += self._lookups(customer_id, email_hash)
        with self._model.batch_write() as batch:
            for key in doomed:
                batch.delete(self._model(*key))
        batches = -(-len(doomed) // BATCH_SIZE)
        return ErasedChunk(batches, done)

    def _lookups(self, customer_id: str, email_hash: str | None) -> list[tuple[str, str]]:
        """The preference centre's items that lead to the customer (their link's, their
        sign-up's, found by the profile's e-mail hash), erased with the profile rather than
        left to expire. A resumed erasure whose profile went already finds them gone too."""
        keys = [link_key(self._hasher.customer(customer_id))]
        if email_hash:
            keys.append(signup_key(email_hash))
        return keys


def _plain(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    return value.as_dict() if hasattr(value, "as_dict") else dict(value)


def consent_from(data: dict[str, Any]) -> Consent:
    """A CONSENT# item's data as the customer's consent."""
    return Consent(
        topic=data["topic"],
        channel=data["channel"],
        granted=status_of(data) is ConsentStatus.GRANTED,
        at=data["at"],
        source=data["source"],
        status=status_of(data).value,
        brand=data.get("brand"),
    )


def _record(item: CustomerItem) -> CustomerRecord:
    prefix, _, key = item.sk.partition("#")
    data = item.data.as_dict() if hasattr(item.data, "as_dict") else dict(item.data or {})
    if item.privacy_status:
        data["privacyStatus"] = item.privacy_status
    if item.ceased_at:
        data["ceasedAt"] = item.ceased_at
    return CustomerRecord(
        category=category_of(item.sk), key=key or prefix, fields=data, updated_at=item.updated_at
    )


def customer_items(
    model: type[CustomerItem], record: dict[str, Any], hasher: KeyedHasher | None = None
) -> Iterator[CustomerItem]:
    """A CRM customer record (the shape of events/demo/customers.json) as one item per fact. The
    profile carries its e-mail's and its phone's keyed hashes (indexes byEmailHash, byPhoneHash);
    a CRM writing the table itself must set `emailHash` and `phoneHash` the same way
    (KeyedHasher.hash, kinds email and phone)."""
    customer_id = record["customerId"]

    def item(sk: str, data: dict[str, Any]) -> CustomerItem:
        return model(customer_id, sk, data=data)

    profile = item(PROFILE, record["profile"])
    email = record["profile"].get("email")
    if email and hasher is not None:
        # An address no rule can normalise cannot match a normalised one either: no hash.
        with suppress(ValidationError):
            profile.email_hash = hasher.hash(IdentifierKind.EMAIL, email)
    phone = record["profile"].get("phone")
    if phone and hasher is not None:
        with suppress(ValidationError):
            profile.phone_hash = hasher.hash(IdentifierKind.PHONE, phone)
    yield profile
    if "loyalty" in record:
        yield item("LOYALTY", record["loyalty"])
    for activity in record.get("activity", []):
        yield item(f"ACTIVITY#{activity['at']}#{activity['id']}", activity)
    for consent in record.get("consents", []):
        yield item(f"{CONSENT_PREFIX}{consent['topic']}#{consent['channel']}", consent)
    for relation in record.get("relations", []):
        yield item(f"RELATION#{relation['type']}#{relation['customerId']}", relation)
    for name, value in record.get("metrics", {}).items():
        yield item(f"METRIC#{name}", {"name": name, "value": value})
    for offer in record.get("wallet", []):
        yield item(f"WALLET#{offer['offerId']}", offer)
    for entry in record.get("ledger", []):
        yield item(f"LEDGER#{entry['at']}#{entry['id']}", entry)
    for tag in record.get("tags", []):
        yield item(f"TAG#{tag['tag']}", tag)
    for reward in record.get("rewards", []):
        yield item(f"REWARD#{reward['rewardId']}", reward)
    for card in record.get("cards", []):
        yield item(f"CARD#{card['cardId']}", card)
    for campaign in record.get("campaigns", []):
        yield item(f"CAMPAIGN#{campaign['campaignId']}", campaign)
    for note in record.get("notes", []):
        yield item(f"NOTE#{note['at']}#{note['id']}", note)
