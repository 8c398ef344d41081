"""Privacy requests: submit, the queue, read, confirm, cancel, retry, extend the deadline, and an
export's download link."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

from functions.api.dependencies import api_dependencies
from functions.api.operations import (
    current_caller,
    idempotency_key,
    operation,
    refuse_repeated_query,
    refuse_unknown_query,
)
from functions.api.request_schemas import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    ExtendedAnswer,
    QueuePage,
    queue_query,
)
from functions.api.schemas import (
    DownloadLinkAnswer,
    ExtendBody,
    RequestDetail,
    RequestSummary,
    SubmitRequestBody,
    answer,
)
from functions.drp.service import tell_agent
from functions.export.download_links import issue_download_link
from functions.forget.retry import retry_request
from functions.requests import service as requests
from functions.requests.extension import ExtensionAsked, extend_deadline
from functions.requests.service import list_requests
from functions.shared import clock
from functions.shared.caller import Caller, Group
from functions.shared.domain import RequestStatus, RequestType
from functions.shared.observability import metrics

router = APIGatewayRouter()
CustomerId = Annotated[str, Path(alias="customerId", min_length=1, max_length=128)]
RequestId = Annotated[str, Path(alias="requestId", min_length=1, max_length=128)]
IDEMPOTENCY_CONFIG = IdempotencyConfig(event_key_jmespath="key", payload_validation_jmespath="body")
# How long a duplicate waits for the first delivery of the same submission to finish: well inside
# the function's 25 s timeout, and far longer than a submission takes.
_DUPLICATE_WAITS = tuple(min(0.05 * 1.5**n, 1.0) for n in range(20))  # about 12 s in all


@cache
def _idempotent_submit(
    store: DynamoDBPersistenceLayer, window_seconds: int
) -> tuple[Any, IdempotencyConfig]:
    """The idempotent submission, made once per persistence store (a test's stack has its own)."""
    config = IdempotencyConfig(
        event_key_jmespath=IDEMPOTENCY_CONFIG.event_key_jmespath,
        payload_validation_jmespath=IDEMPOTENCY_CONFIG.payload_validation_jmespath,
        expires_after_seconds=window_seconds,
    )

    @idempotent_function(data_keyword_argument="submission", persistence_store=store, config=config)
    def submit(
        submission: dict[str, Any], run: requests.Submission, caller: Caller
    ) -> dict[str, Any]:
        # Only the id is kept in the idempotency table: nothing personal outlives a forget there.
        request = requests.submit_request(run, caller, api_dependencies())
        return {"requestId": request.request_id}

    return submit, config


def _answer_once(submit_once: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Identical submissions that arrive together all answer the one request: while the first is
    being processed the others wait for its stored answer instead of failing with a 409."""
    for pause in _DUPLICATE_WAITS:
        try:
            return submit_once()
        except IdempotencyAlreadyInProgressError:
            time.sleep(pause)
    return submit_once()


@router.post(
    "/customers/<customerId>/privacy-requests",
    **operation(
        Group.AGENT,
        summary="Submit a privacy request (it then awaits the agent's confirmation)",
        answer=RequestSummary,
        status=202,
        errors=(404, 409),
        description="The same Idempotency-Key, or without one the same body, from the same agent "
        "for the same customer within the window answers the first request (also when the "
        "duplicates arrive together).",
    ),
)
def submit(customer_id: CustomerId, body: Annotated[SubmitRequestBody, Body()]) -> Response[Any]:
    caller = current_caller(router)
    deps = api_dependencies()
    run = requests.Submission(
        customer_id=customer_id,
        type=body.type,
        identity_verified=body.identity_verified,
        reason=body.reason,
        cascade=body.cascade,
    )
    # Without a key, a request of the customer that ended since starts a new generation:
    # re-submitting after a cancellation opens a new request rather than answering the old one.
    key = idempotency_key(router)
    body_json = body.model_dump(mode="json", by_alias=True)
    identity: dict[str, Any] = {"customerId": customer_id, "caller": caller.username}
    if key:
        identity["idempotencyKey"] = key
    else:
        identity["body"] = body_json
        identity["after"] = deps.requests.latest_closed_for_customer(customer_id)
    idempotent, config = _idempotent_submit(deps.idempotency, deps.idempotency_window_seconds)
    config.register_lambda_context(router.lambda_context)
    # Before any replay: a forgotten customer's old requests are answered to nobody.
    requests.ensure_not_forgotten(customer_id, deps)
    stored = _answer_once(
        lambda: idempotent(submission={"key": identity, "body": body_json}, run=run, caller=caller)
    )
    request = deps.requests.get(stored["requestId"])
    metrics.add_metric(name="RequestsSubmitted", unit=MetricUnit.Count, value=1)
    return answer(RequestSummary.of(request), 202)


@router.get(
    "/privacy-requests/<requestId>",
    **operation(
        Group.AGENT,
        Group.COMPLIANCE,
        summary="A request's status, timeline and result",
        answer=RequestDetail,
        errors=(404,),
    ),
)
def get_request(request_id: RequestId) -> Response[Any]:
    return answer(RequestDetail.of_view(requests.describe_request(request_id, api_dependencies())))


@router.post(
    "/privacy-requests/<requestId>/download-link",
    **operation(
        Group.AGENT,
        Group.COMPLIANCE,
        summary="Issue a 15-minute link to a completed export's file (audited once per link)",
        answer=DownloadLinkAnswer,
        status=201,
        errors=(404, 409),
        description="Only the agent who submitted the export, or compliance (403 otherwise).",
    ),
)
def download_link(request_id: RequestId) -> Response[Any]:
    link = issue_download_link(request_id, current_caller(router), api_dependencies())
    return answer(DownloadLinkAnswer.of(link), 201)


@router.post(
    "/privacy-requests/<requestId>/confirm",
    **operation(
        Group.AGENT,
        summary="Confirm a request awaiting confirmation; the workflow continues",
        answer=RequestSummary,
        status=202,
        errors=(404, 409),
    ),
)
def confirm(request_id: RequestId) -> Response[Any]:
    request = requests.confirm_request(request_id, current_caller(router), api_dependencies())
    return answer(RequestSummary.of(request), 202)


@router.post(
    "/privacy-requests/<requestId>/cancel",
    **operation(
        Group.AGENT,
        summary="Cancel a request awaiting confirmation",
        answer=RequestSummary,
        errors=(404, 409),
    ),
)
def cancel(request_id: RequestId) -> Response[Any]:
    deps = api_dependencies()
    request = requests.cancel_request(request_id, current_caller(router), deps)
    tell_agent(request, deps)  # an authorized agent's request: denied by the business
    return answer(RequestSummary.of(request))


@router.post(
    "/privacy-requests/<requestId>/retry",
    **operation(
        Group.AGENT,
        Group.COMPLIANCE,
        summary="Resume a FAILED request from where it stopped",
        answer=RequestSummary,
        status=202,
        errors=(404, 409),
    ),
)
def retry(request_id: RequestId) -> Response[Any]:
    request = retry_request(request_id, current_caller(router), api_dependencies())
    return answer(RequestSummary.of(request), 202)


@router.get(
    "/privacy-requests",
    **operation(
        Group.AGENT,
        Group.COMPLIANCE,
        summary="The request queue, newest first, from indexes (never a scan)",
        answer=QueuePage,
        description="`status` may repeat. `overdue` and `dueBefore` select open requests. "
        "`from`/`to` bound the creation time (a date is the whole day). A `nextToken` "
        "continues only the listing it came from.",
    ),
)
def get_queue(
    status: Annotated[list[RequestStatus] | None, Query()] = None,
    kind: Annotated[RequestType | None, Query(alias="type")] = None,
    customer_id: Annotated[str | None, Query(alias="customerId", max_length=200)] = None,
    submitted_by: Annotated[str | None, Query(alias="submittedBy", max_length=200)] = None,
    due_before: Annotated[str | None, Query(alias="dueBefore", max_length=40)] = None,
    overdue: Annotated[Literal["true", "false"] | None, Query()] = None,
    start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    next_token: Annotated[str | None, Query(alias="nextToken", max_length=4096)] = None,
) -> Response[Any]:
    refuse_unknown_query(router, get_queue)
    refuse_repeated_query(router, get_queue, repeatable={"status"})
    due = overdue == "true"
    where = queue_query(status, kind, customer_id, submitted_by, due_before, due, start, end)
    view = list_requests(where, limit, next_token or None, api_dependencies())
    return answer(QueuePage.of(view, clock.now()))


@router.post(
    "/privacy-requests/<requestId>/extend",
    **operation(
        Group.COMPLIANCE,
        summary="Extend a request's legal deadline once, with a reason, within the regulation",
        answer=ExtendedAnswer,
        errors=(404, 409),
        description="GDPR Art. 12(3): up to two further months; CCPA: once, 45 more days. "
        "Audited (DEADLINE_EXTENDED) without the reason.",
    ),
)
def post_extend(request_id: RequestId, body: Annotated[ExtendBody, Body()]) -> Response[Any]:
    asked = ExtensionAsked(body.reason, body.days)
    deps = api_dependencies()
    request = extend_deadline(request_id, asked, current_caller(router), deps)
    tell_agent(request, deps)  # an authorized agent's request: its new expected_by
    return answer(ExtendedAnswer.of(request))
