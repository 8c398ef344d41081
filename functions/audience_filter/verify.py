"""Checking a clean audience file against its screening receipt, where the file is: a local path
(the receipt beside it as FILE.receipt.json, or given) or s3://bucket/key (the receipt beside it
in the bucket, or given; read with the caller's own AWS credentials). The check itself is
receipts.verify_receipt; this only finds the bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from functions.audience_filter.jobs import RECEIPT_SUFFIX, S3Location
from functions.audience_filter.receipts import (
    ReceiptError,
    digest_chunks,
    digest_file,
    parse_receipt,
    verify_receipt,
)
from functions.shared.errors import NotFoundError


def verify_clean_file(
    target: str, public_key: bytes, receipt: Path | None = None, s3_client: Any = None
) -> dict[str, Any]:
    """Answers the receipt's body when `target` is the very file its receipt names, signed by
    `public_key` (the one the caller trusts); raises ReceiptError with the reason otherwise."""
    if target.startswith("s3://"):
        from functions.audience_filter.files import AudienceFiles

        location = S3Location.parse(target)
        files = AudienceFiles(location.bucket, s3_client)
        beside = S3Location(location.bucket, location.key + RECEIPT_SUFFIX)
        try:
            digest = digest_chunks(files.digest_chunks(location))
            raw = receipt.read_bytes() if receipt else files.get_bytes(beside)
        except NotFoundError:
            raise ReceiptError(f"no clean file with a receipt at {target}") from None
        return verify_receipt(digest, parse_receipt(raw), public_key, location.uri)
    path = Path(target)
    receipt_path = receipt or path.with_name(path.name + RECEIPT_SUFFIX)
    if not path.is_file():
        raise ReceiptError(f"no such file: {path}")
    if not receipt_path.is_file():
        raise ReceiptError(f"{path} has no receipt ({receipt_path} not found): it is unreceipted")
    return verify_receipt(digest_file(path), parse_receipt(receipt_path.read_bytes()), public_key)
