"""The workflow's Validate step rejecting an authorized agent's request (the person's standing
changed since it was submitted) tells the agent: `denied` / `other`, to its status_callback."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from functions.drp.callbacks import AgentCallbacks
from functions.drp.repository import DrpRequest
from functions.requests import handler
from functions.requests.service import Submission, submit_request
from functions.shared.caller import Caller
from functions.shared.domain import PrivacyStatus, RequestType
from tests.fakes import fake_stores

CONTEXT = SimpleNamespace(
    function_name="Validate",
    memory_limit_in_mb=128,
    invoked_function_arn="arn:aws:lambda:eu-west-1:123456789012:function:Validate",
    aws_request_id="test",
)


@dataclass
class Links:
    link: DrpRequest

    def request(self, request_id: str) -> DrpRequest | None:
        return self.link if request_id == self.link.request_id else None


class Sender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict]] = []

    def send(self, url: str, status: dict) -> None:
        self.sent.append((url, status))


def test_a_rejected_agents_request_is_called_back(frozen):
    deps = fake_stores()
    deps.customers.add_customer("C1", email="ann@example.com")
    agent = Caller("drp:AGENT", frozenset())
    request = submit_request(Submission("C1", RequestType.CEASE_MARKETING, True), agent, deps)
    # Ceased by another request before the workflow's first step ran.
    deps.customers.add_customer("C1", email="ann@example.com", status=PrivacyStatus.CEASED)
    link = DrpRequest(
        request_id=request.request_id,
        agent_id="AGENT",
        exercise="deletion",
        received_at=request.created_at,
        product_request=True,
        status_callback="https://agent.example/cb",
    )
    sender = Sender()
    deps.agents = AgentCallbacks(Links(link), sender)  # type: ignore[attr-defined,arg-type]
    handler.validate.use(deps)  # type: ignore[arg-type]
    try:
        answer = handler.validate({"requestId": request.request_id}, CONTEXT)  # type: ignore[arg-type]
    finally:
        handler.validate.use(None)
    assert answer["status"] == "REJECTED"
    ((url, status),) = sender.sent
    assert url == "https://agent.example/cb"
    assert (status["status"], status["reason"]) == ("denied", "other")
