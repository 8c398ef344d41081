"""The HTTP contract's shapes: request bodies in, answers out. The OpenAPI document is generated
from these models, and the routes answer through them, so the document cannot drift from what is
sent. Python names are snake_case; the wire is camelCase (API.md)."""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, field_validator
from pydantic.alias_generators import to_camel

from functions.campaigns.rules import DEFAULT_PAGE_SIZE, Campaign
from functions.consents.service import ConsentOutcome
from functions.export.download_links import DownloadLink
from functions.requests.service import PrivacyView, RequestView
from functions.shared.domain import (
    ConsentStatus,
    Extension,
    PrivacyRequest,
    PrivacyStatus,
    RequestStatus,
    RequestType,
)

# --- bodies -------------------------------------------------------------------------------------


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class SubmitRequestBody(Body):
    type: RequestType
    identity_verified: StrictBool = Field(
        alias="identityVerified",
        description="The agent attests that the customer's identity was verified; must be true.",
    )
    reason: str | None = Field(default=None, max_length=500)
    cascade: StrictBool = Field(
        default=False, description="FORGET only: also forget related contacts one level down."
    )


# A free-text reason is kept on the request: bounded, printable, one paragraph or a few.
REASON_CHARS = 1000
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")


class ExtendBody(Body):
    reason: str = Field(
        min_length=1,
        max_length=REASON_CHARS,
        description="Why the deadline is extended (kept on the request, never logged or audited)",
    )
    days: StrictInt | None = Field(
        default=None, ge=1, le=366, description="Fewer days than the regulation's limit"
    )

    @field_validator("reason")
    @classmethod
    def _printable(cls, reason: str) -> str:
        reason = reason.strip()
        if not reason:
            raise ValueError("must not be blank")
        if CONTROL_CHARACTERS.search(reason):
            raise ValueError("must hold printable characters only (line breaks allowed)")
        return reason


class ConsentBody(Body):
    """Channel and source are checked against functions/consents/rules.py, so a bad one is a 400
    naming the allowed values."""

    channel: str = Field(max_length=16)
    granted: StrictBool
    source: str = Field(max_length=32)
    brand: str | None = Field(default=None, max_length=63)


class ConfirmConsentBody(Body):
    """POST /public/consents/confirm: the customer's confirmation token, the route's credential."""

    token: str = Field(
        min_length=32, max_length=256, description="The token the customer was sent, as sent."
    )


class StartCampaignBody(Body):
    """Topic, channel and outcome are checked against functions/campaigns/rules.py, so a bad one
    is a 400 naming the allowed values."""

    topic: str = Field(max_length=63)
    channel: str = Field(default="email", max_length=16)
    deadline: str = Field(max_length=40, description="ISO 8601 date-time with a time zone")
    outcome: str = Field(default="REVOKE", max_length=16)
    page_size: int = Field(default=DEFAULT_PAGE_SIZE, alias="pageSize")


# --- answers ------------------------------------------------------------------------------------


class Answer(BaseModel):
    # from_attributes: an answer whose fields are a domain object's own is read from it.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


def _set(**fields: Any) -> dict[str, Any]:
    """Only the fields that have a value: the others stay unset, so absent from the answer."""
    return {name: value for name, value in fields.items() if value is not None}


def answer(model: BaseModel, status: int = 200) -> Response:
    """A model as the route's JSON answer, in camelCase. A field that was not set is absent; one
    set to None is null (e.g. a verification's `firstBreak`)."""
    body = model.model_dump_json(by_alias=True, exclude_unset=True)
    return Response(status, content_types.APPLICATION_JSON, body)


class RequestSummary(Answer):
    request_id: str
    customer_id: str = Field(description="The customer id, or `pseudo:<hash>` once forgotten.")
    type: RequestType
    status: RequestStatus
    status_text: str
    confirm_by: str | None = None

    @classmethod
    def of(cls, request: PrivacyRequest) -> RequestSummary:
        return cls.model_validate(request)


class ExtensionAnswer(Answer):
    previous_due_at: str
    due_at: str
    extended_by: str
    extended_at: str
    reason: str | None = None

    @classmethod
    def of(cls, extension: Extension | None) -> ExtensionAnswer | None:
        return cls.model_validate(extension) if extension is not None else None


class HistoryItem(Answer):
    status: RequestStatus
    at: str
    actor: str


