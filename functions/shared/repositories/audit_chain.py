"""The audit chain's head: read it, and link pending entries to it inside a transaction."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Sequence
from typing import Any

from functions.shared.audit_chain import ChainHead, entry_hash
from functions.shared.models import AuditChainItem, AuditEntryItem

CHAIN_ID = "audit"
# Two writers that read the same head: one commits, the other re-links to the new head. Jitter
# spreads the retries of many writers; past the last attempt the caller's own retry takes over.
MAX_ATTEMPTS = 60
BACKOFF_BASE_SECONDS = 0.002
BACKOFF_CAP_SECONDS = 0.1


class AuditChain:
    def __init__(self, model: type[AuditChainItem]) -> None:
        self._model = model
        self._lock = threading.Lock()
        # How the chain behaves under contention (read by the bench and the tests).
        self.appends = 0
        self.lost_races = 0

    def head(self) -> ChainHead:
        try:
            item = self._model.get(CHAIN_ID, consistent_read=True)
        except self._model.DoesNotExist:
            return ChainHead()
        return ChainHead(seq=int(item.seq), hash=item.head_hash, at=item.at)

    @staticmethod
    def head_from_failure(raw_item: dict[str, Any] | None) -> ChainHead | None:
        """The head a failed condition found (ReturnValuesOnConditionCheckFailure=ALL_OLD), so a
        writer that lost the race links to it without reading it again."""
        if not raw_item or "seq" not in raw_item:
            return None
        return ChainHead(
            seq=int(raw_item["seq"]["N"]),
            hash=raw_item["headHash"]["S"],
            at=raw_item.get("at", {}).get("S"),
        )

    @staticmethod
    def link(head: ChainHead, entries: Sequence[AuditEntryItem]) -> ChainHead:
        """Give each entry its position and hashes after `head`; answers the new head."""
        seq, previous = head.seq, head.hash
        for entry in entries:
            seq += 1
            entry.chain_seq = seq
            entry.prev_hash = previous
            entry.entry_hash = entry_hash(entry.to_simple_dict())
            previous = entry.entry_hash
        return ChainHead(seq=seq, hash=previous, at=entries[-1].at if entries else None)

    def advance(self, tw: Any, old: ChainHead, new: ChainHead, entry_id: str) -> None:
        """The head's move from `old` to `new`, conditioned on nobody having moved it since; a
        failed condition hands back the head that won (ALL_OLD)."""
        model = self._model
        item = model(CHAIN_ID, seq=new.seq, head_hash=new.hash, at=new.at, entry_id=entry_id)
        condition = model.chain_id.does_not_exist() if old.seq == 0 else model.seq == old.seq
        tw.save(item, condition=condition, return_values="ALL_OLD")

    def backoff(self, attempt: int) -> None:
        with self._lock:
            self.lost_races += 1
        time.sleep(random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)))

    def committed(self, count: int) -> None:
        with self._lock:
            self.appends += count
