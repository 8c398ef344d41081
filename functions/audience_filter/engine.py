"""Screening one audience file (or one part of it): every row whose identifiers are suppressed is
dropped, every row we cannot check is dropped as malformed, every other row is copied as the very
bytes it arrived as. Plain Python over blocks of raw lines: a block without a quote is screened a
column at a time in C-level passes (the keyed hash is nearly all that is left per row); a block
with a quote goes line by line through the csv module. Measured against DuckDB, which cannot pass
bytes through (README, "Audience filter")."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from itertools import chain, compress, repeat
from operator import itemgetter
from typing import BinaryIO

from functions.audience_filter.jobs import Format
from functions.audience_filter.newlines import SWAP, is_cr_only, swapped_reader, swapped_writer
from functions.shared.errors import ValidationError
from functions.shared.identifiers import IdentifierKind, KeyedHasher
from functions.shared.suppression_reasons import report_reason, strongest

BOM = b"\xef\xbb\xbf"
# A quoted field still open after this many lines is a stray quote, not a record: the lines are
# reported malformed instead of being buffered to the end of the file.
MAX_RECORD_LINES = 1000
MALFORMED_LINES_REPORTED = 1000
WRITE_BATCH = 4096
# Big enough that per-block costs vanish, small enough that a block with a quote (which takes
# the line-by-line path) is a small share of a large file.
BLOCK_BYTES = 1024 * 1024


class _Invalid(str):
    """What a lookup answers for an identifier that cannot be normalised (an impossible phone):
    one object, told apart by identity from any reason the index could hold."""


INVALID = _Invalid("invalidIdentifier")


class MissingColumnsError(ValidationError):
    def __init__(self, missing: Iterable[str]) -> None:
        names = ", ".join(sorted(missing))
        super().__init__(f"the audience file has no column named: {names}")


@dataclass(frozen=True)
class Screening:
    """What to screen: which column holds which identifier, the format, and the topic."""

    columns: tuple[tuple[IdentifierKind, str], ...]
    format: Format
    topic: str | None = None


@dataclass
class Counts:
    rows_in: int = 0
    rows_out: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    malformed: Counter[str] = field(default_factory=Counter)
    malformed_lines: list[int] = field(default_factory=list)

    def bad(self, cause: str, line: int) -> None:
        self.malformed[cause] += 1
        if len(self.malformed_lines) < MALFORMED_LINES_REPORTED:
            self.malformed_lines.append(line)

    def merge(self, other: Counts) -> None:
        self.rows_in += other.rows_in
        self.rows_out += other.rows_out
        self.dropped.update(other.dropped)
        self.malformed.update(other.malformed)
        room = MALFORMED_LINES_REPORTED - len(self.malformed_lines)
        self.malformed_lines.extend(other.malformed_lines[: max(room, 0)])

    def as_report(self) -> dict[str, object]:
        """Counts only: never an identifier, never a row."""
        return {
            "rowsIn": self.rows_in,
            "rowsOut": self.rows_out,
            "dropped": dict(sorted(self.dropped.items())),
            "malformed": {
                "rows": sum(self.malformed.values()),
                "byCause": dict(sorted(self.malformed.items())),
                "lines": self.malformed_lines,
                "linesTruncated": sum(self.malformed.values()) > len(self.malformed_lines),
            },
        }


@dataclass(frozen=True)
class Header:
    """Where the rows start, and where the identifiers sit in each row (CSV: positions)."""

    raw: bytes
    body_start: int
    first_line: int
    width: int = 0
    positions: tuple[int, ...] = ()
    # Records end in a bare CR: read and written through the CR/LF swap (newlines.py).
    cr_only: bool = False


@dataclass(frozen=True)
class Part:
    """A byte range of the file that starts and ends on record boundaries, and its first line."""

    start: int
    end: int | None
    first_line: int


def records(lines: Iterable[bytes], first_line: int) -> Iterator[tuple[int, bytes | None]]:
    """CSV records as (first line number, raw bytes), split at newlines outside quotes. None
    marks lines that opened a quoted field never closed. Blank lines are no records."""
    line_no = first_line - 1
    it = iter(lines)
    for line in it:
        line_no += 1
        if b'"' not in line:
            if line.strip(b"\r\n"):
                yield line_no, line
            continue
        raw, more = rest_of_record(line, it)
        yield line_no, raw
        line_no += more


def rest_of_record(first: bytes, lines: Iterator[bytes]) -> tuple[bytes | None, int]:
    """The record a line holding a quote starts, and how many more lines it took (RFC 4180:
    a record is complete when it holds an even number of quotes)."""
    quotes = first.count(b'"')
    if not quotes % 2:
        return first, 0
    pending = [first]
    while quotes % 2:
        if len(pending) >= MAX_RECORD_LINES:
            return None, len(pending) - 1
        line = next(lines, None)
        if line is None:
            return None, len(pending) - 1
        pending.append(line)
        quotes += line.count(b'"')
    return b"".join(pending), len(pending) - 1


class Screener:
    """Screens rows against a snapshot of the suppression index (raw digest -> reason)."""

    def __init__(self, screening: Screening, index: Mapping[bytes, str], hasher: KeyedHasher):
        self.screening = screening
        self.index = index
        self._digesters = tuple(hasher.screening_digester(kind) for kind, _ in screening.columns)
        self._lookups = tuple(_lookup(kind, hasher, index) for kind, _ in screening.columns)

    def read_header(self, stream: BinaryIO) -> Header | None:
        """None for an empty file. Raises MissingColumnsError before anything is written. The
        stream is left at the first byte after the header."""
        if not is_cr_only(stream):
            return self._read_header(stream)
        header = self._read_header(swapped_reader(stream))
        if header is None:
            return None
        stream.seek(header.body_start)
        return replace(header, raw=header.raw.translate(SWAP), cr_only=True)

    def _read_header(self, stream: BinaryIO) -> Header | None:
        if self.screening.format is Format.JSONL:
            return self._jsonl_header(stream)
        for line_no, raw in records(stream, 1):
            if raw is None:
                raise ValidationError("the header row of the audience file is not valid CSV")
            try:
                names = next(csv.reader(io.StringIO(raw.removeprefix(BOM).decode())))
            except (UnicodeDecodeError, csv.Error, StopIteration):
                raise ValidationError(
                    "the header row of the audience file is not valid CSV"
                ) from None
            wanted = [name for _, name in self.screening.columns]
            missing = set(wanted) - set(names)
            if missing:
                raise MissingColumnsError(missing)
            positions = tuple(names.index(n) for n in wanted)
            return Header(raw, stream.tell(), line_no + raw.count(b"\n"), len(names), positions)
        return None

    def _jsonl_header(self, stream: BinaryIO) -> Header | None:
        for line in stream:
            if not line.strip():
                continue
            try:
                first = json.loads(line)
            except ValueError:
                break  # the first row is malformed: it is counted as such, not taken as a header
            if isinstance(first, dict):
                missing = {name for _, name in self.screening.columns} - first.keys()
                if missing:
                    raise MissingColumnsError(missing)
            break
        else:
            return None
        return Header(b"", 0, 1)

    def screen(
        self, stream: BinaryIO, out: BinaryIO, header: Header, part: Part | None = None
    ) -> Counts:
        """Screens the rows of one part (default: all rows after the header) into `out`."""
        part = part or Part(header.body_start, None, header.first_line)
        if header.cr_only:
            stream, out = swapped_reader(stream), swapped_writer(out)
        stream.seek(part.start)
        if self.screening.format is Format.JSONL:
            lines = _lines_until(stream, part.end)
            return self._run(_jsonl_rows(lines, part.first_line, self.screening), out)
        counts, line_no = Counts(), part.first_line
        for block in _blocks(stream, part.end):
            if b'"' in block:
                # A quoted field may hold commas and newlines, and may run past the block.
                lines = iter(io.BytesIO(block))
                more = chain(lines, _lines_until(stream, part.end))
                line_no = self._screen_lines(lines, more, out, header, line_no, counts)
            else:
                line_no = self._screen_block(block, out, header, line_no, counts)
        return counts

    def _screen_block(
        self, block: bytes, out: BinaryIO, header: Header, first_line: int, counts: Counts
    ) -> int:
        """The hot path: a block of whole lines without a quote, so every line is one record
        and every comma a separator. Each step is one pass over the block's lines in C (maps,
        counts, compress) or a comprehension; a block nothing is dropped from is written as it
        came. Answers the number of the line after the block."""
        lines = block.split(b"\n")
        terminated = not lines[-1]
        if terminated:
            lines.pop()
        blank, bad = _unreadable(block, lines, header.width - 1)
        removed = set(blank).union(i for i, _ in bad)
        rows = [i for i in range(len(lines)) if i not in removed] if removed else range(len(lines))
        checked = [lines[i] for i in rows] if removed else lines

        found: dict[int, set[str]] = {}
        for position, reasons_of in zip(header.positions, self._lookups, strict=True):
            fields = map(bytes.split, checked, repeat(b","), repeat(position + 1))
            column = reasons_of(list(map(itemgetter(position), fields)))
            for k in compress(range(len(column)), column):
                found.setdefault(rows[k], set()).add(column[k])  # type: ignore[arg-type]
        invalid = [i for i, reasons in found.items() if INVALID in reasons]
        bad += [(i, INVALID) for i in invalid]
        for i, cause in sorted(bad):
            counts.bad(cause, first_line + i)
        for i in invalid:
            del found[i]
        for reasons in found.values():
            counts.dropped[report_reason(strongest(reasons))] += 1

        counts.rows_in += len(lines) - len(blank)
        removed.update(found, invalid)
        counts.rows_out += len(lines) - len(removed)
        _write_kept(block, lines, sorted(removed), terminated, out)
        return first_line + len(lines)

    def _screen_lines(
        self,
        lines: Iterator[bytes],
        more: Iterator[bytes],
        out: BinaryIO,
        header: Header,
        first_line: int,
        counts: Counts,
    ) -> int:
        """The general path, one line at a time: a line with a quote is completed from `more`
        (the rest of the block, then the stream) and parsed by the csv module. Answers the
        number of the line after the last one read."""
        width = header.width
        kept: list[bytes] = []
        feed = _OneRecord()
        line_no = first_line - 1
        for line in lines:
            line_no += 1
            if b'"' in line:
                raw, more_lines = rest_of_record(line, more)
                row = _quoted_row(line_no, raw, header, feed)
                line_no += more_lines
            else:
                fields = line.split(b",")
                if len(fields) != width or (width == 1 and not line.strip(b"\r\n")):
                    if line.strip(b"\r\n"):
                        counts.rows_in += 1
                        counts.bad("wrongColumnCount", line_no)
                    continue
                try:
                    row = line_no, line, [fields[p].decode() for p in header.positions]
                except UnicodeDecodeError:
                    row = line_no, line, "undecodable"
                else:
                    if not line.isascii() and not _decodes(line):
                        row = line_no, line, "undecodable"
            counts.rows_in += 1
            self._screen_row(row, counts, kept)
            if len(kept) >= WRITE_BATCH:
                _flush(kept, out, counts)
        _flush(kept, out, counts)
        return line_no + 1

    def _screen_row(self, row: Row, counts: Counts, kept: list[bytes]) -> None:
        line_no, raw, values = row
        if isinstance(values, str):
            counts.bad(values, line_no)
            return
        hits: set[str] = set()
        get = self.index.get
        try:
            for digests, value in zip(self._digesters, values, strict=True):
                if value and not value.isspace():
                    new, old = digests(value)
                    hits.update(r for r in (get(new), old and get(old)) if r)
        except ValidationError:
            counts.bad("invalidIdentifier", line_no)
            return
        if hits:
            counts.dropped[report_reason(strongest(hits))] += 1
        else:
            kept.append(raw)

    def _run(self, rows: Iterator[Row], out: BinaryIO) -> Counts:
        counts = Counts()
        kept: list[bytes] = []
        for row in rows:
            counts.rows_in += 1
            self._screen_row(row, counts, kept)
            if len(kept) >= WRITE_BATCH:
                _flush(kept, out, counts)
        _flush(kept, out, counts)
        return counts


Row = tuple[int, bytes, list[str] | str]


def _unreadable(block: bytes, lines: list[bytes], commas: int) -> tuple[list[int], list[Bad]]:
    """Blank lines (no records) and rows we cannot check, by index into `lines`."""
    per_line = list(map(bytes.count, lines, repeat(b",")))
    odd = (
        []
        if per_line.count(commas) == len(lines)
        else [i for i, n in enumerate(per_line) if n != commas]
    )
    if commas:
        blank = [i for i in odd if not lines[i].strip(b"\r")]
    else:
        blank = [i for i, line in enumerate(lines) if not line.strip(b"\r")]
    bad = [(i, "wrongColumnCount") for i in odd if lines[i].strip(b"\r")]
    if not block.isascii() and not _decodes(block):
        skip = set(odd)
        bad += [
            (i, "undecodable")
            for i, line in enumerate(lines)
            if i not in skip and not line.isascii() and not _decodes(line)
        ]
    return blank, bad


Bad = tuple[int, str]


def _write_kept(
    block: bytes, lines: list[bytes], removed: list[int], terminated: bool, out: BinaryIO
) -> None:
    """The block's lines but the removed ones, as the very bytes they came as."""
    if not removed:
        out.write(block)
        return
    kept: list[bytes] = []
    start = 0
    for i in removed:
        kept.extend(lines[start:i])
        start = i + 1
    kept.extend(lines[start:])
    if kept:
        out.write(b"\n".join(kept))
        # The last line keeps its newline unless it is the file's unterminated last line.
        if terminated or removed[-1] == len(lines) - 1:
            out.write(b"\n")


