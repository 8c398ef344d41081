"""Re-permission campaigns in the customers table (single-table, like the forget tombstones): the
campaign item `repermission:<id>` / CAMPAIGN, and one `ENROL#<customerId>` item per enrolled
customer in that partition until the outcome phase has dealt with them. Each enrolled customer's
confirmation token is a CONSENTTOKEN# item in their own partition (a forget erases it).

Progress is written page by page, each page conditioned on the page count it read, so a retried
page is counted once. The campaign's audited state changes are writes for the unit of work.
The only code that knows these items' layout."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer
from pynamodb.exceptions import UpdateError

from functions.campaigns.rules import (
    COUNTERS,
    END_CURSOR,
    Campaign,
    CampaignOutcome,
    CampaignPhase,
    CampaignStatus,
    CustomerResult,
    Enrolment,
)
from functions.consents.repository import consent_key, consent_token_key
from functions.shared.aws_errors import domain_errors
from functions.shared.clock import utc_now
from functions.shared.domain import ConsentStatus, status_of
from functions.shared.errors import ConflictError, NotFoundError
from functions.shared.models import CustomerItem
from functions.shared.unit_of_work import TableWrite

CAMPAIGN_PARTITION = "repermission:"
CAMPAIGN_SK = "CAMPAIGN"
ENROL_PREFIX = "ENROL#"
# One Lambda invocation scans at most this many pages of the customers table before it hands
# back its cursor, so that a sparse topic in a large table never runs into the timeout.
MAX_SCAN_CALLS = 50
SCAN_PAGE = 1000
_deserialize = TypeDeserializer().deserialize


def campaign_key(campaign_id: str) -> tuple[str, str]:
    return f"{CAMPAIGN_PARTITION}{campaign_id}", CAMPAIGN_SK


def campaign_fields(campaign: Campaign) -> dict[str, Any]:
    """The campaign item's `data` as first written."""
    return {
        "campaignId": campaign.campaign_id,
        "topic": campaign.topic,
        "channel": campaign.channel,
        "deadline": campaign.deadline,
        "outcome": campaign.outcome.value,
        "startedBy": campaign.started_by,
        "startedAt": campaign.started_at,
        "status": campaign.status.value,
        "phase": campaign.phase.value,
        "pageSize": campaign.page_size,
        "enrolPages": 0,
        "outcomePages": 0,
        "executions": 1,
        **dict.fromkeys(COUNTERS, 0),
    }


def to_campaign(data: Mapping[str, Any], updated_at: str | None) -> Campaign:
    return Campaign(
        campaign_id=str(data["campaignId"]),
        topic=str(data["topic"]),
        channel=str(data["channel"]),
        deadline=str(data["deadline"]),
        outcome=CampaignOutcome(str(data["outcome"])),
        started_by=str(data["startedBy"]),
        started_at=str(data["startedAt"]),
        status=CampaignStatus(str(data["status"])),
        phase=CampaignPhase(str(data["phase"])),
        page_size=int(data["pageSize"]),
        counters={name: int(data.get(name, 0)) for name in COUNTERS},
        enrol_pages=int(data.get("enrolPages", 0)),
        outcome_pages=int(data.get("outcomePages", 0)),
        enrol_cursor=data.get("enrolCursor"),
        outcome_cursor=data.get("outcomeCursor"),
        executions=int(data.get("executions", 1)),
        completed_at=data.get("completedAt"),
        last_error=data.get("lastError"),
        updated_at=updated_at,
    )


