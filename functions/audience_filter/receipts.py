"""Screening receipts: what a clean audience file was made from and how, signed with the
receipts' KMS key (ECC_NIST_P256, ECDSA_SHA_256), written beside it as `<clean key>.receipt.json`.

A receipt holds no personal data: hashes and sizes of whole files, the identifier columns' names,
the topic, the index snapshot's time and size, counts, the job id and the caller's username.

    {"receipt": {...the fields below...},
     "signature": {"algorithm": "ECDSA_SHA_256", "keyId": "<KMS key ARN>", "value": "<base64>"}}

What is signed is `privacy-audience-receipt/v1\\n` + the hex SHA-256 of the receipt's canonical
JSON (keys sorted, no spaces, UTF-8): KMS signs a RAW message of at most 4,096 bytes, and a
receipt's URIs and column names alone may come near that; the digest is fixed-size, and signing
it binds every byte of the receipt as firmly (SHA-256's collision resistance).

Verification never trusts the receipt's own `keyId`: whoever forges a receipt can sign it with a
key of their own and name that one. The verifier brings the public key it trusts (the API's
`GET /audiences/receipt-key`, or a PEM file)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

VERSION = 1
ALGORITHM = "ECDSA_SHA_256"
KEY_SPEC = "ECC_NIST_P256"
_DOMAIN = b"privacy-audience-receipt/v1\n"
CHUNK = 8 * 1024 * 1024


class ReceiptError(Exception):
    """The file does not match a genuine receipt; str() is the one-line reason."""


@dataclass(frozen=True)
class Digest:
    sha256: str
    size: int

    def as_dict(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "bytes": self.size}


def digest_chunks(chunks: Iterable[bytes]) -> Digest:
    h, size = hashlib.sha256(), 0
    for chunk in chunks:
        h.update(chunk)
        size += len(chunk)
    return Digest(h.hexdigest(), size)


def digest_file(path: Path) -> Digest:
    with path.open("rb") as f:
        return digest_chunks(iter(lambda: f.read(CHUNK), b""))


def pem(der: bytes) -> str:
    """A DER SubjectPublicKeyInfo as PEM (what openssl and cryptography read)."""
    text = base64.b64encode(der).decode()
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return "\n".join(["-----BEGIN PUBLIC KEY-----", *lines, "-----END PUBLIC KEY-----"]) + "\n"


def canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signed_message(body: dict[str, Any]) -> bytes:
    """The bytes KMS signs (RAW, ECDSA_SHA_256) for a receipt body."""
    return _DOMAIN + hashlib.sha256(canonical(body)).hexdigest().encode()


def receipt_body(
    *,
    job: dict[str, Any],
    source: Digest,
    destination: Digest,
    snapshot_at: str,
    entries: int,
    counts: dict[str, Any],
    issued_at: str,
) -> dict[str, Any]:
    """`job` is the job's record form (AudienceJob.to_dict()); `counts` the report's counts."""
    return {
        "version": VERSION,
        "jobId": job["jobId"],
        "caller": job["requestedBy"],
        "source": {"uri": job["source"], **source.as_dict()},
        "destination": {"uri": job["destination"], **destination.as_dict()},
        "format": job["format"],
        "identifierColumns": job["identifierColumns"],
        "topic": job["topic"],
        "index": {"snapshotAt": snapshot_at, "entries": entries},
        "counts": {
            "rowsIn": counts["rowsIn"],
            "kept": counts["rowsOut"],
            "dropped": counts["dropped"],
            "malformed": counts["malformed"]["rows"],
        },
        "issuedAt": issued_at,
    }


def signed_receipt(body: dict[str, Any], key_id: str, signature: bytes) -> dict[str, Any]:
    value = base64.b64encode(signature).decode()
    return {"receipt": body, "signature": {"algorithm": ALGORITHM, "keyId": key_id, "value": value}}


def parse_receipt(raw: bytes) -> dict[str, Any]:
    try:
        receipt = json.loads(raw)
        body, signature = receipt["receipt"], receipt["signature"]
        if not isinstance(body, dict) or signature["algorithm"] != ALGORITHM:
            raise TypeError
        destination = body["destination"]
        int(destination["bytes"]), str(destination["sha256"]), str(signature["value"])
    except (ValueError, TypeError, KeyError):
        raise ReceiptError("the receipt is not a screening receipt") from None
    return dict(receipt)


def verify_receipt(
    file: Digest, receipt: dict[str, Any], public_key: bytes, uri: str | None = None
) -> dict[str, Any]:
    """Checks a clean file (its digest) against a parsed receipt with the public key the caller
    trusts (DER SubjectPublicKeyInfo or PEM). `uri`: where the file was read from in S3, which
    the receipt must name. Answers the receipt's body; raises ReceiptError with the reason."""
    # Imported here: only verifiers need it (privacyctl, operators), never a screening function.
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    body = receipt["receipt"]
    key = (
        serialization.load_pem_public_key(public_key)
        if public_key.lstrip().startswith(b"-----")
        else serialization.load_der_public_key(public_key)
    )
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ReceiptError("the receipt key is not an elliptic-curve key")
    try:
        signature = base64.b64decode(receipt["signature"]["value"], validate=True)
        key.verify(signature, signed_message(body), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        raise ReceiptError(
            "the receipt's signature does not verify with the receipt key: it was altered or forged"
        ) from None
    expected = body["destination"]
    if (file.sha256, file.size) != (expected["sha256"], int(expected["bytes"])):
        raise ReceiptError(
            f"the file does not match its receipt (SHA-256 {file.sha256[:12]}…, {file.size} "
            f"bytes; the receipt is of {expected['sha256'][:12]}…, {expected['bytes']} bytes): "
            "it was changed, or the receipt is another file's"
        )
    if uri is not None and expected["uri"] != uri:
        raise ReceiptError(f"the receipt is of {expected['uri']}, not of {uri}")
    return dict(body)
