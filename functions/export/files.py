"""Export files in S3. Keys hold the request id, never the customer's name or e-mail."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import boto3
from botocore.config import Config

from functions.shared.aws_errors import domain_errors

# S3's smallest part but the last is 5 MiB; a part is the most an upload holds in memory.
PART_SIZE = 8 * 1024 * 1024
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


def export_prefix(request_id: str) -> str:
    return f"exports/{request_id}"


def export_key(request_id: str) -> str:
    return f"{export_prefix(request_id)}/export.csv"


@domain_errors
class ExportFiles:
    def __init__(self, bucket: str, client: Any = None) -> None:
        self._bucket = bucket
        # SigV4: S3 serves KMS-encrypted objects to SigV4-signed requests only.
        self._client: Any = client or boto3.client("s3", config=Config(signature_version="s3v4"))

    def count_versions(self, request_id: str) -> int:
        paginator = self._client.get_paginator("list_object_versions")
        pages = paginator.paginate(Bucket=self._bucket, Prefix=export_prefix(request_id))
        return sum(len(p.get("Versions", [])) for p in pages)

    def delete_all_versions(self, request_id: str) -> int:
        """Delete every version and delete marker under the request's prefix, where versioning is
        on, so no earlier copy of an export survives. Answers how many were deleted."""
        deleted = 0
        paginator = self._client.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=export_prefix(request_id)):
            versions = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if versions:
                self._client.delete_objects(
                    Bucket=self._bucket, Delete={"Objects": versions, "Quiet": True}
                )
                deleted += len(versions)
        return deleted

    def upload(self, request_id: str, chunks: Iterable[bytes]) -> str:
        """Stream `chunks` into the request's export file with a multipart upload, holding at most
        one part in memory. The bucket's default encryption (SSE-KMS) applies. Answers the new
        object version's id; a failed upload is aborted so no partial file is left behind."""
        key = export_key(request_id)
        upload_id = self._client.create_multipart_upload(
            Bucket=self._bucket,
            Key=key,
            ContentType=CSV_CONTENT_TYPE,
            ContentDisposition=f'attachment; filename="export-{request_id}.csv"',
        )["UploadId"]
        try:
            parts = [
                {"PartNumber": number, "ETag": self._put_part(key, upload_id, number, body)}
                for number, body in enumerate(_parts(chunks, PART_SIZE), start=1)
            ]
            response = self._client.complete_multipart_upload(
                Bucket=self._bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            self._client.abort_multipart_upload(Bucket=self._bucket, Key=key, UploadId=upload_id)
            raise
        return str(response.get("VersionId") or "null")

    def _put_part(self, key: str, upload_id: str, number: int, body: bytes) -> str:
        response = self._client.upload_part(
            Bucket=self._bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
        )
        return str(response["ETag"])

    def download_link(self, request_id: str, version_id: str, seconds: int) -> str:
        """A presigned GET of exactly the version that was produced (and audited)."""
        params = {"Bucket": self._bucket, "Key": export_key(request_id)}
        if version_id != "null":
            params["VersionId"] = version_id
        return str(
            self._client.generate_presigned_url("get_object", Params=params, ExpiresIn=seconds)
        )


def _parts(chunks: Iterable[bytes], size: int) -> Iterable[bytes]:
    """Regroup chunks into parts of at least `size` bytes (the last may be smaller); an empty
    stream still makes one (empty) part, since a multipart upload needs one."""
    buffer = bytearray()
    parts = 0
    for chunk in chunks:
        buffer += chunk
        if len(buffer) >= size:
            yield bytes(buffer)
            buffer.clear()
            parts += 1
    if buffer or not parts:
        yield bytes(buffer)
