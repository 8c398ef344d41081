"""The tables, defined once. The local stack creates them from these models and the CDK stack
declares them from the same key schema and indexes (see infra/tables.py).

Models carry no table names: each function binds them to the names in its settings."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model


class _Table:
    billing_mode = "PAY_PER_REQUEST"
    table_name: str | None = None


class CustomersByEmail(GlobalSecondaryIndex):
    """The PROFILE item by the keyed hash of its e-mail (rule v2): how the preference centre
    finds whose address a link request names. Keys only: the hash says nothing else. Erasing the
    profile (forget) takes the entry out of the index with it."""

    class Meta:
        index_name = "byEmailHash"
        projection = KeysOnlyProjection()

    email_hash = UnicodeAttribute(hash_key=True, attr_name="emailHash")


class CustomersByPhone(GlobalSecondaryIndex):
    """The PROFILE item by the keyed hash of its phone (E.164): how an authorized agent's
    verified phone number finds its customer (functions/drp). Keys only, like byEmailHash."""

    class Meta:
        index_name = "byPhoneHash"
        projection = KeysOnlyProjection()

    phone_hash = UnicodeAttribute(hash_key=True, attr_name="phoneHash")


class CustomerItem(Model):
    """A customer's data as items under one partition, one item per fact.

    sk: PROFILE, PRIVACY, LOYALTY, ACTIVITY#<at>#<id>, CONSENT#<topic>#<channel>,
    RELATION#<type>#<customerId>, METRIC#<name>, WALLET#<offerId>, OPENREQ#<type>,
    LEDGER#<at>#<id>, TAG#<tag>, REWARD#<rewardId>, CARD#<cardId>, CAMPAIGN#<campaignId>,
    NOTE#<at>#<id>."""

    class Meta(_Table):
        pass

    customer_id = UnicodeAttribute(hash_key=True, attr_name="customerId")
    sk = UnicodeAttribute(range_key=True)
    data: MapAttribute[str, Any] = MapAttribute(null=True, default=dict)
    privacy_status = UnicodeAttribute(null=True, attr_name="privacyStatus")
    ceased_at = UnicodeAttribute(null=True, attr_name="ceasedAt")
    request_id = UnicodeAttribute(null=True, attr_name="requestId")
    updated_at = UnicodeAttribute(null=True, attr_name="updatedAt")
    # A preference-centre link's lookup item only (functions/consents/preference_links.py):
    # DynamoDB deletes it once the last link issued for it has expired. No other item has it.
    expires = TTLAttribute(null=True, attr_name="expires")
    # PROFILE only: the keyed hash of the profile's e-mail, for byEmailHash.
    email_hash = UnicodeAttribute(null=True, attr_name="emailHash")
    by_email = CustomersByEmail()
    # PROFILE only: the keyed hash of the profile's phone, for byPhoneHash.
    phone_hash = UnicodeAttribute(null=True, attr_name="phoneHash")
    by_phone = CustomersByPhone()


class HistoryEntryAttribute(MapAttribute):
    status = UnicodeAttribute()
    at = UnicodeAttribute()
    actor = UnicodeAttribute()


class RequestsByCustomer(GlobalSecondaryIndex):
    class Meta:
        index_name = "byCustomer"
        projection = AllProjection()

    customer_id = UnicodeAttribute(hash_key=True, attr_name="customerId")
    created_at = UnicodeAttribute(range_key=True, attr_name="createdAt")


class OpenRequestsByDeadline(GlobalSecondaryIndex):
    """Sparse: only open requests carry `deadlineQueue`, so the daily check reads just those."""

    class Meta:
        index_name = "openByDeadline"
        projection = AllProjection()

    deadline_queue = UnicodeAttribute(hash_key=True, attr_name="deadlineQueue")
    due_at = UnicodeAttribute(range_key=True, attr_name="dueAt")


def _queue_index(name: str, attribute: str, attr_name: str) -> type[GlobalSecondaryIndex]:
    """An index of the request queue (GET /privacy-requests), newest first by `createdAt`, keyed
    by an attribute every request has had from its first version: DynamoDB fills a new index
    from the items already there, so no item needs a back-fill (docs/DESIGN.md, "The request
    queue")."""
    meta = type("Meta", (), {"index_name": name, "projection": AllProjection()})
    attrs = {
        "Meta": meta,
        attribute: UnicodeAttribute(hash_key=True, attr_name=attr_name),
        "created_at": UnicodeAttribute(range_key=True, attr_name="createdAt"),
    }
    return type(f"Requests_{name}", (GlobalSecondaryIndex,), attrs)


