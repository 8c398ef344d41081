"""The hash chain's verifier on synthetic trails: each kind of tampering is found and named."""

from __future__ import annotations

import pytest

from functions.shared.audit_chain import (
    GENESIS_HASH,
    ChainHead,
    Digest,
    Problem,
    canonical,
    entry_hash,
    verify,
)


def _chain(n: int) -> tuple[list[dict], ChainHead]:
    entries, previous = [], GENESIS_HASH
    for seq in range(1, n + 1):
        entry = {
            "entryId": f"r{seq}#SUBMITTED",
            "at": f"2026-11-23T10:00:{seq:02d}.000000Z",
            "requestId": f"r{seq}",
            "eventType": "SUBMITTED",
            "actor": "alice",
            "details": {"n": seq, "ratio": 1.0},
            "chainSeq": seq,
            "prevHash": previous,
        }
        entry["entryHash"] = previous = entry_hash(entry)
        entries.append(entry)
    return entries, ChainHead(seq=n, hash=previous)


def _rehash(entry: dict) -> None:
    entry["entryHash"] = entry_hash(entry)


def test_canonical_form_ignores_key_order_and_number_spelling():
    a = {"b": 1, "a": {"y": 2.0, "x": "é"}, "entryHash": "ignored"}
    b = {"a": {"x": "é", "y": 2}, "b": 1.0}
    assert canonical(a) == canonical(b) == '{"a":{"x":"é","y":2},"b":1}'.encode()
    assert entry_hash(a) == entry_hash(b)
    assert entry_hash(a) != entry_hash({**b, "b": 2})


def test_an_untouched_trail_verifies_in_any_order():
    entries, head = _chain(20)
    result = verify(reversed(entries), head)
    assert result.intact and result.checked == 20 and result.first_break is None


def test_a_changed_field_is_named():
    entries, head = _chain(10)
    entries[3]["actor"] = "mallory"
    result = verify(entries, head)
    assert [(b.problem, b.chain_seq) for b in result.breaks] == [(Problem.CHANGED, 4)]
    assert result.first_break.entry_id == "r4#SUBMITTED"


def test_a_removed_entry_is_named_also_at_the_end():
    entries, head = _chain(10)
    result = verify(entries[:4] + entries[5:], head)
    assert [(b.problem, b.chain_seq) for b in result.breaks] == [(Problem.REMOVED, 5)]
    assert verify(entries[:-1], head).first_break.problem is Problem.REMOVED


@pytest.mark.parametrize("with_prev_hash", [False, True])
def test_two_swapped_entries_are_reordered(with_prev_hash):
    entries, head = _chain(10)
    a, b = entries[2], entries[6]
    fields = ("chainSeq", "prevHash") if with_prev_hash else ("chainSeq",)
    for name in fields:
        a[name], b[name] = b[name], a[name]
    result = verify(entries, head)
    assert [(x.problem, x.chain_seq) for x in result.breaks] == [(Problem.REORDERED, 3)]
    assert "swapped" in result.first_break.message


def test_reordering_with_recomputed_hashes_breaks_the_links():
    entries, head = _chain(10)
    a, b = entries[4], entries[5]
    a["chainSeq"], b["chainSeq"] = 6, 5
    b["prevHash"] = entries[3]["entryHash"]
    _rehash(b)
    a["prevHash"] = b["entryHash"]
    _rehash(a)
    result = verify(entries, head)
    assert not result.intact
    assert result.first_break.chain_seq == 7  # entry 7 still follows the old entry 6


def test_inserted_entries_are_named():
    entries, head = _chain(10)
    forged = {**entries[4], "entryId": "forged#SUBMITTED", "actor": "mallory"}
    _rehash(forged)
    result = verify([*entries, forged], head)
    assert [(b.problem, b.chain_seq) for b in result.breaks] == [(Problem.INSERTED, 5)]

    beyond = {**entries[9], "entryId": "late", "chainSeq": 11, "prevHash": head.hash}
    _rehash(beyond)
    assert verify([*entries, beyond], head).first_break.problem is Problem.INSERTED


def test_linking_to_another_entry_is_reordered():
    entries, head = _chain(10)
    entries[7]["prevHash"] = entries[2]["entryHash"]
    _rehash(entries[7])
    entries[8]["prevHash"] = entries[7]["entryHash"]
    _rehash(entries[8])
    entries[9]["prevHash"] = entries[8]["entryHash"]
    _rehash(entries[9])
    head = ChainHead(seq=10, hash=entries[9]["entryHash"])
    result = verify(entries, head)
    assert [(b.problem, b.chain_seq) for b in result.breaks] == [(Problem.REORDERED, 8)]


def test_a_consistent_rewrite_is_caught_only_by_a_digest():
    entries, head = _chain(10)
    digest = Digest(seq=10, hash=head.hash, at="2026-11-23T11:00:00Z", key="d1")
    previous = entries[5]["entryHash"]
    for entry in entries[6:]:
        entry["actor"] = "mallory"
        entry["prevHash"] = previous
        _rehash(entry)
        previous = entry["entryHash"]
    rewritten_head = ChainHead(seq=10, hash=previous)
    assert verify(entries, rewritten_head).intact
    result = verify(entries, rewritten_head, [digest])
    assert [(b.problem, b.chain_seq) for b in result.breaks] == [(Problem.DIGEST_MISMATCH, 10)]
    assert result.digests_checked == 1


def test_the_head_must_be_the_last_entry():
    entries, head = _chain(5)
    assert verify(entries, ChainHead(seq=5, hash="f" * 64)).first_break.problem is Problem.CHANGED
    assert verify(entries, ChainHead(seq=6, hash=head.hash)).first_break.problem is Problem.REMOVED
