"""Starting, resuming and failing a re-permission campaign, and the one way its state changes:
with its audit entry on the chain, in one unit of work. The campaign's workflow steps
(functions/campaigns/steps.py) do the rest."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from functions.campaigns.repository import CampaignRepository
from functions.campaigns.rules import (
    CAMPAIGN_RECORD_TYPE,
    Campaign,
    CampaignRequest,
    CampaignStatus,
)
from functions.campaigns.workflow import CampaignStarter
from functions.requests.lifecycle import WORKFLOW_ACTOR
from functions.shared.audit_entries import SUCCEEDED, audit_entry
from functions.shared.clock import utc_now
from functions.shared.errors import ConflictError
from functions.shared.observability import logger
from functions.shared.unit_of_work import UnitOfWork

# A campaign's audit entries name no customer: their subject is the campaign.
CAMPAIGN_SUBJECT = "campaign:"


class CampaignStores(Protocol):
    campaigns: CampaignRepository

    def work(self) -> UnitOfWork: ...


def change_campaign(
    deps: CampaignStores,
    campaign_id: str,
    event_type: str,
    actor: str,
    details: Mapping[str, Any],
    *,
    create: Campaign | None = None,
    changes: Mapping[str, Any] | None = None,
    expected: Mapping[str, Any] | None = None,
    failed: bool = False,
    occurrence: str | None = None,
) -> bool:
    """The campaign's state change (`create` it, or set `changes` where its fields are as
    `expected`) with its audit entry. False when it was made already (a retry) or the campaign
    has moved on."""
    work = deps.work()
    if create is not None:
        work.add(deps.campaigns.create(create))
    else:
        work.add(deps.campaigns.change(campaign_id, changes or {}, expected or {}))
    work.record(
        audit_entry(
            campaign_id,
            CAMPAIGN_RECORD_TYPE,
            event_type,
            actor=actor,
            subject_hash=f"{CAMPAIGN_SUBJECT}{campaign_id}",
            at=utc_now(),
            details=details,
            outcome="FAILED" if failed else SUCCEEDED,
            distinct_subject=True,
            occurrence=occurrence,
        )
    )
    try:
        work.commit()
    except ConflictError:
        return False
    return True


def start_campaign(
    request: CampaignRequest,
    idempotency_key: str | None,
    operator: str,
    deps: CampaignStores,
    workflow: CampaignStarter,
) -> tuple[Campaign, bool]:
    """Record the campaign (audited CAMPAIGN_STARTED) and start its workflow. The same campaign
    asked for again (same topic, channel, deadline, outcome and Idempotency-Key) answers the
    one recorded, and is started only if the first attempt never got that far."""
    workflow.require()
    campaign_id = request.campaign_id(idempotency_key)
    campaign = Campaign(
        campaign_id=campaign_id,
        topic=request.topic,
        channel=request.channel,
        deadline=request.deadline,
        outcome=request.outcome,
        started_by=operator,
        started_at=utc_now(),
        page_size=request.page_size,
    )
    created = change_campaign(
        deps,
        campaign_id,
        "CAMPAIGN_STARTED",
        operator,
        {
            "topic": request.topic,
            "channel": request.channel,
            "deadline": request.deadline,
            "outcome": request.outcome.value,
        },
        create=campaign,
    )
    stored = deps.campaigns.get(campaign_id)
    if stored.status is CampaignStatus.RUNNING and stored.executions == 1:
        _start(stored, 1, deps, workflow)
    logger.info("campaign started", extra={"campaignId": campaign_id, "newCampaign": created})
    return deps.campaigns.get(campaign_id), created


def resume_campaign(
    campaign_id: str, operator: str, deps: CampaignStores, workflow: CampaignStarter
) -> Campaign:
    """A FAILED campaign continues from its stored phase and cursors in a new execution: pages
    already recorded are not done again, and each customer's outcome is applied once."""
    workflow.require()
    campaign = deps.campaigns.get(campaign_id)
    if campaign.status is not CampaignStatus.FAILED:
        raise ConflictError(
            f"the campaign is {campaign.status.value}; only a FAILED campaign can be resumed"
        )
    attempt = campaign.executions + 1
    resumed = change_campaign(
        deps,
        campaign_id,
        "CAMPAIGN_RESUMED",
        operator,
        {"execution": attempt, "phase": campaign.phase.value},
        changes={"status": CampaignStatus.RUNNING.value, "executions": attempt, "lastError": None},
        expected={"status": CampaignStatus.FAILED.value, "executions": campaign.executions},
        occurrence=str(attempt),
    )
    if not resumed:
        raise ConflictError("the campaign was resumed by someone else meanwhile")
    _start(deps.campaigns.get(campaign_id), attempt, deps, workflow)
    return deps.campaigns.get(campaign_id)


def _start(
    campaign: Campaign, attempt: int, deps: CampaignStores, workflow: CampaignStarter
) -> None:
    try:
        workflow.start(campaign.campaign_id, attempt)
    except Exception:
        logger.exception(
            "campaign workflow did not start", extra={"campaignId": campaign.campaign_id}
        )
        fail_campaign(campaign.campaign_id, "WorkflowNotStarted", deps)
        raise


def fail_campaign(campaign_id: str, error: str, deps: CampaignStores) -> None:
    """RUNNING -> FAILED, audited with the error's name only (a cause may quote data)."""
    campaign = deps.campaigns.get(campaign_id)
    change_campaign(
        deps,
        campaign_id,
        "CAMPAIGN_FAILED",
        WORKFLOW_ACTOR,
        {"error": error, "phase": campaign.phase.value},
        changes={"status": CampaignStatus.FAILED.value, "lastError": error},
        expected={"status": CampaignStatus.RUNNING.value},
        failed=True,
        occurrence=str(campaign.executions),
    )
