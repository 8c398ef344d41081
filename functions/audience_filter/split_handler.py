"""The steps of the split state machine (infra/statemachine/audience_split.asl.json), one
function each: plan, screen_part, combine (which also records a failed job). Thin: build the
job from the execution's input, run the step."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from functions.audience_filter import split
from functions.audience_filter.files import AudienceFiles
from functions.audience_filter.jobs import AudienceJob
from functions.audience_filter.receipt_key import ReceiptKey
from functions.shared.errors import ValidationError
from functions.shared.keys import load_hasher
from functions.shared.models import SuppressionItem, bind
from functions.shared.settings import AudienceCombineSettings, AudienceSplitSettings
from functions.shared.suppression import SuppressionRepository
from functions.shared.wiring import lambda_function


class SplitStepEvent(BaseModel):
    """The execution's input as each step gets it: the job, and the step's own part of it."""

    model_config = ConfigDict(extra="allow")

    job: dict[str, Any]

    def field(self, name: str) -> Any:
        return (self.model_extra or {})[name]

    def has(self, name: str) -> bool:
        return name in (self.model_extra or {})


def screening(settings: AudienceSplitSettings) -> split.SplitDependencies:
    return split.SplitDependencies(
        files=AudienceFiles(settings.audiences_bucket),
        hasher=load_hasher(settings),
        suppression=SuppressionRepository(bind(SuppressionItem, settings.suppression_table)),
        part_bytes=settings.split_part_bytes,
    )


def combining(settings: AudienceCombineSettings) -> split.CombineDependencies:
    return split.CombineDependencies(
        AudienceFiles(settings.audiences_bucket), ReceiptKey(settings.receipt_key_id)
    )


@lambda_function(SplitStepEvent, AudienceSplitSettings, screening)
def plan(event: SplitStepEvent, deps: split.SplitDependencies) -> dict[str, Any]:
    try:
        return split.plan_split(AudienceJob.from_dict(event.job), deps)
    except ValidationError as exc:
        # The file itself is wrong (no such column, not gzip): the job fails, nothing is retried.
        return {"error": {"code": exc.code, "message": str(exc)}}


@lambda_function(SplitStepEvent, AudienceSplitSettings, screening)
def screen_part(event: SplitStepEvent, deps: split.SplitDependencies) -> dict[str, Any]:
    job = AudienceJob.from_dict(event.job)
    return split.screen_part(job, event.field("read"), event.field("part"), deps)


@lambda_function(SplitStepEvent, AudienceCombineSettings, combining)
def combine(event: SplitStepEvent, deps: split.CombineDependencies) -> dict[str, Any]:
    job = AudienceJob.from_dict(event.job)
    if event.has("error"):
        record = split.record_failure(job, event.field("error"), deps)
    else:
        record = split.combine_parts(
            job, event.field("parts"), event.field("report"), event.field("screened"), deps
        )
    return {k: record.get(k) for k in ("jobId", "status", "rowsIn", "rowsOut", "error")}
