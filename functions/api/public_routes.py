"""The customer-facing routes (API.md, "Public routes"): called by the customer (a page of the
preference centre the confirmation e-mail links to), never with a staff token. Each route's
credential is what the customer was sent, in the body (never in the path or query: those are in
access logs, browser history and referrers). API Gateway serves exactly the routes of this module
without the Cognito authorizer and throttles them (infra/cdk/api.py); the local gateway lets
exactly these through without a dev token (infra/local/gateway.py); both find them by this
module's name (infra/cdk/routes.py, Route.public)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.parser import parse

from functions.api.dependencies import api_dependencies
from functions.api.schemas import ConfirmConsentBody, consent_outcome
from functions.consents.service import confirm_consent
from functions.shared.errors import ForbiddenError


def register(app: APIGatewayRestResolver, body: Callable[[], Any]) -> None:
    def refuse_staff_sessions() -> None:
        # The token is this route's only credential. A request that also presents a session (a
        # staff tool attaches its bearer token to every call) is not the customer acting: it is
        # refused, so no staff integration can confirm on a customer's behalf.
        headers = app.current_event.headers or {}
        if any(name.lower() == "authorization" for name in headers):
            raise ForbiddenError(
                "this route is the customer's: send the confirmation token alone, without an "
                "Authorization header"
            )

    @app.post("/public/consents/confirm")
    def confirm_consent_public() -> dict[str, Any]:
        refuse_staff_sessions()
        parsed = parse(event=body(), model=ConfirmConsentBody)
        return consent_outcome(confirm_consent(parsed.token, api_dependencies()))
