"""The audit chain's key, held by KMS (an HMAC_256 key: it never leaves KMS), and the digests it
asks for every N entries. Writers generate MACs; verification checks the head's."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3

from functions.shared.audit_chain import mac_message
from functions.shared.aws_errors import domain_errors

MAC_ALGORITHM = "HMAC_SHA_256"


@domain_errors
class KmsEntryMacs:
    def __init__(self, key_id: str, client: Any = None) -> None:
        self._key_id = key_id
        self._client = client or boto3.client("kms")

    def mac(self, entry_hash: str) -> str:
        answer = self._client.generate_mac(
            KeyId=self._key_id, Message=mac_message(entry_hash), MacAlgorithm=MAC_ALGORITHM
        )
        return base64.b64encode(answer["Mac"]).decode()

    def valid(self, entry_hash: str, mac: str) -> bool:
        try:
            answer = self._client.verify_mac(
                KeyId=self._key_id,
                Message=mac_message(entry_hash),
                MacAlgorithm=MAC_ALGORITHM,
                Mac=base64.b64decode(mac),
            )
        except self._client.exceptions.KMSInvalidMacException:
            return False
        return bool(answer.get("MacValid"))


@domain_errors
class DigestMilestones:
    """Every `every` entries, the digest function is invoked (asynchronously) to copy the head to
    the Object-Locked bucket: between two digests at most `every` entries are unanchored."""

    def __init__(self, function: str, every: int, client: Any = None) -> None:
        self._function = function
        self._every = every
        self._client = client or boto3.client("lambda")

    def passed(self, before: int, after: int) -> None:
        if after // self._every > before // self._every:
            self._client.invoke(
                FunctionName=self._function,
                InvocationType="Event",
                Payload=json.dumps({"milestone": after - after % self._every}).encode(),
            )
