"""The domain model of privacy requests: types, statuses, the rules that say what may happen."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from functions.shared.errors import ConflictError
from functions.shared.identifiers import PSEUDONYM_PREFIX, IdentifierKind


class RequestType(StrEnum):
    CEASE_MARKETING = "CEASE_MARKETING"
    RESUME_MARKETING = "RESUME_MARKETING"
    FORGET = "FORGET"
    EXPORT = "EXPORT"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    RequestType.CEASE_MARKETING: "Cease Marketing",
    RequestType.RESUME_MARKETING: "Resume Marketing",
    RequestType.FORGET: "Forget",
    RequestType.EXPORT: "Export",
}


class RequestStatus(StrEnum):
    RECEIVED = "RECEIVED"
    AWAITING_CONFIRMATION = "AWAITING_CONFIRMATION"
    CONFIRMED = "CONFIRMED"
    APPLIED = "APPLIED"
    COMPLETED = "COMPLETED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {
        RequestStatus.COMPLETED,
        RequestStatus.REJECTED,
        RequestStatus.CANCELLED,
        RequestStatus.EXPIRED,
        RequestStatus.FAILED,
    }
)

# Every status a request can still move on from: its legal deadline runs.
OPEN_STATUSES = tuple(s for s in RequestStatus if s not in TERMINAL_STATUSES)

_PHASES = {
    RequestStatus.RECEIVED: "In Progress",
    RequestStatus.AWAITING_CONFIRMATION: "Awaiting Confirmation",
    RequestStatus.CONFIRMED: "In Progress",
    RequestStatus.APPLIED: "In Progress",
    RequestStatus.COMPLETED: "Completed",
    RequestStatus.REJECTED: "Rejected",
    RequestStatus.CANCELLED: "Cancelled",
    RequestStatus.EXPIRED: "Expired",
    RequestStatus.FAILED: "Failed",
}


def status_text(request_type: RequestType, status: RequestStatus) -> str:
    """The wording CRM agents know, e.g. 'Cease Marketing Processing - Completed'."""
    return f"{request_type.label} Processing - {_PHASES[status]}"


class PrivacyStatus(StrEnum):
    ACTIVE = "ACTIVE"
    CEASED = "CEASED"
    FORGOTTEN = "FORGOTTEN"


class Purpose(StrEnum):
    MARKETING = "marketing"
    AUDIENCES = "audiences"
    CAMPAIGNS = "campaigns"
    LOYALTY = "loyalty"
    APPLICATION_ACCESS = "applicationAccess"


MARKETING_PURPOSES = (Purpose.MARKETING, Purpose.AUDIENCES, Purpose.CAMPAIGNS)


def processing_permissions(status: PrivacyStatus) -> dict[str, bool]:
    """Restriction stops marketing only; loyalty (earning, tiers, wallet offers) keeps working.
    Application access (new application flows that process the person's data: sign-ups to
    partner programmes, onboarding journeys) follows cease as marketing does, so that a
    restriction is not worked around by an application's own processing (issue 18)."""
    active = status is PrivacyStatus.ACTIVE
    return {
        **{purpose.value: active for purpose in MARKETING_PURPOSES},
        Purpose.LOYALTY.value: status is not PrivacyStatus.FORGOTTEN,
        Purpose.APPLICATION_ACCESS.value: active,
    }


def target_privacy_status(request_type: RequestType) -> PrivacyStatus:
    return {
        RequestType.CEASE_MARKETING: PrivacyStatus.CEASED,
        RequestType.RESUME_MARKETING: PrivacyStatus.ACTIVE,
        RequestType.FORGET: PrivacyStatus.FORGOTTEN,
    }[request_type]


def ensure_request_allowed(request_type: RequestType, status: PrivacyStatus) -> None:
    """Raise ConflictError when a request of this type makes no sense for the customer's status."""
    if status is PrivacyStatus.FORGOTTEN:
        raise ConflictError("the customer has been forgotten; no further requests are possible")
    if request_type is RequestType.CEASE_MARKETING and status is PrivacyStatus.CEASED:
        raise ConflictError("marketing to this customer has already been ceased")
    if request_type is RequestType.RESUME_MARKETING and status is not PrivacyStatus.CEASED:
        raise ConflictError("marketing to this customer is not ceased; there is nothing to resume")


@dataclass(frozen=True)
class HistoryEntry:
    status: RequestStatus
    at: str
    actor: str


