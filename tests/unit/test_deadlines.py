from datetime import UTC, datetime

import pytest

from functions.requests.deadlines import DEFAULT_PERIODS, due_at, period_for
from functions.shared.errors import ValidationError


@pytest.mark.parametrize(
    ("received", "period", "due"),
    [
        ("2026-11-23T10:00:00", "P1M", "2026-12-23T10:00:00"),
        ("2026-01-31T09:00:00", "P1M", "2026-02-28T09:00:00"),  # no 31 February: month's end
        ("2028-01-31T09:00:00", "P1M", "2028-02-29T09:00:00"),
        ("2026-12-15T00:00:00", "P1M", "2027-01-15T00:00:00"),
        ("2026-11-23T10:00:00", "P45D", "2027-01-07T10:00:00"),
    ],
)
def test_due_dates(received, period, due):
    start = datetime.fromisoformat(received).replace(tzinfo=UTC)
    assert due_at(start, period) == datetime.fromisoformat(due).replace(tzinfo=UTC)


def test_jurisdictions_and_bad_periods():
    assert period_for("CCPA", DEFAULT_PERIODS) == "P45D"
    assert period_for("GDPR", DEFAULT_PERIODS) == "P1M"
    with pytest.raises(ValidationError):
        period_for("MARS", DEFAULT_PERIODS)
    with pytest.raises(ValidationError):
        due_at(datetime.now(UTC), "1 month")
