"""The audit trail: filtered pages, and verification of the whole chain."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from aws_lambda_powertools.metrics import MetricUnit

from functions.api.audit_schemas import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    AuditPageAnswer,
    VerificationAnswer,
    audit_filter,
)
from functions.api.dependencies import api_dependencies
from functions.api.operations import operation, refuse_unknown_query
from functions.api.schemas import answer
from functions.audit.service import find_entries, verify_trail
from functions.shared import clock
from functions.shared.caller import Group
from functions.shared.observability import logger, metrics
from functions.shared.page_tokens import PageTokens

router = APIGatewayRouter()
Text = Annotated[str | None, Query(min_length=1, max_length=128)]


@router.get(
    "/audit",
    **operation(
        Group.COMPLIANCE,
        summary="Audit entries, newest first, through the index of the most selective filter",
        answer=AuditPageAnswer,
        description="`type` is an audit event (SUBMITTED, COMPLETED, DEADLINE_PASSED, ...) or a "
        "request type; `from`/`to` an ISO 8601 date (the whole day) or date-time with a zone. A "
        "`nextToken` continues only the query it came from.",
    ),
)
def audit_entries(
    customer_id: Annotated[
        str | None, Query(alias="customerId", min_length=1, max_length=128)
    ] = None,
    request_id: Annotated[
        str | None, Query(alias="requestId", min_length=1, max_length=128)
    ] = None,
    kind: Annotated[str | None, Query(alias="type", min_length=1, max_length=64)] = None,
    actor: Text = None,
    start: Annotated[str | None, Query(alias="from", min_length=1, max_length=40)] = None,
    end: Annotated[str | None, Query(alias="to", min_length=1, max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    next_token: Annotated[str | None, Query(alias="nextToken", max_length=4096)] = None,
) -> Response[Any]:
    refuse_unknown_query(router, audit_entries)
    deps = api_dependencies()
    where = audit_filter(deps.hasher, customer_id, request_id, kind, actor, start, end)
    page = find_entries(deps.audit, where, limit, next_token or None, PageTokens(deps.hasher))
    return answer(AuditPageAnswer.of(page))


@router.get(
    "/audit/verify",
    **operation(
        Group.COMPLIANCE,
        summary="Check the whole trail: hashes, links, keyed hashes and digests",
        answer=VerificationAnswer,
    ),
)
def audit_verify() -> Response[Any]:
    deps = api_dependencies()
    result = verify_trail(deps.audit, deps.digests, deps.macs)
    metrics.add_metric(name="AuditVerifications", unit=MetricUnit.Count, value=1)
    if not result.intact:
        logger.error("audit trail broken", extra={"breaks": result.break_count})
        metrics.add_metric(name="AuditTrailBroken", unit=MetricUnit.Count, value=1)
    return answer(VerificationAnswer.of(result, clock.utc_now()))
