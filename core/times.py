"""Which times, dates and months the API accepts, decided once (README, "What the API accepts").

Every time that comes in — a record's times, a deadline, a filter, a batch's ``sent_at``, an EXIF
date — lies in [EARLIEST, LATEST) with a UTC offset of at most ±14:00 (the zones on Earth span
−12:00 … +14:00). Wider would not hold: year 1 read back in Asia/Shanghai is year 0 for Python,
year 9999 at −05:00 is year 10000 in UTC, and PostgreSQL refuses offsets past ±15:59.

A time something happened (:class:`RecordedTime`) may also lie at most :data:`AHEAD` past the
moment it is judged at: the server's clock for a REST call, and for a push the later of the
server's clock and the phone's ``sent_at``, so a phone whose clock runs ahead (the skew
SYNC_PROTOCOL.md §2 rule 4 keeps) is not refused for it. The HTTP layer and the push set that
moment with :func:`judged_at`; outside them (a schema loaded on its own) only the window applies."""

from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta

from marshmallow import fields
from sqlalchemy import func

from core.clock import SHANGHAI

EARLIEST = datetime(2000, 1, 1, tzinfo=SHANGHAI)
LATEST = datetime(2100, 1, 1, tzinfo=SHANGHAI)  # exclusive
MAX_OFFSET = timedelta(hours=14)
AHEAD = timedelta(days=1)

_judged_at: ContextVar[datetime | None] = ContextVar("judged_at", default=None)


@contextmanager
def judged_at(moment: datetime):
    """Recorded times loaded inside the block may lie at most AHEAD past ``moment``."""
    token = _judged_at.set(moment)
    try:
        yield
    finally:
        _judged_at.reset(token)


def shown(moment: datetime) -> str:
    """How every time leaves the API: RFC 3339 in Beijing time, ``…+08:00`` (README, "Times in answers").
    A naive time is one PostgreSQL or the code already holds in Beijing time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(SHANGHAI).isoformat()


def shown_in_sql(column):
    """:func:`shown` for a time PostgreSQL puts into JSON itself (``jsonb_build_object``), which would
    otherwise carry the session's UTC."""
    return func.to_char(func.timezone(SHANGHAI.key, column), 'YYYY-MM-DD"T"HH24:MI:SS.US"+08:00"')


class ShownTime(fields.DateTime):
    """A time in an answer, in Beijing time (:func:`shown`); every ``…Out`` schema's times are these."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else shown(value)


def in_window(value: datetime) -> bool:
    """Whether an aware time can be stored, read back and shown (see the module docstring)."""
    offset = value.utcoffset()
    return offset is not None and abs(offset) <= MAX_OFFSET and EARLIEST <= value < LATEST


WINDOW_TEXT = "2000-01-01 至 2099-12-31（北京时间）"


class AcceptedTime(fields.AwareDateTime):
    """An RFC 3339 time with its offset, inside the window; shown back in Beijing time."""

    default_error_messages = {
        "offset": "时区偏移须在 -14:00 到 +14:00 之间",
        "window": f"时间须在 {WINDOW_TEXT} 之内",
    }

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        if abs(moment.utcoffset()) > MAX_OFFSET:
            raise self.make_error("offset")
        if not EARLIEST <= moment < LATEST:
            raise self.make_error("window")
        return moment

    _serialize = ShownTime._serialize


class RecordedTime(AcceptedTime):
    """When something happened: inside the window, and not later than a day past the moment it is judged at."""

    default_error_messages = {"future": "时间晚于当前时间超过 1 天，请检查设备时钟"}

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        now = _judged_at.get()
        if now is not None and moment > now + AHEAD:
            raise self.make_error("future")
        return moment


def _plainly_recorded(values: list) -> list[datetime] | None:
    """``List(RecordedTime())`` loading ``values``, when every one is a string AwareDateTime parses
    (marshmallow's ISO format is ``datetime.fromisoformat`` itself) to an aware time inside the window
    and not past the moment judged at + AHEAD; None whenever anything might be refused, so that
    marshmallow says why."""
    now = _judged_at.get()
    latest_allowed = None if now is None else now + AHEAD
    moments = []
    try:
        for value in values:
            if type(value) is not str:
                return None
            moment = datetime.fromisoformat(value)
            offset = moment.utcoffset()
            if offset is None or abs(offset) > MAX_OFFSET or not EARLIEST <= moment < LATEST:
                return None
            if latest_allowed is not None and moment > latest_allowed:
                return None
            moments.append(moment)
    except Exception:  # not a time fromisoformat reads, or anything odd: marshmallow's to judge
        return None
    return moments


class RecordedTimeList(fields.List):
    """``List(RecordedTime())`` — so documented — that loads a list of plainly acceptable times (a
    patrol track's, one a point) in plain Python and hands any other list to marshmallow, which then
    gives exactly its errors."""

    def __init__(self, **kwargs):
        super().__init__(RecordedTime(), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        # Only the default ISO format is read fast; a schema that sets another goes to marshmallow.
        if type(value) is list and self.inner.format in (None, "iso", "iso8601"):
            moments = _plainly_recorded(value)
            if moments is not None:
                return moments
        return super()._deserialize(value, attr, data, **kwargs)


class AcceptedDate(fields.Date):
    """A calendar date inside the window."""

    default_error_messages = {"window": f"日期须在 {WINDOW_TEXT} 之内"}

    def _deserialize(self, value, attr, data, **kwargs) -> date:
        day = super()._deserialize(value, attr, data, **kwargs)
        if not EARLIEST.date() <= day < LATEST.date():
            raise self.make_error("window")
        return day


class AcceptedMonth(fields.String):
    """A month ``YYYY-MM`` inside the window (loaded as the string)."""

    default_error_messages = {"format": "月份格式为 YYYY-MM", "window": "月份须在 2000-01 至 2099-12 之间"}
    PATTERN = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("pattern", self.PATTERN.pattern)
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        month = super()._deserialize(value, attr, data, **kwargs)
        if not self.PATTERN.fullmatch(month):
            raise self.make_error("format")
        if not EARLIEST.year <= int(month[:4]) < LATEST.year:
            raise self.make_error("window")
        return month
