"""Digests of the audit chain's head in an S3 bucket with Object Lock: a copy of the head that
whoever can write the tables cannot rewrite, so even a consistently rewritten chain shows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3

from functions.shared import clock
from functions.shared.audit_chain import ChainHead, Digest
from functions.shared.aws_errors import domain_errors
from functions.shared.clock import utc_now

DIGEST_PREFIX = "audit-digests/"


@domain_errors
class DigestStore:
    def __init__(self, bucket: str, retention_days: int = 0, client: Any = None) -> None:
        self._bucket = bucket
        self._retention_days = retention_days
        self._client = client or boto3.client("s3")

    def put(self, head: ChainHead) -> Digest:
        """One object per digest, kept in COMPLIANCE mode for the retention period: nobody,
        root included, can delete or overwrite it before then."""
        taken = utc_now()
        key = f"{DIGEST_PREFIX}{taken}-{head.seq:012d}.json"
        body = {"seq": head.seq, "hash": head.hash, "headAt": head.at, "takenAt": taken}
        extra: dict[str, Any] = {}
        if self._retention_days:
            extra = {
                "ObjectLockMode": "COMPLIANCE",
                "ObjectLockRetainUntilDate": clock.now() + timedelta(days=self._retention_days),
                "ChecksumAlgorithm": "SHA256",
            }
        self._client.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=json.dumps(body).encode(),
            ContentType="application/json",
            **extra,
        )
        return Digest(seq=head.seq, hash=head.hash, at=taken, key=key)

    def all(self) -> Iterator[Digest]:
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=DIGEST_PREFIX):
            for obj in page.get("Contents", []):
                body = json.loads(
                    self._client.get_object(Bucket=self._bucket, Key=obj["Key"])["Body"].read()
                )
                yield Digest(
                    seq=int(body["seq"]), hash=str(body["hash"]), at=body["takenAt"], key=obj["Key"]
                )
