"""The one clock, and the one way a moment is written: ISO 8601 in UTC with a 'Z'.

Everything reads the time through `now()` (tests move it by patching this module), and every
stored timestamp is written by `iso`: microseconds for what orders records (audit entries,
history), seconds for deadlines and expiries a person reads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

Precision = Literal["seconds", "microseconds"]


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime, precision: Precision = "microseconds") -> str:
    return moment.astimezone(UTC).isoformat(timespec=precision).replace("+00:00", "Z")


def utc_now() -> str:
    return iso(now())


def parse(text: str) -> datetime:
    """A stored timestamp back as an aware datetime (a naive one is taken as UTC)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def has_passed(text: str) -> bool:
    return parse(text) <= now()