@domain_errors
class CampaignRepository:
    def __init__(self, model: type[CustomerItem], client: Any = None) -> None:
        self._model = model
        self._client = client

    # Writes for the unit of work -------------------------------------------------------------

    def create(self, campaign: Campaign) -> TableWrite:
        m = self._model
        item = m(
            *campaign_key(campaign.campaign_id),
            data=campaign_fields(campaign),
            updated_at=utc_now(),
        )
        return TableWrite(
            lambda tw: tw.save(item, condition=m.sk.does_not_exist()),
            lambda: ConflictError(f"campaign {campaign.campaign_id} exists already"),
        )

    def change(
        self, campaign_id: str, changes: Mapping[str, Any], expected: Mapping[str, Any]
    ) -> TableWrite:
        """Set `changes` on the campaign where its fields are as `expected` (None removes)."""
        m = self._model
        actions = [
            m.data[name].set(value) if value is not None else m.data[name].remove()
            for name, value in changes.items()
        ]
        actions.append(m.updated_at.set(utc_now()))
        condition = m.sk.exists()
        for name, value in expected.items():
            condition &= m.data[name] == value
        return TableWrite(
            lambda tw: tw.update(
                m(*campaign_key(campaign_id)), actions=actions, condition=condition
            ),
            lambda: ConflictError(f"campaign {campaign_id} has moved on"),
        )

    def count_confirmation(self, campaign_id: str) -> TableWrite:
        m = self._model
        return TableWrite(
            lambda tw: tw.update(
                m(*campaign_key(campaign_id)),
                actions=[m.data["confirmed"].add(1)],
                condition=m.sk.exists(),
            ),
            lambda: ConflictError("the token's campaign does not exist"),
        )

    # Reads and page records ------------------------------------------------------------------

    @property
    def _dynamodb(self) -> Any:
        if self._client is None:
            self._client = boto3.client("dynamodb")
        return self._client

    def get(self, campaign_id: str) -> Campaign:
        try:
            item = self._model.get(*campaign_key(campaign_id), consistent_read=True)
        except self._model.DoesNotExist:
            raise NotFoundError(f"re-permission campaign {campaign_id} was not found") from None
        return to_campaign(_data(item), item.updated_at)

    # Enrolment ---------------------------------------------------------------------------

    def consent_holders(
        self, key: str, cursor: str | None, wanted: int
    ) -> tuple[list[Enrolment], str | None]:
        """Customers whose consent `key` (topic#channel) is GRANTED, from a scan of the table
        that starts at `cursor`; whole scan pages, so the cursor answered is exact (None: done)."""
        found: list[Enrolment] = []
        start = json.loads(cursor) if cursor else None
        for _ in range(MAX_SCAN_CALLS):
            request: dict[str, Any] = {
                "TableName": self._model.Meta.table_name,
                "FilterExpression": "sk = :sk",
                "ProjectionExpression": "customerId, requestId, #data",
                "ExpressionAttributeNames": {"#data": "data"},
                "ExpressionAttributeValues": {":sk": {"S": consent_key(key)}},
                "Limit": SCAN_PAGE,
                "ConsistentRead": True,
            }
            if start:
                request["ExclusiveStartKey"] = start
            page = self._dynamodb.scan(**request)
            for raw in page.get("Items", []):
                item = {name: _deserialize(value) for name, value in raw.items()}
                if status_of(item.get("data") or {}) is ConsentStatus.GRANTED:
                    found.append(Enrolment(str(item["customerId"]), str(item.get("requestId", ""))))
            start = page.get("LastEvaluatedKey")
            if not start or len(found) >= wanted:
                break
        return found, json.dumps(start) if start else None

    def enrolled_already(self, campaign_id: str, customer_ids: Iterable[str]) -> set[str]:
        partition, _ = campaign_key(campaign_id)
        keys = [(partition, f"{ENROL_PREFIX}{c}") for c in customer_ids]
        return {
            item.sk.removeprefix(ENROL_PREFIX)
            for item in self._model.batch_get(keys, consistent_read=True, attributes_to_get=["sk"])
        }

    def enrol(self, campaign: Campaign, enrolments: list[tuple[Enrolment, str]], at: str) -> None:
        """Each (enrolment, token hash): the enrolment item and the customer's token, valid until
        the deadline, in batches (no transaction: each item is written once, by a fixed key)."""
        partition, _ = campaign_key(campaign.campaign_id)
        with self._model.batch_write() as batch:
            for enrolment, token_hash in enrolments:
                batch.save(
                    self._model(
                        partition,
                        f"{ENROL_PREFIX}{enrolment.customer_id}",
                        data={"changeId": enrolment.change_id},
                        updated_at=at,
                    )
                )
                batch.save(
                    self._model(
                        enrolment.customer_id,
                        consent_token_key(token_hash),
                        data=enrolment_token_fields(campaign, enrolment),
                        request_id=enrolment.change_id or None,
                        updated_at=at,
                    )
                )

    def record_enrol_page(
        self, campaign_id: str, page: int, cursor: str | None, enrolled: int, ceased: int = 0
    ) -> bool:
        """False when this page was recorded already (a retry)."""
        m = self._model
        actions = [
            m.data["enrolPages"].set(page + 1),
            m.data["enrolled"].add(enrolled),
            m.data["enrolCursor"].set(cursor or END_CURSOR),
        ]
        if ceased:
            actions.append(m.data[CustomerResult.SKIPPED_CEASED.value].add(ceased))
        return self._advance(campaign_id, actions, m.data["enrolPages"] == page)

    # Outcome -----------------------------------------------------------------------------

    def enrolments(
        self, campaign_id: str, cursor: str | None, limit: int
    ) -> tuple[list[Enrolment], str | None]:
        partition, _ = campaign_key(campaign_id)
        request: dict[str, Any] = {
            "TableName": self._model.Meta.table_name,
            "KeyConditionExpression": "customerId = :p AND begins_with(sk, :e)",
            "ExpressionAttributeValues": {":p": {"S": partition}, ":e": {"S": ENROL_PREFIX}},
            "Limit": limit,
            "ConsistentRead": True,
        }
        if cursor:
            request["ExclusiveStartKey"] = json.loads(cursor)
        page = self._dynamodb.query(**request)
        found = []
        for raw in page.get("Items", []):
            item = {name: _deserialize(value) for name, value in raw.items()}
            data = item.get("data") or {}
            found.append(
                Enrolment(str(item["sk"]).removeprefix(ENROL_PREFIX), str(data.get("changeId", "")))
            )
        last = page.get("LastEvaluatedKey")
        return found, json.dumps(last) if last else None

    def record_outcome_page(
        self, campaign_id: str, page: int, cursor: str | None, tally: Mapping[str, int]
    ) -> bool:
        m = self._model
        actions = [m.data["outcomePages"].set(page + 1)]
        actions += [m.data[name].add(count) for name, count in tally.items() if count]
        actions.append(m.data["outcomeCursor"].set(cursor or END_CURSOR))
        return self._advance(campaign_id, actions, m.data["outcomePages"] == page)

    def remove_enrolments(self, campaign_id: str, customer_ids: Iterable[str]) -> None:
        """Dealt with: the campaign keeps counts, not who (deleting twice is harmless)."""
        partition, _ = campaign_key(campaign_id)
        with self._model.batch_write() as batch:
            for customer_id in customer_ids:
                batch.delete(self._model(partition, f"{ENROL_PREFIX}{customer_id}"))

    def _advance(self, campaign_id: str, actions: list[Any], condition: Any) -> bool:
        actions.append(self._model.updated_at.set(utc_now()))
        try:
            self._model(*campaign_key(campaign_id)).update(actions=actions, condition=condition)
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True


def enrolment_token_fields(campaign: Campaign, enrolment: Enrolment) -> dict[str, Any]:
    """An enrolled customer's confirmation token item: it confirms the consent as enrolled."""
    return {
        "topic": campaign.topic,
        "channel": campaign.channel,
        "consentKey": campaign.consent_key,
        "changeId": enrolment.change_id,
        "expiresAt": campaign.deadline,
        "campaignId": campaign.campaign_id,
    }


def _data(item: CustomerItem) -> dict[str, Any]:
    return item.data.as_dict() if hasattr(item.data, "as_dict") else dict(item.data or {})
