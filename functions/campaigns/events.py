"""The payloads the campaign's state machine hands its Lambda steps."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CAMPAIGN_ID_PATTERN = r"^[0-9a-f]{32}$"


class CampaignEvent(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    campaign_id: str = Field(alias="campaignId", pattern=CAMPAIGN_ID_PATTERN)


class ProgressEvent(CampaignEvent):
    """Begin, NextPage, RecordPage, Complete and MarkFailed: one function, one field says which."""

    action: Literal["begin", "next_page", "record_page", "complete", "fail"]
    page: int = 0
    cursor: str | None = None
    applied: list[dict[str, dict[str, int]]] = Field(default_factory=list)
    batches: list[list[dict[str, str]]] = Field(default_factory=list)
    error: dict[str, Any] | None = None


class ApplyBatchEvent(CampaignEvent):
    customers: list[dict[str, str]]