class RequestDetail(RequestSummary):
    submitted_by: str
    identity_verified_by: str
    identity_verified_at: str
    confirmed_by: str | None = None
    confirmed_at: str | None = None
    created_at: str
    updated_at: str
    completed_at: str | None = None
    reason: str | None = None
    cascade: bool | None = None
    rejection_reason: str | None = None
    history: list[HistoryItem]
    result: dict[str, Any] | None = Field(
        default=None,
        description="What the request produced. A completed export: rows, bytes, sha256, "
        "fileAvailable and fileAvailableUntil (never a link: POST .../download-link issues one).",
    )
    cascade_to: list[str] | None = None
    due_at: str | None = None
    jurisdiction: str | None = None
    extension: ExtensionAnswer | None = None

    @classmethod
    def of_view(cls, view: RequestView) -> RequestDetail:
        request = view.request
        result = dict(request.result)
        if request.type is RequestType.EXPORT and request.status is RequestStatus.COMPLETED:
            # Whether a link can be issued, never the link: POST .../download-link issues one.
            result["fileAvailable"] = view.file_until is not None
            if view.file_until:
                result["fileAvailableUntil"] = view.file_until
        return cls(
            **RequestSummary.of(request).model_dump(exclude_unset=True),
            **_set(
                submitted_by=request.submitted_by,
                identity_verified_by=request.identity_verified_by,
                identity_verified_at=request.identity_verified_at,
                confirmed_by=request.confirmed_by,
                confirmed_at=request.confirmed_at,
                created_at=request.created_at,
                updated_at=request.updated_at,
                completed_at=request.completed_at,
                reason=request.reason,
                cascade=True if request.cascade else None,
                rejection_reason=request.rejection_reason,
                history=[
                    HistoryItem(status=h.status, at=h.at, actor=h.actor) for h in request.history
                ],
                result=result or None,
                cascade_to=list(view.cascade_to) if view.cascade_to is not None else None,
                due_at=request.due_at,
                jurisdiction=request.jurisdiction,
                extension=ExtensionAnswer.of(request.extension),
            ),
        )


class DownloadLinkAnswer(Answer):
    request_id: str
    link_id: str
    download_url: str
    expires_at: str

    @classmethod
    def of(cls, link: DownloadLink) -> DownloadLinkAnswer:
        return cls(
            request_id=link.request_id,
            link_id=link.link_id,
            download_url=link.url,
            expires_at=link.expires_at,
        )


class ConsentItem(Answer):
    topic: str
    channel: str
    granted: bool
    at: str
    source: str
    status: str = Field(description="GRANTED, PENDING (double opt-in awaiting) or REVOKED")
    brand: str | None = None


class CustomerPrivacyAnswer(Answer):
    customer_id: str
    privacy_status: PrivacyStatus
    current_data_privacy_status: str | None = Field(
        default=None, description="The seed's wording of the latest request's state."
    )
    ceased_at: str | None = None
    consents: list[ConsentItem] | None = Field(
        default=None, description="Absent for a forgotten customer: nothing personal is kept."
    )
    open_requests: list[str] | None = None

    @classmethod
    def of(cls, view: PrivacyView) -> CustomerPrivacyAnswer:
        privacy = view.privacy
        base = cls(
            customer_id=privacy.customer_id,
            privacy_status=privacy.privacy_status,
            current_data_privacy_status=view.current_status_text,
        )
        if privacy.privacy_status is PrivacyStatus.FORGOTTEN:
            # Nothing personal survives a forget, and nothing is answered about it.
            return base
        return base.model_copy(
            update={
                "ceased_at": privacy.ceased_at,
                "consents": [
                    ConsentItem(
                        topic=c.topic,
                        channel=c.channel,
                        granted=c.granted,
                        at=c.at,
                        source=c.source,
                        status=c.status,
                        **_set(brand=c.brand),
                    )
                    for c in privacy.consents
                ],
                "open_requests": list(privacy.open_requests),
            }
        )


class TopicConsent(Answer):
    name: str
    consented: bool


class Purposes(BaseModel):
    """What a calling service may do with the person's data now, one purpose each (wire names
    as in functions/shared/domain.py, Purpose)."""

    model_config = ConfigDict(populate_by_name=True)

    marketing: bool = Field(
        description="Send them marketing (any channel). Only for an active customer; with "
        "?topic=, also a granted consent for that topic."
    )
    audiences: bool = Field(
        description="Include them in a marketing audience or an export to a marketing tool. "
        "Same rule as marketing."
    )
    campaigns: bool = Field(description="Enrol them in a campaign. Same rule as marketing.")
    loyalty: bool = Field(
        description="Keep the loyalty programme working: earning, tiers, the reward store, "
        "wallet offers. True for active and ceased customers; false once forgotten."
    )
    application_access: bool = Field(
        alias="applicationAccess",
        description="Application access managed by identity services (sign-in to apps, new "
        "application flows that process their data). True only for an active customer: false "
        "when ceased or forgotten.",
    )


class PermissionsAnswer(Answer):
    customer_id: str
    privacy_status: PrivacyStatus
    topic: TopicConsent | None = Field(
        default=None, description="With ?topic=: marketing purposes also need its consent."
    )
    permissions: Purposes


class PendingConfirmation(Answer):
    """A pending opt-in's confirmation: until when. The token went to the customer alone (a
    ConsentConfirmationRequested message); no answer carries it."""

    expires_at: str


