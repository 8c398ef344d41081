"""Re-permission campaigns: ask everyone who holds a topic's consent to confirm it by a deadline;
at the deadline apply the campaign's outcome to those who did not.

What may be started, and the rules the workflow follows for each enrolled customer."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from functions.consents.rules import CHANNELS
from functions.shared import clock
from functions.shared.errors import ValidationError
from functions.shared.suppression_reasons import validate_topic

CAMPAIGN_RECORD_TYPE = "REPERMISSION_CAMPAIGN"
# Step Functions standard workflows run for at most a year; the wait is one of them.
MAX_DEADLINE_DAYS = 360
DEFAULT_PAGE_SIZE = 200
MAX_PAGE_SIZE = 1000
# A page is applied as this many batches at most (one Map iteration each, two at a time): the
# execution's history grows with iterations, not with customers (AWS caps a history at 25,000
# events), and a batch of 20 revocations stays far inside a Lambda invocation's time.
BATCHES_PER_PAGE = 10
# A phase's cursor once its last page is recorded (no cursor: it has not begun).
END_CURSOR = "END"


class CampaignOutcome(StrEnum):
    REVOKE = "REVOKE"  # the topic consent is revoked (an opt-out recorded by the campaign)
    FORGET = "FORGET"  # a FORGET request, pre-confirmed by the campaign's operator


class CampaignStatus(StrEnum):
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class CampaignPhase(StrEnum):
    ENROLLING = "ENROLLING"
    AWAITING_DEADLINE = "AWAITING_DEADLINE"
    APPLYING = "APPLYING"
    DONE = "DONE"


class CustomerResult(StrEnum):
    """What the outcome phase did for one enrolled customer (the progress counters' names)."""

    KEPT = "kept"  # confirmed, or chose again, since enrolment: the consent stays
    REVOKED = "revoked"
    FORGET_REQUESTED = "forgetRequested"
    SKIPPED_FORGOTTEN = "skippedForgotten"
    SKIPPED_CEASED = "skippedCeased"
    SKIPPED_CHANGED = (
        "skippedChanged"  # opted out or changed otherwise meanwhile: not ours to touch
    )
    SKIPPED_FORGET_OPEN = "skippedForgetOpen"  # a FORGET of someone else's making is open


COUNTERS = ("enrolled", "confirmed", *(r.value for r in CustomerResult))


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    topic: str
    channel: str
    deadline: str  # ISO 8601 UTC, seconds, 'Z'
    outcome: CampaignOutcome
    started_by: str
    started_at: str
    status: CampaignStatus = CampaignStatus.RUNNING
    phase: CampaignPhase = CampaignPhase.ENROLLING
    page_size: int = DEFAULT_PAGE_SIZE
    counters: dict[str, int] = field(default_factory=dict)
    enrol_pages: int = 0
    outcome_pages: int = 0
    enrol_cursor: str | None = None
    outcome_cursor: str | None = None
    executions: int = 1
    completed_at: str | None = None
    last_error: str | None = None
    updated_at: str | None = None

    @property
    def consent_key(self) -> str:
        return f"{self.topic}#{self.channel}"

    @property
    def actor(self) -> str:
        """Who the campaign's own changes are recorded as (the operator is on the campaign)."""
        return f"campaign:{self.campaign_id}"

    def batch_size(self) -> int:
        return max(1, -(-self.page_size // BATCHES_PER_PAGE))


@dataclass(frozen=True)
class Enrolment:
    customer_id: str
    # The consent's change id when enrolled ("" for one imported without one): a later change
    # means the customer chose again (confirmed, or opted out themselves).
    change_id: str


def parse_deadline(raw: str, now: datetime) -> str:
    """A date (the whole day counts: the deadline is the next midnight UTC) or a date-time with
    its offset. In the future, and within the longest wait a workflow can make."""
    try:
        if len(raw) == 10:
            moment = datetime.combine(date.fromisoformat(raw), datetime.min.time(), UTC)
            moment += timedelta(days=1)
        else:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                raise ValueError("no offset")
    except ValueError:
        raise ValidationError(
            "deadline must be a date (2027-01-31) or a date-time with offset (2027-01-31T18:00:00Z)"
        ) from None
    moment = moment.astimezone(UTC).replace(microsecond=0)
    if moment <= now:
        raise ValidationError("the deadline must be in the future")
    if moment > now + timedelta(days=MAX_DEADLINE_DAYS):
        raise ValidationError(f"the deadline must be within {MAX_DEADLINE_DAYS} days")
    return clock.iso(moment, "seconds")


@dataclass(frozen=True)
class CampaignRequest:
    topic: str
    channel: str
    deadline: str
    outcome: CampaignOutcome
    page_size: int

    def campaign_id(self, idempotency_key: str | None) -> str:
        """The same campaign asked for twice is one campaign."""
        identity = "\n".join(
            (self.topic, self.channel, self.deadline, self.outcome.value, idempotency_key or "")
        )
        return hashlib.sha256(identity.encode()).hexdigest()[:32]


def validate_campaign(
    topic: str, channel: str, deadline: str, outcome: str, page_size: int, now: datetime
) -> CampaignRequest:
    validate_topic(topic)
    if channel not in CHANNELS:
        raise ValidationError(f"channel must be one of {', '.join(sorted(CHANNELS))}")
    try:
        parsed_outcome = CampaignOutcome(outcome.upper())
    except ValueError:
        names = ", ".join(o.value for o in CampaignOutcome)
        raise ValidationError(f"outcome must be one of {names}") from None
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationError(f"pageSize must be 1-{MAX_PAGE_SIZE}")
    return CampaignRequest(topic, channel, parse_deadline(deadline, now), parsed_outcome, page_size)


def batches(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
