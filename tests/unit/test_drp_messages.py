"""DRP 1.0 signed messages (functions/drp/messages.py): libsodium's combined mode as PyNaCl
signs it, verified with `cryptography`, and the spec's order of checks (3.07)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from nacl.signing import SigningKey

from functions.drp.messages import (
    DrpRefusal,
    body_digest,
    check_envelope,
    decode,
    open_signed,
    verify_key,
)

KEY = SigningKey.generate()
VERIFY = verify_key(base64.b64encode(KEY.verify_key.encode()).decode())


def signed(message: Any, key: SigningKey = KEY) -> str:
    return base64.b64encode(key.sign(json.dumps(message).encode())).decode()


def envelope(**changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)  # at the call: a module-level moment goes stale in a long run
    return {
        "agent-id": "AGENT",
        "business-id": "BUSINESS",
        "issued-at": (now - timedelta(seconds=5)).isoformat(timespec="milliseconds"),
        "expires-at": (now + timedelta(minutes=10)).isoformat(timespec="milliseconds"),
        **changes,
    }


def refusal(act: Any) -> DrpRefusal:
    with pytest.raises(DrpRefusal) as refused:
        act()
    return refused.value


def test_a_pynacl_signed_message_opens_with_the_agents_key():
    message = envelope(exercise="deletion")
    opened = open_signed(decode(signed(message)), VERIFY)
    assert opened == message
    checked = check_envelope(opened, "AGENT", "BUSINESS")
    assert checked.agent_id == "AGENT" and checked.claims["exercise"] == "deletion"


def test_the_body_must_be_base64_of_a_signature_and_a_message():
    assert refusal(lambda: decode(None)).status == 400
    assert refusal(lambda: decode("")).status == 400
    assert refusal(lambda: decode("not base64 at all!")).status == 400
    assert refusal(lambda: decode(base64.b64encode(b"x" * 64).decode())).status == 400
    assert refusal(lambda: decode("A" * (65 * 1024))).status == 400


def test_the_signature_is_checked_before_anything_in_the_message_is_read():
    # Another key's signature over a message that is not even JSON: the signature decides.
    other = SigningKey.generate()
    raw = base64.b64encode(other.sign(b"not json")).decode()
    assert refusal(lambda: open_signed(decode(raw), VERIFY)).status == 403
    # A flipped byte of the message (after the 64 signature bytes).
    tampered = bytearray(decode(signed(envelope())))
    tampered[70] ^= 1
    assert refusal(lambda: open_signed(bytes(tampered), VERIFY)).status == 403


def test_a_verified_body_must_be_a_json_object():
    for body in (b"not json", b"[1, 2]", b"\xff\xfe"):
        raw = decode(base64.b64encode(KEY.sign(body)).decode())
        assert refusal(lambda raw=raw: open_signed(raw, VERIFY)).status == 400


def test_the_envelope_is_checked_in_the_specs_order():
    now = datetime.now(UTC)
    # Every check fails at once: the first in the spec's order answers.
    everything_wrong = envelope(
        **{
            "agent-id": "OTHER",
            "business-id": "OTHER",
            "issued-at": (now + timedelta(hours=1)).isoformat(),
            "expires-at": (now - timedelta(hours=1)).isoformat(),
        }
    )
    assert (
        "agent-id" in refusal(lambda: check_envelope(everything_wrong, "AGENT", "BUSINESS")).message
    )
    wrong_business = {**everything_wrong, "agent-id": "AGENT"}
    assert (
        "business-id"
        in refusal(lambda: check_envelope(wrong_business, "AGENT", "BUSINESS")).message
    )
    future = {**wrong_business, "business-id": "BUSINESS"}
    assert "future" in refusal(lambda: check_envelope(future, "AGENT", "BUSINESS")).message
    expired = {**future, "issued-at": (now - timedelta(hours=2)).isoformat()}
    late = refusal(lambda: check_envelope(expired, "AGENT", "BUSINESS"))
    assert "expired" in late.message and late.fatal and late.body()["fatal"] is True


def test_expires_at_is_exclusive_and_timestamps_must_be_iso_8601():
    now = datetime.now(UTC)
    at_the_second = envelope(**{"expires-at": now.isoformat()})
    assert refusal(lambda: check_envelope(at_the_second, "AGENT", "BUSINESS")).status == 400
    for bad in ({"issued-at": "yesterday"}, {"expires-at": 12}, {"issued-at": None}):
        message = envelope(**bad)
        assert refusal(lambda m=message: check_envelope(m, "AGENT", "BUSINESS")).status == 400


def test_the_error_object_is_the_specs():
    assert DrpRefusal(400, "Unsupported rights actions submitted.").body() == {
        "code": "400",
        "message": "Unsupported rights actions submitted.",
    }


def test_verify_keys_are_32_bytes_of_base64():
    with pytest.raises(ValueError):
        verify_key("%%%")
    with pytest.raises(ValueError):
        verify_key(base64.b64encode(b"short").decode())


def test_a_replay_is_recognised_by_the_signed_bytes():
    first = decode(signed(envelope()))
    assert body_digest(first) == body_digest(bytes(first))
    assert body_digest(first) != body_digest(decode(signed(envelope(extra=1))))
