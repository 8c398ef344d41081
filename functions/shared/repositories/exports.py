"""Export files in S3. Keys hold the request id, never the customer's name or e-mail."""

from __future__ import annotations

from typing import Any

import boto3


def export_prefix(request_id: str) -> str:
    return f"exports/{request_id}"


class ExportFiles:
    def __init__(self, bucket: str, client: Any = None) -> None:
        self._bucket = bucket
        self._client = client or boto3.client("s3")

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
