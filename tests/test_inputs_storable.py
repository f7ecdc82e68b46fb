"""core.inputs: the quick walk that lets ``unstorable`` skip building paths agrees with the full one."""

from hypothesis import given, settings, strategies as st

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