class ConsentAnswer(Answer):
    customer_id: str
    topic: str
    channel: str
    brand: str | None = None
    status: ConsentStatus
    granted: bool
    source: str
    at: str
    change_id: str | None = None
    changed: bool
    confirmation: PendingConfirmation | None = Field(
        default=None, description="A new PENDING opt-in: until when the customer may confirm."
    )

    @classmethod
    def of(cls, outcome: ConsentOutcome) -> ConsentAnswer:
        choice = outcome.choice
        pending = PendingConfirmation(expires_at=outcome.expires_at) if outcome.expires_at else None
        return cls(
            **_set(
                customer_id=choice.customer_id,
                topic=choice.topic,
                channel=choice.channel,
                brand=choice.brand,
                status=outcome.status,
                granted=outcome.status is ConsentStatus.GRANTED,
                source=outcome.source,
                at=outcome.at,
                change_id=outcome.change_id,
                changed=outcome.changed,
                confirmation=pending,
            )
        )


class CampaignAnswer(Answer):
    campaign_id: str
    topic: str
    channel: str
    deadline: str
    outcome: str
    status: str
    phase: str
    started_by: str
    started_at: str
    page_size: int
    progress: dict[str, int]
    executions: int
    completed_at: str | None = None
    last_error: str | None = None
    updated_at: str | None = None

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignAnswer:
        return cls(
            **_set(
                campaign_id=campaign.campaign_id,
                topic=campaign.topic,
                channel=campaign.channel,
                deadline=campaign.deadline,
                outcome=campaign.outcome.value,
                status=campaign.status.value,
                phase=campaign.phase.value,
                started_by=campaign.started_by,
                started_at=campaign.started_at,
                page_size=campaign.page_size,
                progress={
                    **campaign.counters,
                    "enrolPages": campaign.enrol_pages,
                    "outcomePages": campaign.outcome_pages,
                },
                executions=campaign.executions,
                completed_at=campaign.completed_at,
                last_error=campaign.last_error,
                updated_at=campaign.updated_at,
            )
        )


class PreferenceLinkBody(Body):
    """POST /public/preferences/link: the address to send a link to, if it is a customer's."""

    email: str = Field(min_length=3, max_length=320)


class PreferenceTokenBody(Body):
    """POST /public/preferences: the link's token, the route's credential."""

    token: str = Field(min_length=32, max_length=512, description="The token the link carried.")


class PreferenceChangeBody(PreferenceTokenBody):
    topic: str = Field(min_length=1, max_length=63)
    channel: str = Field(min_length=1, max_length=16)
    brand: str | None = Field(default=None, min_length=1, max_length=63)
    granted: StrictBool


class UnsubscribeLinkBody(Body):
    """POST /customers/{customerId}/unsubscribe-link: the topic (and brand) the link opts out of."""

    topic: str = Field(min_length=1, max_length=63)
    brand: str | None = Field(default=None, min_length=1, max_length=63)


class PreferenceLinkAccepted(Answer):
    message: str


class PreferenceItem(Answer):
    topic: str
    channel: str
    brand: str | None = None
    status: ConsentStatus | None = Field(default=None, description="None: never recorded.")
    at: str | None = None
    source: str | None = None


class PreferencesAnswer(Answer):
    preferences: list[PreferenceItem]
    expires_at: str = Field(description="Until when the link's token is valid.")
    gpc_honoured: bool = Field(
        default=False,
        description="This request's `Sec-GPC: 1` was honoured (the page says so).",
    )


class PreferenceChangeAnswer(Answer):
    """A change as the customer sees it: no customer id (the link is their only credential)."""

    topic: str
    channel: str
    brand: str | None = None
    status: ConsentStatus
    source: str
    at: str
    changed: bool
    confirmation: PendingConfirmation | None = None

    @classmethod
    def of(cls, outcome: ConsentOutcome) -> PreferenceChangeAnswer:
        choice = outcome.choice
        pending = PendingConfirmation(expires_at=outcome.expires_at) if outcome.expires_at else None
        return cls(
            **_set(
                topic=choice.topic,
                channel=choice.channel,
                brand=choice.brand,
                status=outcome.status,
                source=outcome.source,
                at=outcome.at,
                changed=outcome.changed,
                confirmation=pending,
            )
        )


class UnsubscribeAnswer(Answer):
    unsubscribed: bool


class UnsubscribeLinkAnswer(Answer):
    """The two headers to put on a marketing e-mail (RFC 2369, RFC 8058), as their values."""

    list_unsubscribe: str = Field(description="`<https://…/public/unsubscribe?token=…>`")
    list_unsubscribe_post: str = Field(description="Always `List-Unsubscribe=One-Click`.")
    expires_at: str


class GpcAnswer(Answer):
    gpc: bool
    last_update: str
