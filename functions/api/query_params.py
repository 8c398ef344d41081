"""Query-string values every listing reads alike (GET /audit, GET /privacy-requests): moments
and page sizes, each a 400 naming the parameter (never echoing its value) when it is bad."""

from __future__ import annotations

from datetime import UTC, datetime, time

from functions.shared import clock
from functions.shared.errors import ValidationError


def parse_moment(name: str, raw: str, end_of_day: bool) -> str:
    """An ISO 8601 date or date-time, as records are stamped (UTC, microseconds, 'Z'). A bare
    date means the whole day: from its start, or to its end."""
    try:
        if len(raw) == 10:
            day = datetime.fromisoformat(raw).date()
            moment = datetime.combine(day, time.max if end_of_day else time.min, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                raise ValueError("no time zone")
    except ValueError:
        raise ValidationError(
            f"{name} must be an ISO 8601 date or a date-time with a time zone"
        ) from None
    return clock.iso(moment)


def parse_limit(raw: str | None, default: int, maximum: int) -> int:
    if raw is None:
        return default
    try:
        limit = int(raw)
    except ValueError:
        raise ValidationError("limit must be a whole number") from None
    if not 1 <= limit <= maximum:
        raise ValidationError(f"limit must be between 1 and {maximum}")
    return limit