def _lines_until(stream: BinaryIO, end: int | None) -> Iterator[bytes]:
    """Lines from where the stream is up to byte `end`; parts end on record boundaries, so no
    record is cut."""
    position = stream.tell()
    while end is None or position < end:
        line = stream.readline()
        if not line:
            return
        position += len(line)
        yield line


def _blocks(stream: BinaryIO, end: int | None) -> Iterator[bytes]:
    """Whole lines, about BLOCK_BYTES at a time, from where the stream is up to byte `end`. The
    position is read again for each block: screening a block may have read on into the stream."""
    while True:
        position = stream.tell()
        size = BLOCK_BYTES if end is None else min(BLOCK_BYTES, end - position)
        block = stream.read(size) if size > 0 else b""
        if not block:
            return
        if not block.endswith(b"\n") and (end is None or position + len(block) < end):
            block += stream.readline()
        yield block


def _flush(kept: list[bytes], out: BinaryIO, counts: Counts) -> None:
    out.writelines(kept)
    counts.rows_out += len(kept)
    kept.clear()


def _lookup(kind: IdentifierKind, hasher: KeyedHasher, index: Mapping[bytes, str]) -> Lookup:
    """The suppression reasons of a column of identifier fields as a file holds them: None
    where a field is blank or not suppressed, INVALID where it cannot be normalised. A value
    with a v1 hash of its own (its v1 form differs) is looked up by both."""
    digests, get = hasher.column_digester(kind), index.get

    def reasons_of(values: list[bytes]) -> list[str | None]:
        new, old, invalid = digests(values)
        reasons = list(map(get, new))  # type: ignore[arg-type]  # None is in no index
        for i, digest in old.items():
            reason = get(digest)
            if reason is not None:
                reasons[i] = strongest({r for r in (reason, reasons[i]) if r})
        for i in invalid:
            reasons[i] = INVALID
        return reasons

    return reasons_of


