"""The HTTP contract's shapes (API.md): request bodies in, JSON out."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from functions.campaigns.rules import DEFAULT_PAGE_SIZE, Campaign
from functions.consents.service import ConsentOutcome
from functions.export.download_links import DownloadLink
from functions.requests.service import PrivacyView, RequestView
from functions.shared.domain import (
    ConsentStatus,
    PrivacyRequest,
    PrivacyStatus,
    RequestStatus,
    RequestType,
)


class SubmitRequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: RequestType
    identity_verified: StrictBool = Field(alias="identityVerified")
    reason: str | None = Field(default=None, max_length=500)
    cascade: StrictBool = False


def request_summary(request: PrivacyRequest) -> dict[str, Any]:
    return {
        "requestId": request.request_id,
        "customerId": request.customer_id,
        "type": request.type.value,
        "status": request.status.value,
        "statusText": request.status_text,
        "confirmBy": request.confirm_by,
    }


def request_detail(view: RequestView) -> dict[str, Any]:
    request = view.request
    result = dict(request.result)
    if request.type is RequestType.EXPORT and request.status is RequestStatus.COMPLETED:
        # Whether a link can be issued, never the link: POST .../download-link issues one.
        result["fileAvailable"] = view.file_until is not None
        if view.file_until:
            result["fileAvailableUntil"] = view.file_until
    body = {
        **request_summary(request),
        "submittedBy": request.submitted_by,
        "identityVerifiedBy": request.identity_verified_by,
        "identityVerifiedAt": request.identity_verified_at,
        "confirmedBy": request.confirmed_by,
        "confirmedAt": request.confirmed_at,
        "createdAt": request.created_at,
        "updatedAt": request.updated_at,
        "completedAt": request.completed_at,
        "reason": request.reason,
        "cascade": True if request.cascade else None,
        "rejectionReason": request.rejection_reason,
        "history": [
            {"status": h.status.value, "at": h.at, "actor": h.actor} for h in request.history
        ],
        "result": result or None,
        "cascadeTo": list(view.cascade_to) if view.cascade_to is not None else None,
        "dueAt": request.due_at,
        "jurisdiction": request.jurisdiction,
    }
    return {key: value for key, value in body.items() if value is not None}


def download_link_body(link: DownloadLink) -> dict[str, Any]:
    return {
        "requestId": link.request_id,
        "linkId": link.link_id,
        "downloadUrl": link.url,
        "expiresAt": link.expires_at,
    }


def customer_privacy_body(view: PrivacyView) -> dict[str, Any]:
    privacy, current_status_text = view.privacy, view.current_status_text
    if privacy.privacy_status is PrivacyStatus.FORGOTTEN:
        # Nothing personal survives a forget, and nothing is answered about it.
        return {
            "customerId": privacy.customer_id,
            "privacyStatus": privacy.privacy_status.value,
            "currentDataPrivacyStatus": current_status_text,
        }
    return {
        "customerId": privacy.customer_id,
        "privacyStatus": privacy.privacy_status.value,
        "currentDataPrivacyStatus": current_status_text,
        "ceasedAt": privacy.ceased_at,
        "consents": [
            {
                "topic": c.topic,
                "channel": c.channel,
                "granted": c.granted,
                "at": c.at,
                "source": c.source,
                "status": c.status,
                **({"brand": c.brand} if c.brand else {}),
            }
            for c in privacy.consents
        ],
        "openRequests": list(privacy.open_requests),
    }


class ConsentBody(BaseModel):
    """PUT /customers/{customerId}/consents/{topic}; channel and source are checked against
    functions/consents/rules.py so that a bad one is a 400 naming the allowed values."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: str = Field(max_length=16)
    granted: StrictBool
    source: str = Field(max_length=32)
    brand: str | None = Field(default=None, max_length=63)


class ConfirmConsentBody(BaseModel):
    """POST /public/consents/confirm: the customer's confirmation token, the route's credential."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token: str = Field(min_length=32, max_length=256)


def consent_outcome(outcome: ConsentOutcome) -> dict[str, Any]:
    choice = outcome.choice
    body: dict[str, Any] = {
        "customerId": choice.customer_id,
        "topic": choice.topic,
        "channel": choice.channel,
        "brand": choice.brand,
        "status": outcome.status.value,
        "granted": outcome.status is ConsentStatus.GRANTED,
        "source": outcome.source,
        "at": outcome.at,
        "changeId": outcome.change_id,
        "changed": outcome.changed,
    }
    if outcome.expires_at:
        # The token went to the customer (ConsentConfirmationRequested); never to the caller.
        body["confirmation"] = {"expiresAt": outcome.expires_at}
    return {key: value for key, value in body.items() if value is not None}


class StartCampaignBody(BaseModel):
    """POST /repermission-campaigns: topic, channel and outcome are checked against
    functions/shared/campaigns.py so that a bad one is a 400 naming the allowed values."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    topic: str = Field(max_length=63)
    channel: str = Field(default="email", max_length=16)
    deadline: str = Field(max_length=40)
    outcome: str = Field(default="REVOKE", max_length=16)
    page_size: int = Field(default=DEFAULT_PAGE_SIZE, alias="pageSize")


def campaign_summary(campaign: Campaign) -> dict[str, Any]:
    body = {
        "campaignId": campaign.campaign_id,
        "topic": campaign.topic,
        "channel": campaign.channel,
        "deadline": campaign.deadline,
        "outcome": campaign.outcome.value,
        "status": campaign.status.value,
        "phase": campaign.phase.value,
        "startedBy": campaign.started_by,
        "startedAt": campaign.started_at,
        "pageSize": campaign.page_size,
        "progress": {
            **campaign.counters,
            "enrolPages": campaign.enrol_pages,
            "outcomePages": campaign.outcome_pages,
        },
        "executions": campaign.executions,
        "completedAt": campaign.completed_at,
        "lastError": campaign.last_error,
        "updatedAt": campaign.updated_at,
    }
    return {key: value for key, value in body.items() if value is not None}
