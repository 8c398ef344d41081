"""Legal deadlines for answering a privacy request, per jurisdiction.

A period is 'P<n>M' (calendar months: GDPR Art. 12(3) 'within one month of receipt', which ends
on the same day of the next month, or that month's last day when it has no such day) or 'P<n>D'
(days: CCPA's 45 days)."""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta

from functions.shared.errors import ValidationError
from functions.shared.settings import SubmissionSettings

# The settings' defaults, defined there once.
DEFAULT_PERIODS: dict[str, str] = SubmissionSettings.model_fields["legal_deadlines"].default
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
