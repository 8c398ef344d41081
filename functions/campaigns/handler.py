"""The re-permission campaign's Lambda steps (infra/statemachine/repermission_campaign.asl.json):
Enrol, ApplyBatch (the Map's iteration) and Progress (begin, next page, record page, complete,
fail). Thin: the event in, one service."""

from __future__ import annotations

from typing import Any

from functions.campaigns import steps
from functions.campaigns.dependencies import CampaignBase, EnrolDependencies, OutcomeDependencies
from functions.campaigns.events import ApplyBatchEvent, CampaignEvent, ProgressEvent
from functions.shared.settings import CampaignApplySettings, CampaignSettings, TableSettings
from functions.shared.wiring import lambda_function


@lambda_function(
    CampaignEvent, CampaignSettings, EnrolDependencies.of, correlation_id_path="campaignId"
)
def enrol(event: CampaignEvent, deps: EnrolDependencies) -> dict[str, Any]:
    return steps.enrol_page(event.campaign_id, deps)


@lambda_function(
    ApplyBatchEvent, CampaignApplySettings, OutcomeDependencies.of, correlation_id_path="campaignId"
)
def apply_batch(event: ApplyBatchEvent, deps: OutcomeDependencies) -> dict[str, Any]:
    return steps.apply_batch(event.campaign_id, event.customers, deps)


@lambda_function(ProgressEvent, TableSettings, CampaignBase.of, correlation_id_path="campaignId")
def progress(event: ProgressEvent, deps: CampaignBase) -> dict[str, Any]:
    if event.action == "begin":
        return steps.begin(event.campaign_id, deps)
    if event.action == "next_page":
        return steps.next_page(event.campaign_id, deps)
    if event.action == "record_page":
        customer_ids = [c["customerId"] for batch in event.batches for c in batch]
        return steps.record_page(
            event.campaign_id,
            event.page,
            event.cursor,
            [a.get("tally", {}) for a in event.applied],
            customer_ids,
            deps,
        )
    if event.action == "complete":
        return steps.complete(event.campaign_id, deps)
    return steps.fail(event.campaign_id, event.error, deps)
