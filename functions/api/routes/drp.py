"""The Data Rights Protocol 1.0 business routes, at the paths the spec names (section 2). Public
in this API's sense: no Cognito group, because the DRP pairwise bearer token (or, for key setup,
the signature itself) is their credential, which each route checks itself (functions/drp). Their
bodies are signed messages in text/plain (handler.py lets them through unparsed,
functions/api/bodies.py RAW_ROUTES), and every refusal is the spec's error object
`{"code", "message", "fatal"?}`, not this API's: an agent's client reads only that."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel

from functions.api.dependencies import api_dependencies
from functions.api.drp_schemas import AgentInformation, DrpError, ExerciseStatus, PairwiseToken
from functions.api.operations import ERROR_STATUSES, GROUPS_EXTENSION, ErrorBody
from functions.drp.messages import DrpRefusal
from functions.drp.service import (
    agent_information,
    exercise_rights,
    request_status,
    revoke_request,
    setup_pairwise_key,
)
from functions.shared.errors import DomainError, NotConfiguredError, NotFoundError
from functions.shared.observability import logger

router = APIGatewayRouter()
# Unconstrained: a path the route refuses is refused in the spec's error shape, by the route.
AgentId = Annotated[str, Path(alias="agentId")]
RequestId = Annotated[str, Path(alias="requestId")]
SIGNED_EXTENSION = "x-drp-signed-body"
_DRP_ERRORS = {
    400: "A malformed, unsigned or expired message, or an exercise not supported (nothing written)",
    401: "No pairwise bearer token",
    403: "The signature, agent, business or token does not check out",
    404: "No such data rights request",
    409: "Replayed, or the request's state does not allow it (nothing written)",
    503: "This deployment accepts no DRP requests (DRP_BUSINESS_ID)",
}


def drp_operation(
    summary: str,
    answer: type[BaseModel],
    errors: tuple[int, ...],
    *,
    signed: bool = False,
    bare_403: bool = False,
    description: str = "",
) -> dict[str, Any]:
    responses: dict[int, Any] = {
        200: {"description": summary, "content": {"application/json": {"model": answer}}}
    }
    for code in sorted({400, 503, *errors}):
        content: dict[str, Any] = {"application/json": {"model": DrpError}}
        if code == 403 and bare_403:
            content = {"text/plain": {"schema": {"type": "string", "maxLength": 0}}}
        responses[code] = {"description": _DRP_ERRORS[code], "content": content}
    responses[500] = {
        "description": ERROR_STATUSES[500],
        "content": {"application/json": {"model": ErrorBody}},
    }
    who = "Public: no Cognito token; the DRP pairwise token or the signature is the credential."
    return {
        "summary": summary,
        "description": f"{description}\n\n{who}" if description else who,
        "responses": responses,
        "security": [],
        "openapi_extensions": {GROUPS_EXTENSION: [], SIGNED_EXTENSION: signed},
    }


def _json(status: int, body: dict[str, Any]) -> Response[Any]:
    return Response(status, content_types.APPLICATION_JSON, json.dumps(body))


def _answered(act: Callable[[], dict[str, Any]], *, bare_403: bool = False) -> Response[Any]:
    """The act's answer, or the spec's error object for any refusal (never a 500 for input)."""
    try:
        return _json(200, act())
    except DrpRefusal as refusal:
        if refusal.status == 403 and bare_403:
            return Response(403, content_types.TEXT_PLAIN, "")  # 2.05.1: no body
        return _json(refusal.status, refusal.body())
    except NotConfiguredError as exc:
        return _json(503, {"code": "503", "message": str(exc)})
    except NotFoundError as exc:
        return _json(404, {"code": "404", "message": str(exc)})
    except DomainError as exc:
        if exc.code == "INTERNAL":
            raise
        logger.info("drp request refused", extra={"why": exc.code})
        status = 400 if exc.code == "VALIDATION_ERROR" else 409
        return _json(status, {"code": str(status), "message": str(exc)})


def _token() -> str | None:
    headers = router.current_event.headers or {}
    for name, value in headers.items():
        if name.lower() == "authorization" and value:
            scheme, _, token = value.strip().partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


def _body() -> str | None:
    try:
        return router.current_event.decoded_body
    except (UnicodeDecodeError, ValueError):
        return None


@router.post(
    "/v1/agent/<agentId>",
    **drp_operation(
        "Pairwise key setup: a signed message of a registered agent answers its bearer token",
        PairwiseToken,
        (403,),
        signed=True,
        bare_403=True,
        description="DRP 1.0 section 2.05. Any failed check is a 403 with no body, as the spec "
        "says (the reason is logged). The token is answered once; only its hash is kept.",
    ),
)
def post_pairwise_key(agent_id: AgentId) -> Response[Any]:
    deps = api_dependencies()
    return _answered(lambda: setup_pairwise_key(agent_id, _body(), deps), bare_403=True)


@router.get(
    "/v1/agent/<agentId>",
    **drp_operation(
        "Agent information: {} when the bearer token is this agent's",
        AgentInformation,
        (401, 403),
        description="DRP 1.0 section 2.06.",
    ),
)
def get_agent_information(agent_id: AgentId) -> Response[Any]:
    deps = api_dependencies()
    return _answered(lambda: agent_information(agent_id, _token(), deps))


@router.post(
    "/v1/data-rights-request",
    **drp_operation(
        "Exercise a data right: a signed request, answered with its status",
        ExerciseStatus,
        (401, 403, 409),
        signed=True,
        description="DRP 1.0 section 2.01. `deletion` is a FORGET request, `access` (and "
        "`access:categories`) an EXPORT, both in the request queue (submitted by "
        "`drp:<agentId>`); `sale:opt-out` / `sale:opt-in` change the sale-and-sharing consent "
        "(GPC_TOPIC, source `drp`). The person is matched by the agent-verified e-mail or "
        "phone: none verified is `denied`/`insuf_verification`, no single customer "
        "`denied`/`no_match`. A replayed message is a 409.",
    ),
)
def post_data_rights_request() -> Response[Any]:
    deps = api_dependencies()
    return _answered(lambda: exercise_rights(_token(), _body(), deps))


@router.get(
    "/v1/data-rights-request/<requestId>",
    **drp_operation(
        "A data rights request's status (only to the agent that sent it)",
        ExerciseStatus,
        (401, 403, 404),
        description="DRP 1.0 section 2.02. A fulfilled access request answers a fresh 15-minute "
        "`results_url` (audited as a download link issued to the agent).",
    ),
)
def get_data_rights_request(request_id: RequestId) -> Response[Any]:
    deps = api_dependencies()
    return _answered(lambda: request_status(request_id, _token(), deps))


@router.delete(
    "/v1/data-rights-request/<requestId>",
    **drp_operation(
        "Revoke a data rights request still awaiting confirmation",
        ExerciseStatus,
        (401, 403, 404, 409),
        signed=True,
        description='DRP 1.0 section 2.04: the body is a signed `{"reason"}` (not kept). '
        "Refused (409) once the request is confirmed or applied.",
    ),
)
def delete_data_rights_request(request_id: RequestId) -> Response[Any]:
    deps = api_dependencies()
    return _answered(lambda: revoke_request(request_id, _token(), _body(), deps))
