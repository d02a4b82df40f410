"""Calendar helpers: month arithmetic with day clamping, and ages on a given date (no clock reads)."""

import calendar
from datetime import UTC, date, datetime, time, timedelta, tzinfo

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


class NonexistentLocalTime(InputError):
    """A wall-clock time skipped by a daylight-saving change (02:15 on the spring-forward day in Chicago)."""


class AmbiguousLocalTime(InputError):
    """A wall-clock time that happens twice (01:30 on the autumn fall-back day): the caller must say which."""

    def __init__(self, message: str, choices: tuple[datetime, datetime]) -> None:
        super().__init__(message)
        self.choices = choices  # (the first, fold=0, and the second, fold=1)


def _abbrev(moment: datetime) -> str:
    offset = moment.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{moment.tzname()}, UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def local_datetime(day: date, clock: time, zone: tzinfo, fold: int | None = None) -> datetime:
    """The moment a clinic means by `day` at `clock` in its zone, refusing times a daylight-saving change skips and
    asking which one is meant for a time that happens twice.

    `fold` picks one of a repeated time: 0 for the first (still daylight time), 1 for the second; it is ignored for
    any time that happens once. A skipped time raises NonexistentLocalTime; a repeated time without a fold raises
    AmbiguousLocalTime carrying both candidates.
    """
    naive = datetime.combine(day, clock.replace(tzinfo=None, fold=0))
    candidates = []
    for f in (0, 1):
        aware = naive.replace(tzinfo=zone, fold=f)
        back = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
        if back == naive:
            candidates.append(aware)
    when = f"{naive:%Y-%m-%d %H:%M}"
    if not candidates:
        before = naive.replace(tzinfo=zone, fold=0).astimezone(UTC).astimezone(zone)
        raise NonexistentLocalTime(
            f"{when} does not exist in {zone}: the clocks jump forward that night (daylight saving time), so "
            f"{naive:%H:%M} is skipped. Choose another time, for example {before:%H:%M}."
        )
    first, second = candidates[0], candidates[-1]
    if first.utcoffset() == second.utcoffset():
        return first.replace(fold=0)
    if fold is None:
        raise AmbiguousLocalTime(
            f"{when} happens twice in {zone}: the clocks go back that night. Choose the first ({_abbrev(first)}) or "
            f"the second ({_abbrev(second)}).",
            (first, second),
        )
    if fold not in (0, 1):
        raise InputError("Choose the first (0) or the second (1) of the repeated time.")
    return first if fold == 0 else second
