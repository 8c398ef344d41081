"""The ConsentConfirmationRequested message: what the customer is sent to confirm a consent,
by a double opt-in (PUT .../consents/{topic}) or a re-permission campaign's enrolment. One
definition for both, so the messaging system reads one shape."""

from __future__ import annotations

from typing import Any

from functions.shared.messages import (
    CONSENT_CONFIRMATION_REQUESTED,
    PREFERENCE_LINK_REQUESTED,
    SIGN_UP_CONFIRMATION_REQUESTED,
)

__all__ = [
    "CONSENT_CONFIRMATION_REQUESTED",
    "PREFERENCE_LINK_REQUESTED",
    "SIGN_UP_CONFIRMATION_REQUESTED",
    "confirmation_requested",
    "preference_link_requested",
    "sign_up_requested",
]


def confirmation_requested(
    customer_id: str,
    topic: str,
    channel: str,
    token: str,
    expires_at: str,
    *,
    brand: str | None = None,
    change_id: str | None = None,
    campaign_id: str | None = None,
) -> dict[str, Any]:
    """The token goes to the customer only: it is the credential of POST
    /public/consents/confirm, so it is never in an API answer, a log line or an audit entry.
    Consumers de-duplicate on changeId (a double opt-in; a repeated opt-in is a new change with
    a new token) or on campaignId + customerId (a campaign's retried page sends the same token)."""
    return {
        "customerId": customer_id,
        "topic": topic,
        "channel": channel,
        **({"brand": brand} if brand else {}),
        **({"changeId": change_id} if change_id else {}),
        **({"campaignId": campaign_id} if campaign_id else {}),
        "token": token,
        "expiresAt": expires_at,
    }


def preference_link_requested(customer_id: str, token: str, expires_at: str) -> dict[str, Any]:
    """A magic link to the preference centre (POST /public/preferences/link). The token is the
    credential of the /public/preferences routes: it goes to the customer only, like a
    confirmation token. No address: the messaging system looks it up by customer id."""
    return {"customerId": customer_id, "token": token, "expiresAt": expires_at}


def sign_up_requested(
    email: str, topic: str, channel: str, brand: str | None, token: str, expires_at: str
) -> dict[str, Any]:
    """A sign-up's confirmation (POST /public/signup), to the address itself: the only message
    that carries an address, because its recipient is no customer yet. The token (the
    credential of POST /public/signup/confirm) seals the same address for the confirmation."""
    return {
        "email": email,
        "topic": topic,
        "channel": channel,
        **({"brand": brand} if brand else {}),
        "token": token,
        "expiresAt": expires_at,
    }
