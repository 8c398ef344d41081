"""The payloads the state machine hands to its Lambda steps (see infra/statemachine)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

REQUEST_ID_PATTERN = r"^[0-9a-f]{32}$"


class StepEvent(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    request_id: str = Field(alias="requestId", pattern=REQUEST_ID_PATTERN)


class AwaitConfirmationEvent(StepEvent):
    task_token: str = Field(alias="taskToken", min_length=1)


class FinishEvent(StepEvent):
    outcome: Literal["COMPLETED", "EXPIRED", "FAILED"]
    error: dict[str, Any] | None = None
