"""Shared input rules: control characters in text, plausible dates of birth."""

import unicodedata
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prolotrack.domain.errors import InputError
from prolotrack.domain.inputs import (
    MAX_AGE_YEARS,
    check_date_of_birth,
    check_text,
    control_characters,
    earliest_date_of_birth,
)

CONTROL = st.characters(categories=["Cc", "Cs"])
PRINTABLE = st.text(st.characters(exclude_categories=["Cc", "Cs"]), max_size=40)


@pytest.mark.parametrize(
    ("text", "multiline", "found"),
    [
        ("Ada Lovelace", False, []),
        ("Ada\x00Lovelace", False, ["U+0000"]),
        ("Ada\x1b[31m", False, ["U+001B"]),
        ("a\x7fb\x85c", False, ["U+007F", "U+0085"]),
        ("line one\nline two\ttabbed\r\n", True, []),
        ("line one\nline two", False, ["U+000A"]),
        ("bell\x07 in a note\n", True, ["U+0007"]),
        ("Zoë Ñúñez 李 🙂", False, []),
        ("\x00\x00", False, ["U+0000"]),
    ],
)
def test_control_characters_table(text, multiline, found):
    assert control_characters(text, multiline=multiline) == found


@given(before=PRINTABLE, bad=CONTROL, after=PRINTABLE, multiline=st.booleans())
def test_any_control_character_anywhere_is_refused(before, bad, after, multiline):
    if multiline and bad in "\t\n\r":
        check_text(before + bad + after, "Note", multiline=True)
        return
    with pytest.raises(InputError, match=f"U\\+{ord(bad):04X}"):
        check_text(before + bad + after, "Name", multiline=multiline)


@given(text=PRINTABLE)
def test_text_without_control_characters_is_accepted(text):
    assert all(unicodedata.category(c) not in ("Cc", "Cs") for c in text)
    check_text(text, "Name")


TODAY = date(2026, 12, 6)


@pytest.mark.parametrize(
    ("born", "ok"),
    [
        (date(1960, 5, 17), True),
        (TODAY, True),
        (date(1896, 12, 6), True),
        (date(1896, 12, 5), False),
        (TODAY + timedelta(days=1), False),
        (date(1, 1, 1), False),
        (date(9999, 12, 31), False),
        (date(1850, 1, 1), False),
    ],
)
def test_date_of_birth_table(born, ok):
    if ok:
        check_date_of_birth(born, TODAY)
    else:
        with pytest.raises(InputError, match="check the"):
            check_date_of_birth(born, TODAY)


@given(born=st.dates(), today=st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 1, 1)))
def test_date_of_birth_is_accepted_exactly_within_the_window(born, today):
    inside = earliest_date_of_birth(today) <= born <= today
    try:
        check_date_of_birth(born, today)
        accepted = True
    except InputError:
        accepted = False
    assert accepted == inside
    assert today.year - earliest_date_of_birth(today).year == MAX_AGE_YEARS


@given(text=st.text(max_size=40), multiline=st.booleans())
def test_the_fast_scan_finds_what_the_category_lookup_finds(text, multiline):
    """control_characters scans with one regex before looking at categories: the same answer as the lookup alone."""
    by_category = []
    for char in text:
        if multiline and char in "\t\n\r":
            continue
        code = f"U+{ord(char):04X}"
        if unicodedata.category(char) in ("Cc", "Cs") and code not in by_category:
            by_category.append(code)
    assert control_characters(text, multiline=multiline) == by_category


def test_the_fast_scan_covers_every_control_and_surrogate_code_point():
    import re
    import sys

    from prolotrack.domain import inputs

    pattern: re.Pattern[str] = inputs._CONTROL_OR_SURROGATE
    for point in range(sys.maxunicode + 1):
        char = chr(point)
        assert (unicodedata.category(char) in ("Cc", "Cs")) == bool(pattern.search(char)), hex(point)
