"""Audience files, screening reports and job records in S3, and queueing a screening job.

Job records and reports hold counts only; their keys hold job ids, never a person's identifier."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from functions.shared.audience_jobs import JOBS, S3Location
from functions.shared.errors import NotFoundError, ValidationError


@dataclass(frozen=True)
class StoredObject:
    location: S3Location
    etag: str
    metadata: dict[str, str]


class AudienceFiles:
    def __init__(self, bucket: str, client: Any = None) -> None:
        self.bucket = bucket
        self._client = client or boto3.client("s3")

    def describe(self, location: S3Location) -> StoredObject:
        try:
            head = self._client.head_object(Bucket=location.bucket, Key=location.key)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in {"404", "NoSuchKey", "NotFound"}:
                raise NotFoundError(f"no audience file at {location.uri}") from None
            raise
        # Metadata names are case-insensitive HTTP headers: read them lower-cased.
        metadata = {k.lower(): v for k, v in head.get("Metadata", {}).items()}
        return StoredObject(location, str(head["ETag"]), metadata)

    def download(self, location: S3Location, path: Path) -> None:
        try:
            self._client.download_file(location.bucket, location.key, str(path))
        except ClientError as exc:
            if exc.response["Error"]["Code"] in {"404", "NoSuchKey", "NotFound"}:
                raise ValidationError(f"no audience file at {location.uri}") from None
            raise

    def upload(self, path: Path, location: S3Location, content_type: str) -> None:
        self._client.upload_file(
            str(path), location.bucket, location.key, ExtraArgs={"ContentType": content_type}
        )

    def put_json(self, location: S3Location, body: dict[str, Any]) -> None:
        self._client.put_object(
            Bucket=location.bucket,
            Key=location.key,
            Body=json.dumps(body, indent=1).encode(),
            ContentType="application/json",
        )

    def keys_under(self, prefix: str) -> list[S3Location]:
        paginator = self._client.get_paginator("list_objects_v2")
        return [
            S3Location(self.bucket, item["Key"])
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix)
            for item in page.get("Contents", [])
        ]

    def _job_location(self, job_id: str) -> S3Location:
        return S3Location(self.bucket, f"{JOBS}{job_id}.json")

    def job(self, job_id: str) -> dict[str, Any] | None:
        location = self._job_location(job_id)
        try:
            body = self._client.get_object(Bucket=location.bucket, Key=location.key)["Body"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] in {"404", "NoSuchKey"}:
                return None
            raise
        return dict(json.loads(body.read()))

    def save_job(self, record: dict[str, Any]) -> None:
        self.put_json(self._job_location(str(record["jobId"])), record)


class ScreeningQueue:
    """Starts a screening job on the audience filter function, asynchronously."""

    def __init__(self, function_name: str, client: Any = None) -> None:
        self._function = function_name
        self._client = client or boto3.client("lambda")

    def start(self, job: dict[str, Any]) -> None:
        self._client.invoke(
            FunctionName=self._function,
            InvocationType="Event",
            Payload=json.dumps({"screeningJob": job}).encode(),
        )
