"""Consents per topic and channel, with double opt-in."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.dependencies import api_dependencies
from functions.api.operations import current_caller, operation
from functions.api.routes.requests import CustomerId
from functions.api.schemas import ConfirmConsentBody, ConsentAnswer, ConsentBody, answer
from functions.consents.rules import validate_choice
from functions.consents.service import confirm_consent, record_consent
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


@router.post(
    "/consents/confirm",
    **operation(
        Group.AGENT,
        summary="Confirm a double opt-in with its token",
        answer=ConsentAnswer,
        errors=(404, 409),
    ),
)
def confirm_consent_route(body: Annotated[ConfirmConsentBody, Body()]) -> Response[Any]:
    outcome = confirm_consent(body.token, current_caller(router).username, api_dependencies())
    return answer(ConsentAnswer.of(outcome))
