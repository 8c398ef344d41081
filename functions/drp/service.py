"""Authorized agents over the Data Rights Protocol 1.0, mapped onto the product's own workflow:
a `deletion` is a FORGET privacy request, an `access` an EXPORT, `sale:opt-out` / `sale:opt-in`
a consent change of the sale-and-sharing topic (GPC_TOPIC), source `drp`, by the agent. One
verb each: register, list and remove agents (compliance), set up a pairwise token, check it,
exercise, read the status, revoke."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Protocol

from functions.consents.rules import ConsentChoice
from functions.consents.service import ConsentStores, record_consent
from functions.drp.callbacks import AgentCallbacks, callback_problem
from functions.drp.joined import JoinedWork
from functions.drp.messages import (
    DRP_VERSION,
    DrpRefusal,
    Envelope,
    body_digest,
    check_envelope,
    decode,
    open_signed,
    verify_key,
)
from functions.drp.repository import (
    Agent,
    DrpRepository,
    DrpRequest,
    TokenGrant,
    key_fingerprint,
)
from functions.drp.results import results_url
from functions.drp.status import (
    DENIED,
    FULFILLED,
    IN_PROGRESS,
    REVOKED,
    agent_actor,
    status_object,
)
from functions.export.download_links import LinkStores
from functions.requests.service import (
    Submission,
    SubmittingStores,
    cancel_request,
    confirm_request,
    submit_request,
)
from functions.shared import clock
from functions.shared.audit_entries import audit_entry
from functions.shared.caller import Caller
from functions.shared.domain import ConsentStatus, PrivacyRequest, RequestStatus, RequestType
from functions.shared.errors import (
    ConflictError,
    NotConfiguredError,
    ValidationError,
)
from functions.shared.observability import logger

AGENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
# What a request id can be (ours are 32 hex digits): anything else is unknown, never a key read.
REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{1,128}$")
AGENT_RECORD_TYPE = "DRP_AGENT"
DRP_RECORD_TYPE = "DRP"
CONSENT_CHANNEL = "email"
DRP_SOURCE = "drp"
# The exercises DRP 1.0 names (3.01); access:specific's semantics are still undeclared.
REQUEST_EXERCISES = {"deletion": RequestType.FORGET, "access": RequestType.EXPORT}
REQUEST_EXERCISES["access:categories"] = RequestType.EXPORT
CONSENT_EXERCISES = {"sale:opt-out": False, "sale:opt-in": True}
# The regimes a request may name; without one it is voluntary (3.01). CCPA's deadline applies.
REGIMES = {"ccpa": "CCPA", "voluntary": None}
MAX_AGENT_REQUEST_ID = 256
# How long a revoke body's replay marker is kept: past any request's confirmation window, after
# which nothing is left that it could revoke.
REVOKE_MARKER_LIFETIME = timedelta(days=30)


@dataclass(frozen=True)
class DrpConfig:
    business_id: str
    # The sale-and-sharing consent topic (GPC_TOPIC); without it sale exercises are refused.
    sale_topic: str | None
    allow_local_callbacks: bool

    def business(self) -> str:
        if not self.business_id:
            raise NotConfiguredError("this deployment accepts no DRP requests (DRP_BUSINESS_ID)")
        return self.business_id


class DrpStores(SubmittingStores, ConsentStores, LinkStores, Protocol):
    drp: DrpRepository
    drp_config: DrpConfig
    agents: AgentCallbacks
    consent_confirmation_seconds: int


# Agents (compliance) ------------------------------------------------------------------------


def register_agent(
    agent_id: str, key_text: str, trusted: bool, caller: Caller, deps: DrpStores
) -> Agent:
    if not AGENT_ID.match(agent_id):
        raise ValidationError("agentId must be 1 to 64 letters, digits or _ . : -")
    try:
        verify_key(key_text)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    at = clock.utc_now()
    agent = Agent(agent_id, key_text.strip(), trusted, caller.username, at)
    work = deps.work()
    work.add(deps.drp.register(agent))
    work.record(_agent_entry(agent_id, "DRP_AGENT_REGISTERED", caller, at, {"trusted": trusted}))
    work.commit()
    return agent


def list_agents(deps: DrpStores) -> list[Agent]:
    return deps.drp.agents()


def remove_agent(agent_id: str, caller: Caller, deps: DrpStores) -> None:
    """Its tokens stop working at once: each request looks the agent up."""
    at = clock.utc_now()
    work = deps.work()
    work.add(deps.drp.unregister(agent_id))
    work.record(_agent_entry(agent_id, "DRP_AGENT_REMOVED", caller, at, {}, occurrence=at))
    work.commit()


def _agent_entry(
    agent_id: str,
    event: str,
    caller: Caller,
    at: str,
    details: dict[str, Any],
    *,
    occurrence: str | None = None,
) -> Any:
    return audit_entry(
        f"drp-agent:{agent_id}",
        AGENT_RECORD_TYPE,
        event,
        actor=caller.username,
        subject_hash=_agent_hash(agent_id),
        at=at,
        details={"agentId": agent_id, **details},
        occurrence=occurrence or at,
    )


def _agent_hash(agent_id: str) -> str:
    # The trail's subject is a customer's keyed hash; an agent's entries stand for the agent.
    return hashlib.sha256(f"drp-agent:{agent_id}".encode()).hexdigest()


# Pairwise key setup and the bearer token ------------------------------------------------------


def setup_pairwise_key(agent_id: str, body: str | None, deps: DrpStores) -> dict[str, str]:
    """2.05: a message signed with the registered key of the agent the path names. Every failed
    check is a 403 with no body (2.05.1); the reason is logged (no content of the message)."""
    business = deps.drp_config.business()
    try:
        raw = decode(body)
        agent = deps.drp.agent(agent_id) if AGENT_ID.match(agent_id) else None
        if agent is None:
            raise DrpRefusal(403, "unknown agent")
        message = open_signed(raw, verify_key(agent.verify_key))
        envelope = check_envelope(message, agent_id, business)
        if envelope.claims.get("drp.version") != DRP_VERSION:
            raise DrpRefusal(400, "drp.version must be 1.0")
    except DrpRefusal as refusal:
        logger.info("pairwise key setup refused", extra={"why": refusal.message})
        raise DrpRefusal(403, refusal.message) from None
    token = secrets.token_urlsafe(32)
    at = clock.utc_now()
    work = deps.work()
    work.add(
        deps.drp.first_sight(body_digest(raw), envelope.expires_at, at),
        deps.drp.grant(token, TokenGrant(agent_id, key_fingerprint(agent.verify_key), at)),
    )
    work.record(
        audit_entry(
            f"drp-agent:{agent_id}",
            AGENT_RECORD_TYPE,
            "DRP_TOKEN_ISSUED",
            actor=agent_actor(agent_id),
            subject_hash=_agent_hash(agent_id),
            at=at,
            details={"agentId": agent_id},
            occurrence=at,
        )
    )
    try:
        work.commit()
    except ConflictError:
        logger.info("pairwise key setup refused", extra={"why": "replayed message"})
        raise DrpRefusal(403, "replayed") from None
    return {"agent-id": agent_id, "token": token}


def authenticate(token: str | None, deps: DrpStores) -> Agent:
    """The agent a bearer token was issued to, while that agent is registered with the key the
    token was issued for."""
    deps.drp_config.business()
    if not token:
        raise DrpRefusal(401, "send the pairwise token: Authorization: Bearer <token>")
    grant = deps.drp.token(token)
    agent = deps.drp.agent(grant.agent_id) if grant else None
    if grant is None or agent is None or grant.key_fingerprint != key_fingerprint(agent.verify_key):
        raise DrpRefusal(403, "this token is not valid (set up a pairwise key: POST /v1/agent)")
    return agent


def agent_information(agent_id: str, token: str | None, deps: DrpStores) -> dict[str, Any]:
    """2.06: {} when the token is this agent's, else 403."""
    agent = authenticate(token, deps)
    if agent.agent_id != agent_id:  # also any id no agent could have
        raise DrpRefusal(403, "this token was not issued to this agent")
    return {}


