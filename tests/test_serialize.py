"""core.serialize.jsonable builds directly what a JSON round trip gives (a push makes one per inspection)."""

from datetime import date, timezone

from hypothesis import given, settings, strategies as st

from core.serialize import _round_trip, jsonable

leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(),
    st.uuids(),
    st.datetimes(timezones=st.just(timezone.utc)),
    st.dates(),
    st.just(date(2026, 11, 22)),
)
tree = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.lists(inner),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(st.text(), st.integers(), st.booleans()), inner),
    ),
    max_leaves=30,
)


@settings(max_examples=500)
@given(tree)
def test_jsonable_is_the_json_round_trip(value):
    got, expected = jsonable(value), _round_trip(value)
    assert got == expected
    assert repr(got) == repr(expected)  # the same types too (True is not 1)
