"""Audience files, screening reports and job records in S3, and queueing a screening job.

Job records and reports hold counts only; their keys hold job ids, never a person's identifier."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from functions.audience_filter.jobs import JOBS, DestinationTakenError, S3Location
from functions.audience_filter.multipart import is_copy, part_groups
from functions.shared.aws_errors import domain_errors
from functions.shared.errors import NotFoundError, ValidationError

# Which job wrote a clean file, its report and its receipt (x-amz-meta-screening-job): a retry
# of that job may replace them, no other job may (README, "Audience filter").
OWNER_METADATA = "screening-job"
# A clean file up to this size is one conditional PutObject; a larger one a multipart upload in
# parts of this size whose completion carries the condition.
SINGLE_PUT_BYTES = 64 * 1024 * 1024
# One part of a multipart upload: given the upload (Bucket, Key, UploadId, PartNumber), puts its
# bytes and answers its ETag.
_Part = Callable[[dict[str, Any]], str]
# What S3 answers when a conditional write loses: the key exists (412), or another conditional
# write to it is under way (409).
_LOST_CONDITION = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}


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
        # Any: the conditional writes pass their condition as keyword arguments.
        self._client: Any = client or boto3.client("s3")

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

    def head(self, location: S3Location, size: int) -> bytes:
        """The object's first `size` bytes (fewer if it is shorter)."""
        body = self._client.get_object(
            Bucket=location.bucket, Key=location.key, Range=f"bytes=0-{size - 1}"
        )["Body"]
        return bytes(body.read())

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

    # Clean files, reports and receipts: conditional writes only (issue 16). A key that does not
    # exist is written with If-None-Match: *, which S3 refuses when any object is there by the
    # time the write completes; a key this same job wrote before is replaced with If-Match on
    # the version read, so nothing written in between is lost either. Any other key: refused.

    def _condition(self, location: S3Location, job_id: str) -> dict[str, str]:
        try:
            head = self._client.head_object(Bucket=location.bucket, Key=location.key)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in {"404", "NoSuchKey", "NotFound"}:
                return {"IfNoneMatch": "*"}
            raise
        metadata = {k.lower(): v for k, v in head.get("Metadata", {}).items()}
        if metadata.get(OWNER_METADATA) == job_id:
            return {"IfMatch": str(head["ETag"])}
        raise DestinationTakenError(location)

    def _conditionally(
        self, location: S3Location, job_id: str, write: Callable[[dict[str, str]], Any]
    ) -> None:
        try:
            write(self._condition(location, job_id))
        except ClientError as exc:
            if exc.response["Error"]["Code"] in _LOST_CONDITION:
                raise DestinationTakenError(location) from None
            raise

    def writable(self, location: S3Location, job_id: str) -> None:
        """Raises DestinationTakenError unless `job_id` may write there (nothing is written)."""
        self._condition(location, job_id)

    def write_file(self, path: Path, location: S3Location, content_type: str, job_id: str) -> None:
        size = path.stat().st_size
        metadata = {OWNER_METADATA: job_id}
        if size <= SINGLE_PUT_BYTES:

            def put(condition: dict[str, str]) -> None:
                with path.open("rb") as body:
                    self._client.put_object(
                        Bucket=location.bucket,
                        Key=location.key,
                        Body=body,
                        ContentType=content_type,
                        Metadata=metadata,
                        **condition,
                    )

            self._conditionally(location, job_id, put)
            return

        def part(offset: int) -> _Part:
            def upload(target: dict[str, Any]) -> str:
                with path.open("rb") as f:
                    f.seek(offset)
                    body = f.read(SINGLE_PUT_BYTES)
                return str(self._client.upload_part(**target, Body=body)["ETag"])

            return upload

        parts = [part(offset) for offset in range(0, size, SINGLE_PUT_BYTES)]
        self._multipart(location, content_type, job_id, parts)

    def _multipart(
        self, location: S3Location, content_type: str, job_id: str, parts: list[_Part]
    ) -> None:
        """One object from `parts` (each uploads or copies one part into the upload it is given
        and answers the part's ETag), completed under the write's condition (If-None-Match on
        CompleteMultipartUpload: S3 refuses to complete it over an existing key), aborted on any
        failure: nothing appears at the key unless every part is in and the key was free."""
        condition = self._condition(location, job_id)  # refused before anything is uploaded
        upload_id = self._client.create_multipart_upload(
            Bucket=location.bucket,
            Key=location.key,
            ContentType=content_type,
            Metadata={OWNER_METADATA: job_id},
        )["UploadId"]
        target = {"Bucket": location.bucket, "Key": location.key, "UploadId": upload_id}
        try:
            done = [
                {"PartNumber": number, "ETag": part({**target, "PartNumber": number})}
                for number, part in enumerate(parts, 1)
            ]
            try:
                self._client.complete_multipart_upload(
                    **target, MultipartUpload={"Parts": done}, **condition
                )
            except ClientError as exc:
                if exc.response["Error"]["Code"] in _LOST_CONDITION:
                    raise DestinationTakenError(location) from None
                raise
        except BaseException:
            self._client.abort_multipart_upload(**target)
            raise

    def write_json(self, location: S3Location, body: dict[str, Any], job_id: str) -> None:
        def put(condition: dict[str, str]) -> None:
            self._client.put_object(
                Bucket=location.bucket,
                Key=location.key,
                Body=json.dumps(body, indent=1).encode(),
                ContentType="application/json",
                Metadata={OWNER_METADATA: job_id},
                **condition,
            )

        self._conditionally(location, job_id, put)

    def digest_chunks(self, location: S3Location) -> Iterator[bytes]:
        """The object's bytes in order, for hashing (a receipt's file)."""
        try:
            body = self._client.get_object(Bucket=location.bucket, Key=location.key)["Body"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] in {"404", "NoSuchKey"}:
                raise NotFoundError(f"nothing at {location.uri}") from None
            raise
        yield from body.iter_chunks(8 * 1024 * 1024)

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
        self, sources: list[StoredObject], location: S3Location, content_type: str, job_id: str
    ) -> None:
        """One object at `location` holding the sources' bytes in order, or nothing new there:
        a conditional multipart upload (see _multipart). Parts of 5 MiB or more are copied
        inside S3, smaller ones gathered (functions/audience_filter/multipart.py)."""
        groups = part_groups([s.size for s in sources])
        if not groups:
            empty = Path(os.devnull)
            self.write_file(empty, location, content_type, job_id)
            return

        def part(group: tuple[Any, ...]) -> _Part:
            def upload(target: dict[str, Any]) -> str:
                if is_copy(group):
                    (piece,) = group
                    source = sources[piece.source].location
                    return str(
                        self._client.upload_part_copy(
                            **target,
                            CopySource={"Bucket": source.bucket, "Key": source.key},
                            CopySourceRange=f"bytes={piece.start}-{piece.end - 1}",
                        )["CopyPartResult"]["ETag"]
                    )
                body = b"".join(
                    self._range(sources[p.source].location, p.start, p.end) for p in group
                )
                return str(self._client.upload_part(**target, Body=body)["ETag"])

            return upload

        self._multipart(location, content_type, job_id, [part(g) for g in groups])

    def _range(self, location: S3Location, start: int, end: int) -> bytes:
        body = self._client.get_object(
            Bucket=location.bucket, Key=location.key, Range=f"bytes={start}-{end - 1}"
        )["Body"]
        return bytes(body.read())

    def keys_under(self, prefix: str) -> list[S3Location]:
        """Every object under `prefix` whose key is a plain name (keys.py); others are not
        audience files this filter will touch."""
        paginator = self._client.get_paginator("list_objects_v2")
        found = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                try:
                    found.append(S3Location(self.bucket, item["Key"]))
                except ValidationError:
                    continue
        return found

    def exists(self, location: S3Location) -> bool:
        """Whether an object is at exactly this key, by listing (ListBucket on the prefix, no
        read of any object: the API checks destinations so)."""
        listed = self._client.list_objects_v2(
            Bucket=location.bucket, Prefix=location.key, MaxKeys=1
        )
        # The exact key sorts before every longer key it prefixes.
        return any(item["Key"] == location.key for item in listed.get("Contents", []))

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