# Exercise -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exercise:
    """An exercise as the checks leave it: what to do, for whom (a customer id, never the
    claims), and what to tell the agent."""

    envelope: Envelope
    exercise: str
    regime: str | None
    callback: str | None
    agent_request_id: str | None


def _read_exercise(envelope: Envelope, config: DrpConfig) -> Exercise:
    claims = envelope.claims
    if claims.get("drp.version") != DRP_VERSION:
        raise DrpRefusal(400, "drp.version must be 1.0")
    exercise = claims.get("exercise")
    if exercise not in REQUEST_EXERCISES and exercise not in CONSENT_EXERCISES:
        raise DrpRefusal(400, "Unsupported rights actions submitted.")
    if exercise in CONSENT_EXERCISES and not config.sale_topic:
        raise DrpRefusal(400, "Unsupported rights actions submitted (no sale opt-out here).")
    regime = claims.get("regime")
    if regime is not None and regime not in REGIMES:
        raise DrpRefusal(400, "regime must be ccpa, or absent (voluntary)")
    callback = claims.get("status_callback")
    if callback is not None:
        problem = (
            "status_callback must be a string"
            if not isinstance(callback, str)
            else callback_problem(callback, config.allow_local_callbacks)
        )
        if problem:
            raise DrpRefusal(400, problem)
    agent_request_id = claims.get("agent-request-id")
    if agent_request_id is not None and (
        not isinstance(agent_request_id, str) or len(agent_request_id) > MAX_AGENT_REQUEST_ID
    ):
        raise DrpRefusal(400, f"agent-request-id: a string of at most {MAX_AGENT_REQUEST_ID}")
    return Exercise(envelope, str(exercise), regime, callback, agent_request_id)


