"""Handing a large audience file to the split state machine (infra/statemachine/
audience_split.asl.json), once per job."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.exceptions import ClientError

from functions.shared.aws_errors import domain_errors


@domain_errors
class SplitExecutions:
    def __init__(self, state_machine_arn: str, client: Any = None) -> None:
        self._arn = state_machine_arn
        self._client = client or boto3.client("stepfunctions")

    def start(self, job_id: str, payload: dict[str, Any]) -> None:
        """The execution is named after the job: a second start of the same job is the first."""
        try:
            self._client.start_execution(
                stateMachineArn=self._arn, name=job_id, input=json.dumps(payload)
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise
