"""The shapes of the DRP routes: the compliance team's agent registry (this API's camelCase and
error shape) and the DRP 1.0 business routes (the spec's own field names and error object)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from functions.api.schemas import Answer, Body
from functions.drp.repository import Agent


class AgentBody(Body):
    agent_id: str = Field(
        alias="agentId",
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="The agent's id in the DRP network (its signed messages' `agent-id`)",
    )
    verify_key: str = Field(
        alias="verifyKey",
        min_length=1,
        max_length=128,
        description="The agent's Ed25519 verify key, base64 (the directory's `verify_key`)",
    )
    trusted: StrictBool = Field(
        default=False,
        description="A trusted agent's requests are confirmed on receipt; another's wait in the "
        "request queue for a staff member's confirmation.",
    )


class AgentAnswer(Answer):
    agent_id: str
    verify_key: str
    trusted: bool
    registered_by: str
    registered_at: str

    @classmethod
    def of(cls, agent: Agent) -> AgentAnswer:
        return cls.model_validate(agent)


class AgentsAnswer(Answer):
    agents: list[AgentAnswer]


class BusinessAnswer(Answer):
    business_id: str


# --- DRP 1.0 (the spec's names, hyphens and underscores as it writes them) ----------------------


class DrpModel(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class DrpError(DrpModel):
    """The spec's error object (3.06)."""

    code: str = Field(description="The HTTP status, as a string")
    message: str
    fatal: bool | None = Field(default=None, description="true: the request will not be processed")


class PairwiseToken(DrpModel):
    agent_id: str = Field(alias="agent-id")
    token: str = Field(description="The bearer token for this agent's later requests (opaque)")


class AgentInformation(DrpModel):
    """An empty object (2.06.1)."""


class ExerciseStatus(DrpModel):
    """The Exercise Status object (3.03)."""

    request_id: str
    status: str = Field(description="open, in_progress, fulfilled, revoked, denied or expired")
    received_at: str | None = None
    expected_by: str | None = None
    agent_request_id: str | None = None
    reason: str | None = None
    processing_details: str | None = None
    results_url: str | None = None
    expires_at: str | None = None
    user_verification_url: str | None = None
