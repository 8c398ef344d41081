"""The customer's routes (API.md, "Public routes"): called by the customer (a page of the
preference centre the confirmation e-mail links to), never with a staff token. Their operations
declare no groups, so the OpenAPI document gives them no security: API Gateway serves them without
the Cognito authorizer and throttles them on their own (infra/cdk/api.py), and the local gateway
lets them through without a dev token (infra/local/gateway.py). Each route's credential is what
the customer was sent, in the body: never in the path or query, which access logs, browser
history and referrers keep. One exception, POST /public/unsubscribe: RFC 8058's one-click
unsubscribe is a POST to the List-Unsubscribe URL itself, whose body is fixed
(`List-Unsubscribe=One-Click`), so the token can only travel in that URL's query."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.dependencies import api_dependencies
from functions.api.operations import operation, refuse_repeated_query, refuse_unknown_query
from functions.api.schemas import (
    ConfirmConsentBody,
    ConsentAnswer,
    GpcAnswer,
    PreferenceChangeAnswer,
    PreferenceChangeBody,
    PreferenceItem,
    PreferenceLinkAccepted,
    PreferenceLinkBody,
    PreferencesAnswer,
    PreferenceTokenBody,
    UnsubscribeAnswer,
    answer,
)
from functions.consents.preferences import (
    change_preference,
    honour_gpc,
    read_preferences,
    request_preference_link,
    unsubscribe,
)
from functions.consents.service import confirm_consent
from functions.shared.errors import ForbiddenError, ValidationError

router = APIGatewayRouter()


def _honour_gpc(token: str) -> None:
    # Sec-GPC: 1 exactly (the GPC specification's only value); anything else is no signal.
    # Called after the route's own act, so only a valid link's holder is opted out.
    headers = router.current_event.headers or {}
    if any(k.lower() == "sec-gpc" and v.strip() == "1" for k, v in headers.items()):
        honour_gpc(token, api_dependencies())


def _refuse_staff_sessions() -> None:
    # The token is this route's only credential. A request that also presents a session (a staff
    # tool attaches its bearer token to every call) is not the customer acting: it is refused,
    # so no staff integration can confirm on a customer's behalf.
    headers = router.current_event.headers or {}
    if any(name.lower() == "authorization" for name in headers):
        raise ForbiddenError(
            "this route is the customer's: send the confirmation token alone, without an "
            "Authorization header"
        )


@router.post(
    "/public/consents/confirm",
    **operation(
        summary="The customer confirms a double opt-in with the token they were sent",
        description=(
            "The consent becomes GRANTED (source double-opt-in), audited as the customer's act "
            "(actor `customer`). A request carrying an Authorization header is refused (403). "
            "Unknown or tampered token: 404; used, expired or superseded: 409; nothing written."
        ),
        answer=ConsentAnswer,
        errors=(403, 404, 409),
    ),
)
def confirm_consent_public(body: Annotated[ConfirmConsentBody, Body()]) -> Response[Any]:
    _refuse_staff_sessions()
    return answer(ConsentAnswer.of(confirm_consent(body.token, api_dependencies())))


LINK_ACCEPTED = "if the address is a customer's, a link to their preferences is on its way"


@router.post(
    "/public/preferences/link",
    **operation(
        summary="Ask for a link to the preference centre, sent to the customer",
        description=(
            "Always 202 with the same body, whether or not the address is a customer's: the "
            "answer reveals nothing. A customer's link (valid 24 hours) goes out as a "
            "PreferenceLinkRequested message. The address is never logged or stored."
        ),
        answer=PreferenceLinkAccepted,
        status=202,
        errors=(403,),
    ),
)
def request_preference_link_public(body: Annotated[PreferenceLinkBody, Body()]) -> Response[Any]:
    _refuse_staff_sessions()
    request_preference_link(body.email, api_dependencies())
    return answer(PreferenceLinkAccepted(message=LINK_ACCEPTED), 202)


@router.post(
    "/public/preferences",
    **operation(
        summary="The customer reads their subscriptions with their link's token",
        description=(
            "Every topic the preference centre offers (PREFERENCE_TOPICS), per channel, with "
            "its state (GRANTED, PENDING, REVOKED, or none) and the date and source of its last "
            "change. A tampered, expired or other purpose's token: 404."
        ),
        answer=PreferencesAnswer,
        errors=(403, 404),
    ),
)
def read_preferences_public(body: Annotated[PreferenceTokenBody, Body()]) -> Response[Any]:
    _refuse_staff_sessions()
    deps = api_dependencies()
    found = read_preferences(body.token, deps)
    _honour_gpc(body.token)
    items = [PreferenceItem.model_validate(s) for s in found.states]
    return answer(PreferencesAnswer(preferences=items, expires_at=found.expires_at))


@router.post(
    "/public/preferences/change",
    **operation(
        summary="The customer changes one subscription with their link's token",
        description=(
            "Recorded as a staff member's change is (source `preference-centre`, actor "
            "`customer:<customer hash>`): an opt-in is PENDING until the customer confirms it "
            "(double opt-in), an opt-out is immediate. A tampered, expired or other purpose's "
            "token: 404; a topic the preference centre does not offer: 400."
        ),
        answer=PreferenceChangeAnswer,
        errors=(403, 404, 409),
    ),
)
def change_preference_public(body: Annotated[PreferenceChangeBody, Body()]) -> Response[Any]:
    _refuse_staff_sessions()
    outcome = change_preference(
        body.token, body.topic, body.channel, body.brand, body.granted, api_dependencies()
    )
    _honour_gpc(body.token)
    return answer(PreferenceChangeAnswer.of(outcome))


ONE_CLICK = {"List-Unsubscribe": ["One-Click"]}
UnsubscribeToken = Annotated[str, Query(min_length=32, max_length=512)]


@router.post(
    "/public/unsubscribe",
    **operation(
        summary="RFC 8058 one-click unsubscribe: the mail client POSTs to List-Unsubscribe",
        description=(
            "The body is `List-Unsubscribe=One-Click`, form-encoded (the only route that takes "
            "application/x-www-form-urlencoded); the token is in the URL's query, as RFC 8058 "
            "requires. Opts the customer out of the link's topic (and brand) by e-mail: 200, "
            "also when repeated (audited once). A tampered, expired or other purpose's token: "
            "404."
        ),
        answer=UnsubscribeAnswer,
        errors=(403, 404, 409, 415),
    ),
)
def unsubscribe_public(token: UnsubscribeToken) -> Response[Any]:
    _refuse_staff_sessions()
    refuse_unknown_query(router, unsubscribe_public)
    refuse_repeated_query(router, unsubscribe_public, set())
    form = parse_qs(router.current_event.decoded_body or "", keep_blank_values=True)
    if form != ONE_CLICK:
        raise ValidationError("the body must be List-Unsubscribe=One-Click (RFC 8058)")
    unsubscribe(token, api_dependencies())
    _honour_gpc(token)
    return answer(UnsubscribeAnswer(unsubscribed=True))


# The GPC specification's well-known resource: the date this site's support last changed.
GPC_SINCE = "2026-12-02"


@router.get(
    "/.well-known/gpc.json",
    **operation(
        summary="Global Privacy Control support (the GPC specification's well-known resource)",
        description=(
            "`gpc: true` when the deployment honours `Sec-GPC: 1` (GPC_TOPIC is set): on a "
            "public request with a valid link it opts the customer out of that topic, source "
            "`gpc`."
        ),
        answer=GpcAnswer,
    ),
)
def gpc_support() -> Response[Any]:
    return answer(GpcAnswer(gpc=bool(api_dependencies().gpc_topic), last_update=GPC_SINCE))
