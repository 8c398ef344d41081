"""The tamper matrix on the fakes: an insider who can write the audit table and the head (not use
the chain's key, not rewrite a locked digest) changes the trail; verification names what and
where. The same cases run through the API on the local stack (tests/integration/
test_audit_trail.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from functions.audit.service import verify_trail
from functions.shared.audit_chain import GENESIS_HASH, ChainHead, Digest, entry_hash
from tests.unit.conftest import submit


@pytest.fixture
def trail(deps):
    """Eight entries (one submission each), with a digest taken at the sixth."""
    for n in range(1, 9):
        deps.customers.add_customer(f"T{n}")
        submit(deps, customer_id=f"T{n}")
        if n == 6:
            deps.digests.put(deps.trail.head)
    assert verify_trail(deps.audit, deps.digests, deps.macs).intact
    return deps


def _head_at(deps, seq: int) -> ChainHead:
    entry = deps.trail.entries[seq - 1]
    return ChainHead(seq=seq, hash=entry["entryHash"], at=entry["at"], mac=entry.get("entryMac"))


def _rewrite_from(deps, seq: int, **change) -> None:
    """What someone with table access can do: change entry `seq` and re-link every later entry
    consistently (the hash is public), moving the head along; the MACs they cannot make."""
    entries = deps.trail.entries
    entries[seq - 1].update(change)
    previous = entries[seq - 2]["entryHash"] if seq > 1 else GENESIS_HASH
    for entry in entries[seq - 1 :]:
        entry["prevHash"] = previous
        entry["entryHash"] = entry_hash(entry)
        previous = entry["entryHash"]
    deps.trail.head = replace(deps.trail.head, hash=previous)


def _problems(deps) -> list[tuple[str, int]]:
    result = verify_trail(deps.audit, deps.digests, deps.macs)
    assert not result.intact
    return [(b.problem.value, b.chain_seq) for b in result.breaks]


def test_what_was_checked_is_said(trail):
    result = verify_trail(trail.audit, trail.digests, trail.macs)
    assert result.checks == ("entries", "keyedHashes", "digests")
    assert (result.checked, result.macs_checked, result.digests_checked) == (8, 1, 1)


def test_a_changed_field(trail):
    trail.trail.entries[2]["actor"] = "mallory"
    assert _problems(trail) == [("CHANGED", 3)]


def test_a_removed_entry(trail):
    del trail.trail.entries[3]
    assert ("REMOVED", 4) in _problems(trail)


def test_a_consistent_rewrite_after_the_last_digest_is_forged(trail):
    _rewrite_from(trail, 7, actor="mallory")
    assert _problems(trail) == [("FORGED", 8)]


def test_a_consistent_rewrite_before_the_last_digest(trail):
    _rewrite_from(trail, 4, actor="mallory")
    assert _problems(trail) == [("DIGEST_MISMATCH", 6), ("FORGED", 8)]


def test_a_cut_tail_with_the_head_moved_back(trail):
    """The observed attack: delete the tail past a digest and set the head back."""
    del trail.trail.entries[4:]
    trail.trail.head = _head_at(trail, 4)
    assert _problems(trail) == [("TRUNCATED", 5)]


def test_a_cut_tail_rewritten_anew(trail):
    del trail.trail.entries[4:]
    trail.trail.head = _head_at(trail, 4)
    _rewrite_from(trail, 4, actor="mallory")
    assert _problems(trail) == [("FORGED", 4), ("TRUNCATED", 5)]


def test_macs_stripped_to_pass_as_entries_from_before_keyed_hashes(trail):
    for entry in trail.trail.entries:
        entry.pop("entryMac")
    _rewrite_from(trail, 7, actor="mallory")
    problems = _problems(trail)
    assert ("FORGED", 6) in problems and ("FORGED", 8) in problems


def test_a_new_version_of_a_digest_object(trail):
    (digest,) = trail.digests.digests
    forged = replace(digest, hash="0" * 64, version="v2")
    trail.digests.digests.append(forged)
    assert _problems(trail) == [("DIGEST_MISMATCH", 6)]


def test_a_digest_beyond_the_head_names_the_missing_range(trail):
    trail.digests.digests.append(
        Digest(seq=12, hash="f" * 64, at="2026-12-01T00:00:00Z", key="digest-12", keyed=True)
    )
    result = verify_trail(trail.audit, trail.digests, trail.macs)
    (truncated,) = [b for b in result.breaks if b.problem.value == "TRUNCATED"]
    assert "entries 9-12" in truncated.message and "digest-12" in truncated.message
