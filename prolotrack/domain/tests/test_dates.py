from datetime import date

import pytest

from prolotrack.domain.dates import add_months, age_in_years, birthday_in, is_older_than, is_younger_than
from prolotrack.domain.errors import InputError


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 1, 15), 1, date(2025, 2, 15)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),  # clamped to the end of February
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2025, 3, 31), 1, date(2025, 4, 30)),
        (date(2025, 8, 31), 6, date(2026, 2, 28)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),  # year rollover
        (date(2025, 5, 31), 12, date(2026, 5, 31)),
        (date(2025, 3, 31), -1, date(2025, 2, 28)),
        (date(2025, 3, 10), 0, date(2025, 3, 10)),
    ],
)
def test_add_months_uses_calendar_months_and_clamps_the_day(start, months, expected):
    assert add_months(start, months) == expected


def test_a_leap_day_birthday_falls_on_28_february_in_common_years():
    assert birthday_in(date(2000, 2, 29), 1) == date(2001, 2, 28)
    assert birthday_in(date(2000, 2, 29), 4) == date(2004, 2, 29)


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(1970, 5, 1), date(2025, 4, 30), 54),
        (date(1970, 5, 1), date(2025, 5, 1), 55),
        (date(2000, 2, 29), date(2001, 2, 27), 0),
        (date(2000, 2, 29), date(2001, 2, 28), 1),
        (date(2025, 1, 1), date(2025, 1, 1), 0),
    ],
)
def test_age_in_years_counts_completed_years(born, on, age):
    assert age_in_years(born, on) == age


def test_a_birth_date_after_the_reference_date_is_refused():
    with pytest.raises(InputError, match="is after 2025-01-01: check the date of birth"):
        age_in_years(date(2025, 1, 2), date(2025, 1, 1))


def test_younger_and_older_than_turn_on_the_birthday_itself():
    born = date(1965, 3, 10)
    assert is_younger_than(born, 60, date(2025, 3, 9))
    assert not is_younger_than(born, 60, date(2025, 3, 10))
    assert not is_older_than(born, 60, date(2025, 3, 10))
    assert is_older_than(born, 60, date(2025, 3, 11))
