"""The re-permission campaign's state machine: one execution per start or resume."""

from __future__ import annotations

import json
from typing import Any, Protocol

import boto3
from botocore.exceptions import ClientError

from functions.shared.aws_errors import domain_errors
from functions.shared.errors import NotConfiguredError


class CampaignStarter(Protocol):
    def require(self) -> None: ...

    def start(self, campaign_id: str, attempt: int) -> None: ...


@domain_errors
class CampaignWorkflow:
    def __init__(self, state_machine_arn: str, client: Any = None) -> None:
        self._arn = state_machine_arn
        self._client = client or boto3.client("stepfunctions")

    def require(self) -> None:
        """Configured: campaigns can start."""

    def start(self, campaign_id: str, attempt: int) -> None:
        """Execution `attempt` of the campaign; one that exists already (a repeated start) is
        left as it is."""
        name = campaign_id if attempt == 1 else f"{campaign_id}-{attempt}"
        try:
            self._client.start_execution(
                stateMachineArn=self._arn, name=name, input=json.dumps({"campaignId": campaign_id})
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise


class NoCampaignWorkflow:
    """A deployment without the campaign state machine: its routes answer 503."""

    def require(self) -> None:
        raise NotConfiguredError("re-permission campaigns are not configured on this deployment")

    def start(self, campaign_id: str, attempt: int) -> None:
        self.require()
