"""Gives moto's DynamoDB the isolation real DynamoDB has: writes to the backend one at a time.

moto's TransactWriteItems checks conditions and writes item by item, and on a cancelled
transaction restores deep copies of the tables it touched. With the moto server's request threads
running side by side, two transactions could then both pass the audit chain head's condition, or
a cancelled one could wipe out what another committed meanwhile. Real DynamoDB serialises both,
so the local stack does too: every write operation of the backend holds one lock. Nothing of the
product is reimplemented here; only the emulator's concurrency is made faithful."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

WRITE_OPERATIONS = ("put_item", "update_item", "delete_item", "transact_write_items")
# moto's tables keep items in a defaultdict: reading a partition that does not exist (GetItem of
# a missing key, a Query) adds an empty entry, which breaks a transaction's deep copy running in
# another thread ("dictionary changed size during iteration"). DynamoDB's reads change nothing,
# so these are serialised too.
READ_OPERATIONS = ("get_item", "query")
_lock = threading.RLock()
_originals: dict[str, Callable[..., Any]] = {}


def _serialised(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return method(*args, **kwargs)

    return locked


def install() -> None:
    for name in WRITE_OPERATIONS + READ_OPERATIONS:
        if name not in _originals:
            _originals[name] = getattr(DynamoDBBackend, name)
            setattr(DynamoDBBackend, name, _serialised(_originals[name]))


def uninstall() -> None:
    for name, original in _originals.items():
        setattr(DynamoDBBackend, name, original)
    _originals.clear()
