"""Consents per topic and channel, with double opt-in. The confirmation is the customer's act, on
their public route (functions/api/routes/public.py): no staff route confirms."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.dependencies import api_dependencies
from functions.api.operations import current_caller, operation
from functions.api.routes.requests import CustomerId
from functions.api.schemas import ConsentAnswer, ConsentBody, answer
from functions.consents.rules import validate_choice
from functions.consents.service import record_consent
from functions.shared.caller import Group

router = APIGatewayRouter()
Topic = Annotated[str, Path(min_length=1, max_length=63)]


@router.put(
    "/customers/<customerId>/consents/<topic>",
    **operation(
        Group.AGENT,
        summary="Record a consent or an opt-out for a topic (a grant may need double opt-in)",
        answer=ConsentAnswer,
        errors=(404, 409),
    ),
)
def put_consent(
    customer_id: CustomerId, topic: Topic, body: Annotated[ConsentBody, Body()]
) -> Response[Any]:
    choice = validate_choice(
        customer_id, topic, body.channel, body.granted, body.source, body.brand
    )
    deps = api_dependencies()
    username = current_caller(router).username
    outcome = record_consent(choice, username, deps, deps.consent_confirmation_seconds)
    return answer(ConsentAnswer.of(outcome))
