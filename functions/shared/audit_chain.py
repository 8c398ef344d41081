"""The audit trail's hash chain: canonical form, entry hashes, and the check of a whole trail.

Every entry carries `chainSeq` (1, 2, 3, ... with no gaps), `prevHash` (the previous entry's
hash; GENESIS_HASH for the first) and `entryHash`:

    entryHash = SHA-256( "privacy-audit/v1\\n" + canonical JSON of every other attribute )

where canonical JSON is UTF-8, keys sorted, no spaces, and integral numbers written as integers
(DynamoDB does not keep 1.0 apart from 1). The hash is deliberately unkeyed so that a regulator
can check an exported trail without our secrets; rewriting the whole chain consistently is what
the Object-Locked digests of the head in S3 catch.

Pure functions only: the writer (functions/shared/unit_of_work.py) and the verifier share them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

GENESIS_HASH = "0" * 64
HASH_PREFIX = b"privacy-audit/v1\n"
HASH_FIELD = "entryHash"
SEQ_FIELD = "chainSeq"
PREV_FIELD = "prevHash"


def _normal(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float | Decimal):
        number = float(value) if isinstance(value, Decimal) else value
        if isinstance(number, float) and number.is_integer():
            return int(number)
        return number
    if isinstance(value, Mapping):
        return {str(k): _normal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normal(v) for v in value]
    raise TypeError(f"an audit entry cannot hold a {type(value).__name__}")


def canonical(entry: Mapping[str, Any]) -> bytes:
    body = {k: v for k, v in entry.items() if k != HASH_FIELD and v is not None}
    text = json.dumps(
        _normal(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode()


def entry_hash(entry: Mapping[str, Any]) -> str:
    return hashlib.sha256(HASH_PREFIX + canonical(entry)).hexdigest()


@dataclass(frozen=True)
class ChainHead:
    seq: int = 0
    hash: str = GENESIS_HASH
    at: str | None = None


class Problem(StrEnum):
    CHANGED = "CHANGED"
    REMOVED = "REMOVED"
    INSERTED = "INSERTED"
    REORDERED = "REORDERED"
    DIGEST_MISMATCH = "DIGEST_MISMATCH"


@dataclass(frozen=True)
class Break:
    problem: Problem
    chain_seq: int
    entry_id: str | None
    message: str


@dataclass(frozen=True)
class Digest:
    """A copy of the head kept where the table's writers cannot rewrite it."""

    seq: int
    hash: str
    at: str
    key: str


@dataclass
class Verification:
    checked: int = 0
    head: ChainHead = field(default_factory=ChainHead)
    digests_checked: int = 0
    breaks: list[Break] = field(default_factory=list)
    break_count: int = 0

    @property
    def intact(self) -> bool:
        return not self.breaks

    @property
    def first_break(self) -> Break | None:
        return self.breaks[0] if self.breaks else None


MAX_BREAKS = 100


