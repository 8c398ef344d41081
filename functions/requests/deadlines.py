"""Legal deadlines for answering a privacy request, per jurisdiction, and their one extension.

A period is 'P<n>M' (calendar months: GDPR Art. 12(3) 'within one month of receipt', which ends
on the same day of the next month, or that month's last day when it has no such day) or 'P<n>D'
(days: CCPA's 45 days)."""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta

from functions.shared.errors import ConflictError, ValidationError
from functions.shared.settings import SubmissionSettings

# The settings' defaults, defined there once.
DEFAULT_PERIODS: dict[str, str] = SubmissionSettings.model_fields["legal_deadlines"].default
DEFAULT_EXTENSIONS: dict[str, str] = SubmissionSettings.model_fields["legal_extensions"].default
DEFAULT_JURISDICTION: str = SubmissionSettings.model_fields["default_jurisdiction"].default
_PERIOD = re.compile(r"^P(\d{1,3})([MD])$")


def add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def due_at(received: datetime, period: str) -> datetime:
    match = _PERIOD.match(period)
    if match is None:
        raise ValidationError(f"a legal deadline period must look like P1M or P45D, not {period}")
    amount, unit = int(match.group(1)), match.group(2)
    return add_months(received, amount) if unit == "M" else received + timedelta(days=amount)


def period_for(jurisdiction: str, periods: dict[str, str]) -> str:
    try:
        return periods[jurisdiction]
    except KeyError:
        raise ValidationError(f"no legal deadline is configured for {jurisdiction}") from None


def extended_due_at(
    due: datetime, jurisdiction: str, extensions: dict[str, str], days: int | None
) -> datetime:
    """The deadline after its one extension: by `days` days, or without them by all the
    jurisdiction allows, which is counted from the deadline being extended (GDPR's 'two further
    months' follow the first; CCPA's 45 more days likewise)."""
    if jurisdiction not in extensions:
        raise ConflictError(f"the legal deadline under {jurisdiction} cannot be extended")
    period = extensions[jurisdiction]
    latest = due_at(due, period)
    if days is None:
        return latest
    extended = due + timedelta(days=days)
    if extended > latest:
        allowed = (latest - due).days
        raise ValidationError(
            f"days must be at most {allowed}: {jurisdiction} allows an extension of {period}"
        )
    return extended
