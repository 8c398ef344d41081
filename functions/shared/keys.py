"""The HMAC key lives in SSM Parameter Store (SecureString), never in code or environment."""

from __future__ import annotations

from aws_lambda_powertools.utilities.parameters import get_parameter

from functions.shared.identifiers import KeyedHasher
from functions.shared.settings import HashingSettings

KEY_CACHE_SECONDS = 300


def load_hasher(settings: HashingSettings) -> KeyedHasher:
    key = get_parameter(settings.hmac_key_parameter, decrypt=True, max_age=KEY_CACHE_SECONDS)
    return KeyedHasher(bytes.fromhex(str(key)), settings.default_region)
