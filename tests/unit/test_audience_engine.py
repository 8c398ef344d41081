"""The screening core on local files: formats, quoting, encodings, malformed rows, parts."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest

from functions.audience_filter import engine
from functions.audience_filter import parts as parts_module
from functions.audience_filter.engine import MissingColumnsError, Screener, Screening
from functions.audience_filter.jobs import Format
from functions.audience_filter.parts import plan_parts, screen_file
from functions.shared.identifiers import IdentifierKind, KeyedHasher

KEY = bytes(range(32))
HASHER = KeyedHasher(KEY, "GB")
EMAIL, PHONE, CUSTOMER = IdentifierKind.EMAIL, IdentifierKind.PHONE, IdentifierKind.CUSTOMER_ID
# What cease, forget and (issue 7) opt-outs put in the index, hashed the index's way.
INDEX = {
    bytes.fromhex(HASHER.hash(EMAIL, "ceased@example.com")): "CEASED",
    bytes.fromhex(HASHER.hash(EMAIL, "gone@example.com")): "FORGOTTEN",
    bytes.fromhex(HASHER.hash(PHONE, "+442079460102")): "CEASED",
    bytes.fromhex(HASHER.hash(CUSTOMER, "C-9")): "OPTED_OUT:newsletter",
    # Written by an old deployment (rule v1) from the profile spellings below: v1 kept the trunk
    # 0 and the trailing dot, v2 drops them, so only the v1 look-up finds these.
    bytes.fromhex(HASHER.hash_v1(PHONE, "+44 07400 123456")): "FORGOTTEN",
    bytes.fromhex(HASHER.hash_v1(EMAIL, "Old@Example.com.")): "FORGOTTEN",
}


def screen(
    tmp_path: Path,
    data: bytes,
    columns: dict[IdentifierKind, str],
    fmt: Format = Format.CSV,
    workers: int = 1,
) -> tuple[bytes, dict]:
    source = tmp_path / "in"
    source.write_bytes(data)
    screener = Screener(Screening(tuple(columns.items()), fmt), INDEX, HASHER)
    out = io.BytesIO()
    counts = screen_file(screener, source, out, workers)
    return out.getvalue(), counts.as_report()


def test_csv_rows_pass_byte_for_byte_and_suppressed_ones_are_dropped(tmp_path):
    data = (
        b"\xef\xbb\xbfid,email,note\r\n"
        b"1,  CEASED@Example.COM ,x\r\n"
        b'2,kept@example.com,"quoted, with comma"\r\n'
        b'3,"Gone@example.com\t","a ""quote"" and\r\na newline"\r\n'
        b'4,other@example.com,"unneeded quotes"\r\n'
        b"5,,no e-mail at all\r\n"
    )
    out, report = screen(tmp_path, data, {EMAIL: "email"})
    lines = data.split(b"\r\n")
    assert out == b"\r\n".join([lines[0], lines[2], lines[5], lines[6]]) + b"\r\n"
    assert report["rowsIn"] == 5 and report["rowsOut"] == 3
    assert report["dropped"] == {"CEASED": 1, "FORGOTTEN": 1}
    assert report["malformed"]["rows"] == 0


def test_phones_in_several_formats_match_the_normalised_index_entry(tmp_path):
    phones = ["+44 20 7946 0102", "020 7946 0102", "0044-20-7946-0102", "+44 (0)20 7946 0102"]
    data = b"phone,city\n" + b"".join(f'"{p}",Leeds\n'.encode() for p in phones)
    data += b"+442079460999,York\n"
    out, report = screen(tmp_path, data, {PHONE: "phone"})
    assert out == b"phone,city\n+442079460999,York\n"
    assert report["dropped"] == {"CEASED": 4}


def test_malformed_rows_are_dropped_counted_and_reported_by_line(tmp_path):
    data = (
        b"id,email\n"
        b"1,a@example.com\n"
        b"2,b@example.com,extra\n"  # line 3: wrong column count
        b"3,\xff\xfe@example.com\n"  # line 4: undecodable
        b"4,c@example.com\n"
        b'5,"never closed\n'  # line 6: a quote never closed
    )
    out, report = screen(tmp_path, data, {EMAIL: "email"})
    assert out == b"id,email\n1,a@example.com\n4,c@example.com\n"
    assert report["malformed"]["lines"] == [3, 4, 6]
    assert report["malformed"]["byCause"] == {
        "undecodable": 1,
        "unterminatedQuote": 1,
        "wrongColumnCount": 1,
    }
    assert report["rowsIn"] == 5 and report["rowsOut"] == 2


def test_an_invalid_phone_makes_the_row_unverifiable_not_passed(tmp_path):
    out, report = screen(tmp_path, b"phone\n12\n+14155550107\n", {PHONE: "phone"})
    assert out == b"phone\n+14155550107\n"
    assert report["malformed"]["byCause"] == {"invalidIdentifier": 1}


def test_topic_opt_outs_drop_only_what_the_index_snapshot_holds(tmp_path):
    out, report = screen(tmp_path, b"cid\nC-9\nC-10\n", {CUSTOMER: "cid"})
    assert out == b"cid\nC-10\n"
    assert report["dropped"] == {"OPTED_OUT": 1}


def test_jsonl_rows_are_screened_and_passed_unchanged(tmp_path):
    rows = [
        {"email": "Ceased@Example.com", "n": 1},
        {"email": "kept@example.com", "n": 2, "nested": {"a": [1]}},
        {"n": 3},
    ]
    data = b"".join(json.dumps(r).encode() + b"\n" for r in rows) + b"not json\n"
    out, report = screen(tmp_path, data, {EMAIL: "email"}, Format.JSONL)
    assert out == json.dumps(rows[1]).encode() + b"\n"
    assert report["dropped"] == {"CEASED": 1}
    assert report["malformed"]["lines"] == [3, 4]


@pytest.mark.parametrize(("data", "expected"), [(b"", b""), (b"id,email\n", b"id,email\n")])
def test_empty_and_header_only_files_screen_to_the_same(tmp_path, data, expected):
    out, report = screen(tmp_path, data, {EMAIL: "email"})
    assert out == expected
    assert report["rowsIn"] == 0 and report["rowsOut"] == 0


def test_a_missing_column_fails_before_anything_is_written(tmp_path):
    with pytest.raises(MissingColumnsError, match="e_mail"):
        screen(tmp_path, b"id,email\n1,a@example.com\n", {EMAIL: "e_mail"})
    with pytest.raises(MissingColumnsError):
        screen(tmp_path, b'{"mail": "a@example.com"}\n', {EMAIL: "email"}, Format.JSONL)


def _mixed_file(rows: int) -> bytes:
    body = [b"id,email,note\n"]
    for i in range(rows):
        email = b"ceased@example.com" if i % 7 == 0 else f"u{i}@example.com".encode()
        note = b'"multi\nline, ""quoted"""' if i % 5 == 0 else b"plain"
        body.append(b"%d,%s,%s\n" % (i, email, note))
    body.append(b"999999,x@example.com,too,many\n")
    return b"".join(body)


@pytest.mark.parametrize("quoted", [True, False])
def test_parts_cut_on_record_boundaries_and_screen_to_the_same_bytes(tmp_path, quoted):
    data = _mixed_file(3000)
    if not quoted:
        data = data.replace(b'"multi\nline, ""quoted"""', b"flat")
    whole, whole_report = screen(tmp_path, data, {EMAIL: "email"}, workers=1)
    source = tmp_path / "in"
    screener = Screener(Screening(((EMAIL, "email"),), Format.CSV), INDEX, HASHER)
    with source.open("rb") as f:
        header = screener.read_header(f)
    assert header is not None
    plan = plan_parts(source, header, 4, Format.CSV, min_bytes=1000)
    assert len(plan) == 4
    pieces, reports = [], []
    for part in plan:
        out = io.BytesIO()
        with source.open("rb") as f:
            reports.append(screener.screen(f, out, header, part))
        pieces.append(out.getvalue())
    assert header.raw + b"".join(pieces) == whole
    total = reports[0]
    for other in reports[1:]:
        total.merge(other)
    assert total.as_report() == whole_report
    assert whole_report["malformed"]["lines"] == [data.count(b"\n")]


def test_forked_workers_give_the_same_output(tmp_path, monkeypatch):
    monkeypatch.setattr("functions.audience_filter.parts.MIN_PART_BYTES", 1000)
    forked = []
    real = parts_module._screen_parallel
    monkeypatch.setattr(
        parts_module, "_screen_parallel", lambda *a: forked.append(len(a[-1])) or real(*a)
    )
    data = _mixed_file(3000)
    assert screen(tmp_path, data, {EMAIL: "email"}, workers=2) == screen(
        tmp_path, data, {EMAIL: "email"}, workers=1
    )
    assert forked == [2]


FIELDS = [
    b"ceased@example.com",
    b" CEASED@Example.COM\t",
    b"\x1cgone@example.com",
    b"GONE@EXAMPLE.COM\r",
    b"kept@example.com",
    b"",
    b"   ",
    b"\xc2\xa0",
    b"jos\xc3\xa9@example.com",
    b"\xff@example.com",
    b"+44 20 7946 0102",
    b"020 7946 0102",
    b"12",
    b"C-9",
    b" C-10",
    b"x,y",
    # Rule v2's forms (issue 14): the same people, and v1-only spellings.
    b"mailto:Ceased@example.com",
    b"Ceased <ceased@example.com>",
    b"ceased@example.com.",
    b"\xe2\x80\x8bgone@example.com",
    b"gone\xef\xbc\xa0example.com",
    b"old@example.com.",
    b"+442079460102",
    b"tel:+44-20-7946-0102",
    b"+44 020 7946 0102",
    b"+44 07400 123456",
    b"\xef\xbc\x8b442079460102",
    b"+44\xe2\x80\x9320\xe2\x80\x937946\xe2\x80\x930102",
    b"+447400123457",
]


def _fuzzed_file(seed: int, rows: int) -> bytes:
    """Lines of every kind the fast path must treat as the line-by-line path does: blank, CRLF,
    wrong widths, odd bytes, invalid phones, padded identifiers, no final newline."""
    pick = random.Random(seed).choice
    lines = [b"email,phone,cid,note"]
    for _ in range(rows):
        line = b",".join(pick(FIELDS) for _ in range(4))
        lines.append(pick([line, line, line, line + b"\r", b"", b"\r", b" "]))
    return b"\n".join(lines) + pick([b"\n", b""])


@pytest.mark.parametrize("seed", range(6))
def test_the_block_path_screens_as_the_line_by_line_path(tmp_path, monkeypatch, seed):
    """Blocks without a quote take the fast path; the same bytes forced through the general
    path must give the same output and the same report, whatever the block size."""
    data = _fuzzed_file(seed, 400)
    columns = {EMAIL: "email", PHONE: "phone", CUSTOMER: "cid"}
    monkeypatch.setattr(engine, "BLOCK_BYTES", random.Random(seed).choice([7, 100, 1 << 20]))
    fast = screen(tmp_path, data, columns)

    def line_by_line(self, block, out, header, first_line, counts):
        lines = iter(io.BytesIO(block))
        return self._screen_lines(lines, lines, out, header, first_line, counts)

    monkeypatch.setattr(Screener, "_screen_block", line_by_line)
    assert fast == screen(tmp_path, data, columns)
    assert fast[1]["malformed"]["rows"] and fast[1]["dropped"] and fast[1]["rowsOut"]


def test_quoted_records_may_run_across_blocks(tmp_path, monkeypatch):
    data = _mixed_file(300)
    whole = screen(tmp_path, data, {EMAIL: "email"})
    monkeypatch.setattr(engine, "BLOCK_BYTES", 10)
    assert screen(tmp_path, data, {EMAIL: "email"}) == whole
    assert whole[1]["dropped"] == {"CEASED": 43}


def test_entries_an_old_deployment_wrote_with_rule_v1_still_drop_their_person(tmp_path):
    """Forgotten people's raw identifiers are gone: their v1 entries are looked up as written."""
    assert HASHER.hash_v1(PHONE, "+44 07400 123456") != HASHER.hash(PHONE, "+44 07400 123456")
    data = (
        b"email,phone\n"
        b"old@example.com.,\n"  # the spelling the v1 entry was hashed from
        b",+44 07400 123456\n"
        b'"OLD@example.com.","+44 07400 123456"\n'  # the same through the csv module
        b"new@example.com,+447400123999\n"
    )
    out, report = screen(tmp_path, data, {EMAIL: "email", PHONE: "phone"})
    assert out == b"email,phone\nnew@example.com,+447400123999\n"
    assert report["dropped"] == {"FORGOTTEN": 3}
    rows = [{"email": "old@example.com.", "phone": ""}, {"email": "", "phone": "+44 07400 123456"}]
    jsonl = b"".join(json.dumps(r).encode() + b"\n" for r in rows)
    out, report = screen(tmp_path, jsonl, {EMAIL: "email", PHONE: "phone"}, Format.JSONL)
    assert out == b"" and report["dropped"] == {"FORGOTTEN": 2}


@pytest.mark.parametrize("workers", [1, 2])
def test_cr_only_line_ends_are_screened_as_lf_ones(tmp_path, monkeypatch, workers):
    monkeypatch.setattr("functions.audience_filter.parts.MIN_PART_BYTES", 1000)
    lf = _mixed_file(3000)
    cr = lf.replace(b"\n", b"\r")
    out_lf, report_lf = screen(tmp_path, lf, {EMAIL: "email"}, workers=workers)
    out_cr, report_cr = screen(tmp_path, cr, {EMAIL: "email"}, workers=workers)
    assert out_cr == out_lf.replace(b"\n", b"\r")
    assert report_cr == report_lf and report_cr["dropped"] == {"CEASED": 429}


def test_a_cr_only_part_screens_as_the_whole(tmp_path):
    cr = _mixed_file(3000).replace(b"\n", b"\r")
    whole, _ = screen(tmp_path, cr, {EMAIL: "email"})
    source = tmp_path / "in"
    screener = Screener(Screening(((EMAIL, "email"),), Format.CSV), INDEX, HASHER)
    with source.open("rb") as f:
        header = screener.read_header(f)
        assert header is not None and header.cr_only and f.tell() == header.body_start
    assert header.raw == b"id,email,note\r"
    plan = plan_parts(source, header, 3, Format.CSV, min_bytes=1000)
    pieces = []
    for part in plan:
        out = io.BytesIO()
        with source.open("rb") as f:
            screener.screen(f, out, header, part)
        pieces.append(out.getvalue())
    assert len(plan) == 3 and header.raw + b"".join(pieces) == whole
