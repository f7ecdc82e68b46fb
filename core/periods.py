"""Calendar periods in Asia/Shanghai, each with a stable key: the key makes a recurring task idempotent
(one task per target, assignee and period) and names the period to people.

    daily 2026-11-23 · weekly 2026-W48 · biweekly 2026-W47-W48 · monthly 2026-11 · quarterly 2026-Q4
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from core.clock import SHANGHAI

# Fortnights are counted from a fixed Monday so that every year's fortnights line up (pairing ISO
# weeks within a year would leave a one-week fortnight in 53-week years).
FORTNIGHT_EPOCH = date(2001, 1, 1)

LABELS = {"daily": "每日", "weekly": "每周", "biweekly": "每两周", "monthly": "每月", "quarterly": "每季度"}


@dataclass(frozen=True)
class Period:
    cadence: str
    key: str
    first_day: date
    next_first_day: date  # exclusive

    @property
    def start(self) -> datetime:
        return _midnight(self.first_day)

    @property
    def end(self) -> datetime:
        """Exclusive: the first moment of the next period."""
        return _midnight(self.next_first_day)

    @property
    def due(self) -> datetime:
        """The last second of the period (23:59:59 on its last day), the due time of its tasks."""
        return self.end - timedelta(seconds=1)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)


def local_date(at: datetime) -> date:
    return at.astimezone(SHANGHAI).date()


def period_of(cadence: str, at: datetime) -> Period:
    day = local_date(at)
    if cadence == "daily":
        return Period(cadence, day.isoformat(), day, day + timedelta(days=1))
    if cadence == "weekly":
        monday = day - timedelta(days=day.weekday())
        year, week, _ = monday.isocalendar()
        return Period(cadence, f"{year}-W{week:02d}", monday, monday + timedelta(days=7))
    if cadence == "biweekly":
        monday = day - timedelta(days=day.weekday())
        monday -= timedelta(days=((monday - FORTNIGHT_EPOCH).days // 7 % 2) * 7)
        year, week, _ = monday.isocalendar()
        second = (monday + timedelta(days=7)).isocalendar()[1]
        return Period(cadence, f"{year}-W{week:02d}-W{second:02d}", monday, monday + timedelta(days=14))
    if cadence == "monthly":
        return month_period(day.year, day.month)
    if cadence == "quarterly":
        first_month = (day.month - 1) // 3 * 3 + 1
        first = date(day.year, first_month, 1)
        return Period(cadence, f"{day.year}-Q{(day.month - 1) // 3 + 1}", first, _add_months(first, 3))
    raise ValueError(f"unknown cadence {cadence!r}")


def month_period(year: int, month: int) -> Period:
    first = date(year, month, 1)
    return Period("monthly", f"{year}-{month:02d}", first, _add_months(first, 1))


def _add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
