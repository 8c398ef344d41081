"""Starting and resuming a re-permission campaign (the API's side of it). The campaign's own
workflow (functions/repermission) does the rest; every state change is audited."""

from __future__ import annotations

from functions.shared.campaigns import Campaign, CampaignRequest, CampaignStatus
from functions.shared.domain import utc_now
from functions.shared.errors import ConflictError
from functions.shared.observability import logger
from functions.shared.repositories.campaigns import campaign_fields
from functions.shared.repositories.workflow import CampaignWorkflow
from functions.shared.wiring import Dependencies


def start_campaign(
    request: CampaignRequest,
    idempotency_key: str | None,
    operator: str,
    deps: Dependencies,
    workflow: CampaignWorkflow,
) -> tuple[Campaign, bool]:
    """Record the campaign (audited CAMPAIGN_STARTED) and start its workflow. The same campaign
    asked for again (same topic, channel, deadline, outcome and Idempotency-Key) answers the
    one recorded, and is started only if the first attempt never got that far."""
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
    created = deps.repos.transitions.change_campaign(
        campaign_id,
        "CAMPAIGN_STARTED",
        operator,
        {
            "topic": request.topic,
            "channel": request.channel,
            "deadline": request.deadline,
            "outcome": request.outcome.value,
        },
        create=campaign_fields(campaign),
    )
    stored = deps.repos.campaigns.get(campaign_id)
    if stored.status is CampaignStatus.RUNNING and stored.executions == 1:
        _start(stored, 1, deps, workflow)
    logger.info("campaign started", extra={"campaignId": campaign_id, "newCampaign": created})
    return deps.repos.campaigns.get(campaign_id), created


def resume_campaign(
    campaign_id: str, operator: str, deps: Dependencies, workflow: CampaignWorkflow
) -> Campaign:
    """A FAILED campaign continues from its stored phase and cursors in a new execution: pages
    already recorded are not done again, and each customer's outcome is applied once."""
    campaign = deps.repos.campaigns.get(campaign_id)
    if campaign.status is not CampaignStatus.FAILED:
        raise ConflictError(
            f"the campaign is {campaign.status.value}; only a FAILED campaign can be resumed"
        )
    attempt = campaign.executions + 1
    resumed = deps.repos.transitions.change_campaign(
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
    _start(deps.repos.campaigns.get(campaign_id), attempt, deps, workflow)
    return deps.repos.campaigns.get(campaign_id)


def _start(
    campaign: Campaign, attempt: int, deps: Dependencies, workflow: CampaignWorkflow
) -> None:
    try:
        workflow.start(campaign.campaign_id, attempt)
    except Exception:
        logger.exception(
            "campaign workflow did not start", extra={"campaignId": campaign.campaign_id}
        )
        fail_campaign(campaign.campaign_id, "WorkflowNotStarted", deps)
        raise


def fail_campaign(campaign_id: str, error: str, deps: Dependencies) -> None:
    """RUNNING -> FAILED, audited with the error's name only (a cause may quote data)."""
    campaign = deps.repos.campaigns.get(campaign_id)
    deps.repos.transitions.change_campaign(
        campaign_id,
        "CAMPAIGN_FAILED",
        "workflow",
        {"error": error, "phase": campaign.phase.value},
        changes={"status": CampaignStatus.FAILED.value, "lastError": error},
        expected={"status": CampaignStatus.RUNNING.value},
        failed=True,
        occurrence=str(campaign.executions),
    )
