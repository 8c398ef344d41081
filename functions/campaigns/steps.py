"""The re-permission campaign's workflow steps (infra/statemachine/repermission_campaign.asl.json):
enrol the consent holders page by page, then at the deadline apply the outcome to every enrolled
customer who did not confirm, page by page.

Every step may run twice (a Lambda retry, a resumed execution): pages are recorded under the page
count they read, so each is counted once, and each customer's outcome is applied once (a revoked
consent, a FORGET request with an id derived from campaign and customer, are found as done)."""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from typing import Any, Protocol

from functions.campaigns.rules import (
    END_CURSOR,
    Campaign,
    CampaignOutcome,
    CampaignPhase,
    CampaignStatus,
    CustomerResult,
    Enrolment,
    batches,
)
from functions.campaigns.service import (
    WORKFLOW_ACTOR,
    CampaignStores,
    change_campaign,
    fail_campaign,
)
from functions.consents.messages import CONSENT_CONFIRMATION_REQUESTED, confirmation_requested
from functions.consents.rules import CAMPAIGN_SOURCE, ConsentChoice, campaign_token
from functions.consents.service import ConsentStores, record_consent
from functions.requests.factory import SubmissionPolicy, new_request
from functions.requests.lifecycle import RequestStores, advance, create_request
from functions.requests.workflow import RequestWorkflow
from functions.shared import clock
from functions.shared.clock import utc_now
from functions.shared.customers import CustomerRepository
from functions.shared.domain import ConsentStatus, PrivacyStatus, RequestStatus, RequestType
from functions.shared.errors import (
    ConflictError,
    CustomerNotFoundError,
    RequestNotFoundError,
    TransientError,
)
from functions.shared.events import Publisher
from functions.shared.identifiers import KeyedHasher
from functions.shared.observability import logger

# How early a woken step may be and still wait for the deadline itself.
EARLY_WAKE_SECONDS = 30


class EnrolStores(CampaignStores, Protocol):
    hasher: KeyedHasher
    customers: CustomerRepository
    events: Publisher


class OutcomeStores(ConsentStores, RequestStores, Protocol):
    """A REVOKE outcome records a consent change; a FORGET outcome submits a request."""

    workflow: RequestWorkflow
    policy: SubmissionPolicy


TOKEN_PURPOSE = "repermission-token"


def begin(campaign_id: str, deps: CampaignStores) -> dict[str, Any]:
    """Where an execution (the first, or a resumed one) picks the campaign up."""
    campaign = deps.campaigns.get(campaign_id)
    phase = (
        campaign.phase if campaign.status is not CampaignStatus.COMPLETED else CampaignPhase.DONE
    )
    return {"phase": phase.value, "deadline": campaign.deadline}


def enrol_page(campaign_id: str, deps: EnrolStores) -> dict[str, Any]:
    """One page of consent holders: each gets an enrolment and a token valid until the deadline,
    and is announced (ConsentConfirmationRequested) for the messaging system to send."""
    campaign = deps.campaigns.get(campaign_id)
    if campaign.phase is not CampaignPhase.ENROLLING:
        return {"done": True}
    if campaign.enrol_cursor != END_CURSOR:
        holders, cursor = deps.campaigns.consent_holders(
            campaign.consent_key, campaign.enrol_cursor, campaign.page_size
        )
        # A request to re-consent to marketing is itself marketing: a ceased customer is
        # not asked (and so never gets an outcome either).
        ceased = deps.customers.ceased_among(h.customer_id for h in holders)
        holders = [h for h in holders if h.customer_id not in ceased]
        tokens = {h.customer_id: _token(campaign, h.customer_id, deps) for h in holders}
        # An enrolment found is one an earlier attempt of this page wrote: its token may have
        # been used since, so it is not written again (the token itself is the same).
        done = deps.campaigns.enrolled_already(campaign_id, tokens)
        deps.campaigns.enrol(
            campaign,
            [(h, tokens[h.customer_id][1]) for h in holders if h.customer_id not in done],
            utc_now(),
        )
        # At least once: consumers de-duplicate on campaignId + customerId.
        deps.events.publish(
            CONSENT_CONFIRMATION_REQUESTED,
            *(_confirmation_request(campaign, h, tokens[h.customer_id][0]) for h in holders),
        )
        deps.campaigns.record_enrol_page(
            campaign_id, campaign.enrol_pages, cursor, len(holders), len(ceased)
        )
    stored = deps.campaigns.get(campaign_id)
    if stored.enrol_cursor != END_CURSOR:
        return {"done": False}
    change_campaign(
        deps,
        campaign_id,
        "CAMPAIGN_ENROLLED",
        WORKFLOW_ACTOR,
        {"enrolled": stored.counters["enrolled"], "pages": stored.enrol_pages},
        changes={"phase": CampaignPhase.AWAITING_DEADLINE.value},
        expected={"phase": CampaignPhase.ENROLLING.value},
    )
    return {"done": True}


