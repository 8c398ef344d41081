"""The split path's pure pieces: the packed index snapshot, and how screened parts of any size
become the parts of one S3 multipart upload."""

from __future__ import annotations

import random

import pytest

from functions.audience_filter import snapshot
from functions.audience_filter.multipart import MIN_PART_BYTES, Piece, is_copy, part_groups

MIB = 1024 * 1024


def test_a_snapshot_round_trips() -> None:
    rng = random.Random(3)
    reasons = ["CEASED", "FORGOTTEN", "OPTED_OUT:newsletter"]
    index = {rng.randbytes(32): rng.choice(reasons) for _ in range(5000)}
    blob = snapshot.pack(index)
    assert len(blob) < 32 * len(index) + 200  # 32 bytes an entry and a short header
    assert snapshot.unpack(blob) == index
    assert snapshot.unpack(snapshot.pack({})) == {}


def test_a_truncated_snapshot_is_refused() -> None:
    blob = snapshot.pack({bytes(32): "CEASED", b"\x01" * 32: "FORGOTTEN"})
    with pytest.raises(ValueError):
        snapshot.unpack(blob[:-1])


def _covers(groups: list[tuple[Piece, ...]], sizes: list[int]) -> bool:
    """The groups' pieces, in order, are exactly every byte of every source, in order."""
    pieces = [p for group in groups for p in group]
    expected = [(n, s) for n, s in enumerate(sizes) if s]
    position: dict[int, int] = {}
    for piece in pieces:
        if piece.start != position.get(piece.source, 0) or piece.size <= 0:
            return False
        position[piece.source] = piece.end
    order = [p.source for p in pieces]
    return order == sorted(order) and sorted(position.items()) == expected


@pytest.mark.parametrize("seed", range(200))
def test_every_part_but_the_last_holds_five_mib_and_small_parts_stay_small(seed: int) -> None:
    rng = random.Random(seed)
    sizes = [rng.choice([0, rng.randrange(1, MIB), rng.randrange(MIB, 12 * MIB)]) for _ in range(8)]
    groups = part_groups(sizes)
    assert _covers(groups, sizes)
    for group in groups[:-1]:
        assert sum(p.size for p in group) >= MIN_PART_BYTES
    for group in groups:
        if not is_copy(group):
            # What passes through the combine step's memory is bounded, whatever the sizes.
            assert sum(p.size for p in group) < 2 * MIN_PART_BYTES


def test_large_parts_are_copied_and_small_ones_gathered() -> None:
    sizes = [6 * MIB, MIB, MIB, 11 * MIB, 0, 2 * MIB]
    groups = part_groups(sizes)
    assert groups == [
        (Piece(0, 0, 6 * MIB),),
        (Piece(1, 0, MIB), Piece(2, 0, MIB), Piece(3, 0, 3 * MIB)),
        (Piece(3, 3 * MIB, 11 * MIB),),
        (Piece(5, 0, 2 * MIB),),
    ]
    assert [is_copy(g) for g in groups] == [True, False, True, False]
    assert part_groups([]) == part_groups([0, 0]) == []
