"""The privacy-request state machine: start an execution, answer its confirmation callback."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.exceptions import ClientError

from functions.shared.aws_errors import domain_errors
from functions.shared.observability import logger

# A callback whose task already ended (answered by the other party, timed out, cancelled).
_SETTLED_TOKEN_ERRORS = {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}

CANCELLED_ERROR = "RequestCancelled"
CLOSED_ERROR = "RequestClosed"


@domain_errors
class Callbacks:
    """Answers to a waiting task token (the AwaitConfirmation step's)."""

    def __init__(self, client: Any = None) -> None:
        self._client = client or boto3.client("stepfunctions")

    def resume(self, task_token: str, output: dict[str, Any]) -> None:
        self._settle(
            self._client.send_task_success, taskToken=task_token, output=json.dumps(output)
        )

    def abort(self, task_token: str, error: str, cause: str) -> None:
        self._settle(self._client.send_task_failure, taskToken=task_token, error=error, cause=cause)

    @staticmethod
    def _settle(call: Any, **kwargs: Any) -> None:
        try:
            call(**kwargs)
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code not in _SETTLED_TOKEN_ERRORS:
                raise
            logger.info("callback already settled", extra={"error": code})


@domain_errors
class RequestWorkflow(Callbacks):
    def __init__(self, state_machine_arn: str, client: Any = None) -> None:
        super().__init__(client)
        self._arn = state_machine_arn

    def start(self, request_id: str) -> None:
        """The execution is named after the request: one that exists already (a retried step
        or submission) is left as it is."""
        try:
            self._client.start_execution(
                stateMachineArn=self._arn,
                name=request_id,
                input=json.dumps({"requestId": request_id}),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise
