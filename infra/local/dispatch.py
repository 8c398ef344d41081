"""Runs moto's Lambda invocations in-process with the real handlers instead of in Docker.

This patches a private moto method (LambdaFunction._invoke_lambda); moto is pinned in
pyproject.toml and tests/integration/test_local_dispatch.py fails if the method changes shape.
Only the invocation is replaced: moto's own Lambda backend still stores the functions, their
configuration, and answers Invoke, so callers go through the real Lambda API."""

from __future__ import annotations

import importlib
import inspect
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.awslambda.models import LambdaFunction

from infra.functions import API

Handler = Callable[[Any, Any], Any]
# Test hook: called before a handler runs; raising from it makes that invocation fail.
FaultInjector = Callable[[str, Any], None]

_EXPECTED_SIGNATURE = ["self", "event"]
_original = LambdaFunction._invoke_lambda
_faults: list[FaultInjector] = []
_lock = threading.Lock()
# Lambda never runs two invocations in one execution environment, and the API's handler relies
# on it: powertools' resolver keeps the request it is answering on the module's `app` (its
# context, its current event). So the API function takes one invocation at a time here, as one
# environment would; concurrency between requests is still DynamoDB's (their conditions), as
# between AWS's environments. The other functions keep no request in module state.
ONE_AT_A_TIME = frozenset({API.handler})
_environments: dict[str, threading.Lock] = {path: threading.Lock() for path in ONE_AT_A_TIME}


@dataclass
class LambdaContext:
    """What a handler reads from the real Lambda context object."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 300_000


def resolve(handler_path: str) -> Handler:
    module_name, _, attribute = handler_path.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)  # type: ignore[no-any-return]


def _invoke_in_process(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    payload = json.loads(event) if isinstance(event, str) else (event or {})
    context = LambdaContext(
        function_name=self.function_name,
        function_version=str(self.version),
        invoked_function_arn=self.function_arn,
        memory_limit_in_mb=int(self.memory_size),
        aws_request_id=str(uuid.uuid4()),
    )
    try:
        for fault in list(_faults):
            fault(self.function_name, payload)
        environment = _environments.get(self.handler)
        if environment is None:
            result = resolve(self.handler)(payload, context)
        else:
            with environment:
                result = resolve(self.handler)(payload, context)
    except Exception as exc:
        # The shape Lambda reports for an unhandled error; Step Functions retries and catches
        # on errorType.
        error = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
        return json.dumps(error), True, ""
    return json.dumps(result), False, ""


def check_patch_target() -> None:
    """Fail loudly if moto's private method is gone or has changed its shape."""
    params = list(inspect.signature(_original).parameters)
    if params != _EXPECTED_SIGNATURE:
        raise RuntimeError(
            f"moto's LambdaFunction._invoke_lambda now takes {params}; update this dispatcher"
        )


def install() -> None:
    check_patch_target()
    LambdaFunction._invoke_lambda = _invoke_in_process  # type: ignore[method-assign]


def uninstall() -> None:
    LambdaFunction._invoke_lambda = _original  # type: ignore[method-assign]


def add_fault(fault: FaultInjector) -> None:
    with _lock:
        _faults.append(fault)


def remove_fault(fault: FaultInjector) -> None:
    with _lock:
        _faults.remove(fault)
