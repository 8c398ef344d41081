"""The steps of the split state machine (infra/statemachine/audience_split.asl.json), one
function each: plan, screen_part, combine (which also records a failed job). Thin: build the
job from the execution's input, run the step."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.audience_filter import split
from functions.shared.audience_jobs import AudienceJob
from functions.shared.errors import ValidationError
from functions.shared.keys import load_hasher
from functions.shared.models import SuppressionItem, bind
from functions.shared.repositories.audiences import AudienceFiles
from functions.shared.repositories.suppression import SuppressionRepository
from functions.shared.settings import AudienceCombineSettings, AudienceSplitSettings
from functions.shared.wiring import settings_of


@cache
def _screening() -> split.SplitDependencies:
    settings = settings_of(AudienceSplitSettings)
    return split.SplitDependencies(
        files=AudienceFiles(settings.audiences_bucket),
        hasher=load_hasher(settings),
        suppression=SuppressionRepository(bind(SuppressionItem, settings.suppression_table)),
        part_bytes=settings.split_part_bytes,
    )


@cache
def _combining() -> split.SplitDependencies:
    return split.SplitDependencies(
        AudienceFiles(settings_of(AudienceCombineSettings).audiences_bucket)
    )


def plan(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    job = AudienceJob.from_dict(event["job"])
    try:
        return split.plan_split(job, _screening())
    except ValidationError as exc:
        # The file itself is wrong (no such column, not gzip): the job fails, nothing is retried.
        return {"error": {"code": exc.code, "message": str(exc)}}


def screen_part(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    job = AudienceJob.from_dict(event["job"])
    return split.screen_part(job, event["read"], event["part"], _screening())


def combine(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    job = AudienceJob.from_dict(event["job"])
    if "error" in event:
        record = split.record_failure(job, event["error"], _combining())
    else:
        record = split.combine_parts(
            job, event["parts"], event["report"], event["screened"], _combining()
        )
    return {k: record.get(k) for k in ("jobId", "status", "rowsIn", "rowsOut", "error")}
