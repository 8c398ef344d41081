"""The export file's rows and encoding, without AWS."""

import csv
import hashlib
import io

import pytest

from functions.export.csv_file import (
    CHUNK_BYTES,
    HEADER,
    Tally,
    cell,
    csv_chunks,
    customer_rows,
    escape,
    request_rows,
)
from functions.export.files import _parts
from functions.shared.domain import (
    CustomerRecord,
    HistoryEntry,
    PrivacyRequest,
    RequestStatus,
    RequestType,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("=1+1", "'=1+1"),
        ("+44 20 7946 0101", "'+44 20 7946 0101"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        (-500, "-500"),
        (0.52, "0.52"),
        (True, "true"),
        (None, ""),
    ],
)
def test_text_a_spreadsheet_would_evaluate_is_escaped_numbers_are_not(value, text):
    assert cell(value) == text


def test_escape_leaves_ordinary_text_alone():
    assert escape("Lindqvist") == "Lindqvist"


def test_nested_fields_become_dotted_names_and_relations_hide_the_other_person():
    records = [
        CustomerRecord(
            "profile",
            "PROFILE",
            {"email": "a@example.com", "customAttributes": {"store": "Bath"}, "tags": ["x", "y"]},
        ),
        CustomerRecord(
            "relations",
            "household#C-2",
            {"type": "household", "role": "parent", "customerId": "C-2"},
        ),
        CustomerRecord(
            "relations",
            "household#C-3",
            {"type": "household", "role": "parent", "customerId": "C-3"},
        ),
        CustomerRecord("openRequestMarkers", "EXPORT", {}),
        CustomerRecord("consents", "news#email", {"granted": True, "at": "2026-01-01T00:00:00Z"}),
        CustomerRecord("loyalty", "LOYALTY", {"tier": "Gold"}, updated_at="2026-02-02T00:00:00Z"),
    ]
    rows = list(customer_rows(records))
    assert ("profile", "PROFILE", "customAttributes.store", "Bath", "") in rows
    assert ("profile", "PROFILE", "tags.1", "y", "") in rows
    relations = [r for r in rows if r[0] == "relations"]
    assert [r[1:3] for r in relations] == [
        ("household#1", "role"),
        ("household#1", "type"),
        ("household#2", "role"),
        ("household#2", "type"),
    ]
    assert not any("C-2" in str(v) or "C-3" in str(v) for r in rows for v in r)
    assert not any(r[0] == "openRequestMarkers" for r in rows)
    assert ("consents", "news#email", "granted", True, "2026-01-01T00:00:00Z") in rows
    assert ("loyalty", "LOYALTY", "tier", "Gold", "2026-02-02T00:00:00Z") in rows


def test_requests_give_their_outcome_not_who_handled_them():
    request = PrivacyRequest(
        request_id="r1",
        customer_id="C-1",
        type=RequestType.CEASE_MARKETING,
        status=RequestStatus.COMPLETED,
        submitted_by="agent-7",
        identity_verified_by="agent-7",
        identity_verified_at="2026-01-01T00:00:00Z",
        created_at="2026-01-01T00:00:00Z",
        updated_at="2026-01-01T00:00:01Z",
        confirm_by="2026-01-08T00:00:00Z",
        confirmed_by="agent-7",
        completed_at="2026-01-01T00:00:01Z",
        history=(HistoryEntry(RequestStatus.COMPLETED, "2026-01-01T00:00:01Z", "agent-7"),),
    )
    rows = list(request_rows([request]))
    fields = {r[2]: r[3] for r in rows}
    assert fields["statusText"] == "Cease Marketing Processing - Completed"
    assert fields["completedAt"] == "2026-01-01T00:00:01Z"
    assert "agent-7" not in str(rows)


def test_chunks_make_one_utf8_csv_counted_as_it_streams():
    rows = [("notes", f"n{i}", "text", 'Zoë, "quoted"\nline', "") for i in range(20_000)]
    tally = Tally()
    chunks = list(csv_chunks(rows, tally))
    body = b"".join(chunks)
    assert len(chunks) > 2 and max(len(c) for c in chunks) < 2 * CHUNK_BYTES
    parsed = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
    assert tuple(parsed[0]) == HEADER and len(parsed) == 20_001
    assert parsed[1] == ["notes", "n0", "text", 'Zoë, "quoted"\nline', ""]
    assert tally.rows == 20_000 and tally.bytes == len(body)
    assert tally.sha256 == hashlib.sha256(body).hexdigest()


def test_parts_are_at_least_the_part_size_but_the_last():
    parts = list(_parts((b"x" * 3 for _ in range(10)), 7))
    assert [len(p) for p in parts] == [9, 9, 9, 3]
    assert list(_parts(iter(()), 7)) == [b""]
    assert list(_parts([b"x" * 7], 7)) == [b"x" * 7]
