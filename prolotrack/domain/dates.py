"""Calendar helpers: month arithmetic with day clamping, and ages on a given date (no clock reads)."""

import calendar
from datetime import date

from .errors import InputError


def add_months(day: date, months: int) -> date:
    """Return the same day-of-month `months` later, clamped to the last day of a shorter month."""
    # Calendar months, not 30-day blocks: "3 months after 31 Jan" is 30 April, the clinic's own reading.
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last_day))


def birthday_in(date_of_birth: date, years: int) -> date:
    """Return the date a person reaches `years` of age (29 February births turn on 28 February)."""
    return add_months(date_of_birth, 12 * years)


def age_in_years(date_of_birth: date, on: date) -> int:
    """Return age in completed years on the given date."""
    if date_of_birth > on:
        raise InputError(
            f"Date of birth {date_of_birth.isoformat()} is after {on.isoformat()}: check the date of birth."
        )
    years = on.year - date_of_birth.year
    if birthday_in(date_of_birth, years) > on:
        years -= 1
    return years


def is_younger_than(date_of_birth: date, years: int, on: date) -> bool:
    """Return True if the person has not yet reached `years` of age on the date."""
    return on < birthday_in(date_of_birth, years)


def is_older_than(date_of_birth: date, years: int, on: date) -> bool:
    """Return True if the person is past the day they reached `years` of age."""
    return on > birthday_in(date_of_birth, years)
