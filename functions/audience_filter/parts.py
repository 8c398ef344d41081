"""Splitting a file into parts on record boundaries, and screening the parts in parallel.

The same parts are what the deployed Distributed Map hands to one Lambda each for files beyond
one invocation (README, "Audience filter"); inside one invocation they use every vCPU. Workers are
forked processes joined by pipes: Lambda has no /dev/shm, so multiprocessing pools and queues
cannot run there, plain processes and pipes can."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from functions.audience_filter.engine import Counts, Format, Header, Part, Screener, records
from functions.audience_filter.newlines import swapped_reader

# Below this a part is not worth a process.
MIN_PART_BYTES = 8 * 1024 * 1024
CHUNK = 16 * 1024 * 1024


def _chunks(f: BinaryIO, start: int, end: int) -> Iterator[bytes]:
    f.seek(start)
    while start < end:
        chunk = f.read(min(CHUNK, end - start))
        if not chunk:
            return
        start += len(chunk)
        yield chunk


def plan_parts(
    path: Path,
    header: Header,
    parts: int,
    format: Format = Format.CSV,
    min_bytes: int | None = None,
) -> list[Part]:
    """Up to `parts` byte ranges of about equal size, each starting on a record boundary and
    knowing its first line number, found with the same record splitting the screening uses."""
    size = path.stat().st_size
    body = size - header.body_start
    parts = max(1, min(parts, body // max(min_bytes or MIN_PART_BYTES, 1)))
    if parts == 1:
        return [Part(header.body_start, None, header.first_line)]
    targets = [header.body_start + body * k // parts for k in range(1, parts)]
    with path.open("rb") as raw:
        # Offsets are the same through the swap: a CR-only file is cut as an LF one.
        f = swapped_reader(raw) if header.cr_only else raw
        # JSON Lines never break a record across lines; CSV only inside quotes.
        quoted = format is Format.CSV and any(
            b'"' in c for c in _chunks(f, header.body_start, size)
        )
        cuts = _record_cuts(f, header, targets) if quoted else _line_cuts(f, targets)
        starts = [header.body_start, *sorted(set(cuts))]
        starts = [s for s in starts if s < size]
        lines = [header.first_line]
        for a, b in itertools.pairwise(starts):
            lines.append(lines[-1] + sum(c.count(b"\n") for c in _chunks(f, a, b)))
    ends: list[int | None] = [*starts[1:], None]
    return [Part(s, e, n) for s, e, n in zip(starts, ends, lines, strict=True)]


def _line_cuts(f: BinaryIO, targets: list[int]) -> list[int]:
    """No quote anywhere: every newline ends a record."""
    cuts = []
    for target in targets:
        f.seek(target - 1)
        f.readline()
        cuts.append(f.tell())
    return cuts


def _record_cuts(f: BinaryIO, header: Header, targets: list[int]) -> list[int]:
    """Quoted fields may hold newlines: walk the records, cut at the first boundary past each
    target. The format of the rows is checked later; here only where records end matters."""
    f.seek(header.body_start)
    cuts, pending = [], list(targets)
    lengths = _CountedLines(f)
    for _ in records(lengths, header.first_line):
        position = lengths.position
        if pending and position >= pending[0]:
            cuts.append(position)
            pending = [t for t in pending if t > position]
    return cuts


class _CountedLines:
    """Lines of a file, remembering how many bytes were handed out (a record ends at a line end)."""

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self.position = f.tell()

    def __iter__(self) -> Iterator[bytes]:
        for line in self._f:
            self.position += len(line)
            yield line


def screen_file(
    screener: Screener, source: Path, out: BinaryIO, workers: int | None = None
) -> Counts:
    """Screens a whole local file into `out` (header first), in parallel parts when large."""
    with source.open("rb") as f:
        header = screener.read_header(f)
        if header is None:
            return Counts()
        out.write(header.raw)
        plan = plan_parts(source, header, workers or os.cpu_count() or 1, screener.screening.format)
        if len(plan) == 1:
            return screener.screen(f, out, header, plan[0])
    return _screen_parallel(screener, source, out, header, plan)


def _screen_parallel(
    screener: Screener, source: Path, out: BinaryIO, header: Header, plan: list[Part]
) -> Counts:
    context = multiprocessing.get_context("fork")  # the index is shared, not copied or pickled
    with tempfile.TemporaryDirectory(prefix="screen-") as tmp:
        jobs = []
        for number, part in enumerate(plan):
            target = Path(tmp) / f"part-{number}"
            receive, send = context.Pipe(duplex=False)
            process = context.Process(
                target=_screen_part, args=(screener, source, target, header, part, send)
            )
            process.start()
            send.close()
            jobs.append((process, receive, target))
        total = Counts()
        failed = False
        for process, receive, target in jobs:
            try:
                counts = receive.recv()
            except EOFError:
                counts = None
            process.join()
            if not isinstance(counts, Counts) or process.exitcode != 0:
                failed = True
                continue
            total.merge(counts)
            with target.open("rb") as part_out:
                shutil.copyfileobj(part_out, out, CHUNK)
        if failed:
            raise RuntimeError("a part of the audience file could not be screened")
    return total


def _screen_part(
    screener: Screener, source: Path, target: Path, header: Header, part: Part, send: object
) -> None:
    with source.open("rb") as f, target.open("wb") as out:
        counts = screener.screen(f, out, header, part)
    send.send(counts)  # type: ignore[attr-defined]
