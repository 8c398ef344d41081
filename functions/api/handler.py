"""API Gateway handler: routes of API.md -> services. Thin: parse, authorise, call one service."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError as PydanticValidationError

from functions.api import audience_routes, public_routes
from functions.api.audit_schemas import audit_page, parse_audit_query, verification
from functions.api.auth import Caller, Group, caller_from_claims
from functions.api.bodies import json_body
from functions.api.dependencies import api_dependencies
from functions.api.errors import domain_error_response, error_response, invalid_body_response
from functions.api.resolver import RestResolver
from functions.api.schemas import (
    ConsentBody,
    StartCampaignBody,
    SubmitRequestBody,
    campaign_summary,
    consent_outcome,
    customer_privacy_body,
    download_link_body,
    request_detail,
    request_summary,
)
from functions.audit.service import find_entries, verify_trail
from functions.campaigns.rules import validate_campaign
from functions.campaigns.service import resume_campaign, start_campaign
from functions.consents.rules import validate_choice
from functions.consents.service import record_consent
from functions.export.download_links import issue_download_link
from functions.forget.retry import retry_request
from functions.requests import service as requests
from functions.shared import clock
from functions.shared.errors import DomainError
from functions.shared.observability import logger, metrics
from functions.shared.page_tokens import PageTokens

app = RestResolver()
IDEMPOTENCY_CONFIG = IdempotencyConfig(event_key_jmespath="key", payload_validation_jmespath="body")


def _request_id() -> str:
    return str(app.current_event.request_context.request_id or "")


def _caller() -> Caller:
    authorizer = app.current_event.request_context.authorizer
    return caller_from_claims(authorizer.claims if authorizer else None)


def _json_body() -> Any:
    return json_body(app.current_event)


def _idempotency_key() -> str | None:
    headers = app.current_event.headers
    return headers.get("idempotency-key") or headers.get("Idempotency-Key")


@cache
def _idempotent_submit() -> Any:
    deps = api_dependencies()
    config = IdempotencyConfig(
        event_key_jmespath=IDEMPOTENCY_CONFIG.event_key_jmespath,
        payload_validation_jmespath=IDEMPOTENCY_CONFIG.payload_validation_jmespath,
        expires_after_seconds=deps.idempotency_window_seconds,
    )

    @idempotent_function(
        data_keyword_argument="submission", persistence_store=deps.idempotency, config=config
    )
    def submit(
        submission: dict[str, Any], run: requests.Submission, caller: Caller
    ) -> dict[str, Any]:
        # Only the id is kept in the idempotency table: nothing personal outlives a forget there.
        request = requests.submit_request(run, caller, api_dependencies())
        return {"requestId": request.request_id}

    return submit, config


# How long a duplicate waits for the first delivery of the same submission to finish: well inside
# the function's 25 s timeout, and far longer than a submission takes.
_DUPLICATE_WAITS = tuple(min(0.05 * 1.5**n, 1.0) for n in range(20))  # about 12 s in all


def _answer_once(submit_once: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Identical submissions that arrive together all answer the one request: while the first is
    being processed the others wait for its stored answer instead of failing with a 409."""
    for pause in _DUPLICATE_WAITS:
        try:
            return submit_once()
        except IdempotencyAlreadyInProgressError:
            time.sleep(pause)
    return submit_once()


@app.post("/customers/<customer_id>/privacy-requests")
def submit(customer_id: str) -> Response:
    caller = _caller()
    caller.require(Group.AGENT)
    body = parse(event=_json_body(), model=SubmitRequestBody)
    deps = api_dependencies()
    run = requests.Submission(
        customer_id=customer_id,
        type=body.type,
        identity_verified=body.identity_verified,
        reason=body.reason,
        cascade=body.cascade,
    )
    # The same Idempotency-Key, or without one the same body, from the same agent for the same
    # customer within the window answers the first request instead of opening another. Without a
    # key, a request of the customer that ended since starts a new generation: re-submitting after
    # a cancellation opens a new request rather than answering the cancelled one.
    key = _idempotency_key()
    body_json = body.model_dump(mode="json", by_alias=True)
    identity: dict[str, Any] = {"customerId": customer_id, "caller": caller.username}
    if key:
        identity["idempotencyKey"] = key
    else:
        identity["body"] = body_json
        identity["after"] = deps.requests.latest_closed_for_customer(customer_id)
    idempotent, config = _idempotent_submit()
    config.register_lambda_context(app.lambda_context)
    # Before any replay: a forgotten customer's old requests are answered to nobody.
    requests.ensure_not_forgotten(customer_id, deps)
    stored = _answer_once(
        lambda: idempotent(submission={"key": identity, "body": body_json}, run=run, caller=caller)
    )
    request = deps.requests.get(stored["requestId"])
    metrics.add_metric(name="RequestsSubmitted", unit=MetricUnit.Count, value=1)
    return Response(202, content_types.APPLICATION_JSON, json.dumps(request_summary(request)))


@app.get("/privacy-requests/<request_id>")
def get_request(request_id: str) -> dict[str, Any]:
    _caller().require(Group.AGENT, Group.COMPLIANCE)
    return request_detail(requests.describe_request(request_id, api_dependencies()))


@app.post("/privacy-requests/<request_id>/download-link")
def download_link(request_id: str) -> Response:
    caller = _caller()
    caller.require(Group.AGENT, Group.COMPLIANCE)
    link = issue_download_link(request_id, caller, api_dependencies())
    return Response(201, content_types.APPLICATION_JSON, json.dumps(download_link_body(link)))


@app.post("/privacy-requests/<request_id>/confirm")
def confirm(request_id: str) -> Response:
    caller = _caller()
    caller.require(Group.AGENT)
    request = requests.confirm_request(request_id, caller, api_dependencies())
    return Response(202, content_types.APPLICATION_JSON, json.dumps(request_summary(request)))


