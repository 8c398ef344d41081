"""Which files are CR-only, and the swap both ways."""

import io

import pytest

from functions.audience_filter.newlines import (
    PEEK_BYTES,
    is_cr_only,
    swapped_reader,
    swapped_writer,
)


@pytest.mark.parametrize(
    ("head", "cr_only"),
    [
        (b"email,phone\ra@x,1\r", True),
        (b"email,phone\r", True),  # the split path's header-only copy
        (b"email,phone\r\na@x,1\r\n", False),
        (b"email,phone\na@x,1\r", False),
        (b"email,phone", False),
        (b"", False),
        (b"x" * (PEEK_BYTES - 1) + b"\r\n", False),  # the peek stops between CR and LF
    ],
)
def test_the_first_line_end_decides(head, cr_only):
    stream = io.BytesIO(head)
    stream.seek(0)
    assert is_cr_only(stream) is cr_only
    assert stream.tell() == 0


def test_the_swap_keeps_offsets_and_restores_every_byte():
    data = bytes(range(256)) * 4 + b"a\rb\r\nc\n"
    reader = swapped_reader(io.BytesIO(data))
    reader.seek(5)
    assert reader.tell() == 5
    reader.seek(0)
    out = io.BytesIO()
    swapped_writer(out).write(reader.read())
    assert out.getvalue() == data
