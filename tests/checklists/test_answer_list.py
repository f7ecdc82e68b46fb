"""AnswerList loads exactly what List(Nested(AnswerIn)) loads, and refuses exactly what it refuses with
the same messages: plainly valid answers skip marshmallow, anything else is marshmallow's."""

from hypothesis import given, settings, strategies as st
from marshmallow import Schema, ValidationError, fields

from checklists.scoring import AnswerIn, AnswerList

SHA = "ab" * 32
anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=5),
    st.just(""),
    st.just(SHA),
    st.just(SHA + "\n"),
    st.just(SHA.upper()),
    st.lists(st.just(SHA), max_size=2),
    st.lists(st.one_of(st.just(SHA), st.integers(), st.just("x")), max_size=2),
    st.just({"a": 1}),
)
answer = st.fixed_dictionaries(
    {},
    optional={
        "item": st.one_of(st.just("1.1"), anything),
        "result": st.one_of(st.sampled_from(("pass", "fail", "na")), anything),
        "value": anything,
        "note": st.one_of(st.just("现场"), anything),
        "photos": st.one_of(st.just([SHA]), anything),
        "extra": anything,
    },
)
answers = st.one_of(
    st.lists(answer, max_size=4),
    st.lists(st.fixed_dictionaries({"item": st.just("1.1"), "result": st.just("pass")}), max_size=3),
    anything,
)


class Fast(Schema):
    answers = AnswerList(required=True)


class Plain(Schema):
    answers = fields.List(fields.Nested(AnswerIn), required=True)


def _load(schema, value):
    try:
        return "ok", schema.load({"answers": value})
    except ValidationError as err:
        return "error", err.messages


@settings(max_examples=1500, deadline=None)
@given(answers)
def test_answer_list_is_list_of_nested_answer_in(value):
    assert _load(Fast(), value) == _load(Plain(), value)
