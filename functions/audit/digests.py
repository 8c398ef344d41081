"""Digests of the audit chain's head in an S3 bucket with Object Lock: a copy of the head that
whoever can write the tables cannot rewrite, so even a consistently rewritten chain shows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3

from functions.shared.audit_chain import ChainHead, Digest
from functions.shared.aws_errors import domain_errors
from functions.shared.clock import utc_now

DIGEST_PREFIX = "audit-digests/"


@domain_errors
class DigestStore:
    def __init__(self, bucket: str, client: Any = None) -> None:
        self._bucket = bucket
        self._client = client or boto3.client("s3")

    def put(self, head: ChainHead) -> Digest:
        """One object per digest, locked in COMPLIANCE mode by the bucket's default retention:
        nobody, root included, can delete it or shorten its lock before then (the writer needs
        no s3:PutObjectRetention, which would also let it choose a shorter lock)."""
        taken = utc_now()
        key = f"{DIGEST_PREFIX}{taken}-{head.seq:012d}.json"
        body = {
            "seq": head.seq,
            "hash": head.hash,
            "headAt": head.at,
            "takenAt": taken,
            "keyed": head.mac is not None,
        }
        self._client.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=json.dumps(body).encode(),
            ContentType="application/json",
            # A locked bucket takes a PUT only with an integrity checksum.
            ChecksumAlgorithm="SHA256",
        )
        return Digest(seq=head.seq, hash=head.hash, at=taken, key=key, keyed=head.mac is not None)

    def all(self) -> Iterator[Digest]:
        """Every version of every digest object: Object Lock keeps each version, but anyone who
        may put objects can add a newer one under a key, so the newest alone proves nothing."""
        paginator = self._client.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=DIGEST_PREFIX):
            for version in page.get("Versions", []):
                key, version_id = version["Key"], version["VersionId"]
                body = json.loads(
                    self._client.get_object(Bucket=self._bucket, Key=key, VersionId=version_id)[
                        "Body"
                    ].read()
                )
                yield Digest(
                    seq=int(body["seq"]),
                    hash=str(body["hash"]),
                    at=str(body["takenAt"]),
                    key=key,
                    version=version_id,
                    keyed=bool(body.get("keyed")),
                )
