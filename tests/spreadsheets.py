"""What a cell of an uploaded spreadsheet may hold, for the imports' property tests (roster, enterprises)."""

from datetime import datetime

from hypothesis import strategies as st


def any_cell(*likely: str):
    """Any value openpyxl can store in a cell, or one of ``likely`` (values near what the import expects)."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**60), max_value=2**60),
        st.floats(allow_nan=True, allow_infinity=True),
        st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(2100, 1, 1)),
        st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=120),
        st.sampled_from([*likely, "=1+1", "#N/A"]),
    )
