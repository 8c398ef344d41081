"""The fake unit of work behaves like the real one where the services rely on it: all or
nothing, each audit entry once, entries linked into a chain that verifies."""

import pytest

from functions.shared.audit_chain import verify
from functions.shared.audit_entries import audit_entry
from functions.shared.errors import ConflictError, TransientError
from tests.fakes import FakeUnitsOfWork, MemoryWrite


def entry(event: str, record: str = "R1"):
    return audit_entry(record, "TEST", event, actor="a", subject_hash="h", at="t", details={})


def write(store: list, value: str, holds: bool = True) -> MemoryWrite:
    return MemoryWrite(lambda: holds, lambda: store.append(value), lambda: ConflictError(value))


def test_a_failed_condition_cancels_every_write_and_every_entry():
    units, done = FakeUnitsOfWork(), []
    work = units()
    work.add(write(done, "first"), write(done, "second", holds=False))
    work.record(entry("E"))
    with pytest.raises(ConflictError, match="second"):
        work.commit()
    assert done == []
    assert units.trail.entries == []


def test_an_entry_id_already_written_is_refused():
    units = FakeUnitsOfWork()
    first = units()
    first.record(entry("E"))
    first.commit()
    again, done = units(), []
    again.add(write(done, "x"))
    again.record(entry("E"))
    with pytest.raises(ConflictError, match="already recorded"):
        again.commit()
    assert done == []
    assert len(units.trail.entries) == 1


def test_the_trail_is_a_hash_chain_the_real_verifier_accepts():
    units = FakeUnitsOfWork()
    for n in range(3):
        work = units()
        work.record(entry(f"E{n}"), entry(f"F{n}"))
        work.commit()
    result = verify(units.trail.entries, units.trail.head)
    assert result.intact
    assert result.checked == 6
    assert [e["chainSeq"] for e in units.trail.entries] == [1, 2, 3, 4, 5, 6]


def test_an_edited_entry_breaks_the_chain():
    units = FakeUnitsOfWork()
    work = units()
    work.record(entry("E"), entry("F"))
    work.commit()
    units.trail.entries[0]["actor"] = "someone else"
    assert not verify(units.trail.entries, units.trail.head).intact


def test_an_injected_failure_fails_one_commit_only():
    units, done = FakeUnitsOfWork(), []
    units.fail_next_commit(TransientError("busy"))
    work = units()
    work.add(write(done, "x"))
    with pytest.raises(TransientError):
        work.commit()
    work.commit()
    assert done == ["x"]