def _match(claims: dict[str, Any], deps: DrpStores) -> tuple[str | None, bool]:
    """The customer the agent-verified identifiers name (each normalised and keyed-hashed as
    everywhere), and whether any identifier was verified at all. Claims the agent did not
    verify are not used; verified ones that name different customers match no one."""
    found: set[str | None] = set()
    verified = False
    for claim, flag, lookup in (
        ("email", "email_verified", deps.customers.customer_by_email),
        ("phone_number", "phone_number_verified", deps.customers.customer_by_phone),
    ):
        value = claims.get(claim)
        if isinstance(value, str) and value and claims.get(flag) is True:
            verified = True
            found.add(lookup(value))
    if len(found) == 1:
        return found.pop(), verified
    return None, verified


def exercise_rights(token: str | None, body: str | None, deps: DrpStores) -> dict[str, Any]:
    """2.01: verify, map, act, answer the status. Anything refused writes nothing."""
    agent = authenticate(token, deps)
    raw = decode(body)
    message = open_signed(raw, verify_key(agent.verify_key))
    envelope = check_envelope(message, agent.agent_id, deps.drp_config.business())
    asked = _read_exercise(envelope, deps.drp_config)
    digest = body_digest(raw)
    if deps.drp.seen(digest):
        # Told apart from other conflicts; two deliveries at once meet the marker's condition.
        raise DrpRefusal(409, "this signed message was received already (a replay)")
    customer_id, verified = _match(envelope.claims, deps)
    link = DrpRequest(
        request_id=uuid.uuid4().hex,
        agent_id=agent.agent_id,
        exercise=asked.exercise,
        received_at=clock.iso(clock.now(), "seconds"),
        product_request=False,
        agent_request_id=asked.agent_request_id,
        regime=asked.regime,
        status_callback=asked.callback,
    )
    seen = deps.drp.first_sight(digest, envelope.expires_at, link.received_at)
    try:
        if not verified:
            link = replace(
                link,
                status=DENIED,
                reason="insuf_verification",
                processing_details="no e-mail or phone number verified by the agent",
            )
            return _deny(link, seen, deps)
        if customer_id is None:
            link = replace(
                link,
                status=DENIED,
                reason="no_match",
                processing_details="no single customer has the verified identifiers",
            )
            return _deny(link, seen, deps)
        if asked.exercise in CONSENT_EXERCISES:
            return _change_consent(link, customer_id, agent, seen, deps)
        return _submit(link, asked, customer_id, agent, seen, deps)
    except ConflictError as conflict:
        # A replay (the marker's condition), or a request the product cannot take now (one of
        # the same kind already open, a forgotten person): nothing was written.
        raise DrpRefusal(409, str(conflict)) from None


def _deny(link: DrpRequest, seen: Any, deps: DrpStores) -> dict[str, Any]:
    work = deps.work()
    work.add(seen, deps.drp.new_request(link))
    work.record(
        audit_entry(
            link.request_id,
            DRP_RECORD_TYPE,
            "DRP_DENIED",
            actor=agent_actor(link.agent_id),
            subject_hash=_agent_hash(link.agent_id),
            at=clock.utc_now(),
            details={"exercise": link.exercise, "reason": link.reason or ""},
        )
    )
    work.commit()
    logger.info("drp request denied", extra={"requestId": link.request_id, "why": link.reason})
    return status_object(link, None)


def _submit(
    link: DrpRequest,
    asked: Exercise,
    customer_id: str,
    agent: Agent,
    seen: Any,
    deps: DrpStores,
) -> dict[str, Any]:
    link = replace(link, product_request=True)
    caller = Caller(agent_actor(agent.agent_id), frozenset())
    joined = JoinedWork(deps.work, [seen, deps.drp.new_request(link)])
    submission = Submission(
        customer_id=customer_id,
        type=REQUEST_EXERCISES[asked.exercise],
        identity_verified=True,  # the agent attests it: the signed claims' *_verified
        request_id=link.request_id,
        jurisdiction=REGIMES.get(asked.regime or "voluntary"),
    )
    request = submit_request(submission, caller, replace(deps, work=joined))  # type: ignore[type-var]
    if agent.trusted:
        # The configured policy: a trusted agent's request is confirmed by the agent's own
        # attestation; anyone else's waits in the queue for a staff member's confirmation.
        request = confirm_request(request.request_id, caller, deps)
    logger.info("drp request submitted", extra={"requestId": request.request_id})
    return status_object(link, request)


