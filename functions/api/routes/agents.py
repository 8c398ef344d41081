"""The compliance team's registry of authorized agents (DRP 1.0): who may send data rights
requests, with which Ed25519 verify key, and whether their requests are confirmed on receipt.
The DRP routes themselves: routes/drp.py."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.dependencies import api_dependencies
from functions.api.drp_schemas import AgentAnswer, AgentBody, AgentsAnswer, BusinessAnswer
from functions.api.operations import current_caller, operation
from functions.api.schemas import answer
from functions.drp.service import list_agents, register_agent, remove_agent
from functions.shared.caller import Group

router = APIGatewayRouter()
AgentId = Annotated[str, Path(alias="agentId", min_length=1, max_length=64)]


@router.post(
    "/drp/agents",
    **operation(
        Group.COMPLIANCE,
        summary="Register an authorized agent (or replace its key: its old tokens stop working)",
        answer=AgentAnswer,
        status=201,
        description="Audited (DRP_AGENT_REGISTERED). `trusted`: its requests are confirmed on "
        "receipt instead of waiting in the request queue for a staff member.",
    ),
)
def post_agent(body: Annotated[AgentBody, Body()]) -> Response[Any]:
    agent = register_agent(
        body.agent_id, body.verify_key, body.trusted, current_caller(router), api_dependencies()
    )
    return answer(AgentAnswer.of(agent), 201)


@router.get(
    "/drp/agents",
    **operation(Group.COMPLIANCE, summary="The registered authorized agents", answer=AgentsAnswer),
)
def get_agents() -> Response[Any]:
    agents = [AgentAnswer.of(a) for a in list_agents(api_dependencies())]
    return answer(AgentsAnswer(agents=agents))


@router.delete(
    "/drp/agents/<agentId>",
    **operation(
        Group.COMPLIANCE,
        summary="Remove an authorized agent: its tokens stop working at once",
        status=204,
        errors=(404,),
    ),
)
def delete_agent(agent_id: AgentId) -> Response[Any]:
    remove_agent(agent_id, current_caller(router), api_dependencies())
    return Response(204, None, "")


@router.get(
    "/drp/business",
    **operation(
        summary="This business's id in the DRP network (agents sign it as `business-id`)",
        answer=BusinessAnswer,
        errors=(503,),
    ),
)
def get_business() -> Response[Any]:
    business = api_dependencies().drp_config.business()
    return answer(BusinessAnswer(business_id=business))
