"""Files whose records end in a bare CR (old Mac OS exports), screened as LF files are.

The whole engine splits records at LF. A CR-only file is read with every CR and LF swapped, and
what it writes is swapped back: the swap is its own inverse and maps byte for byte (offsets and
lengths unchanged), so kept rows are the bytes they arrived as, line numbers count CRs, parts
cut at the same offsets, and a quoted field's line break stays whichever it was."""

from __future__ import annotations

import io
from typing import BinaryIO, cast

SWAP = bytes.maketrans(b"\r\n", b"\n\r")
# Enough to hold any header row; the first line end within it decides.
PEEK_BYTES = 64 * 1024


def is_cr_only(stream: BinaryIO) -> bool:
    """Whether the file's first line ends in a bare CR; the stream is left where it was."""
    position = stream.tell()
    head = stream.read(PEEK_BYTES + 1)
    stream.seek(position)
    cr, lf = head.find(b"\r"), head.find(b"\n")
    if cr < 0 or (0 <= lf < cr):
        return False
    after = head[cr + 1 : cr + 2]
    if after:
        return after != b"\n"
    # The CR is the last byte read: bare if the stream ends there (the split path's parts read
    # a header-only copy), undecided (so LF) if the peek merely stopped there.
    return len(head) <= PEEK_BYTES


def swapped_reader(stream: BinaryIO) -> BinaryIO:
    """The stream as LF-terminated lines; seek and tell are the underlying offsets."""
    return cast(BinaryIO, io.BufferedReader(_SwappedRaw(stream)))


def swapped_writer(out: BinaryIO) -> BinaryIO:
    """Writes to `out` what is written to it, swapped back to the file's own line ends."""
    return cast(BinaryIO, _SwappedOut(out))


class _SwappedRaw(io.RawIOBase):
    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data.translate(SWAP)
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._stream.seek(offset, whence)

    def tell(self) -> int:
        return self._stream.tell()


class _SwappedOut(io.RawIOBase):
    def __init__(self, out: BinaryIO) -> None:
        self._out = out

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        return self._out.write(bytes(data).translate(SWAP))
