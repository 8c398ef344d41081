"""Re-permission campaigns: ask everyone to confirm a topic by a deadline."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.dependencies import api_dependencies
from functions.api.operations import current_caller, idempotency_key, operation
from functions.api.schemas import CampaignAnswer, StartCampaignBody, answer
from functions.campaigns.rules import validate_campaign
from functions.campaigns.service import resume_campaign, start_campaign
from functions.shared import clock
from functions.shared.caller import Group

router = APIGatewayRouter()
CampaignId = Annotated[str, Path(alias="campaignId", min_length=1, max_length=128)]


@router.post(
    "/repermission-campaigns",
    **operation(
        Group.COMPLIANCE,
        summary="Start a re-permission campaign",
        answer=CampaignAnswer,
        status=202,
        errors=(409, 503),
        description="The same Idempotency-Key answers the campaign it started.",
    ),
)
def start_campaign_route(body: Annotated[StartCampaignBody, Body()]) -> Response[Any]:
    request = validate_campaign(
        body.topic, body.channel, body.deadline, body.outcome, body.page_size, clock.now()
    )
    deps = api_dependencies()
    key = idempotency_key(router)
    username = current_caller(router).username
    campaign, _ = start_campaign(request, key, username, deps, deps.campaign_workflow)
    return answer(CampaignAnswer.of(campaign), 202)


@router.get(
    "/repermission-campaigns/<campaignId>",
    **operation(
        Group.COMPLIANCE,
        summary="A campaign's status and progress",
        answer=CampaignAnswer,
        errors=(404,),
    ),
)
def get_campaign_route(campaign_id: CampaignId) -> Response[Any]:
    return answer(CampaignAnswer.of(api_dependencies().campaigns.get(campaign_id)))


@router.post(
    "/repermission-campaigns/<campaignId>/resume",
    **operation(
        Group.COMPLIANCE,
        summary="Continue a FAILED campaign from where it stopped",
        answer=CampaignAnswer,
        status=202,
        errors=(404, 409, 503),
    ),
)
def resume_campaign_route(campaign_id: CampaignId) -> Response[Any]:
    deps = api_dependencies()
    username = current_caller(router).username
    campaign = resume_campaign(campaign_id, username, deps, deps.campaign_workflow)
    return answer(CampaignAnswer.of(campaign), 202)