Lookup = Callable[[list[bytes]], list[str | None]]


def _decodes(raw: bytes) -> bool:
    try:
        raw.decode()
    except UnicodeDecodeError:
        return False
    return True


class _OneRecord:
    """Feeds one record at a time to a long-lived csv reader: building a reader per record
    costs more than parsing the record."""

    def __init__(self) -> None:
        self.text: str | None = None
        self.reader = csv.reader(self, strict=True)

    def __iter__(self) -> _OneRecord:
        return self

    def __next__(self) -> str:
        text, self.text = self.text, None
        if text is None:
            raise StopIteration
        return text

    def parse(self, text: str) -> list[str] | None:
        """The fields of `text` if it is exactly one well-quoted record, else None."""
        self.text = text
        row = next(self.reader, None)
        if self.text is not None or row is None:
            return None
        return row


def _quoted_row(line_no: int, raw: bytes | None, header: Header, feed: _OneRecord) -> Row:
    if raw is None:
        return line_no, b"", "unterminatedQuote"
    try:
        fields = feed.parse(raw.decode())
    except UnicodeDecodeError:
        return line_no, raw, "undecodable"
    except csv.Error:
        feed.reader = csv.reader(feed, strict=True)
        return line_no, raw, "badQuoting"
    if fields is None or len(fields) != header.width:
        return line_no, raw, "wrongColumnCount"
    return line_no, raw, [fields[p] for p in header.positions]


def _jsonl_rows(lines: Iterable[bytes], first_line: int, screening: Screening) -> Iterator[Row]:
    names = [name for _, name in screening.columns]
    for line_no, raw in enumerate(lines, first_line):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except UnicodeDecodeError:
            yield line_no, raw, "undecodable"
            continue
        except ValueError:
            yield line_no, raw, "notJson"
            continue
        if not isinstance(row, dict) or not all(n in row for n in names):
            yield line_no, raw, "missingField"
            continue
        values = [_scalar(row[n]) for n in names]
        if any(v is None for v in values):
            yield line_no, raw, "notAScalar"
            continue
        yield line_no, raw, values  # type: ignore[misc]


def _scalar(value: object) -> str | None:
    if value is None:
        return ""
    if isinstance(value, bool | dict | list):
        return None
    return str(value)
