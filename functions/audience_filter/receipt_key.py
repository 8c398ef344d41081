"""The receipts' signing key, held by KMS (ECC_NIST_P256: the private key never leaves KMS).
The screening functions sign with it; the API hands out its public key so that anyone can verify
a receipt offline (functions/audience_filter/receipts.py)."""

from __future__ import annotations

from typing import Any

import boto3

from functions.audience_filter.receipts import ALGORITHM
from functions.shared.aws_errors import domain_errors


@domain_errors
class ReceiptKey:
    def __init__(self, key_id: str, client: Any = None) -> None:
        self.key_id = key_id
        self._client = client or boto3.client("kms")

    def sign(self, message: bytes) -> bytes:
        """An ECDSA_SHA_256 signature (DER) of the RAW message (at most 4,096 bytes)."""
        answer = self._client.sign(
            KeyId=self.key_id, Message=message, MessageType="RAW", SigningAlgorithm=ALGORITHM
        )
        return bytes(answer["Signature"])

    def public_key(self) -> bytes:
        """The public key as DER SubjectPublicKeyInfo."""
        return bytes(self._client.get_public_key(KeyId=self.key_id)["PublicKey"])
