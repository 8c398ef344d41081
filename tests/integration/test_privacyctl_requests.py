"""`privacyctl requests` against the local stack: the queue as a table and JSON, every page into
CSV, and `requests extend` (compliance only)."""

from __future__ import annotations

import csv
import json
import uuid

import pytest

from privacyctl import requests as queue_command
from privacyctl.cli import main
from tests.integration.test_request_queue import _person


def _run(stack, capsys, token, *argv):
    code = main(["--api", stack.api_url, "--token", token, *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def mine(stack, capsys):
    """Three requests awaiting confirmation, submitted through privacyctl by an agent of their
    own (so --mine lists exactly these)."""
    tag = uuid.uuid4().hex[:8]
    token = f"dev:p{tag}:agent"
    stack.seed([_person(tag, n) for n in range(3)])
    ids = []
    for n in range(3):
        code, out, _ = _run(
            stack,
            capsys,
            token,
            "cease",
            f"T-q{tag}{n}",
            "--identity-verified",
            "--no-confirm",
            "--output",
            "json",
        )
        assert code == 0
        ids.append(json.loads(out[out.index("{\n") :])["requestId"])
    yield token, ids
    for request_id in ids:
        _run(stack, capsys, token, "cancel", request_id)


def test_the_queue_as_a_table_and_as_json(stack, capsys, mine):
    token, ids = mine
    code, out, _ = _run(stack, capsys, token, "requests", "--mine")
    assert code == 0
    header, *rows = out.strip().splitlines()
    assert header.split()[:4] == ["REQUEST", "TYPE", "STATUS", "CUSTOMER"]
    assert [row.split()[0] for row in rows] == ids[::-1]  # newest first

    code, out, _ = _run(
        stack, capsys, token, "requests", "--mine", "--status", "AWAITING_CONFIRMATION",
        "--type", "CEASE_MARKETING", "--output", "json", "--limit", "2",
    )  # fmt: skip
    shown = json.loads(out)
    assert code == 0 and shown["count"] == 2 and shown["more"] is True
    assert [r["requestId"] for r in shown["requests"]] == ids[:0:-1]


def test_csv_follows_every_page_with_every_column(stack, capsys, mine, tmp_path, monkeypatch):
    token, ids = mine
    monkeypatch.setattr(queue_command, "PAGE", 1)
    target = tmp_path / "queue.csv"
    code, out, _ = _run(stack, capsys, token, "requests", "--mine", "--csv", str(target))
    assert code == 0 and f"3 requests -> {target}" in out
    with target.open() as rows:
        read = list(csv.DictReader(rows))
    assert [r["requestId"] for r in read] == ids[::-1]
    assert tuple(read[0]) == queue_command.COLUMNS
    assert read[0]["status"] == "AWAITING_CONFIRMATION" and read[0]["dueAt"]


def test_extend_is_for_compliance(stack, capsys, mine):
    token, ids = mine
    code, _, err = _run(stack, capsys, token, "requests", "extend", ids[0], "--reason", "busy")
    assert code == 1 and "HTTP 403" in err
    code, out, _ = _run(
        stack, capsys, "dev:carol:compliance", "requests", "extend", ids[0],
        "--reason", "records at three brands", "--days", "5",
    )  # fmt: skip
    assert code == 0 and "(extended)" in out
    code, out, _ = _run(stack, capsys, token, "requests", "--mine", "--output", "json")
    (extended,) = [r for r in json.loads(out)["requests"] if r["requestId"] == ids[0]]
    assert extended["extension"]["extendedBy"] == "carol"
