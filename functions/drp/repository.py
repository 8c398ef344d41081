"""DRP's items, in the customers table under key prefixes of their own (no table of their own:
they are few, small and read by key), the only code that knows their layout:

- `drp-agents` / `AGENT#<agentId>`: a registered agent, its verify key and whether it is
  trusted (one partition, so listing the agents is one Query, never a scan);
- `drp-token:<sha256 of the token>` / `TOKEN`: a pairwise bearer token (its hash only: the
  token itself is answered once and never stored) and the agent and key it was issued for;
- `drp-seen:<sha256 of the signed bytes>` / `SEEN`: a signed message already acted on, kept
  until it has expired anyway (DynamoDB's TTL), so that a replay is refused;
- `drp-request:<requestId>` / `DRP`: what the agent asked for and where to call it back (no
  claim of the person's: their e-mail or phone never reaches the table).
None of them holds personal data; a forget has nothing of the person's to remove here."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.expressions.update import Action

from functions.shared.aws_errors import domain_errors
from functions.shared.errors import ConflictError, NotFoundError
from functions.shared.models import CustomerItem
from functions.shared.unit_of_work import TableWrite

AGENTS_PARTITION = "drp-agents"
AGENT_PREFIX = "AGENT#"
TOKEN_SK = "TOKEN"
SEEN_SK = "SEEN"
LINK_SK = "DRP"
# A replay marker outlives the message's own expiry by this much (clock skew between agents).
SEEN_MARGIN = timedelta(days=1)


def token_key(token: str) -> str:
    # 256 random bits: a plain digest cannot be reversed by guessing.
    return f"drp-token:{hashlib.sha256(token.encode()).hexdigest()}"


def key_fingerprint(verify_key: str) -> str:
    return hashlib.sha256(verify_key.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Agent:
    agent_id: str
    verify_key: str
    trusted: bool
    registered_by: str
    registered_at: str


@dataclass(frozen=True)
class TokenGrant:
    agent_id: str
    key_fingerprint: str
    issued_at: str


@dataclass(frozen=True)
class DrpRequest:
    """One data rights request as the agent sent it, and its DRP state where the product's own
    request does not carry it (a consent exercise, a refusal): `product_request` says whether
    the privacy request of the same id holds the state instead."""

    request_id: str
    agent_id: str
    exercise: str
    received_at: str
    product_request: bool
    agent_request_id: str | None = None
    regime: str | None = None
    status_callback: str | None = None
    status: str | None = None
    reason: str | None = None
    processing_details: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def _plain(item: CustomerItem) -> dict[str, Any]:
    data = item.data
    return data.as_dict() if hasattr(data, "as_dict") else dict(data or {})


def _link(data: Mapping[str, Any]) -> DrpRequest:
    return DrpRequest(
        request_id=str(data["requestId"]),
        agent_id=str(data["agentId"]),
        exercise=str(data["exercise"]),
        received_at=str(data["receivedAt"]),
        product_request=bool(data.get("productRequest")),
        agent_request_id=data.get("agentRequestId"),
        regime=data.get("regime"),
        status_callback=data.get("statusCallback"),
        status=data.get("status"),
        reason=data.get("reason"),
        processing_details=data.get("processingDetails"),
    )


@domain_errors
class DrpRepository:
    def __init__(self, model: type[CustomerItem]) -> None:
        self._model = model

    # Agents ------------------------------------------------------------------------------------

    def register(self, agent: Agent) -> TableWrite:
        """A new agent, or the same id with a new key (the old key's tokens stop working)."""
        item = self._model(
            AGENTS_PARTITION,
            f"{AGENT_PREFIX}{agent.agent_id}",
            data={
                "agentId": agent.agent_id,
                "verifyKey": agent.verify_key,
                "trusted": agent.trusted,
                "registeredBy": agent.registered_by,
                "registeredAt": agent.registered_at,
            },
            updated_at=agent.registered_at,
        )
        return TableWrite(lambda tw: tw.save(item), lambda: ConflictError("agent changed"))

    def unregister(self, agent_id: str) -> TableWrite:
        m = self._model
        item = m(AGENTS_PARTITION, f"{AGENT_PREFIX}{agent_id}")
        return TableWrite(
            lambda tw: tw.delete(item, condition=m.customer_id.exists()),
            lambda: NotFoundError(f"agent {agent_id} is not registered"),
        )

    def agent(self, agent_id: str) -> Agent | None:
        try:
            item = self._model.get(
                AGENTS_PARTITION, f"{AGENT_PREFIX}{agent_id}", consistent_read=True
            )
        except self._model.DoesNotExist:
            return None
        return _agent(_plain(item))

    def agents(self) -> list[Agent]:
        items = self._model.query(
            AGENTS_PARTITION, self._model.sk.startswith(AGENT_PREFIX), consistent_read=True
        )
        return [_agent(_plain(item)) for item in items]

    # Tokens ------------------------------------------------------------------------------------

    def grant(self, token: str, grant: TokenGrant) -> TableWrite:
        m = self._model
        item = m(
            token_key(token),
            TOKEN_SK,
            data={
                "agentId": grant.agent_id,
                "keyFingerprint": grant.key_fingerprint,
                "issuedAt": grant.issued_at,
            },
            updated_at=grant.issued_at,
        )
        return TableWrite(
            lambda tw: tw.save(item, condition=m.customer_id.does_not_exist()),
            lambda: ConflictError("token collision"),
        )

    def token(self, token: str) -> TokenGrant | None:
        try:
            item = self._model.get(token_key(token), TOKEN_SK, consistent_read=True)
        except self._model.DoesNotExist:
            return None
        data = _plain(item)
        return TokenGrant(str(data["agentId"]), str(data["keyFingerprint"]), str(data["issuedAt"]))

    # Replays -----------------------------------------------------------------------------------

    def first_sight(self, digest: str, expires_at: datetime, at: str) -> TableWrite:
        """Fails (409) when these signed bytes were acted on before: in the same transaction as
        what acting on them writes, so two deliveries at once act once."""
        m = self._model
        item = m(
            f"drp-seen:{digest}",
            SEEN_SK,
            data={"at": at},
            updated_at=at,
            expires=(expires_at + SEEN_MARGIN).astimezone(UTC),
        )
        return TableWrite(
            lambda tw: tw.save(item, condition=m.customer_id.does_not_exist()),
            lambda: ConflictError("this signed message was received already (a replay)"),
        )

    def seen(self, digest: str) -> bool:
        try:
            self._model.get(f"drp-seen:{digest}", SEEN_SK, consistent_read=True)
        except self._model.DoesNotExist:
            return False
        return True

    # Requests ----------------------------------------------------------------------------------

    def new_request(self, request: DrpRequest) -> TableWrite:
        m = self._model
        data = {
            "requestId": request.request_id,
            "agentId": request.agent_id,
            "exercise": request.exercise,
            "receivedAt": request.received_at,
            "productRequest": request.product_request,
            "agentRequestId": request.agent_request_id,
            "regime": request.regime,
            "statusCallback": request.status_callback,
            "status": request.status,
            "reason": request.reason,
            "processingDetails": request.processing_details,
        }
        item = m(
            f"drp-request:{request.request_id}",
            LINK_SK,
            data={k: v for k, v in data.items() if v is not None},
            updated_at=request.received_at,
        )
        return TableWrite(
            lambda tw: tw.save(item, condition=m.customer_id.does_not_exist()),
            lambda: ConflictError(f"data rights request {request.request_id} exists"),
        )

    def set_status(
        self, request: DrpRequest, status: str, reason: str | None, details: str | None, at: str
    ) -> TableWrite:
        """A state the product's request does not carry (a consent exercise revoked)."""
        m = self._model
        values = {"status": status, "reason": reason, "processingDetails": details}
        actions: list[Action] = [m.updated_at.set(at)]
        for name, value in values.items():
            path = m.data[name]  # type: ignore[index]
            actions.append(path.set(value) if value is not None else path.remove())
        return TableWrite(
            lambda tw: tw.update(
                m(f"drp-request:{request.request_id}", LINK_SK),
                actions=actions,
                condition=m.customer_id.exists(),
            ),
            lambda: NotFoundError(f"data rights request {request.request_id} was not found"),
        )

    def request(self, request_id: str) -> DrpRequest | None:
        try:
            item = self._model.get(f"drp-request:{request_id}", LINK_SK, consistent_read=True)
        except self._model.DoesNotExist:
            return None
        return _link(_plain(item))


def _agent(data: Mapping[str, Any]) -> Agent:
    return Agent(
        agent_id=str(data["agentId"]),
        verify_key=str(data["verifyKey"]),
        trusted=bool(data.get("trusted")),
        registered_by=str(data.get("registeredBy") or ""),
        registered_at=str(data.get("registeredAt") or ""),
    )
