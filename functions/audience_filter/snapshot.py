"""The suppression index snapshot a split job screens every part against, packed for S3.

A JSON header line (the reasons, the digest width, the count), then per entry the raw digest
followed by one byte: the reason's position in the header's list. Hashes and reasons only, as
the index holds them: no subject, no identifier."""

from __future__ import annotations

import json
from collections.abc import Mapping

DIGEST_BYTES = 32  # HMAC-SHA256


def pack(index: Mapping[bytes, str]) -> bytes:
    reasons = sorted(set(index.values()))
    if len(reasons) > 255:
        raise ValueError("a snapshot holds at most 255 distinct reasons")
    code = {reason: i for i, reason in enumerate(reasons)}
    body = bytearray()
    for digest, reason in index.items():
        if len(digest) != DIGEST_BYTES:
            raise ValueError("every digest of the index is a raw HMAC-SHA256")
        body += digest
        body.append(code[reason])
    head = json.dumps({"reasons": reasons, "digestBytes": DIGEST_BYTES, "count": len(index)})
    return head.encode() + b"\n" + bytes(body)


def unpack(blob: bytes) -> dict[bytes, str]:
    head, _, body = blob.partition(b"\n")
    meta = json.loads(head)
    width, reasons = int(meta["digestBytes"]), list(meta["reasons"])
    step = width + 1
    if len(body) != step * int(meta["count"]):
        raise ValueError("the index snapshot is truncated")
    view = memoryview(body)
    return {bytes(view[i : i + width]): reasons[body[i + width]] for i in range(0, len(body), step)}
