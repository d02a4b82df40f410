"""VTIMEZONE from the tz database's current rules, as RFC 5545 RRULEs (one STANDARD and one DAYLIGHT rule).

The tz database ends each zone file (TZif, RFC 9636) with a POSIX TZ string that states the rule in force after its
last listed transition, for example `CST6CDT,M3.2.0,M11.1.0` for America/Chicago: daylight time from the second
Sunday of March at 02:00, standard time from the first Sunday of November at 02:00. That rule becomes
`RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU` and `RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU`, the style calendar clients
handle best, instead of a long list of dated transitions (issue 19: `vobject` read such a list an hour late).

The rule is checked against Python's zoneinfo hour by hour over the calendar's span before it is used; a zone whose
coming changes the POSIX rule does not describe (one with dated exceptions, such as Morocco's Ramadan changes, or
a transition at a time outside 00:00-23:59) falls back to icalendar's dated transitions, which are right if verbose.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from zoneinfo import TZPATH, ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

DAYS = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")
_NAME = r"(<[^>]+>|[A-Za-z]{3,})"
_OFFSET = r"([+-]?\d{1,2}(?::\d{2}){0,2})"
_RULE = r"M(\d{1,2})\.(\d)\.(\d)(?:/" + _OFFSET + r")?"
POSIX = re.compile(rf"^{_NAME}{_OFFSET}(?:{_NAME}{_OFFSET}?,{_RULE},{_RULE})?$")


class UnsupportedRule(ValueError):
    """The zone's current rule cannot be written as one yearly RRULE pair."""


@dataclass(frozen=True)
class Transition:
    month: int
    week: int  # 1-4, or 5 for the last
    weekday: int  # 0 = Sunday
    at: timedelta  # local wall time of the change, in the time in force before it

    def rrule(self) -> dict[str, object]:
        ordinal = -1 if self.week == 5 else self.week
        return {"freq": "yearly", "bymonth": self.month, "byday": f"{ordinal}{DAYS[self.weekday]}"}

    def on(self, year: int) -> datetime:
        first = date(year, self.month, 1)
        day = first + timedelta(days=(self.weekday - (first.isoweekday() % 7)) % 7)
        day += timedelta(weeks=self.week - 1)
        while day.month != self.month:  # "week 5" is the last such weekday
            day -= timedelta(weeks=1)
        return datetime.combine(day, datetime.min.time()) + self.at


@dataclass(frozen=True)
class PosixRule:
    std_name: str
    std_offset: timedelta  # UTC offset (east positive)
    dst_name: str = ""
    dst_offset: timedelta | None = None
    start: Transition | None = None  # into daylight time
    end: Transition | None = None  # back to standard time


