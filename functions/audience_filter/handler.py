"""Audience filter: S3 ObjectCreated under incoming/, the EventBridge schedule (sweeps the
configured prefixes), and jobs queued by the API. Thin: parse the event, run each job."""

from __future__ import annotations

import json
from functools import cache
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.audience_filter.service import FilterDependencies, screen_audience
from functions.shared.audience_jobs import (
    REPORT_SUFFIX,
    AudienceJob,
    S3Location,
    clean_key,
    format_of,
    job_id_for_object,
    parse_columns,
)
from functions.shared.errors import DomainError
from functions.shared.keys import load_hasher
from functions.shared.models import SuppressionItem, bind
from functions.shared.observability import logger
from functions.shared.repositories.audience_splits import SplitExecutions
from functions.shared.repositories.audiences import AudienceFiles
from functions.shared.repositories.suppression import SuppressionRepository
from functions.shared.settings import AudienceFilterSettings
from functions.shared.wiring import settings_of


@cache
def _dependencies() -> FilterDependencies:
    settings = settings_of(AudienceFilterSettings)
    return FilterDependencies(
        hasher=load_hasher(settings),
        suppression=SuppressionRepository(bind(SuppressionItem, settings.suppression_table)),
        files=AudienceFiles(settings.audiences_bucket),
        splits=(
            SplitExecutions(arn) if (arn := settings.audience_split_state_machine_arn) else None
        ),
        split_threshold_bytes=settings.split_threshold_bytes,
        split_max_concurrency=settings.split_max_concurrency,
    )


def _job_for_object(location: S3Location) -> AudienceJob:
    """A dropped file's columns and topic come from its object metadata
    (x-amz-meta-identifier-columns as JSON, x-amz-meta-topic), else the configured default."""
    stored = _dependencies().files.describe(location)
    settings = settings_of(AudienceFilterSettings)
    raw_columns = stored.metadata.get("identifier-columns", settings.default_identifier_columns)
    try:
        columns = parse_columns(json.loads(raw_columns))
    except ValueError:
        columns = parse_columns(None)
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


def _run_object(location: S3Location) -> dict[str, Any]:
    try:
        job = _job_for_object(location)
    except DomainError as exc:
        logger.warning("audience file skipped", extra={"key": location.key, "code": exc.code})
        return {"source": location.uri, "status": "SKIPPED", "error": str(exc)}
    return _summary(screen_audience(job, _dependencies()))


def _summary(record: dict[str, Any]) -> dict[str, Any]:
    return {k: record.get(k) for k in ("jobId", "status", "rowsIn", "rowsOut", "dropped")}


def _scheduled_objects() -> list[S3Location]:
    settings = settings_of(AudienceFilterSettings)
    prefixes = [p.strip() for p in settings.scheduled_prefixes.split(",") if p.strip()]
    files = _dependencies().files
    return [
        location
        for prefix in prefixes
        for location in files.keys_under(prefix)
        if not location.key.endswith(REPORT_SUFFIX)
    ]


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "screeningJob" in event:
        job = AudienceJob.from_dict(event["screeningJob"])
        return _summary(screen_audience(job, _dependencies()))
    if "Records" in event:
        locations = [
            S3Location(r["s3"]["bucket"]["name"], unquote_plus(r["s3"]["object"]["key"]))
            for r in event["Records"]
            if r.get("eventSource") == "aws:s3"
        ]
    elif event.get("detail-type") == "Scheduled Event":
        # Files already screened in their current version are answered from their job record.
        locations = _scheduled_objects()
    else:
        raise ValueError("unrecognised event for the audience filter")
    return {"jobs": [_run_object(location) for location in locations]}
