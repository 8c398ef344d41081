"""DRP 1.0 signed messages (spec 3.07): a base64 text whose bytes are an Ed25519 signature
(64 bytes) immediately followed by the signed JSON ("combined mode", as libsodium and PyNaCl's
`SigningKey.sign` produce it). Checked in the spec's order, and nothing read from the message
is trusted before its signature is: base64, the signature with the key of the agent the token
(or, for key setup, the path) names, then `agent-id`, `business-id`, `issued-at` <= now and
now < `expires-at`. Every refusal is a DrpRefusal: the spec's error object, never a 500."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from functions.shared import clock

SIGNATURE_BYTES = 64
VERIFY_KEY_BYTES = 32
DRP_VERSION = "1.0"
# Bodies of this API are small; a signed DRP message is a few hundred bytes.
MAX_MESSAGE_BYTES = 64 * 1024


class DrpRefusal(Exception):
    """The spec's error state (3.06): `code` the HTTP status as a string, `message`, and
    `fatal` when the request will not be processed whatever is retried. Messages never quote
    what was sent (claims are personal data)."""

    def __init__(self, status: int, message: str, *, fatal: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.fatal = fatal

    def body(self) -> dict[str, Any]:
        answer: dict[str, Any] = {"code": str(self.status), "message": self.message}
        if self.fatal:
            answer["fatal"] = True
        return answer


def verify_key(text: str) -> Ed25519PublicKey:
    """A base64 Ed25519 verify key (the agent directory's `verify_key`), or ValueError."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("verifyKey is not base64") from None
    if len(raw) != VERIFY_KEY_BYTES:
        raise ValueError(f"verifyKey must be {VERIFY_KEY_BYTES} bytes (an Ed25519 verify key)")
    return Ed25519PublicKey.from_public_bytes(raw)


def decode(body: str | None) -> bytes:
    """Step 1: the message decodes from base64 into a buffer long enough to hold a signature."""
    if not body:
        raise DrpRefusal(400, "the request body is empty: send the signed message (text/plain)")
    if len(body) > MAX_MESSAGE_BYTES:
        raise DrpRefusal(400, f"the signed message is over {MAX_MESSAGE_BYTES // 1024} KiB")
    try:
        raw = base64.b64decode(body.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise DrpRefusal(400, "the request body is not base64") from None
    if len(raw) <= SIGNATURE_BYTES:
        raise DrpRefusal(400, "the signed message is too short to carry a signature")
    return raw


def open_signed(raw: bytes, key: Ed25519PublicKey) -> dict[str, Any]:
    """Step 2: the signature at the front validates with `key`; only then is the JSON read."""
    signature, signed = raw[:SIGNATURE_BYTES], raw[SIGNATURE_BYTES:]
    try:
        key.verify(signature, signed)
    except InvalidSignature:
        raise DrpRefusal(403, "the signature does not verify with this agent's key") from None
    try:
        message = json.loads(signed.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise DrpRefusal(400, "the signed message is not JSON") from None
    if not isinstance(message, dict):
        raise DrpRefusal(400, "the signed message is not a JSON object")
    return message


def _moment(message: dict[str, Any], name: str) -> datetime:
    value = message.get(name)
    if not isinstance(value, str):
        raise DrpRefusal(400, f"{name} is missing: an ISO 8601 timestamp is required")
    try:
        return clock.parse(value)
    except ValueError:
        raise DrpRefusal(400, f"{name} is not an ISO 8601 timestamp") from None


@dataclass(frozen=True)
class Envelope:
    """A message whose signature, agent, business and validity window were all checked."""

    claims: dict[str, Any]
    agent_id: str
    issued_at: datetime
    expires_at: datetime


def check_envelope(message: dict[str, Any], agent_id: str, business_id: str) -> Envelope:
    """Steps 3 to 6, in the spec's order: the agent the token (or path) names, this business,
    issued no later than now, not yet expired."""
    if message.get("agent-id") != agent_id:
        raise DrpRefusal(403, "agent-id does not match the agent this token was issued to")
    if message.get("business-id") != business_id:
        raise DrpRefusal(403, "business-id does not name this business")
    issued = _moment(message, "issued-at")
    expires = _moment(message, "expires-at")
    now = clock.now()
    if now < issued:
        raise DrpRefusal(400, "issued-at is in the future (check the agent's clock)")
    if now >= expires:
        raise DrpRefusal(400, "the signed message has expired (expires-at has passed)", fatal=True)
    return Envelope(message, agent_id, issued, expires)


def body_digest(raw: bytes) -> str:
    """What a replayed message is recognised by: the SHA-256 of its signed bytes."""
    return hashlib.sha256(raw).hexdigest()