def _seconds(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    parts = [int(p) for p in text.lstrip("+-").split(":")]
    parts += [0] * (3 - len(parts))
    return sign * (parts[0] * 3600 + parts[1] * 60 + parts[2])


def _name(text: str) -> str:
    return text.strip("<>")


def parse_posix(text: str) -> PosixRule:
    found = POSIX.match(text.strip())
    if not found:
        raise UnsupportedRule(f"Cannot read the POSIX TZ rule {text!r}.")
    std, std_off, dst, dst_off, m1, w1, d1, t1, m2, w2, d2, t2 = found.groups()
    std_offset = timedelta(seconds=-_seconds(std_off))  # POSIX offsets are west-positive
    if not dst:
        return PosixRule(_name(std), std_offset)
    dst_offset = timedelta(seconds=-_seconds(dst_off)) if dst_off else std_offset + timedelta(hours=1)
    transitions = []
    for month, week, weekday, at in ((m1, w1, d1, t1), (m2, w2, d2, t2)):
        seconds = _seconds(at) if at else 7200
        if not 0 <= seconds < 86400:
            raise UnsupportedRule(f"A change at {at} h is outside one day and has no simple RRULE.")
        transitions.append(Transition(int(month), int(week), int(weekday), timedelta(seconds=seconds)))
    return PosixRule(_name(std), std_offset, _name(dst), dst_offset, transitions[0], transitions[1])


def _tzif_bytes(key: str) -> bytes:
    for root in TZPATH:
        path = Path(root, key)
        if path.is_file():
            return path.read_bytes()
    return resources.files("tzdata.zoneinfo").joinpath(*key.split("/")).read_bytes()


@lru_cache(maxsize=64)
def posix_rule(key: str) -> PosixRule:
    """The rule in force after the zone's last listed transition (the TZif footer)."""
    data = _tzif_bytes(key)
    if not data.startswith(b"TZif") or data[4:5] < b"2":
        raise UnsupportedRule(f"The zone file of {key} has no POSIX footer (TZif version 1).")
    return parse_posix(data.rstrip(b"\n").rsplit(b"\n", 1)[-1].decode("ascii"))


def _offset_at(rule: PosixRule, moment: datetime) -> timedelta:
    """The UTC offset the RRULE pair gives at a UTC moment (what a calendar client computes from our VTIMEZONE)."""
    if rule.start is None or rule.end is None or rule.dst_offset is None:
        return rule.std_offset
    local_std = (moment + rule.std_offset).replace(tzinfo=None)
    year = local_std.year
    begins = rule.start.on(year) - rule.std_offset  # UTC, naive
    ends = rule.end.on(year) - rule.dst_offset
    utc = moment.replace(tzinfo=None)
    if begins < ends:  # northern hemisphere: daylight time inside the year
        return rule.dst_offset if begins <= utc < ends else rule.std_offset
    return rule.std_offset if ends <= utc < begins else rule.dst_offset


def rule_matches(key: str, rule: PosixRule, first: datetime, last: datetime) -> bool:
    """True if the rule gives zoneinfo's UTC offset at every hour from `first` to `last` (UTC)."""
    zone = ZoneInfo(key)
    moment = first.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    while moment <= last:
        if moment.astimezone(zone).utcoffset() != _offset_at(rule, moment):
            return False
        moment += timedelta(hours=1)
    return True


def vtimezone(key: str, first: datetime, last: datetime) -> Timezone | None:
    """A VTIMEZONE with RRULE-based STANDARD/DAYLIGHT for the zone, or None if its current rule does not describe
    the span from `first` to `last` (the caller then falls back to dated transitions)."""
    try:
        rule = posix_rule(key)
    except (UnsupportedRule, FileNotFoundError, ModuleNotFoundError, ValueError):
        return None
    if not rule_matches(key, rule, first - timedelta(days=1), last + timedelta(days=1)):
        return None
    tz = Timezone()
    tz.add("tzid", key)
    if rule.start is None or rule.end is None or rule.dst_offset is None:
        standard = TimezoneStandard()
        standard.add("dtstart", datetime(1970, 1, 1))  # noqa: DTZ001 - VTIMEZONE DTSTART is local time (RFC 5545)
        standard.add("tzoffsetfrom", rule.std_offset)
        standard.add("tzoffsetto", rule.std_offset)
        standard.add("tzname", rule.std_name)
        tz.add_component(standard)
        return tz
    daylight = TimezoneDaylight()
    daylight.add("dtstart", rule.start.on(1970))
    daylight.add("rrule", rule.start.rrule())
    daylight.add("tzoffsetfrom", rule.std_offset)
    daylight.add("tzoffsetto", rule.dst_offset)
    daylight.add("tzname", rule.dst_name)
    standard = TimezoneStandard()
    standard.add("dtstart", rule.end.on(1970))
    standard.add("rrule", rule.end.rrule())
    standard.add("tzoffsetfrom", rule.dst_offset)
    standard.add("tzoffsetto", rule.std_offset)
    standard.add("tzname", rule.std_name)
    tz.add_component(daylight)
    tz.add_component(standard)
    return tz
