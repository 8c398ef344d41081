"""Step Functions and EventBridge: start the workflow, answer its callbacks, announce outcomes."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.exceptions import ClientError

from functions.shared.consents import ConsentChange
from functions.shared.domain import PrivacyRequest
from functions.shared.observability import logger

# A callback whose task already ended (answered by the other party, timed out, cancelled).
_SETTLED_TOKEN_ERRORS = {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}

CANCELLED_ERROR = "RequestCancelled"
CLOSED_ERROR = "RequestClosed"
EVENT_SOURCE = "privacy-functions"
COMPLETED_DETAIL_TYPE = "PrivacyRequestCompleted"
CONSENT_DETAIL_TYPE = "ConsentChanged"
CONFIRMATION_DETAIL_TYPE = "ConsentConfirmationRequested"
_PUT_EVENTS_LIMIT = 10


class CampaignWorkflow:
    """The re-permission campaign's state machine: one execution per start or resume."""

    def __init__(self, state_machine_arn: str, client: Any = None) -> None:
        self._arn = state_machine_arn
        self._client = client or boto3.client("stepfunctions")

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


class Workflow:
    def __init__(self, state_machine_arn: str | None = None, client: Any = None) -> None:
        self._arn = state_machine_arn
        self._client = client or boto3.client("stepfunctions")

    def start(self, request_id: str) -> str:
        if self._arn is None:
            raise RuntimeError("no state machine configured")
        response = self._client.start_execution(
            stateMachineArn=self._arn, name=request_id, input=json.dumps({"requestId": request_id})
        )
        return str(response["executionArn"])

    def start_once(self, request_id: str) -> None:
        """Start the request's execution unless one of that name exists (a retried step)."""
        try:
            self.start(request_id)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise

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


class EventPublisher:
    def __init__(self, bus_name: str, client: Any = None) -> None:
        self._bus = bus_name
        self._client = client or boto3.client("events")

    def request_completed(self, request: PrivacyRequest) -> None:
        """At least once: consumers de-duplicate on requestId."""
        detail = {
            "requestId": request.request_id,
            "customerId": request.customer_id,
            "type": request.type.value,
            "status": request.status.value,
            "completedAt": request.completed_at,
        }
        self._put(COMPLETED_DETAIL_TYPE, detail)

    def consent_changed(self, change: ConsentChange) -> None:
        """At least once: consumers de-duplicate on changeId. Ids and the choice only."""
        choice = change.choice
        detail = {
            "changeId": change.change_id,
            "customerId": choice.customer_id,
            "topic": choice.topic,
            "channel": choice.channel,
            "brand": choice.brand,
            "status": change.status.value,
            "granted": change.granted,
            "source": choice.source,
            "at": change.at,
        }
        self._put(CONSENT_DETAIL_TYPE, detail)

    def confirmations_requested(self, requests: list[dict[str, Any]]) -> None:
        """A re-permission campaign asks these customers to confirm (each detail: campaignId,
        customerId, topic, channel, token, expiresAt): the messaging system sends each their
        token. At least once: consumers de-duplicate on campaignId + customerId."""
        for start in range(0, len(requests), _PUT_EVENTS_LIMIT):
            entries: list[Any] = [
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": CONFIRMATION_DETAIL_TYPE,
                    "Detail": json.dumps(detail),
                    "EventBusName": self._bus,
                }
                for detail in requests[start : start + _PUT_EVENTS_LIMIT]
            ]
            response = self._client.put_events(Entries=entries)
            if response.get("FailedEntryCount"):
                raise RuntimeError("EventBridge did not accept every confirmation request")

    def _put(self, detail_type: str, detail: dict[str, Any]) -> None:
        response = self._client.put_events(
            Entries=[
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail),
                    "EventBusName": self._bus,
                }
            ]
        )
        if response.get("FailedEntryCount"):
            raise RuntimeError(f"EventBridge did not accept the {detail_type} event")