def next_page(campaign_id: str, deps: CampaignStores) -> dict[str, Any]:
    """The deadline has passed: the next page of enrolled customers, in batches for the Map."""
    campaign = deps.campaigns.get(campaign_id)
    if campaign.phase is CampaignPhase.AWAITING_DEADLINE:
        _not_before(campaign.deadline)
        change_campaign(
            deps,
            campaign_id,
            "CAMPAIGN_DEADLINE_REACHED",
            WORKFLOW_ACTOR,
            {
                "enrolled": campaign.counters["enrolled"],
                "confirmed": campaign.counters["confirmed"],
            },
            changes={"phase": CampaignPhase.APPLYING.value},
            expected={"phase": CampaignPhase.AWAITING_DEADLINE.value},
        )
        campaign = deps.campaigns.get(campaign_id)
    enrolments: list[Enrolment] = []
    cursor = None
    if campaign.outcome_cursor != END_CURSOR:
        enrolments, cursor = deps.campaigns.enrolments(
            campaign_id, campaign.outcome_cursor, campaign.page_size
        )
    items = [{"customerId": e.customer_id, "changeId": e.change_id} for e in enrolments]
    return {
        "page": campaign.outcome_pages,
        "cursor": cursor,
        "batches": batches(items, campaign.batch_size()),
    }


def record_page(
    campaign_id: str,
    page: int,
    cursor: str | None,
    tallies: list[dict[str, int]],
    customer_ids: list[str],
    deps: CampaignStores,
) -> dict[str, Any]:
    """Count the page once, then forget who was on it: the campaign keeps counts only."""
    total: Counter[str] = Counter()
    for tally in tallies:
        total.update(tally)
    deps.campaigns.record_outcome_page(campaign_id, page, cursor, dict(total))
    deps.campaigns.remove_enrolments(campaign_id, customer_ids)
    return {"done": deps.campaigns.get(campaign_id).outcome_cursor == END_CURSOR}


def complete(campaign_id: str, deps: CampaignStores) -> dict[str, Any]:
    campaign = deps.campaigns.get(campaign_id)
    change_campaign(
        deps,
        campaign_id,
        "CAMPAIGN_COMPLETED",
        WORKFLOW_ACTOR,
        {**campaign.counters, "outcomePages": campaign.outcome_pages},
        changes={
            "status": CampaignStatus.COMPLETED.value,
            "phase": CampaignPhase.DONE.value,
            "completedAt": utc_now(),
        },
        expected={"status": CampaignStatus.RUNNING.value},
    )
    return {"status": deps.campaigns.get(campaign_id).status.value}


def fail(campaign_id: str, error: dict[str, Any] | None, deps: CampaignStores) -> dict[str, Any]:
    fail_campaign(campaign_id, str((error or {}).get("Error", "Unknown")), deps)
    return {"status": CampaignStatus.FAILED.value}


def apply_batch(
    campaign_id: str,
    customers: list[dict[str, str]],
    deps: OutcomeStores,
) -> dict[str, Any]:
    """The outcome for one batch of enrolled customers; the tally of what happened to each."""
    campaign = deps.campaigns.get(campaign_id)
    tally: Counter[str] = Counter()
    for customer in customers:
        enrolment = Enrolment(customer["customerId"], customer.get("changeId", ""))
        tally[apply_outcome(campaign, enrolment, deps).value] += 1
    return {"tally": dict(tally)}


def apply_outcome(campaign: Campaign, enrolment: Enrolment, deps: OutcomeStores) -> CustomerResult:
    customer_id = enrolment.customer_id
    if campaign.outcome is CampaignOutcome.FORGET:
        request_id = forget_request_id(campaign.campaign_id, customer_id)
        if _exists(request_id, deps):
            _confirm_and_start(campaign, request_id, deps)  # an earlier attempt submitted it
            return CustomerResult.FORGET_REQUESTED
    try:
        status = deps.customers.privacy_status(customer_id)
    except CustomerNotFoundError:
        return CustomerResult.SKIPPED_FORGOTTEN
    if status is PrivacyStatus.FORGOTTEN:
        return CustomerResult.SKIPPED_FORGOTTEN
    if status is PrivacyStatus.CEASED:
        return CustomerResult.SKIPPED_CEASED
    current = deps.consents.current(customer_id, campaign.consent_key)
    if current is None:
        return CustomerResult.SKIPPED_CHANGED
    if (current.change_id or "") != enrolment.change_id:
        # The customer chose since enrolment (confirmed, or chose otherwise); or an earlier
        # attempt of this step revoked it.
        if current.status is ConsentStatus.GRANTED:
            return CustomerResult.KEPT
        if current.status is ConsentStatus.REVOKED and current.source == CAMPAIGN_SOURCE:
            return CustomerResult.REVOKED
        return CustomerResult.SKIPPED_CHANGED
    if current.status is not ConsentStatus.GRANTED:
        return CustomerResult.SKIPPED_CHANGED
    if campaign.outcome is CampaignOutcome.REVOKE:
        return _revoke(campaign, enrolment, deps)
    return _request_forget(campaign, customer_id, deps)