RequestsByStatus = _queue_index("byStatus", "status", "status")
RequestsByType = _queue_index("byType", "type", "type")
RequestsBySubmitter = _queue_index("bySubmitter", "submitted_by", "submittedBy")


class ExtensionAttribute(MapAttribute):
    """A legal deadline's one extension: from when to when, and by whom. Its reason is free
    text, kept beside it (`extensionReason`, top level so that pseudonymising a request can
    remove it whether or not the request was extended), never in the audit trail."""

    previous_due_at = UnicodeAttribute(attr_name="previousDueAt")
    due_at = UnicodeAttribute(attr_name="dueAt")
    extended_by = UnicodeAttribute(attr_name="extendedBy")
    extended_at = UnicodeAttribute(attr_name="extendedAt")


class PrivacyRequestItem(Model):
    class Meta(_Table):
        pass

    request_id = UnicodeAttribute(hash_key=True, attr_name="requestId")
    customer_id = UnicodeAttribute(attr_name="customerId")
    type = UnicodeAttribute()
    status = UnicodeAttribute()
    submitted_by = UnicodeAttribute(attr_name="submittedBy")
    identity_verified_by = UnicodeAttribute(attr_name="identityVerifiedBy")
    identity_verified_at = UnicodeAttribute(attr_name="identityVerifiedAt")
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt")
    confirm_by = UnicodeAttribute(attr_name="confirmBy")
    reason = UnicodeAttribute(null=True)
    cascade = BooleanAttribute(default=False)
    confirmed_by = UnicodeAttribute(null=True, attr_name="confirmedBy")
    confirmed_at = UnicodeAttribute(null=True, attr_name="confirmedAt")
    completed_at = UnicodeAttribute(null=True, attr_name="completedAt")
    rejection_reason = UnicodeAttribute(null=True, attr_name="rejectionReason")
    task_token = UnicodeAttribute(null=True, attr_name="taskToken")
    history = ListAttribute(of=HistoryEntryAttribute, default=list)
    result: MapAttribute[str, Any] = MapAttribute(null=True)
    by_customer = RequestsByCustomer()
    # The legal deadline, and while the request is open the queue the daily check reads.
    due_at = UnicodeAttribute(null=True, attr_name="dueAt")
    jurisdiction = UnicodeAttribute(null=True)
    deadline_queue = UnicodeAttribute(null=True, attr_name="deadlineQueue")
    open_by_deadline = OpenRequestsByDeadline()
    extension = ExtensionAttribute(null=True)
    extension_reason = UnicodeAttribute(null=True, attr_name="extensionReason")
    by_status = RequestsByStatus()
    by_type = RequestsByType()
    by_submitter = RequestsBySubmitter()


class AuditByRequest(GlobalSecondaryIndex):
    class Meta:
        index_name = "byRequest"
        projection = AllProjection()

    request_id = UnicodeAttribute(hash_key=True, attr_name="requestId")
    at = UnicodeAttribute(range_key=True)


def _audit_index(name: str, attribute: str, attr_name: str) -> type[GlobalSecondaryIndex]:
    """An index per filter of GET /audit, newest first by `at`."""
    meta = type("Meta", (), {"index_name": name, "projection": AllProjection()})
    attrs = {
        "Meta": meta,
        attribute: UnicodeAttribute(hash_key=True, attr_name=attr_name),
        "at": UnicodeAttribute(range_key=True),
    }
    return type(f"Audit_{name}", (GlobalSecondaryIndex,), attrs)


AuditByCustomer = _audit_index("byCustomer", "customer_hash", "customerHash")
AuditByEventType = _audit_index("byEventType", "event_type", "eventType")
AuditByRequestType = _audit_index("byRequestType", "request_type", "requestType")
AuditByActor = _audit_index("byActor", "actor", "actor")
# One partition for the whole trail: a time range without other filters. Appends are serialised
# by the chain head anyway, so this adds no ceiling of its own.
AuditByTime = _audit_index("byTime", "trail", "trail")
AUDIT_TRAIL = "audit"


