"""The audiences bucket of the local stack, for the audience filter's tests."""

from __future__ import annotations

from typing import Any


def s3(stack: Any) -> Any:
    return stack.client("s3")


def bucket(stack: Any) -> str:
    return str(stack.env["AUDIENCES_BUCKET"])


def read(stack: Any, key: str) -> bytes:
    return bytes(s3(stack).get_object(Bucket=bucket(stack), Key=key)["Body"].read())


def exists(stack: Any, key: str) -> bool:
    found = s3(stack).list_objects_v2(Bucket=bucket(stack), Prefix=key)
    return any(o["Key"] == key for o in found.get("Contents", []))
