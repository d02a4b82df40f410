"""Complementary suppression: for any table, no figure a reader can derive counts 1 to 4 courses."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prolotrack.domain.disclosure import MIN_COURSES, derivable_sums, suppress
from prolotrack.domain.errors import InputError


@pytest.mark.parametrize(
    ("cells", "hidden", "total_hidden"),
    [
        ({"a": 10, "b": 7}, set(), False),
        ({"a": 10, "b": 1}, {"a", "b"}, False),  # b hidden; a hidden too, else 11 - 10 = 1
        ({"a": 10, "b": 6, "c": 2}, {"b", "c"}, False),  # c hidden, then the smallest shown (b): 8 hidden
        ({"a": 3, "b": 3, "c": 9}, {"a", "b"}, False),  # two small cells hide each other: 6
        ({"a": 2, "b": 1}, {"a", "b"}, True),  # the total 3 is itself disclosive
        ({"a": 0, "b": 12}, set(), False),  # an empty cell discloses nobody
    ],
)
def test_cases(cells, hidden, total_hidden):
    result = suppress(cells)
    assert set(result.hidden) == hidden and result.total_hidden is total_hidden


@given(
    st.dictionaries(st.sampled_from("abcdefg"), st.integers(0, 30), max_size=7),
    st.integers(2, 11),
    st.sets(st.sampled_from("abcdefg")),
)
def test_no_derivable_figure_counts_one_to_threshold_minus_one(cells, threshold, force):
    result = suppress(cells, threshold, force)
    assert set(force) & set(cells) <= result.hidden
    for value in derivable_sums(cells, result):
        assert value == 0 or value >= threshold, (cells, result, value)


@given(st.dictionaries(st.sampled_from("abcdefg"), st.integers(0, 30), max_size=7))
def test_cells_of_five_or_more_are_shown_unless_needed_to_protect_another(cells):
    result = suppress(cells)
    if all(v == 0 or v >= MIN_COURSES for v in cells.values()) and sum(cells.values()) != 0:
        assert not result.hidden and not result.total_hidden


def test_bad_counts_are_refused():
    with pytest.raises(InputError):
        suppress({"a": -1})