def _change_consent(
    link: DrpRequest, customer_id: str, agent: Agent, seen: Any, deps: DrpStores
) -> dict[str, Any]:
    topic = str(deps.drp_config.sale_topic)
    granted = CONSENT_EXERCISES[link.exercise]
    choice = ConsentChoice(customer_id, topic, CONSENT_CHANNEL, granted, DRP_SOURCE)
    current = deps.consents.current(customer_id, choice.key)
    if granted and (current is None or current.status is not ConsentStatus.GRANTED):
        # An opt-in from a source that did not confirm the address is a double opt-in: the
        # person confirms it from the e-mail they are sent (functions/consents).
        link = replace(
            link,
            status=IN_PROGRESS,
            processing_details="awaiting the person's confirmation of the opt-in by e-mail",
        )
    else:
        link = replace(link, status=FULFILLED)
    joined = JoinedWork(deps.work, [seen, deps.drp.new_request(link)])
    record_consent(
        choice,
        agent_actor(agent.agent_id),
        replace(deps, work=joined),  # type: ignore[type-var]
        deps.consent_confirmation_seconds,
    )
    joined.commit_alone()
    logger.info("drp consent exercised", extra={"requestId": link.request_id})
    return status_object(link, None)


# Status and revoke ----------------------------------------------------------------------------


def _owned(
    request_id: str, agent: Agent, deps: DrpStores
) -> tuple[DrpRequest, PrivacyRequest | None]:
    link = deps.drp.request(request_id) if REQUEST_ID.match(request_id) else None
    if link is None:
        raise DrpRefusal(404, "no such data rights request")
    if link.agent_id != agent.agent_id:
        raise DrpRefusal(403, "this request is managed by another agent")
    request = deps.requests.get(request_id) if link.product_request else None
    return link, request


def request_status(request_id: str, token: str | None, deps: DrpStores) -> dict[str, Any]:
    """2.02. A fulfilled access request answers a fresh 15-minute `results_url` (each one
    audited as a download link issued to the agent)."""
    agent = authenticate(token, deps)
    link, request = _owned(request_id, agent, deps)
    link_url = results_url(request, deps) if request is not None else None
    return status_object(link, request, link_url)


def revoke_request(
    request_id: str, token: str | None, body: str | None, deps: DrpStores
) -> dict[str, Any]:
    """2.04: cancels a request still awaiting confirmation; once confirmed (being applied) or
    applied it is refused (409). The signed body's `reason` is the person's words: not kept."""
    agent = authenticate(token, deps)
    raw = decode(body)
    message = open_signed(raw, verify_key(agent.verify_key))
    if "agent-id" in message or "business-id" in message:
        # Revoke bodies need only `reason` (2.04); an agent that sends the envelope gets it checked.
        check_envelope(message, agent.agent_id, deps.drp_config.business())
    # A revoke body names no request, so a captured one could revoke the agent's other requests:
    # each signed body revokes once (its marker joins the cancel's transaction).
    link, request = _owned(request_id, agent, deps)
    caller = Caller(agent_actor(agent.agent_id), frozenset())
    if request is None:
        if link.status == REVOKED:
            return status_object(link, None)
        raise DrpRefusal(409, f"the request is {link.status}: it can no longer be revoked")
    if request.status is RequestStatus.CANCELLED:
        return _revoked(link, request)  # asked again: the same answer, nothing written
    if request.status is not RequestStatus.AWAITING_CONFIRMATION:
        raise DrpRefusal(409, "the request is being applied or was applied: too late to revoke")
    digest = body_digest(raw)
    if deps.drp.seen(digest):
        raise DrpRefusal(409, "this signed message was received already (a replay)")
    seen = deps.drp.first_sight(digest, clock.now() + REVOKE_MARKER_LIFETIME, clock.utc_now())
    joined = JoinedWork(deps.work, [seen])
    try:
        request = cancel_request(request_id, caller, replace(deps, work=joined))  # type: ignore[type-var]
    except ConflictError as conflict:
        raise DrpRefusal(409, str(conflict)) from None
    return _revoked(link, request)


def _revoked(link: DrpRequest, request: PrivacyRequest) -> dict[str, Any]:
    status = status_object(link, request)
    if status["status"] != REVOKED:
        raise DrpRefusal(409, "the request was closed by the business: it can no longer be revoked")
    return status


def tell_agent(request: PrivacyRequest, deps: DrpStores) -> None:
    """After a change made through the staff API (a cancel, an extension)."""
    if request.submitted_by.startswith("drp:"):
        deps.agents.request_changed(request)
