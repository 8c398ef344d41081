"""The customer's routes (API.md, "Public routes"): called by the customer (a page of the
preference centre the confirmation e-mail links to), never with a staff token. Their operations
declare no groups, so the OpenAPI document gives them no security: API Gateway serves them without
the Cognito authorizer and throttles them on their own (infra/cdk/api.py), and the local gateway
lets them through without a dev token (infra/local/gateway.py). The customer's own routes say so
(`operation(customer=True)`, `x-customer-credential` in the document), and a request to one that
carries an Authorization header is refused before the route runs (operations.check_access): a
staff tool never acts for the customer there. Each route's credential is what
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
    _set,
    answer,
)
from functions.api.sign_up_schemas import SignUpAnswer, SignUpBody, SignUpTokenBody, TopicsAnswer
from functions.consents.preferences import (
    Preferences,
    change_preference,
    honour_gpc,
    read_preferences,
    request_preference_link,
    unsubscribe,
    unsubscribe_everything,
)
from functions.consents.service import ConsentOutcome, confirm_consent
from functions.consents.signup import confirm_sign_up, request_sign_up
from functions.shared.errors import ValidationError
from functions.shared.steady import no_sooner_than

router = APIGatewayRouter()


def _honour_gpc(token: str) -> ConsentOutcome | None:
    # Sec-GPC: 1 exactly (the GPC specification's only value); anything else is no signal.
    # Called after the route's own act, so only a valid link's holder is opted out.
    headers = router.current_event.headers or {}
    if any(k.lower() == "sec-gpc" and v.strip() == "1" for k, v in headers.items()):
        return honour_gpc(token, api_dependencies())
    return None


def _preferences(found: Preferences, gpc_honoured: bool) -> Response[Any]:
    items = [PreferenceItem.model_validate(s) for s in found.states]
    return answer(
        PreferencesAnswer(preferences=items, expires_at=found.expires_at, gpc_honoured=gpc_honoured)
    )


@router.post(
    "/public/consents/confirm",
    **operation(
        customer=True,
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
    return answer(ConsentAnswer.of(confirm_consent(body.token, api_dependencies())))


LINK_ACCEPTED = "if the address is a customer's, a link to their preferences is on its way"


@router.post(
    "/public/preferences/link",
    **operation(
        customer=True,
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
    deps = api_dependencies()
    with no_sooner_than(deps.public_answer_floor_seconds):
        request_preference_link(body.email, deps)
    return answer(PreferenceLinkAccepted(message=LINK_ACCEPTED), 202)


@router.post(
    "/public/preferences",
    **operation(
        customer=True,
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
    deps = api_dependencies()
    found = read_preferences(body.token, deps)  # a refused token honours no signal
    signal = _honour_gpc(body.token)
    if signal is not None and signal.changed:
        found = read_preferences(body.token, deps)  # the answer shows the opt-out it made
    return _preferences(found, signal is not None)


@router.post(
    "/public/preferences/change",
    **operation(
        customer=True,
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
    outcome = change_preference(
        body.token, body.topic, body.channel, body.brand, body.granted, api_dependencies()
    )
    _honour_gpc(body.token)
    return answer(PreferenceChangeAnswer.of(outcome))


@router.post(
    "/public/preferences/unsubscribe-all",
    **operation(
        customer=True,
        summary="The customer unsubscribes from everything with their link's token",
        description=(
            "Every topic of every brand the preference centre offers, on every channel, is "
            "revoked in one transaction (history, OPTED_OUT:<topic> entries, one audit entry "
            "`CONSENT_REVOKED_ALL` listing the changes); repeated, it changes nothing. Answers "
            "the preferences as they now are. A tampered, expired or other purpose's token: 404."
        ),
        answer=PreferencesAnswer,
        errors=(403, 404, 409),
    ),
)
def unsubscribe_everything_public(body: Annotated[PreferenceTokenBody, Body()]) -> Response[Any]:
    found = unsubscribe_everything(body.token, api_dependencies())
    return _preferences(found, _honour_gpc(body.token) is not None)


@router.get(
    "/public/topics",
    **operation(
        summary="What the preference centre offers: topics, and topics per brand",
        answer=TopicsAnswer,
    ),
)
def offered_topics() -> Response[Any]:
    offered = api_dependencies().preference_topics
    return answer(
        TopicsAnswer(
            topics=list(offered.topics), brands={b: list(t) for b, t in offered.brands.items()}
        )
    )


SIGN_UP_ACCEPTED = "check your inbox: the e-mail we sent asks you to confirm"


@router.post(
    "/public/signup",
    **operation(
        customer=True,
        summary="Sign up to a topic with an e-mail address alone (a lite account)",
        description=(
            "Always 202 with the same body, whether or not the address is a customer's, and no "
            "sooner than PUBLIC_ANSWER_FLOOR_MS: the answer reveals nothing. A customer's "
            "address gets the usual double opt-in; any other a SignUpConfirmationRequested "
            "message whose token creates the customer when confirmed. Nothing is stored before "
            "then. A topic the preference centre does not offer, or no e-mail address: 400."
        ),
        answer=PreferenceLinkAccepted,
        status=202,
        errors=(403,),
    ),
)
def sign_up_public(body: Annotated[SignUpBody, Body()]) -> Response[Any]:
    deps = api_dependencies()
    with no_sooner_than(deps.public_answer_floor_seconds):
        request_sign_up(body.email, body.topic, body.brand, deps)
    return answer(PreferenceLinkAccepted(message=SIGN_UP_ACCEPTED), 202)


@router.post(
    "/public/signup/confirm",
    **operation(
        customer=True,
        summary="The address's owner confirms a sign-up: the lite customer is created",
        description=(
            "A new customer (id `L-…`) whose profile holds the address, with the consent "
            "GRANTED (source double-opt-in), audited as `CONSENT_SIGNED_UP`; a forgotten "
            "person signing up again gets a new id, the old tombstone stays. Confirmed already "
            "(this token or another for the address): 409. Tampered or expired: 404. Nothing "
            "written on a refusal."
        ),
        answer=SignUpAnswer,
        errors=(403, 404, 409),
    ),
)
def confirm_sign_up_public(body: Annotated[SignUpTokenBody, Body()]) -> Response[Any]:
    outcome = confirm_sign_up(body.token, api_dependencies())
    return answer(SignUpAnswer(**_set(**vars(outcome))))


ONE_CLICK = {"List-Unsubscribe": ["One-Click"]}
UnsubscribeToken = Annotated[str, Query(min_length=32, max_length=512)]


@router.post(
    "/public/unsubscribe",
    **operation(
        customer=True,
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
    refuse_unknown_query(router, unsubscribe_public)
    refuse_repeated_query(router, unsubscribe_public, set())
    form = parse_qs(router.current_event.decoded_body or "", keep_blank_values=True)
    if form != ONE_CLICK:
        raise ValidationError("the body must be List-Unsubscribe=One-Click (RFC 8058)")
    unsubscribe(token, api_dependencies())
    _honour_gpc(token)
    return answer(UnsubscribeAnswer(unsubscribed=True))


# What a GET of the List-Unsubscribe URL shows: the page, with the token where only the browser
# sees it (the fragment). A mail scanner following the link changes nothing.
UNSUBSCRIBE_PAGE = "/preferences/unsubscribe.html"
PageToken = Annotated[str, Query(min_length=32, max_length=512, pattern=r"^[A-Za-z0-9._-]+$")]


@router.get(
    "/public/unsubscribe",
    **operation(
        summary="A GET of the List-Unsubscribe URL: the unsubscribe page, never the act",
        description=(
            "303 to the page, the token in its fragment; the page's button makes the one-click "
            "POST. Mail scanners follow links: a GET changes nothing (RFC 8058)."
        ),
        status=303,
    ),
)
def unsubscribe_page(token: PageToken) -> Response[Any]:
    refuse_unknown_query(router, unsubscribe_page)
    refuse_repeated_query(router, unsubscribe_page, set())
    return Response(
        status_code=303,
        headers={"Location": f"{UNSUBSCRIBE_PAGE}#token={token}", "Cache-Control": "no-store"},
    )


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
