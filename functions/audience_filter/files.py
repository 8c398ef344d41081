"""Audience files, screening reports and job records in S3, and queueing a screening job.

Job records and reports hold counts only; their keys hold job ids, never a person's identifier."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from functions.audience_filter.jobs import JOBS, S3Location
from functions.audience_filter.multipart import is_copy, part_groups
from functions.shared.aws_errors import domain_errors
from functions.shared.errors import NotFoundError, ValidationError


@dataclass(frozen=True)
class StoredObject:
    location: S3Location
    etag: str
    metadata: dict[str, str]
    size: int = 0


@domain_errors
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
        return StoredObject(location, str(head["ETag"]), metadata, int(head["ContentLength"]))

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

    def download_range(
        self, location: S3Location, path: Path, start: int, end: int | None, etag: str | None
    ) -> None:
        """Bytes [start, end) (to the end when `end` is None) of the object, only as long as it
        is still the version `etag` names: a file replaced mid-job fails the job."""
        last = "" if end is None else str(end - 1)
        if etag:
            body = self._client.get_object(
                Bucket=location.bucket,
                Key=location.key,
                Range=f"bytes={start}-{last}",
                IfMatch=etag,
            )["Body"]
        else:
            body = self._client.get_object(
                Bucket=location.bucket, Key=location.key, Range=f"bytes={start}-{last}"
            )["Body"]
        with path.open("wb") as out:
            for chunk in body.iter_chunks(8 * 1024 * 1024):
                out.write(chunk)

    def put_bytes(self, location: S3Location, body: bytes) -> None:
        self._client.put_object(Bucket=location.bucket, Key=location.key, Body=body)

    def get_bytes(self, location: S3Location) -> bytes:
        try:
            body = self._client.get_object(Bucket=location.bucket, Key=location.key)["Body"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] in {"404", "NoSuchKey"}:
                raise NotFoundError(f"nothing at {location.uri}") from None
            raise
        return bytes(body.read())

    def concatenate(
        self, sources: list[StoredObject], location: S3Location, content_type: str
    ) -> None:
        """One object at `location` holding the sources' bytes in order, or nothing new there:
        a multipart upload that is completed only when every part is in, aborted otherwise."""
        groups = part_groups([s.size for s in sources])
        bucket, key = location.bucket, location.key
        if not groups:
            self._client.put_object(Bucket=bucket, Key=key, Body=b"", ContentType=content_type)
            return
        upload_id = self._client.create_multipart_upload(
            Bucket=bucket, Key=key, ContentType=content_type
        )["UploadId"]
        try:
            parts: list[Any] = []
            for number, group in enumerate(groups, 1):
                if is_copy(group):
                    (piece,) = group
                    source = sources[piece.source].location
                    etag = self._client.upload_part_copy(
                        Bucket=bucket,
                        Key=key,
                        UploadId=upload_id,
                        PartNumber=number,
                        CopySource={"Bucket": source.bucket, "Key": source.key},
                        CopySourceRange=f"bytes={piece.start}-{piece.end - 1}",
                    )["CopyPartResult"]["ETag"]
                else:
                    body = b"".join(
                        self._range(sources[p.source].location, p.start, p.end) for p in group
                    )
                    etag = self._client.upload_part(
                        Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
                    )["ETag"]
                parts.append({"PartNumber": number, "ETag": etag})
            self._client.complete_multipart_upload(
                Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            self._client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            raise

    def _range(self, location: S3Location, start: int, end: int) -> bytes:
        body = self._client.get_object(
            Bucket=location.bucket, Key=location.key, Range=f"bytes={start}-{end - 1}"
        )["Body"]
        return bytes(body.read())

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

    # Uploads through the API (POST /audiences/uploads, functions/audience_filter/uploads.py):
    # presigned links to exactly one key each, the upload records beside the job records, and
    # removing what an upload left.

    def _signer(self) -> Any:
        """A client that signs links the way S3 requires for KMS-encrypted objects (SigV4; boto3's
        default for presigned URLs is still SigV2), at the bucket's regional endpoint (the global
        one may redirect, and a redirected PUT loses its body). The local stack's moto is
        AWS_ENDPOINT_URL, botocore's own variable: path-style there."""
        signer = getattr(self, "_signing_client", None)
        if signer is None:
            region = self._client.meta.region_name
            local = os.environ.get("AWS_ENDPOINT_URL")
            signer = boto3.client(
                "s3",
                region_name=region,
                endpoint_url=local or f"https://s3.{region}.amazonaws.com",
                config=Config(
                    signature_version="s3v4",
                    s3={"addressing_style": "path" if local else "virtual"},
                ),
            )
            self._signing_client = signer
        return signer

    def presign_put(self, location: S3Location, seconds: int) -> str:
        return str(
            self._signer().generate_presigned_url(
                "put_object",
                Params={"Bucket": location.bucket, "Key": location.key},
                ExpiresIn=seconds,
                HttpMethod="PUT",
            )
        )

    def presign_get(self, location: S3Location, seconds: int) -> str:
        return str(
            self._signer().generate_presigned_url(
                "get_object",
                Params={"Bucket": location.bucket, "Key": location.key},
                ExpiresIn=seconds,
            )
        )

    def remove_under(self, prefix: str) -> list[str]:
        """Removes every version of every object under `prefix` (the bucket is versioned: a plain
        DeleteObject would only hide the file behind a delete marker); answers the keys."""
        paginator = self._client.get_paginator("list_object_versions")
        removed: list[str] = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for version in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                self._client.delete_object(
                    Bucket=self.bucket, Key=version["Key"], VersionId=version["VersionId"]
                )
                if version["Key"] not in removed:
                    removed.append(version["Key"])
        return removed

    def _upload_location(self, upload_id: str) -> S3Location:
        return S3Location(self.bucket, f"{JOBS}uploads/{upload_id}.json")

    def save_upload(self, record: dict[str, Any]) -> None:
        self.put_json(self._upload_location(str(record["uploadId"])), record)

    def upload_record(self, upload_id: str) -> dict[str, Any] | None:
        try:
            raw = self.get_bytes(self._upload_location(upload_id))
        except NotFoundError:
            return None
        return dict(json.loads(raw))


@domain_errors
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