@dataclass(frozen=True)
class Extension:
    """The one extension of a request's legal deadline (GDPR Art. 12(3), CCPA 1798.130)."""

    previous_due_at: str
    due_at: str
    extended_by: str
    extended_at: str
    reason: str | None = None


@dataclass(frozen=True)
class PrivacyRequest:
    request_id: str
    customer_id: str
    type: RequestType
    status: RequestStatus
    submitted_by: str
    identity_verified_by: str
    identity_verified_at: str
    created_at: str
    updated_at: str
    confirm_by: str
    reason: str | None = None
    cascade: bool = False
    confirmed_by: str | None = None
    confirmed_at: str | None = None
    completed_at: str | None = None
    rejection_reason: str | None = None
    task_token: str | None = None
    history: tuple[HistoryEntry, ...] = ()
    result: dict[str, Any] = field(default_factory=dict)
    due_at: str | None = None
    jurisdiction: str | None = None
    extension: Extension | None = None

    @property
    def status_text(self) -> str:
        return status_text(self.type, self.status)


class ConsentStatus(StrEnum):
    GRANTED = "GRANTED"
    PENDING = "PENDING"
    REVOKED = "REVOKED"


def status_of(data: Mapping[str, Any]) -> ConsentStatus:
    """Consents seeded before double opt-in existed carry only `granted`."""
    if data.get("status"):
        return ConsentStatus(str(data["status"]))
    return ConsentStatus.GRANTED if data.get("granted") else ConsentStatus.REVOKED


@dataclass(frozen=True)
class Consent:
    topic: str
    channel: str
    granted: bool
    at: str
    source: str
    # GRANTED, PENDING (double opt-in awaiting confirmation) or REVOKED; only GRANTED is consent.
    status: str = "GRANTED"
    brand: str | None = None


@dataclass(frozen=True)
class CustomerIdentifiers:
    """The identifiers we match people by. Personal data: never log, audit or return these."""

    customer_id: str
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()


@dataclass(frozen=True)
class CustomerPrivacy:
    customer_id: str
    privacy_status: PrivacyStatus
    ceased_at: str | None = None
    consents: tuple[Consent, ...] = ()
    open_requests: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suppression:
    """One suppression-index entry: a keyed hash, why it is suppressed, and whose request put it."""

    identifier_hash: str
    identifier_kind: IdentifierKind
    reason: str
    subject_hash: str

    @property
    def entry(self) -> str:
        return f"{self.reason}#{self.subject_hash}"


def pseudonym(customer_hash: str) -> str:
    """What stands in for a forgotten customer's id on the records we must keep (their requests):
    their keyed hash, which identifies nobody without the key."""
    return f"{PSEUDONYM_PREFIX}{customer_hash}"


# What each kind of item in a customer's partition is, for erasure counts and exports.
_CATEGORIES = {
    "PROFILE": "profile",
    "PRIVACY": "privacyStatus",
    "LOYALTY": "loyalty",
    "ACTIVITY": "activity",
    "LEDGER": "pointsLedger",
    "CONSENT": "consents",
    "RELATION": "relations",
    "METRIC": "metrics",
    "WALLET": "offers",
    "REWARD": "rewards",
    "CARD": "cards",
    "TAG": "tags",
    "NOTE": "notes",
    "OPENREQ": "openRequestMarkers",
    "CAMPAIGN": "campaigns",
    "CONSENTLOG": "consentHistory",
    "CONSENTTOKEN": "consentConfirmations",
}


def category_of(sort_key: str) -> str:
    prefix = sort_key.split("#", 1)[0]
    return _CATEGORIES.get(prefix, f"other:{prefix.lower()}")


@dataclass(frozen=True)
class Relation:
    """A link from a customer to another; `role` is this customer's side ('parent' or 'child')."""

    type: str
    role: str
    customer_id: str

    @property
    def is_parent(self) -> bool:
        return self.role == "parent"


@dataclass(frozen=True)
class CustomerRecord:
    """One item of a customer's partition as plain data: its category, its key within the
    category (the sort key less the category prefix) and its fields, nested values as stored."""

    category: str
    key: str
    fields: dict[str, Any]
    updated_at: str | None = None


# An export's download link is short-lived and signed afresh each time it is asked for; the file
# itself is deleted by the bucket's lifecycle rule after the retention period.
EXPORT_LINK_SECONDS = 15 * 60
EXPORT_RETENTION_DAYS = 7
