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
from functions.api.schemas import (
    ConsentAnswer,
    ConsentBody,
    PreferenceLinkAccepted,
    UnsubscribeLinkAnswer,
    UnsubscribeLinkBody,
    answer,
)
from functions.consents.preference_links import LinkPurpose
from functions.consents.preferences import (
    ONE_CLICK_POST,
    issue_preference_link,
    send_preference_link,
    unsubscribe_header,
)
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


@router.post(
    "/customers/<customerId>/preference-link",
    **operation(
        Group.AGENT,
        summary="Send the customer a link to the preference centre",
        description=(
            "The link (valid 24 hours) goes to the customer alone, as a PreferenceLinkRequested "
            "message; the answer has no token."
        ),
        answer=PreferenceLinkAccepted,
        status=202,
        errors=(404,),
    ),
)
def send_preference_link_route(customer_id: CustomerId) -> Response[Any]:
    send_preference_link(customer_id, api_dependencies())
    return answer(PreferenceLinkAccepted(message="the link is on its way to the customer"), 202)


@router.post(
    "/customers/<customerId>/unsubscribe-link",
    **operation(
        Group.AGENT,
        Group.EXPORT_JOB,
        summary="The List-Unsubscribe headers (RFC 8058) for a marketing e-mail to the customer",
        description=(
            "One-click unsubscribe from `topic` (and `brand`) by e-mail, for the mailing system "
            "to put on the message: `List-Unsubscribe` and `List-Unsubscribe-Post`, as values."
        ),
        answer=UnsubscribeLinkAnswer,
        errors=(404,),
    ),
)
def unsubscribe_link_route(
    customer_id: CustomerId, body: Annotated[UnsubscribeLinkBody, Body()]
) -> Response[Any]:
    deps = api_dependencies()
    issued = issue_preference_link(
        customer_id, LinkPurpose.UNSUBSCRIBE, deps, body.topic, body.brand
    )
    base = deps.public_api_url or _own_address()
    return answer(
        UnsubscribeLinkAnswer(
            list_unsubscribe=unsubscribe_header(base, issued.token),
            list_unsubscribe_post=ONE_CLICK_POST,
            expires_at=issued.claims.expires_at,
        )
    )


def _own_address() -> str:
    """The address this request came in at: API Gateway's domain and stage, or (the local
    stack, which has neither) the Host header over plain HTTP."""
    event = router.current_event
    context = event.raw_event.get("requestContext") or {}
    if context.get("domainName"):
        return f"https://{context['domainName']}/{context.get('stage', '')}".rstrip("/")
    host = next((v for k, v in (event.headers or {}).items() if k.lower() == "host"), "")
    return f"http://{host}"