@app.post("/privacy-requests/<request_id>/cancel")
def cancel(request_id: str) -> dict[str, Any]:
    caller = _caller()
    caller.require(Group.AGENT)
    return request_summary(requests.cancel_request(request_id, caller, api_dependencies()))


@app.post("/privacy-requests/<request_id>/retry")
def retry(request_id: str) -> Response:
    caller = _caller()
    caller.require(Group.AGENT, Group.COMPLIANCE)
    request = retry_request(request_id, caller, api_dependencies())
    return Response(202, content_types.APPLICATION_JSON, json.dumps(request_summary(request)))


@app.get("/customers/<customer_id>/privacy")
def customer_privacy(customer_id: str) -> dict[str, Any]:
    _caller().require(Group.AGENT, Group.COMPLIANCE)
    return customer_privacy_body(
        requests.describe_customer_privacy(customer_id, api_dependencies())
    )


@app.get("/customers/<customer_id>/processing-permissions")
def processing_permissions(customer_id: str) -> dict[str, Any]:
    _caller().require(Group.AGENT, Group.COMPLIANCE, Group.EXPORT_JOB)
    topic = app.current_event.get_query_string_value("topic")
    return requests.describe_permissions(customer_id, topic, api_dependencies())


@app.get("/audit")
def audit_entries() -> dict[str, Any]:
    _caller().require(Group.COMPLIANCE)
    deps = api_dependencies()
    params = app.current_event.query_string_parameters or {}
    where, limit, token = parse_audit_query(params, deps.hasher)
    return audit_page(find_entries(deps.audit, where, limit, token, PageTokens(deps.hasher)))


@app.get("/audit/verify")
def audit_verify() -> dict[str, Any]:
    _caller().require(Group.COMPLIANCE)
    deps = api_dependencies()
    result = verify_trail(deps.audit, deps.digests, deps.macs)
    metrics.add_metric(name="AuditVerifications", unit=MetricUnit.Count, value=1)
    if not result.intact:
        logger.error("audit trail broken", extra={"breaks": result.break_count})
        metrics.add_metric(name="AuditTrailBroken", unit=MetricUnit.Count, value=1)
    return verification(result, clock.utc_now())


@app.put("/customers/<customer_id>/consents/<topic>")
def put_consent(customer_id: str, topic: str) -> dict[str, Any]:
    caller = _caller()
    caller.require(Group.AGENT)
    body = parse(event=_json_body(), model=ConsentBody)
    choice = validate_choice(
        customer_id, topic, body.channel, body.granted, body.source, body.brand
    )
    deps = api_dependencies()
    outcome = record_consent(choice, caller.username, deps, deps.consent_confirmation_seconds)
    return consent_outcome(outcome)


@app.post("/repermission-campaigns")
def start_campaign_route() -> Response:
    caller = _caller()
    caller.require(Group.COMPLIANCE)
    body = parse(event=_json_body(), model=StartCampaignBody)
    request = validate_campaign(
        body.topic, body.channel, body.deadline, body.outcome, body.page_size, clock.now()
    )
    deps = api_dependencies()
    campaign, _ = start_campaign(
        request, _idempotency_key(), caller.username, deps, deps.campaign_workflow
    )
    return Response(202, content_types.APPLICATION_JSON, json.dumps(campaign_summary(campaign)))


@app.get("/repermission-campaigns/<campaign_id>")
def get_campaign_route(campaign_id: str) -> dict[str, Any]:
    _caller().require(Group.COMPLIANCE)
    return campaign_summary(api_dependencies().campaigns.get(campaign_id))


@app.post("/repermission-campaigns/<campaign_id>/resume")
def resume_campaign_route(campaign_id: str) -> Response:
    caller = _caller()
    caller.require(Group.COMPLIANCE)
    deps = api_dependencies()
    campaign = resume_campaign(campaign_id, caller.username, deps, deps.campaign_workflow)
    return Response(202, content_types.APPLICATION_JSON, json.dumps(campaign_summary(campaign)))


audience_routes.register(app, _caller, _json_body)
# The customer's double opt-in confirmation (no staff caller): functions/api/public_routes.py.
public_routes.register(app, _json_body)


@app.exception_handler(DomainError)
def _domain_error(exc: DomainError) -> Response:
    if exc.code == "INTERNAL":
        logger.exception("internal error")
    return domain_error_response(exc, _request_id())


@app.exception_handler(PydanticValidationError)
def _invalid_body(exc: PydanticValidationError) -> Response:
    return invalid_body_response(exc, _request_id())


@app.exception_handler(IdempotencyValidationError)
def _idempotency_key_reused(exc: IdempotencyValidationError) -> Response:
    message = "this Idempotency-Key was already used for a different request body"
    return error_response("CONFLICT", message, 409, _request_id())


@app.exception_handler(IdempotencyAlreadyInProgressError)
def _in_progress(exc: IdempotencyAlreadyInProgressError) -> Response:
    message = "the same request is being processed; retry shortly"
    return error_response("CONFLICT", message, 409, _request_id())


@app.not_found
def _not_found(exc: Exception) -> Response:
    return error_response("NOT_FOUND", "no such route", 404, _request_id())


@app.exception_handler(Exception)
def _unexpected(exc: Exception) -> Response:
    logger.exception("unexpected error")
    return error_response("INTERNAL", "an internal error occurred", 500, _request_id())


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = app.resolve(event, context)
    request_id = event.get("requestContext", {}).get("requestId", "")
    response.setdefault("headers", {})["X-Request-Id"] = request_id
    multi = response.get("multiValueHeaders")
    if isinstance(multi, dict):
        multi["X-Request-Id"] = [request_id]
    return response