class AuditEntryItem(Model):
    """One entry per state change. The id is derived from the request and the event, so a retried
    or duplicated delivery can never write a second entry for the same change. Append-only, and
    linked into one hash chain (functions/shared/audit_chain.py)."""

    class Meta(_Table):
        pass

    entry_id = UnicodeAttribute(hash_key=True, attr_name="entryId")
    at = UnicodeAttribute()
    seq = NumberAttribute()
    request_id = UnicodeAttribute(attr_name="requestId")
    request_type = UnicodeAttribute(attr_name="requestType")
    event_type = UnicodeAttribute(attr_name="eventType")
    actor = UnicodeAttribute()
    outcome = UnicodeAttribute()
    customer_hash = UnicodeAttribute(attr_name="customerHash")
    details: MapAttribute[str, Any] = MapAttribute(null=True)
    trail = UnicodeAttribute(default=AUDIT_TRAIL)
    chain_seq = NumberAttribute(attr_name="chainSeq")
    prev_hash = UnicodeAttribute(attr_name="prevHash")
    entry_hash = UnicodeAttribute(attr_name="entryHash")
    # A KMS HMAC of entryHash: only a holder of the key can write an entry that verifies as the
    # chain's head (entries written before keyed hashes have none).
    entry_mac = UnicodeAttribute(null=True, attr_name="entryMac")
    by_request = AuditByRequest()
    by_customer = AuditByCustomer()
    by_event_type = AuditByEventType()
    by_request_type = AuditByRequestType()
    by_actor = AuditByActor()
    by_time = AuditByTime()


class AuditChainItem(Model):
    """The head of the audit chain: the last entry's position and hash. Every append advances it
    in the same transaction as the entry, conditioned on the position it read, so of two
    concurrent writers one wins and the other links to the new head and tries again."""

    class Meta(_Table):
        pass

    chain_id = UnicodeAttribute(hash_key=True, attr_name="chainId")
    seq = NumberAttribute()
    head_hash = UnicodeAttribute(attr_name="headHash")
    at = UnicodeAttribute()
    entry_id = UnicodeAttribute(attr_name="entryId")
    head_mac = UnicodeAttribute(null=True, attr_name="headMac")


class SuppressionBySubject(GlobalSecondaryIndex):
    """Every entry one customer's requests put in the index, whatever identifiers they had then."""

    class Meta:
        index_name = "bySubject"
        projection = AllProjection()

    subject_hash = UnicodeAttribute(hash_key=True, attr_name="subjectHash")
    entry = UnicodeAttribute(range_key=True)


class SuppressionItem(Model):
    """The 'Ceased index': keyed hashes of normalised identifiers. The sort key names the reason and
    whose request put it there, so resuming one customer never lifts a suppression that another
    customer sharing the same e-mail or phone still needs."""

    class Meta(_Table):
        pass

    identifier_hash = UnicodeAttribute(hash_key=True, attr_name="identifierHash")
    entry = UnicodeAttribute(range_key=True)
    reason = UnicodeAttribute()
    identifier_kind = UnicodeAttribute(attr_name="identifierKind")
    subject_hash = UnicodeAttribute(attr_name="subjectHash")
    at = UnicodeAttribute()
    request_id = UnicodeAttribute(attr_name="requestId")
    by_subject = SuppressionBySubject()


class IdempotencyRecord(Model):
    """Powertools idempotency's table (its default attribute names)."""

    class Meta(_Table):
        pass

    id = UnicodeAttribute(hash_key=True)
    expiration = TTLAttribute(null=True)


ALL_MODELS: tuple[type[Model], ...] = (
    CustomerItem,
    PrivacyRequestItem,
    AuditEntryItem,
    SuppressionItem,
    IdempotencyRecord,
    AuditChainItem,
)

M = TypeVar("M", bound=Model)


@cache
def bind(model: type[M], table_name: str) -> type[M]:
    """A subclass of `model` bound to one table; pynamodb copies the indexes onto it."""
    meta = type("Meta", (model.Meta,), {"table_name": table_name})  # type: ignore[arg-type]
    return type(f"{model.__name__}_{table_name}", (model,), {"Meta": meta})  # type: ignore[return-value]


@dataclass(frozen=True)
class Tables:
    """The models bound to one deployment's tables (from its settings)."""

    customers: type[CustomerItem]
    requests: type[PrivacyRequestItem]
    audit: type[AuditEntryItem]
    suppression: type[SuppressionItem]
    audit_chain: type[AuditChainItem]

    @classmethod
    def named(
        cls, customers: str, requests: str, audit: str, suppression: str, audit_chain: str
    ) -> Tables:
        return cls(
            customers=bind(CustomerItem, customers),
            requests=bind(PrivacyRequestItem, requests),
            audit=bind(AuditEntryItem, audit),
            suppression=bind(SuppressionItem, suppression),
            audit_chain=bind(AuditChainItem, audit_chain),
        )
