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
