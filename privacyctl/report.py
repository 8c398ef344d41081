"""`privacyctl audit report`: the filtered trail as CSV for a regulator, and its summary.

The summary is worked out from the entries alone, so it says exactly what the exported trail
shows: per request its type, its outcome (the last event that ends a request), the time from
submission to completion, and whether it is open past its legal deadline (dueAt, recorded on the
SUBMITTED entry, or on its DEADLINE_EXTENDED entry once extended). Only privacy requests count
as requests: consent changes and re-permission campaigns share the trail (their entries carry
their own record type) and are counted, by event, in sections of their own."""

from __future__ import annotations

import csv
import json
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

COLUMNS = [
    "chainSeq",
    "at",
    "entryId",
    "requestId",
    "requestType",
    "eventType",
    "actor",
    "outcome",
    "customerHash",
    "seq",
    "details",
    "prevHash",
    "entryHash",
]
ENDINGS = {"COMPLETED", "REJECTED", "CANCELLED", "EXPIRED", "FAILED"}
# The privacy requests' types (functions.shared.domain.RequestType); other record types on the
# trail, and the section they are counted in.
REQUEST_TYPES = {"CEASE_MARKETING", "RESUME_MARKETING", "FORGET", "EXPORT"}
OTHER_RECORDS = {"CONSENT": "consent changes", "REPERMISSION_CAMPAIGN": "campaigns"}


def check_writable(path: Path) -> None:
    """Before anything is fetched: a report that cannot be written should fail first."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(2, "no such directory", str(folder))


def write_csv(entries: Iterable[dict[str, Any]], path: Path) -> int:
    """Oldest first, in chain order; details as canonical JSON. Answers the rows written."""
    rows = sorted(entries, key=lambda e: int(e["chainSeq"]))
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for entry in rows:
            details = json.dumps(entry.get("details") or {}, sort_keys=True, separators=(",", ":"))
            writer.writerow({**entry, "details": details})
    return len(rows)


@dataclass
class _Request:
    type: str = ""
    submitted: str | None = None
    ended: str | None = None
    outcome: str = "OPEN"
    due_at: str | None = None
    # An extension's deadline replaces the submitted one, whichever entry is read first.
    extended_due_at: str | None = None


@dataclass
class Summary:
    entries: int = 0
    requests: int = 0
    by_type_and_outcome: dict[str, dict[str, int]] = field(default_factory=dict)
    median_hours_to_complete: float | None = None
    worst_hours_to_complete: float | None = None
    completed_measured: int = 0
    open_past_deadline: list[str] = field(default_factory=list)
    # Consent changes and campaigns: section -> event type -> entries.
    other_records: dict[str, dict[str, int]] = field(default_factory=dict)

    def rows(self) -> list[tuple[str, str, str]]:
        rows = [("trail", "entries", str(self.entries)), ("trail", "requests", str(self.requests))]
        for kind, outcomes in sorted(self.by_type_and_outcome.items()):
            rows += [(f"requests {kind}", o, str(n)) for o, n in sorted(outcomes.items())]
        for section, events in sorted(self.other_records.items()):
            rows += [(section, event, str(n)) for event, n in sorted(events.items())]
        for name, value in (
            ("median hours submission to completion", self.median_hours_to_complete),
            ("worst hours submission to completion", self.worst_hours_to_complete),
        ):
            rows.append(("timing", name, "" if value is None else f"{value:.2f}"))
        rows.append(("timing", "completed requests measured", str(self.completed_measured)))
        rows.append(("deadlines", "open past legal deadline", str(len(self.open_past_deadline))))
        rows += [("deadlines", "open past deadline: request", r) for r in self.open_past_deadline]
        return rows


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def summarise(entries: Iterable[dict[str, Any]], now: str) -> Summary:
    requests: dict[str, _Request] = {}
    summary = Summary()
    others: dict[str, Counter[str]] = {}
    for entry in entries:
        summary.entries += 1
        record_type = entry.get("requestType") or ""
        if record_type not in REQUEST_TYPES:
            section = OTHER_RECORDS.get(record_type, f"other records {record_type}".strip())
            others.setdefault(section, Counter())[entry["eventType"]] += 1
            continue
        request = requests.setdefault(entry["requestId"], _Request())
        request.type = entry.get("requestType") or request.type
        event = entry["eventType"]
        if event == "SUBMITTED":
            request.submitted = entry["at"]
            request.due_at = (entry.get("details") or {}).get("dueAt")
        elif event == "DEADLINE_PASSED" and not request.due_at:
            request.due_at = (entry.get("details") or {}).get("dueAt")
        elif event == "DEADLINE_EXTENDED":
            request.extended_due_at = (entry.get("details") or {}).get("dueAt")
        elif event in ENDINGS:
            request.outcome, request.ended = event, entry["at"]
    summary.requests = len(requests)
    hours: list[float] = []
    counts: dict[str, Counter[str]] = {}
    for request_id, request in sorted(requests.items()):
        counts.setdefault(request.type, Counter())[request.outcome] += 1
        if request.outcome == "COMPLETED" and request.submitted and request.ended:
            hours.append((_at(request.ended) - _at(request.submitted)).total_seconds() / 3600)
        due = request.extended_due_at or request.due_at
        if request.outcome == "OPEN" and due and _at(due) < _at(now):
            summary.open_past_deadline.append(request_id)
    summary.by_type_and_outcome = {k: dict(v) for k, v in counts.items()}
    summary.other_records = {k: dict(v) for k, v in others.items()}
    if hours:
        summary.median_hours_to_complete = statistics.median(hours)
        summary.worst_hours_to_complete = max(hours)
        summary.completed_measured = len(hours)
    return summary


def write_summary(summary: Summary, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["section", "measure", "value"])
        writer.writerows(summary.rows())