def _not_before(deadline: str) -> None:
    """No outcome before the deadline, whatever woke the step: a Wait state rounds its timestamp
    (moto's fired 0.75 s early). A few seconds early are slept off; more is a retry."""
    remaining = (clock.parse(deadline) - clock.now()).total_seconds()
    if remaining > EARLY_WAKE_SECONDS:
        raise TransientError("the campaign's deadline has not been reached yet")
    if remaining > 0:
        time.sleep(remaining)


def forget_request_id(campaign_id: str, customer_id: str) -> str:
    """One FORGET request per campaign and customer, whatever the retries."""
    return hashlib.sha256(f"repermission\n{campaign_id}\n{customer_id}".encode()).hexdigest()[:32]


def _revoke(campaign: Campaign, enrolment: Enrolment, deps: OutcomeStores) -> CustomerResult:
    choice = ConsentChoice(
        enrolment.customer_id, campaign.topic, campaign.channel, False, CAMPAIGN_SOURCE
    )
    try:
        # The one way a consent changes: history, OPTED_OUT:<topic> entries, audit, event.
        record_consent(choice, campaign.actor, deps, 0, expected_change=enrolment.change_id)
    except (ConflictError, CustomerNotFoundError):
        # Changed or forgotten since it was read; or a client retry of our own committed change.
        current = deps.consents.current(enrolment.customer_id, campaign.consent_key)
        if current is not None and current.source == CAMPAIGN_SOURCE:
            return CustomerResult.REVOKED
        return CustomerResult.SKIPPED_CHANGED
    return CustomerResult.REVOKED


def _request_forget(campaign: Campaign, customer_id: str, deps: OutcomeStores) -> CustomerResult:
    """A FORGET request through the normal workflow, submitted and confirmed by the campaign's
    operator (audited as such); the workflow validates, applies, audits and completes it."""
    operator = campaign.started_by
    request = new_request(
        forget_request_id(campaign.campaign_id, customer_id),
        customer_id,
        RequestType.FORGET,
        submitted_by=operator,
        # No person asked: the campaign's enrolment names the customer record itself.
        identity_verified_by=campaign.actor,
        jurisdiction=deps.customers.jurisdiction(customer_id),
        policy=deps.policy,
        reason=f"re-permission campaign {campaign.campaign_id}: not re-confirmed by the deadline",
    )
    try:
        create_request(
            deps,
            request,
            {
                "submittedBy": operator,
                "identityVerifiedBy": campaign.actor,
                "campaignId": campaign.campaign_id,
                "dueAt": request.due_at,
                "jurisdiction": request.jurisdiction,
            },
        )
    except CustomerNotFoundError:
        return CustomerResult.SKIPPED_FORGOTTEN
    except ConflictError:
        if not _exists(request.request_id, deps):
            return CustomerResult.SKIPPED_FORGET_OPEN  # someone else's FORGET is open
    _confirm_and_start(campaign, request.request_id, deps)
    return CustomerResult.FORGET_REQUESTED


def _confirm_and_start(campaign: Campaign, request_id: str, deps: OutcomeStores) -> None:
    request = deps.requests.get(request_id)
    if request.status is RequestStatus.AWAITING_CONFIRMATION:
        operator = campaign.started_by
        advance(
            deps,
            request,
            RequestStatus.CONFIRMED,
            operator,
            updates={"confirmed_by": operator, "confirmed_at": utc_now()},
            details={
                "confirmedBy": operator,
                "confirmedAs": "CAMPAIGN",
                "campaignId": campaign.campaign_id,
            },
        )
    # Confirmed before its execution starts: the workflow's confirmation step passes at once.
    deps.workflow.start(request_id)
    logger.info("campaign forget submitted", extra={"requestId": request_id})


def _exists(request_id: str, deps: RequestStores) -> bool:
    try:
        deps.requests.get(request_id)
    except RequestNotFoundError:
        return False
    return True


def _token(campaign: Campaign, customer_id: str, deps: EnrolStores) -> tuple[str, str]:
    secret = deps.hasher.secret(TOKEN_PURPOSE, f"{campaign.campaign_id}/{customer_id}")
    return campaign_token(secret, customer_id)


def _confirmation_request(campaign: Campaign, holder: Enrolment, token: str) -> dict[str, Any]:
    return confirmation_requested(
        holder.customer_id,
        campaign.topic,
        campaign.channel,
        token,
        campaign.deadline,
        campaign_id=campaign.campaign_id,
    )
