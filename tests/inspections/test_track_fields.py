"""A patrol track's fields load exactly what marshmallow's plain fields load and refuse exactly what
they refuse, with the same messages: PositionList is List(position_field()), RecordedTimeList is
List(RecordedTime()), with and without a moment judged at (core.times.judged_at)."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime, timedelta, timezone

from hypothesis import event, example, given, settings, strategies as st
from marshmallow import Schema, ValidationError, fields, validate

from core.clock import SHANGHAI
from core.times import AHEAD, EARLIEST, LATEST, RecordedTime, RecordedTimeList, _plainly_recorded, judged_at
from geo.location import PositionList, _plainly_valid_positions, position_field
from inspections.schemas import TrackIn

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=SHANGHAI)


class Fast(Schema):
    coordinates = PositionList(required=True, validate=validate.Length(min=2, max=20000))
    times = RecordedTimeList(load_default=None, allow_none=True)


class Plain(Schema):
    coordinates = fields.List(position_field(), required=True, validate=validate.Length(min=2, max=20000))
    times = fields.List(RecordedTime(), load_default=None, allow_none=True)


def _load(schema: Schema, body) -> tuple[str, object]:
    try:
        # repr: a float's sign of zero, a time's own offset and its type all count, not only equality.
        return "ok", repr(schema.load(body))
    except ValidationError as err:
        return "error", err.messages


# ---- positions ----------------------------------------------------------------------------------

# At, inside and just past every limit, and what JSON can carry that is not a number.
EDGES = [180, -180, 90, -90, 180.0, -180.0, 90.0, -90.0, 0, -0.0, 0.0, 1e-300, -1e-300]
PAST = [180.00000000000003, -180.00000000000003, 90.00000000000001, -90.00000000000001, 181, -91, 10**400, -(10**30)]
degree = st.one_of(
    st.floats(min_value=-180, max_value=180),
    st.floats(min_value=-90, max_value=90),
    st.integers(min_value=-200, max_value=200),
    st.sampled_from(EDGES + PAST),
    st.floats(allow_nan=False),
    st.floats(),  # NaN and the infinities cannot come from JSON, but a caller in Python may pass them
    st.booleans(),
    st.none(),
    st.sampled_from(["", "1.5", "107.8", "nan", "inf", "1e400", "-0"]),
    st.just([107.8]),
    st.just({"lon": 1}),
)
plain_position = st.tuples(st.floats(min_value=-180, max_value=180), st.floats(min_value=-90, max_value=90)).map(list)
position = st.one_of(
    plain_position,
    st.lists(degree, min_size=2, max_size=2),
    st.lists(degree, max_size=4),
    st.tuples(degree, degree),
    degree,
    st.text(max_size=3),
)
positions = st.one_of(
    st.lists(plain_position, max_size=8),
    st.lists(st.one_of(plain_position, plain_position, position), max_size=6),
    position,
)


@settings(max_examples=2500, deadline=None)
@given(positions)
@example([[180, 90], [-180, -90]])
@example([[180.00000000000003, 0], [0, 0]])
@example([[True, 0], [0, 0]])
@example([[0, 0], [10**400, 0]])
@example([[0, 0], ["1.5", "2"]])
@example([[0, 0], [0, 0, 0]])
@example([[0, 0], (0, 0)])
@example([[0, 0], [float("nan"), 0]])
@example([[0, 0]])
@example("[[0, 0], [1, 1]]")
def test_position_list_is_list_of_position_field(coordinates):
    fast = type(coordinates) is list and _plainly_valid_positions(coordinates) is not None
    event("loaded fast" if fast else "handed to marshmallow")
    assert _load(Fast(), {"coordinates": coordinates}) == _load(Plain(), {"coordinates": coordinates})


def test_a_track_of_json_numbers_is_loaded_without_marshmallow():
    track = [[107.8, 30.7], [107, 30], [-180, 90], [180.0, -90.0]]
    assert _plainly_valid_positions(track) == [(107.8, 30.7), (107.0, 30.0), (-180.0, 90.0), (180.0, -90.0)]
    assert _plainly_valid_positions([[107.8, 30.7], [True, 30.7]]) is None


# ---- times --------------------------------------------------------------------------------------

OFFSETS = [timedelta(0), timedelta(hours=8), timedelta(hours=14), timedelta(hours=-14), timedelta(hours=5, minutes=45)]
ODD_OFFSETS = [
    timedelta(hours=14, minutes=1),
    timedelta(hours=-14, minutes=-1),
    timedelta(hours=23, minutes=59),
    timedelta(hours=8, seconds=30),
    timedelta(hours=-3, minutes=-30, microseconds=-1),
]
# Moments at the edges that matter: the window's, and judged-at + AHEAD's.
EDGE_MOMENTS = [
    EARLIEST,
    EARLIEST - timedelta(microseconds=1),
    LATEST,
    LATEST - timedelta(microseconds=1),
    NOW + AHEAD,
    NOW + AHEAD + timedelta(microseconds=1),
    NOW + AHEAD + timedelta(days=1),
    NOW,
]


def _spellings(moment: datetime) -> st.SearchStrategy[str]:
    """The ways a phone (or an attacker) may write one aware moment."""
    iso = moment.isoformat()
    return st.sampled_from(
        [
            iso,
            moment.isoformat(timespec="seconds"),
            moment.isoformat(timespec="milliseconds"),
            moment.isoformat(sep=" "),
            iso.replace("+00:00", "Z"),
            iso.replace("T", "t"),
            iso.replace(":", "", 1),
            iso.replace("-", "", 2),
            iso[:-6] if moment.utcoffset() else iso,  # offset dropped: a naive time
            iso[:-3] if iso[-3] == ":" else iso,  # +08 instead of +08:00
            iso[:10],  # the date alone
            " " + iso,
            iso + "\n",
        ]
    )


def _moment(offsets: list[timedelta]) -> st.SearchStrategy[datetime]:
    near = st.one_of(
        st.sampled_from(EDGE_MOMENTS),
        st.datetimes(min_value=datetime(1999, 12, 30), max_value=datetime(2100, 1, 2)).map(
            lambda d: d.replace(tzinfo=SHANGHAI)
        ),
        st.builds(
            lambda t, d: t + d, st.sampled_from(EDGE_MOMENTS), st.timedeltas(-timedelta(days=1), timedelta(days=1))
        ),
    )
    return st.builds(lambda m, o: m.astimezone(timezone(o)), near, st.sampled_from(offsets))


time_text = st.one_of(
    _moment(OFFSETS).flatmap(_spellings),
    _moment(OFFSETS).map(datetime.isoformat),
    _moment(ODD_OFFSETS).map(datetime.isoformat),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).map(
        lambda d: d.replace(tzinfo=SHANGHAI).isoformat()
    ),
    st.sampled_from(
        ["", "now", "2026-13-01T00:00:00+08:00", "2026-W47-7T09:00:00+08:00", "\ud800", "2026-11-22T25:00:00+08:00"]
    ),
)
time_value = st.one_of(
    time_text, time_text, st.none(), st.integers(), st.floats(allow_nan=False), st.booleans(), st.just([])
)
times = st.one_of(
    st.lists(_moment(OFFSETS).map(datetime.isoformat), max_size=6),
    st.lists(time_value, max_size=5),
    time_value,
)


@settings(max_examples=2500, deadline=None)
@given(times, st.booleans())
@example([(NOW + AHEAD).isoformat()], True)
@example([(NOW + AHEAD + timedelta(microseconds=1)).isoformat()], True)
@example([(NOW + AHEAD + timedelta(days=1)).isoformat()], True)
@example([(NOW + AHEAD + timedelta(days=1)).isoformat()], False)
@example([EARLIEST.isoformat(), (LATEST - timedelta(microseconds=1)).isoformat()], False)
@example([LATEST.isoformat()], False)
@example(["2026-11-22T09:00:00+14:01"], False)
@example(["2026-11-22T09:00:00"], False)
@example(["2026-11-22T09:00:00Z", "20261122T090000+0800"], True)
@example(None, True)
def test_recorded_time_list_is_list_of_recorded_time(value, judged):
    body = {"coordinates": [[0, 0], [1, 1]], "times": value}
    with judged_at(NOW) if judged else nullcontext():
        fast = type(value) is list and _plainly_recorded(value) is not None
        event("loaded fast" if fast else "handed to marshmallow")
        assert _load(Fast(), body) == _load(Plain(), body)


def test_times_as_phones_send_them_are_loaded_without_marshmallow():
    sent = [(NOW + timedelta(seconds=20 * n)).isoformat() for n in range(3)]
    with judged_at(NOW):
        assert _plainly_recorded(sent) == [NOW + timedelta(seconds=20 * n) for n in range(3)]
        assert _plainly_recorded([(NOW + AHEAD + timedelta(seconds=1)).isoformat()]) is None


def test_track_in_uses_the_fast_fields_and_documents_them_as_the_plain_ones():
    fields_of = TrackIn().fields
    assert isinstance(fields_of["coordinates"], PositionList)
    assert isinstance(fields_of["times"], RecordedTimeList)
    assert isinstance(fields_of["coordinates"].inner, fields.Tuple)
    assert isinstance(fields_of["times"].inner, RecordedTime)