def verify(
    entries: Iterable[Mapping[str, Any]], head: ChainHead, digests: Iterable[Digest] = ()
) -> Verification:
    """Check a whole trail (entries in any order) against its head and its digests.

    An entry must hash to its own entryHash (else CHANGED; two entries that each hash right once
    their positions are exchanged were REORDERED). Positions run 1..head.seq: a gap is REMOVED,
    a second entry at a position or one past the head is INSERTED. An intact entry must link to
    the entry before it: linking to another entry of the trail is REORDERED, to none INSERTED."""
    result = Verification(head=head)
    by_seq: dict[int, list[Mapping[str, Any]]] = {}
    for entry in entries:
        by_seq.setdefault(int(entry[SEQ_FIELD]), []).append(entry)
        result.checked += 1
    hashes = {str(e[HASH_FIELD]): s for s, group in by_seq.items() for e in group}
    breaks: list[Break] = []

    def broken(problem: Problem, seq: int, entry: Mapping[str, Any] | None, message: str) -> None:
        entry_id = str(entry["entryId"]) if entry is not None else None
        breaks.append(Break(problem, seq, entry_id, message))

    changed: list[Mapping[str, Any]] = []
    links: list[tuple[int, Mapping[str, Any]]] = []
    previous: str | None = GENESIS_HASH
    for seq in range(1, max([head.seq, *by_seq]) + 1):
        group = by_seq.get(seq)
        if not group:
            broken(Problem.REMOVED, seq, None, f"entry {seq} of the chain is missing")
            previous = None  # the next entry's link cannot be judged
            continue
        entry = group[0]
        for extra in group[1:]:
            broken(Problem.INSERTED, seq, extra, f"a second entry claims position {seq}")
        if seq > head.seq:
            broken(Problem.INSERTED, seq, entry, f"entry {seq} lies beyond the head ({head.seq})")
        if entry_hash(entry) != entry[HASH_FIELD]:
            changed.append(entry)
        elif previous is not None and entry[PREV_FIELD] != previous:
            links.append((seq, entry))
        previous = str(entry[HASH_FIELD])
    swapped = _classify_changed(changed, broken)
    for seq, entry in links:
        if seq - 1 in swapped:
            continue  # the entry before it was swapped away: reported with the swap
        linked = hashes.get(str(entry[PREV_FIELD]))
        if linked is not None:
            message = f"entry {seq} follows entry {linked}, not entry {seq - 1}"
            broken(Problem.REORDERED, seq, entry, message)
        else:
            message = f"entry {seq} links to no entry of the trail (rewritten from here?)"
            broken(Problem.INSERTED, seq, entry, message)
    last = by_seq.get(head.seq)
    if head.seq and last and last[0][HASH_FIELD] != head.hash:
        broken(Problem.CHANGED, head.seq, last[0], f"entry {head.seq} is not the chain's head")
    for digest in digests:
        result.digests_checked += 1
        group = by_seq.get(digest.seq)
        if not group or group[0][HASH_FIELD] != digest.hash:
            message = f"entry {digest.seq} differs from the digest {digest.key} taken {digest.at}"
            broken(Problem.DIGEST_MISMATCH, digest.seq, group[0] if group else None, message)
    breaks.sort(key=lambda b: b.chain_seq)
    result.breaks = breaks[:MAX_BREAKS]
    result.break_count = len(breaks)
    return result


def _classify_changed(changed: list[Mapping[str, Any]], broken: Any) -> set[int]:
    """Entries that fail their own hash were edited, unless two of them hash right once their
    positions (chainSeq, and prevHash with it or not) are exchanged: then they were swapped.
    Answers the positions of swapped entries."""
    swapped: dict[int, int] = {}  # id(entry) -> position
    candidates = changed[:MAX_BREAKS]
    for i, a in enumerate(candidates):
        for b in candidates[i + 1 :]:
            if id(a) in swapped or id(b) in swapped:
                continue
            for fields in ((SEQ_FIELD,), (SEQ_FIELD, PREV_FIELD)):
                a2 = {**a, **{f: b[f] for f in fields}}
                b2 = {**b, **{f: a[f] for f in fields}}
                if entry_hash(a2) == a[HASH_FIELD] and entry_hash(b2) == b[HASH_FIELD]:
                    seq_a, seq_b = int(a[SEQ_FIELD]), int(b[SEQ_FIELD])
                    swapped |= {id(a): seq_a, id(b): seq_b}
                    message = f"entries {min(seq_a, seq_b)} and {max(seq_a, seq_b)} were swapped"
                    broken(Problem.REORDERED, min(seq_a, seq_b), a, message)
                    break
    for entry in changed:
        if id(entry) not in swapped:
            seq = int(entry[SEQ_FIELD])
            broken(Problem.CHANGED, seq, entry, f"entry {seq} does not match its own hash")
    return set(swapped.values())
