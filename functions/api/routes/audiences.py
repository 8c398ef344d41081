"""Audience screening (API.md, "Audience screening"), the receipts' public key, and uploads
through the API ("Audience uploads"); the work itself is in functions/audience_filter."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel

from functions.api.dependencies import api_dependencies
from functions.api.operations import current_caller, operation
from functions.api.schemas import Answer, answer
from functions.api.schemas import Body as BodyModel
from functions.audience_filter import uploads
from functions.audience_filter.queue import receipt_key, screening_job, start_screening
from functions.shared.caller import Group

router = APIGatewayRouter()
JobId = Annotated[str, Path(alias="jobId", min_length=1, max_length=128)]
UploadId = Annotated[str, Path(alias="uploadId", min_length=1, max_length=128)]
SCREENERS = (Group.AGENT, Group.EXPORT_JOB)


class FilterBody(BodyModel):
    source: str = Field(max_length=1100, description="s3://<audiences bucket>/<key> to screen")
    destination: str = Field(
        max_length=1100, description="s3://<audiences bucket>/clean/<key>: must not exist yet"
    )
    identifier_columns: dict[str, str] = Field(
        alias="identifierColumns",
        description="identifier kind (customerId, email, phone) -> the file's column holding it",
    )
    topic: str | None = Field(default=None, max_length=63)
    format: str | None = Field(default=None, max_length=8, description="csv or jsonl")


class UploadBody(BodyModel):
    file_name: str = Field(
        alias="fileName",
        max_length=1024,
        description="The audience file's name, e.g. spring.csv (.csv, .jsonl, optionally .gz)",
    )


class JobStarted(Answer):
    job_id: str


class ScreeningJobAnswer(Answer):
    """The job as recorded: its files, identifier columns, status and, once done, the counts."""

    model_config = ConfigDict(extra="allow", alias_generator=to_camel, populate_by_name=True)

    job_id: str
    status: str


class ReceiptKeyAnswer(Answer):
    key_id: str
    key_spec: str
    algorithm: str
    public_key: str = Field(description="PEM (SubjectPublicKeyInfo)")


class UploadIssued(Answer):
    upload_id: str
    upload_url: str
    method: str
    source: str
    destination: str
    expires_at: str


class UploadRemoved(Answer):
    upload_id: str
    removed: list[str]


class AudienceDownloads(Answer):
    job_id: str
    upload_id: str
    download_url: str
    report_url: str
    receipt_url: str
    expires_at: str


@router.post(
    "/audiences/filter",
    **operation(
        *SCREENERS,
        summary="Screen an audience file in S3 against the suppression index",
        answer=JobStarted,
        status=202,
        errors=(409, 503),
    ),
)
def post_filter(body: Annotated[FilterBody, Body()]) -> Response[Any]:
    raw = body.model_dump(by_alias=True, exclude_none=True)
    deps = api_dependencies()
    started = start_screening(raw, current_caller(router), deps.screening, deps.hasher)
    return answer(JobStarted.model_validate(started), 202)


@router.get(
    "/audiences/filter/<jobId>",
    **operation(
        *SCREENERS,
        summary="A screening job's status and counts",
        answer=ScreeningJobAnswer,
        errors=(404, 503),
    ),
)
def get_filter(job_id: JobId) -> Response[Any]:
    job = screening_job(job_id, api_dependencies().screening)
    return answer(ScreeningJobAnswer.model_validate(job))


@router.get(
    "/audiences/receipt-key",
    **operation(
        *SCREENERS,
        Group.COMPLIANCE,
        summary="The public key that verifies every screening receipt, offline",
        answer=ReceiptKeyAnswer,
        errors=(503,),
    ),
)
def get_receipt_key() -> Response[Any]:
    return answer(ReceiptKeyAnswer.model_validate(receipt_key(api_dependencies().screening)))


@router.post(
    "/audiences/uploads",
    **operation(
        *SCREENERS,
        summary="A presigned upload for an audience file",
        answer=UploadIssued,
        status=201,
        errors=(503,),
    ),
)
def post_upload(body: Annotated[UploadBody, Body()]) -> Response[Any]:
    raw = body.model_dump(by_alias=True, exclude_none=True)
    files = api_dependencies().screening.files
    issued = uploads.issue_upload(raw, current_caller(router).username, files)
    return answer(UploadIssued.model_validate(issued), 201)


@router.delete(
    "/audiences/uploads/<uploadId>",
    **operation(
        *SCREENERS,
        summary="Remove an upload, its clean copy and report (the uploader only)",
        answer=UploadRemoved,
        errors=(404, 503),
    ),
)
def delete_upload(upload_id: UploadId) -> Response[Any]:
    files = api_dependencies().screening.files
    removed = uploads.remove_upload(upload_id, current_caller(router).username, files)
    return answer(UploadRemoved.model_validate(removed))


@router.get(
    "/audiences/filter/<jobId>/download",
    **operation(
        *SCREENERS,
        summary="Presigned downloads of an uploaded file's clean copy and report (the uploader)",
        answer=AudienceDownloads,
        errors=(404, 409, 503),
    ),
)
def get_filter_download(job_id: JobId) -> Response[Any]:
    files = api_dependencies().screening.files
    links = uploads.download_links(files.job(job_id), current_caller(router).username, files)
    return answer(AudienceDownloads.model_validate(links))
