"""Audience filter: S3 ObjectCreated under incoming/, the EventBridge schedule (sweeps the
configured prefixes), and jobs queued by the API. Thin: parse the event, run each job.

A file the bucket hands over is screened by the deployment's IDENTIFIER_COLUMNS, never by
columns its own metadata names: whoever can drop a file must not choose what it is screened by
(issue 16). Its topic still comes from the metadata (x-amz-meta-topic)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, Field

from functions.audience_filter.files import AudienceFiles
from functions.audience_filter.jobs import (
    RECEIPT_SUFFIX,
    REPORT_SUFFIX,
    AudienceJob,
    S3Location,
    clean_key,
    format_of,
    job_id_for_object,
    parse_columns,
)
from functions.audience_filter.receipt_key import ReceiptKey
from functions.audience_filter.service import FilterDependencies, screen_audience
from functions.audience_filter.splits import SplitExecutions
from functions.shared.errors import DomainError, ValidationError
from functions.shared.keys import load_hasher
from functions.shared.models import SuppressionItem, bind
from functions.shared.observability import logger
from functions.shared.settings import AudienceFilterSettings
from functions.shared.suppression import SuppressionRepository
from functions.shared.wiring import lambda_function


class S3Record(BaseModel):
    model_config = ConfigDict(extra="ignore")

    event_source: str = Field(alias="eventSource", default="")
    s3: dict[str, Any] = Field(default_factory=dict)


class FilterEvent(BaseModel):
    """One of: a job the API queued, S3 notifications, or the schedule's sweep."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    screening_job: dict[str, Any] | None = Field(alias="screeningJob", default=None)
    records: list[S3Record] = Field(alias="Records", default_factory=list)
    detail_type: str | None = Field(alias="detail-type", default=None)


def build(settings: AudienceFilterSettings) -> FilterDependencies:
    return FilterDependencies(
        hasher=load_hasher(settings),
        suppression=SuppressionRepository(bind(SuppressionItem, settings.suppression_table)),
        files=AudienceFiles(settings.audiences_bucket),
        receipts=ReceiptKey(settings.receipt_key_id),
        splits=SplitExecutions(settings.audience_split_state_machine_arn),
        split_threshold_bytes=settings.split_threshold_bytes,
        split_max_concurrency=settings.split_max_concurrency,
        identifier_columns=parse_columns(json.loads(settings.identifier_columns)),
        scheduled_prefixes=tuple(
            p.strip() for p in settings.scheduled_prefixes.split(",") if p.strip()
        ),
    )


@lambda_function(FilterEvent, AudienceFilterSettings, build)
def handler(event: FilterEvent, deps: FilterDependencies) -> dict[str, Any]:
    if event.screening_job is not None:
        return _summary(screen_audience(AudienceJob.from_dict(event.screening_job), deps))
    if event.records:
        located = [
            _located(r.s3["bucket"]["name"], unquote_plus(r.s3["object"]["key"]))
            for r in event.records
            if r.event_source == "aws:s3"
        ]
        locations = [location for location in located if location is not None]
        skipped = [_skipped() for location in located if location is None]
    elif event.detail_type == "Scheduled Event":
        # Files already screened in their current version are answered from their job record.
        locations, skipped = _scheduled_objects(deps), []
    else:
        raise ValidationError("unrecognised event for the audience filter")
    return {"jobs": [*skipped, *(_run_object(location, deps) for location in locations)]}


def _located(bucket: str, key: str) -> S3Location | None:
    try:
        return S3Location(bucket, key)
    except ValidationError:
        # The key is not logged: it is what was refused, and may say anything.
        logger.warning("audience file skipped: its key is not a plain name")
        return None


def _skipped() -> dict[str, Any]:
    return {"status": "SKIPPED", "error": "the file's key is not a plain name"}


def _job_for_object(location: S3Location, deps: FilterDependencies) -> AudienceJob:
    """The columns are the deployment's; the topic is the file's (x-amz-meta-topic)."""
    stored = deps.files.describe(location)
    columns = deps.identifier_columns
    topic = stored.metadata.get("topic") or None
    settings = {"columns": [[k.value, c] for k, c in columns], "topic": topic}
    return AudienceJob(
        job_id=job_id_for_object(location, stored.etag, settings),
        source=location,
        destination=S3Location(location.bucket, clean_key(location.key)),
        columns=columns,
        format=format_of(location.key),
        topic=topic,
    )


def _run_object(location: S3Location, deps: FilterDependencies) -> dict[str, Any]:
    try:
        job = _job_for_object(location, deps)
    except DomainError as exc:
        logger.warning("audience file skipped", extra={"key": location.key, "code": exc.code})
        return {"source": location.uri, "status": "SKIPPED", "error": str(exc)}
    return _summary(screen_audience(job, deps))


def _summary(record: dict[str, Any]) -> dict[str, Any]:
    return {k: record.get(k) for k in ("jobId", "status", "rowsIn", "rowsOut", "dropped")}


def _scheduled_objects(deps: FilterDependencies) -> list[S3Location]:
    return [
        location
        for prefix in deps.scheduled_prefixes
        for location in deps.files.keys_under(prefix)
        if not location.key.endswith((REPORT_SUFFIX, RECEIPT_SUFFIX))
    ]
