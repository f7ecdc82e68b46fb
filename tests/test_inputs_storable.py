"""core.inputs: the quick walk that lets ``unstorable`` skip building paths agrees with the full one, and
a body judged storable from its text alone holds nothing unstorable."""

import json

from hypothesis import example, given, settings, strategies as st

from core import inputs

leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(),
    st.text(alphabet=st.characters(codec=None, exclude_categories=())),
    st.just("a\x00b"),
    st.just("\ud800"),
)
tree = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=3), st.just("k\x00")), inner, max_size=4),
    ),
    max_leaves=20,
)


def _full_walk_finds_nothing(value) -> bool:
    quick = inputs._storable
    inputs._storable = lambda value: False  # force the walk that builds paths
    try:
        return inputs.unstorable(value) == []
    finally:
        inputs._storable = quick


@settings(max_examples=1000, deadline=None)
@given(tree)
def test_the_quick_walk_agrees_with_the_full_one(value):
    assert inputs._storable(value) == _full_walk_finds_nothing(value)


# --------------------------------------------------------------------------- judged from the text

number_token = st.from_regex(r"-?(0|[1-9][0-9]{0,24})(\.[0-9]{1,6})?([eE][+-]?[0-9]{1,4})?", fullmatch=True)


@settings(max_examples=1000, deadline=None)
@given(
    tree,
    st.booleans(),
    st.sampled_from([None, 0, 2]),
    st.sampled_from([(",", ":"), (", ", ": "), (" ,", " :")]),
)
@example([float("nan")], True, None, (",", ":"))
@example({"a": [float("-inf")]}, True, None, (",", ":"))
@example([2**63], True, None, (",", ":"))
@example({"k\x00": 1}, True, None, (",", ":"))
@example(["\ud800"], False, None, (",", ":"))
@example(["\udfff"], True, None, (",", ":"))
def test_a_text_judged_storable_holds_nothing_unstorable(value, ascii_only, indent, separators):
    """read_json's word that a body is storable skips the walk of every value, so it must never be
    wrong: whatever the text's layout, escapes or raw characters (surrogates encoded as bytes too)."""
    text = json.dumps(value, ensure_ascii=ascii_only, indent=indent, separators=separators)
    parsed = inputs.read_json(text.encode("utf-8", "surrogatepass"))
    if parsed.storable:
        assert inputs.unstorable(parsed.value) == []


@settings(max_examples=1000, deadline=None)
@given(st.lists(number_token, min_size=1, max_size=5), st.sampled_from(["", " ", "\n", "\t"]))
def test_any_number_a_text_judged_storable_holds_is_storable(tokens, space):
    text = "[" + f",{space}".join(tokens) + "]"
    parsed = inputs.read_json(text)
    if parsed.storable:
        assert inputs.unstorable(parsed.value) == []
    top = inputs.read_json(tokens[0])  # a bare number is a JSON text too
    if top.storable:
        assert inputs.unstorable(top.value) == []


@given(
    st.lists(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64), max_size=50),
    st.lists(st.floats(min_value=-180, max_value=180).filter(lambda f: f == 0 or abs(f) > 1e-6), max_size=50),
    st.datetimes(),
)
def test_what_phones_send_is_judged_storable_from_its_text(photos, coordinates, moment):
    """Hashes, coordinates and times — what a batch is made of — never make the text suspect, so the
    common body is never walked."""
    body = {"photos": photos, "track": [[c, c / 2] for c in coordinates], "at": moment.isoformat() + "+08:00"}
    assert inputs.read_json(json.dumps(body, ensure_ascii=False).encode()).storable
