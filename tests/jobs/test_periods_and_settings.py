"""Calendar periods in Beijing time with stable keys, and the job settings read from the environment."""

from datetime import datetime, timedelta, timezone

import pytest

from config.settings import Settings, SettingsError
from core.periods import period_of

URL = {"DATABASE_URL": "postgresql://anxun@localhost/anxun"}


def _utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_the_day_turns_at_midnight_in_beijing_not_utc():
    assert period_of("daily", _utc(2026, 11, 22, 15, 59)).key == "2026-11-22"
    assert period_of("daily", _utc(2026, 11, 22, 16, 0)).key == "2026-11-23"
    day = period_of("daily", _utc(2026, 11, 22, 16, 0))
    assert day.start == _utc(2026, 11, 22, 16, 0) and day.due == _utc(2026, 11, 23, 15, 59, 59)


def test_weeks_months_and_quarters_across_the_year_end():
    new_year = _utc(2027, 1, 1, 4, 0)  # a Friday in ISO week 53 of 2026
    assert period_of("weekly", new_year).key == "2026-W53"
    assert period_of("monthly", new_year).key == "2027-01"
    assert period_of("quarterly", new_year).key == "2027-Q1"
    december = period_of("monthly", _utc(2026, 12, 31, 4, 0))
    assert december.key == "2026-12" and december.due == _utc(2026, 12, 31, 15, 59, 59)
    assert period_of("quarterly", _utc(2026, 12, 31, 4, 0)).end == _utc(2026, 12, 31, 16, 0)


def test_fortnights_run_on_without_a_one_week_fortnight_in_53_week_years():
    monday = _utc(2026, 11, 15, 16, 0)  # Monday 16 November 2026, Beijing
    keys = [period_of("biweekly", monday + timedelta(weeks=n)).key for n in range(10)]
    assert keys[0] == "2026-W47-W48" and keys[1] == keys[0]
    starts = [period_of("biweekly", monday + timedelta(weeks=n)).first_day for n in range(0, 12)]
    assert all((b - a).days in (0, 14) for a, b in zip(starts, starts[1:]))
    assert period_of("biweekly", _utc(2027, 1, 5, 4, 0)).key == "2026-W53-W01"
    with pytest.raises(ValueError):
        period_of("hourly", monday)


def test_job_settings_from_the_environment():
    settings = Settings.from_env(
        {
            **URL,
            "ANXUN_PATROL_FREQUENCIES": "red=daily, blue=off",
            "ANXUN_SELF_INSPECTION_CADENCES": "weekly,monthly",
            "ANXUN_SUPERVISE_OVERDUE_MAJOR": "apply",
            "ANXUN_RECHECK_WITHIN_DAYS": "5",
            "ANXUN_FIGURES_GRACE_DAYS": "0",
            "ANXUN_FEED_RETENTION_DAYS": "45",
        }
    )
    assert settings.patrol_frequencies == {"red": "daily", "orange": "biweekly", "yellow": "monthly", "blue": "off"}
    assert settings.self_inspection_cadences == ("weekly", "monthly")
    assert settings.supervise_overdue_major == "apply"
    assert (settings.recheck_within_days, settings.figures_grace_days) == (5, 0)
    assert settings.feed_retention_days == 45
    defaults = Settings.from_env(URL)
    assert defaults.patrol_frequencies == {
        "red": "weekly",
        "orange": "biweekly",
        "yellow": "monthly",
        "blue": "quarterly",
    }
    assert defaults.supervise_overdue_major == "propose"


@pytest.mark.parametrize(
    "name, value",
    [
        ("ANXUN_PATROL_FREQUENCIES", "purple=weekly"),
        ("ANXUN_PATROL_FREQUENCIES", "red=hourly"),
        ("ANXUN_SELF_INSPECTION_CADENCES", "yearly"),
        ("ANXUN_SUPERVISE_OVERDUE_MAJOR", "maybe"),
        ("ANXUN_SCHEDULER_RETRY_SECONDS", "0"),
        ("ANXUN_FEED_RETENTION_DAYS", "0"),
    ],
)
def test_bad_job_settings_are_refused_naming_the_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({**URL, name: value})
