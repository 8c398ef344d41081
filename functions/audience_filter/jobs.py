"""An audience screening job: what to screen, where from, where to. Shared by the API (which
validates and queues jobs) and the audience filter (which runs them)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from functions.audience_filter.keys import validate_bucket, validate_key
from functions.shared.errors import ConflictError, ValidationError
from functions.shared.identifiers import IdentifierKind
from functions.shared.suppression_reasons import validate_topic

INCOMING = "incoming/"
CLEAN = "clean/"
JOBS = "jobs/"
# The split path's working objects: index snapshot, decompressed source, screened parts, counts.
WORK = "work/"
# Where audience files may come from: dropped for the filter, uploaded by privacyctl, or left by
# a scheduled export. Fixed prefixes keep each role's S3 access to named key prefixes.
SOURCE_PREFIXES = (INCOMING, "requests/", "exports/")
REPORT_SUFFIX = ".report.json"
# The signed screening receipt beside each clean file (functions/audience_filter/receipts.py).
RECEIPT_SUFFIX = ".receipt.json"
# Who asked for a job the bucket itself started (an S3 notification or the schedule's sweep of
# the same files: one job id for both, so one name).
BUCKET_DROP = "bucket-drop"
_JOB_NAMESPACE = uuid.UUID("6f1c2a52-2d0b-4d5e-9a77-5f0c3e2b9a10")


class Format(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


class JobStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class DestinationTakenError(ConflictError):
    """The destination holds a file another job wrote: a job never replaces it."""

    def __init__(self, location: S3Location) -> None:
        super().__init__(
            f"{location.uri} already exists and was not written by this job: screen into a new "
            "destination (a clean file is never replaced by another job)"
        )


@dataclass(frozen=True)
class S3Location:
    """Every location is checked where it is made (functions/audience_filter/keys.py says what a
    key may hold), so no path reaches S3 with a key that could mean another one."""

    bucket: str
    key: str

    def __post_init__(self) -> None:
        validate_bucket(self.bucket)
        validate_key(self.key)

    @classmethod
    def parse(cls, uri: str) -> S3Location:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        if not uri.startswith("s3://") or not bucket or not key or key.endswith("/"):
            raise ValidationError("an audience location is s3://bucket/key")
        return cls(bucket, key)

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def format_of(key: str) -> Format:
    name = key.lower().removesuffix(".gz")
    if name.endswith(".csv"):
        return Format.CSV
    if name.endswith((".jsonl", ".ndjson")):
        return Format.JSONL
    raise ValidationError(
        "the audience file must be .csv or .jsonl (optionally .gz), or say its format"
    )


def parse_columns(raw: Any) -> tuple[tuple[IdentifierKind, str], ...]:
    if not isinstance(raw, dict) or not raw:
        raise ValidationError(
            "identifierColumns must name at least one of customerId, email, phone"
        )
    columns = []
    for kind, column in raw.items():
        try:
            parsed = IdentifierKind(kind)
        except ValueError:
            raise ValidationError("identifierColumns keys are customerId, email or phone") from None
        if not isinstance(column, str) or not column.strip() or len(column) > 200:
            raise ValidationError("each identifier column must be a non-empty column name")
        columns.append((parsed, column))
    return tuple(columns)


@dataclass(frozen=True)
class AudienceJob:
    job_id: str
    source: S3Location
    destination: S3Location
    columns: tuple[tuple[IdentifierKind, str], ...]
    format: Format
    topic: str | None = None
    # Who asked: the API caller's username, or BUCKET_DROP. Recorded on the job and its receipt.
    requested_by: str = field(default=BUCKET_DROP)

    def __post_init__(self) -> None:
        if self.topic is not None:
            validate_topic(self.topic)
        if self.destination.key.endswith((REPORT_SUFFIX, RECEIPT_SUFFIX)):
            # Those names belong to the report and the receipt of another clean file.
            raise ValidationError(
                f"the destination must not end in {REPORT_SUFFIX} or {RECEIPT_SUFFIX}"
            )
        if self.destination == self.source:
            raise ValidationError("the destination must differ from the source")
        if self.destination.key.startswith(INCOMING):
            # Writing under incoming/ would trigger the filter on its own output.
            raise ValidationError("the destination must not be under incoming/")
        if not self.destination.key.startswith(CLEAN):
            raise ValidationError(f"the destination must be under {CLEAN}")
        if not self.source.key.startswith(SOURCE_PREFIXES):
            raise ValidationError(f"the source must be under one of {', '.join(SOURCE_PREFIXES)}")

    @property
    def report(self) -> S3Location:
        return S3Location(self.destination.bucket, self.destination.key + REPORT_SUFFIX)

    @property
    def receipt(self) -> S3Location:
        return S3Location(self.destination.bucket, self.destination.key + RECEIPT_SUFFIX)

    def to_dict(self) -> dict[str, Any]:
        return {
            "jobId": self.job_id,
            "source": self.source.uri,
            "destination": self.destination.uri,
            "identifierColumns": {kind.value: column for kind, column in self.columns},
            "format": self.format.value,
            "topic": self.topic,
            "requestedBy": self.requested_by,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any], job_id: str | None = None) -> AudienceJob:
        source = S3Location.parse(str(raw.get("source", "")))
        fmt = raw.get("format")
        try:
            parsed_format = Format(fmt) if fmt else format_of(source.key)
        except ValueError:
            raise ValidationError("format is csv or jsonl") from None
        return cls(
            job_id=job_id or str(raw.get("jobId") or uuid.uuid4()),
            source=source,
            destination=S3Location.parse(str(raw.get("destination", ""))),
            columns=parse_columns(raw.get("identifierColumns")),
            format=parsed_format,
            topic=raw.get("topic"),
            requested_by=str(raw.get("requestedBy") or BUCKET_DROP),
        )


def job_id_for_object(location: S3Location, etag: str, settings: dict[str, Any]) -> str:
    """One job per object version and screening settings: a re-delivered event or a schedule
    sweep finds the same job; the same file screened with other columns or topic is another."""
    version = etag.strip('"')
    identity = json.dumps([location.uri, version, settings], sort_keys=True)
    return str(uuid.uuid5(_JOB_NAMESPACE, identity))


def clean_key(key: str) -> str:
    return CLEAN + key.removeprefix(INCOMING)
