"""The one way a new privacy request is made, whoever submits it (an agent through the API, a
re-permission campaign's FORGET outcome): awaiting confirmation, with who attested the
customer's identity, when the confirmation window closes and when the law wants it answered."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from functions.requests.deadlines import (
    DEFAULT_EXTENSIONS,
    DEFAULT_JURISDICTION,
    DEFAULT_PERIODS,
    due_at,
    period_for,
)
from functions.shared import clock
from functions.shared.domain import HistoryEntry, PrivacyRequest, RequestStatus, RequestType
from functions.shared.settings import SubmissionSettings


@dataclass(frozen=True)
class SubmissionPolicy:
    confirmation_timeout_seconds: int
    default_jurisdiction: str = DEFAULT_JURISDICTION
    legal_deadlines: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_PERIODS))
    legal_extensions: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_EXTENSIONS))

    @classmethod
    def of(cls, settings: SubmissionSettings) -> SubmissionPolicy:
        return cls(
            confirmation_timeout_seconds=settings.confirmation_timeout_seconds,
            default_jurisdiction=settings.default_jurisdiction,
            legal_deadlines=dict(settings.legal_deadlines),
            legal_extensions=dict(settings.legal_extensions),
        )


def new_request(
    request_id: str,
    customer_id: str,
    request_type: RequestType,
    *,
    submitted_by: str,
    identity_verified_by: str,
    jurisdiction: str | None,
    policy: SubmissionPolicy,
    reason: str | None = None,
    cascade: bool = False,
) -> PrivacyRequest:
    """`jurisdiction` is the one the customer's profile names, if any (else the default)."""
    now = clock.now()
    at = clock.iso(now)
    jurisdiction = jurisdiction or policy.default_jurisdiction
    confirm_by = now + timedelta(seconds=policy.confirmation_timeout_seconds)
    due = due_at(now, period_for(jurisdiction, dict(policy.legal_deadlines)))
    return PrivacyRequest(
        request_id=request_id,
        customer_id=customer_id,
        type=request_type,
        status=RequestStatus.AWAITING_CONFIRMATION,
        submitted_by=submitted_by,
        identity_verified_by=identity_verified_by,
        identity_verified_at=at,
        created_at=at,
        updated_at=at,
        confirm_by=clock.iso(confirm_by, "seconds"),
        reason=reason,
        cascade=cascade,
        history=(
            HistoryEntry(RequestStatus.RECEIVED, at, submitted_by),
            HistoryEntry(RequestStatus.AWAITING_CONFIRMATION, at, submitted_by),
        ),
        due_at=clock.iso(due, "seconds"),
        jurisdiction=jurisdiction,
    )
