"""The customer's routes (API.md, "Public routes"): called by the customer (a page of the
preference centre the confirmation e-mail links to), never with a staff token. Their operations
declare no groups, so the OpenAPI document gives them no security: API Gateway serves them without
the Cognito authorizer and throttles them on their own (infra/cdk/api.py), and the local gateway
lets them through without a dev token (infra/local/gateway.py). Each route's credential is what
the customer was sent, in the body: never in the path or query, which access logs, browser
history and referrers keep."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.dependencies import api_dependencies
from functions.api.operations import operation
from functions.api.schemas import ConfirmConsentBody, ConsentAnswer, answer
from functions.consents.service import confirm_consent
from functions.shared.errors import ForbiddenError

router = APIGatewayRouter()


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
