"""The waitlist's matching and order (docs/BOOKING.md, "Waitlist"): tables of cases, the days the clocks change
included."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from prolotrack.domain.errors import InputError
from prolotrack.domain.waitlist import Opening, Window, Wish, allocate, fits, in_line, wants

CHICAGO = ZoneInfo("America/Chicago")
SYDNEY = ZoneInfo("Australia/Sydney")
T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def local(day: str, clock: str, zone: ZoneInfo = CHICAGO, fold: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tzinfo=zone).replace(fold=fold)


def window(first: str = "2026-03-01", last: str = "2026-03-31", **kw: Any) -> Window:
    return Window(date.fromisoformat(first), date.fromisoformat(last), **kw)


# (case, window, start, minutes, zone, fits)
FITS = [
    ("inside the days", window(), local("2026-03-10", "10:00"), 30, CHICAGO, True),
    ("first day included", window(), local("2026-03-01", "09:00"), 30, CHICAGO, True),
    ("last day included", window(), local("2026-03-31", "16:00"), 30, CHICAGO, True),
    ("day before", window(), local("2026-02-28", "10:00"), 30, CHICAGO, False),
    ("day after", window(), local("2026-04-01", "10:00"), 30, CHICAGO, False),
    # The day is the clinic's, not UTC's: 19:00 in Chicago on the 31st is 00:00 UTC on 1 April.
    ("clinic's day, not UTC's", window(), local("2026-03-31", "19:00"), 30, CHICAGO, True),
    ("weekday wanted (Tuesday)", window(weekdays=frozenset({1})), local("2026-03-10", "10:00"), 30, CHICAGO, True),
    ("weekday not wanted", window(weekdays=frozenset({0, 2})), local("2026-03-10", "10:00"), 30, CHICAGO, False),
    ("starts at earliest", window(earliest=time(9)), local("2026-03-10", "09:00"), 30, CHICAGO, True),
    ("starts before earliest", window(earliest=time(9)), local("2026-03-10", "08:45"), 30, CHICAGO, False),
    ("ends at latest", window(latest=time(12)), local("2026-03-10", "11:30"), 30, CHICAGO, True),
    ("ends after latest", window(latest=time(12)), local("2026-03-10", "11:45"), 30, CHICAGO, False),
    ("runs past midnight with a latest", window(latest=time(23, 59)), local("2026-03-10", "23:45"), 30, CHICAGO, False),
    # Spring forward, Chicago, Sunday 8 March 2026: 02:00-02:59 does not exist. A 60-minute slot from 01:30 CST ends
    # 03:30 CDT by the clock: a window "until 03:00" does not hold it, "until 03:30" does.
    ("spring forward: clock end 03:30", window(latest=time(3)), local("2026-03-08", "01:30"), 60, CHICAGO, False),
    ("spring forward: until 03:30", window(latest=time(3, 30)), local("2026-03-08", "01:30"), 60, CHICAGO, True),
    ("spring forward: mornings from 09:00", window(earliest=time(9)), local("2026-03-08", "09:00"), 60, CHICAGO, True),
    # Fall back, Chicago, Sunday 1 November 2026: 01:00-01:59 shows twice. Both showings read 01:30 on the clock.
    (
        "fall back: first 01:30",
        window("2026-11-01", "2026-11-01", earliest=time(1, 30), latest=time(2)),
        local("2026-11-01", "01:30"),
        30,
        CHICAGO,
        True,
    ),
    (
        "fall back: second 01:30",
        window("2026-11-01", "2026-11-01", earliest=time(1, 30), latest=time(2)),
        local("2026-11-01", "01:30", fold=1),
        30,
        CHICAGO,
        True,
    ),
    # 60 real minutes from 01:30 CDT end at 01:30 CST: inside "until 02:00" by the clock.
    (
        "fall back: an hour that ends where it began",
        window("2026-11-01", "2026-11-01", latest=time(2)),
        local("2026-11-01", "01:30"),
        60,
        CHICAGO,
        True,
    ),
    # Sydney, the first Sunday of April 2026: 03:00 AEDT becomes 02:00 AEST; the southern autumn.
    (
        "Sydney fall back: window on the clock",
        window("2026-04-05", "2026-04-05", earliest=time(9), latest=time(12)),
        local("2026-04-05", "11:00", SYDNEY),
        60,
        SYDNEY,
        True,
    ),
    (
        "Sydney: the UTC day is the day before",
        window("2026-04-06", "2026-04-06"),
        local("2026-04-06", "08:00", SYDNEY),
        30,
        SYDNEY,
        True,
    ),
]


@pytest.mark.parametrize(("case", "win", "start", "minutes", "zone", "expected"), FITS, ids=[c[0] for c in FITS])
def test_fits(case, win, start, minutes, zone, expected):
    start = start.astimezone(UTC)  # real minutes: aware arithmetic in one zone would add wall-clock time
    assert fits(win, start, start + timedelta(minutes=minutes), zone) is expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"first_day": date(2026, 3, 2), "last_day": date(2026, 3, 1)}, "ends before it starts"),
        ({"weekdays": frozenset({7})}, "Weekday 7"),
        ({"earliest": time(12), "latest": time(12)}, "earliest time must be before"),
        ({"earliest": time(9, tzinfo=UTC)}, "wall-clock"),
    ],
)
def test_a_bad_window_is_refused_with_what_to_fix(kwargs, message):
    values = {"first_day": date(2026, 3, 1), "last_day": date(2026, 3, 31), **kwargs}
    with pytest.raises(InputError, match=message):
        Window(**values)


def test_naive_times_are_refused():
    with pytest.raises(InputError):
        fits(window(), datetime(2026, 3, 10, 10), datetime(2026, 3, 10, 11), CHICAGO)
    with pytest.raises(InputError):
        Wish("a", datetime(2026, 1, 1), "t", None, window())
    with pytest.raises(InputError):
        Opening(local("2026-03-10", "10:00"), local("2026-03-10", "10:00"), "t", "c")


def wish(key: str, minutes_after: int, kind: str = "follow", clinician: str | None = None, **kw: Any) -> Wish:
    return Wish(key, T0 + timedelta(minutes=minutes_after), kind, clinician, window(**kw))


def opening(day: str, clock: str, clinician: str = "dr-a", kind: str = "follow", minutes: int = 30) -> Opening:
    start = local(day, clock).astimezone(UTC)
    return Opening(start, start + timedelta(minutes=minutes), kind, clinician)


# (case, wishes, opening, keys in line)
LINES = [
    ("join order", [wish("b", 5), wish("a", 1), wish("c", 9)], opening("2026-03-10", "10:00"), ["a", "b", "c"]),
    ("same instant: by key", [wish("z", 1), wish("y", 1)], opening("2026-03-10", "10:00"), ["y", "z"]),
    ("other type left out", [wish("a", 1, kind="assess"), wish("b", 2)], opening("2026-03-10", "10:00"), ["b"]),
    (
        "other clinician left out, anyone kept",
        [wish("a", 1, clinician="dr-b"), wish("b", 2, clinician="dr-a"), wish("c", 3)],
        opening("2026-03-10", "10:00"),
        ["b", "c"],
    ),
    (
        "window left out",
        [wish("a", 1, weekdays=frozenset({0})), wish("b", 2, earliest=time(11)), wish("c", 3)],
        opening("2026-03-10", "10:00"),
        ["c"],
    ),
]


@pytest.mark.parametrize(("case", "wishes", "slot", "keys"), LINES, ids=[c[0] for c in LINES])
def test_in_line(case, wishes, slot, keys):
    assert [w.key for w in in_line(wishes, slot, CHICAGO)] == keys


def test_wants_checks_type_clinician_and_window():
    assert wants(wish("a", 1), opening("2026-03-10", "10:00"), CHICAGO)
    assert not wants(wish("a", 1, clinician="dr-b"), opening("2026-03-10", "10:00"), CHICAGO)


# (case, the held appointment's start, the slot's start, fits): an earlier time is strictly before, on the real clock
EARLIER = [
    ("an hour before", local("2026-03-10", "11:00"), ("2026-03-10", "10:00"), True),
    ("the same start is not earlier", local("2026-03-10", "10:00"), ("2026-03-10", "10:00"), False),
    ("after it", local("2026-03-10", "10:00"), ("2026-03-10", "10:30"), False),
    ("days before", local("2026-03-20", "09:00"), ("2026-03-10", "16:00"), True),
    (
        "held in another zone, same instant",
        local("2026-03-10", "10:00").astimezone(UTC),
        ("2026-03-10", "10:00"),
        False,
    ),
    ("no held appointment: any time", None, ("2026-03-31", "16:00"), True),
]


@pytest.mark.parametrize(("case", "held", "slot", "expected"), EARLIER, ids=[c[0] for c in EARLIER])
def test_an_earlier_time_is_strictly_before_the_appointment_held(case, held, slot, expected):
    asked = Wish("a", T0, "follow", None, window(), before=held)
    assert wants(asked, opening(*slot), CHICAGO) is expected


def test_a_naive_held_appointment_is_refused():
    with pytest.raises(InputError, match="needs its zone"):
        Wish("a", T0, "follow", None, window(), before=datetime(2026, 3, 10, 10))


def keys(given: list[tuple[Opening, Wish]]) -> list[tuple[str, str]]:
    return [(w.key, f"{o.start.astimezone(CHICAGO):%d %H:%M} {o.clinician}") for o, w in given]


# (case, openings, wishes, waiting, offered before, offers made)
ALLOCATIONS = [
    (
        "the earliest slot to the first in line, one each",
        [opening("2026-03-11", "10:00"), opening("2026-03-10", "10:00")],
        [wish("b", 2), wish("a", 1)],
        (),
        (),
        [("a", "10 10:00 dr-a"), ("b", "11 10:00 dr-a")],
    ),
    (
        "one slot, two waiting: only the first is offered it",
        [opening("2026-03-10", "10:00")],
        [wish("b", 2), wish("a", 1)],
        (),
        (),
        [("a", "10 10:00 dr-a")],
    ),
    (
        "someone with an open offer waits; the next is offered",
        [opening("2026-03-10", "10:00")],
        [wish("a", 1), wish("b", 2)],
        {"a"},
        (),
        [("b", "10 10:00 dr-a")],
    ),
    (
        "a slot declined (or let run out) goes to the next in line",
        [opening("2026-03-10", "10:00")],
        [wish("a", 1), wish("b", 2)],
        (),
        {("a", "dr-a", local("2026-03-10", "10:00").astimezone(UTC))},
        [("b", "10 10:00 dr-a")],
    ),
    (
        "... and the one who declined is offered another slot",
        [opening("2026-03-10", "10:00"), opening("2026-03-10", "14:00")],
        [wish("a", 1), wish("b", 2)],
        (),
        {("a", "dr-a", local("2026-03-10", "10:00").astimezone(UTC))},
        [("b", "10 10:00 dr-a"), ("a", "10 14:00 dr-a")],
    ),
    (
        "overlapping grid starts of one clinician: only one is held",
        [opening("2026-03-10", "10:00"), opening("2026-03-10", "10:15"), opening("2026-03-10", "10:30")],
        [wish("a", 1), wish("b", 2), wish("c", 3)],
        (),
        (),
        [("a", "10 10:00 dr-a"), ("b", "10 10:30 dr-a")],
    ),
    (
        "the same time with two clinicians: both given",
        [opening("2026-03-10", "10:00", "dr-b"), opening("2026-03-10", "10:00", "dr-a")],
        [wish("a", 1), wish("b", 2)],
        (),
        (),
        [("a", "10 10:00 dr-a"), ("b", "10 10:00 dr-b")],
    ),
    (
        "the first in line does not fit the earliest slot: a later joiner gets it",
        [opening("2026-03-10", "10:00"), opening("2026-03-10", "15:00")],
        [wish("a", 1, earliest=time(14)), wish("b", 2)],
        (),
        (),
        [("b", "10 10:00 dr-a"), ("a", "10 15:00 dr-a")],
    ),
    (
        "an earlier time: a slot at or after the held appointment goes to the next in line",
        [opening("2026-03-10", "10:00"), opening("2026-03-10", "15:00")],
        [
            Wish("a", T0, "follow", None, window(), before=local("2026-03-10", "10:00")),
            wish("b", 2),
        ],
        (),
        (),
        [("b", "10 10:00 dr-a")],
    ),
    ("nobody waiting", [opening("2026-03-10", "10:00")], [], (), (), []),
]


@pytest.mark.parametrize(
    ("case", "openings", "wishes", "waiting", "before", "made"), ALLOCATIONS, ids=[c[0] for c in ALLOCATIONS]
)
def test_allocate(case, openings, wishes, waiting, before, made):
    given = allocate(openings, wishes, CHICAGO, waiting=waiting, offered_before=before)
    assert keys(given) == made
