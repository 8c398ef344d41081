"""How S3 objects of any sizes are joined into one by a multipart upload: every part but the last
must hold at least 5 MiB, and a part is either copied inside S3 (UploadPartCopy, any byte range
of one object) or uploaded. Screened parts shrink (dropped rows, gzip), so their sizes are not
known in advance: small ones are gathered, large ones are copied without passing through Lambda."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MIN_PART_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Piece:
    """Bytes [start, end) of source number `source`."""

    source: int
    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start


def part_groups(sizes: Sequence[int], minimum: int = MIN_PART_BYTES) -> list[tuple[Piece, ...]]:
    """The parts of the joined object, in order, each as the pieces it is made of. A part of one
    piece of at least `minimum` bytes can be copied; any other part holds less than 2 * minimum
    bytes (what must pass through the caller). Every part but the last holds `minimum` or more."""
    groups: list[tuple[Piece, ...]] = []
    pending: list[Piece] = []
    held = 0
    for source, size in enumerate(sizes):
        if size <= 0:
            continue
        if not pending and size >= minimum:
            groups.append((Piece(source, 0, size),))
            continue
        head = minimum - held
        if pending and size - head >= minimum:
            # Top up the gathered bytes from this object's head; copy the rest.
            groups.append((*pending, Piece(source, 0, head)))
            groups.append((Piece(source, head, size),))
            pending, held = [], 0
            continue
        pending.append(Piece(source, 0, size))
        held += size
        if held >= minimum:
            groups.append(tuple(pending))
            pending, held = [], 0
    if pending:
        groups.append(tuple(pending))
    return groups


def is_copy(group: tuple[Piece, ...], minimum: int = MIN_PART_BYTES) -> bool:
    return len(group) == 1 and group[0].size >= minimum
