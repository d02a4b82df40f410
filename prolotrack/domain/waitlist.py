"""The waitlist's rules (issue 16, docs/BOOKING.md "Waitlist"): which waiting people a free slot fits, in which order,
and which slot each is offered in one pass.

Pure: no Django, no clock. A person waits for an appointment type, with one clinician or anyone who offers it, inside
a window: local days from `first_day` to `last_day` (both included), optionally only some weekdays (0 Monday ...
6 Sunday) and optionally only between two wall-clock times of day (the slot starts at or after `earliest` and ends
at or before `latest`, read on the clinic's clock of that day, so "mornings 08:00-12:00" means the same on the days
the clocks change). A slot's day is the local date of its start.

The order is the join time (then the key, so two people who joined in the same instant have a fixed order). Offers
go **one at a time**: a slot is offered to the first person in line it fits who has no open offer and was not
offered that same clinician and start before (declined or let run out); only when they decline or the hold runs out
does it go to the next (`allocate`).
"""

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo

from .errors import InputError


@dataclass(frozen=True)
class Window:
    """When a waiting person can come: local days, optionally some weekdays, optionally a time of day."""

    first_day: date
    last_day: date
    weekdays: frozenset[int] = frozenset()  # empty: any day of the week
    earliest: time | None = None  # the slot starts at or after this wall-clock time
    latest: time | None = None  # ... and ends at or before this one

    def __post_init__(self) -> None:
        if self.first_day > self.last_day:
            raise InputError(
                f"The window from {self.first_day.isoformat()} to {self.last_day.isoformat()} ends before it starts."
            )
        bad = sorted(d for d in self.weekdays if not (isinstance(d, int) and 0 <= d <= 6))
        if bad:
            raise InputError(f"Weekday {bad[0]} is not a day of the week: use 0 (Monday) to 6 (Sunday).")
        for clock in (self.earliest, self.latest):
            if clock is not None and clock.tzinfo is not None:
                raise InputError("Times of day are wall-clock times in the clinic's zone: give them no zone.")
        if self.earliest is not None and self.latest is not None and self.earliest >= self.latest:
            raise InputError(
                f"From {self.earliest:%H:%M} to {self.latest:%H:%M} is no time at all: the earliest time must be "
                "before the latest."
            )


@dataclass(frozen=True)
class Wish:
    """One person waiting: `key` names the entry, `clinician` None for anyone who offers the type. `before`: the
    person asked for an earlier time than an appointment they hold, so only slots starting before it fit."""

    key: str
    joined_at: datetime
    appointment_type: str
    clinician: str | None
    window: Window
    before: datetime | None = None

    def __post_init__(self) -> None:
        if self.joined_at.tzinfo is None:
            raise InputError("The join time needs its zone.")
        if self.before is not None and self.before.tzinfo is None:
            raise InputError("The appointment an earlier time is asked for needs its zone.")


@dataclass(frozen=True)
class Opening:
    """A free slot that could be offered: [start, end) of one clinician for one appointment type."""

    start: datetime
    end: datetime
    appointment_type: str
    clinician: str

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise InputError("A slot's start and end need their zone.")
        if self.end <= self.start:
            raise InputError("A slot ends after it starts.")


def fits(window: Window, start: datetime, end: datetime, zone: tzinfo) -> bool:
    """Whether the slot [start, end) lies inside the window, read on the clinic's clock."""
    if start.tzinfo is None or end.tzinfo is None:
        raise InputError("A slot's start and end need their zone.")
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    day = local_start.date()
    if not window.first_day <= day <= window.last_day:
        return False
    if window.weekdays and day.weekday() not in window.weekdays:
        return False
    if window.earliest is not None and local_start.time() < window.earliest:
        return False
    # With a latest time, the slot ends on its own day by that time (a slot past midnight does not fit).
    return window.latest is None or (local_end.date() == day and local_end.time() <= window.latest)


def wants(wish: Wish, opening: Opening, zone: tzinfo) -> bool:
    """The opening is of the wished type, with the wished clinician (or anyone), inside the window, and earlier than
    the appointment the person holds when they asked for an earlier time."""
    return (
        wish.appointment_type == opening.appointment_type
        and (wish.clinician is None or wish.clinician == opening.clinician)
        and (wish.before is None or opening.start < wish.before)
        and fits(wish.window, opening.start, opening.end, zone)
    )


def order(wishes: Iterable[Wish]) -> list[Wish]:
    """The line: earliest join first (the key breaks a tie, so the order never depends on how rows were read)."""
    return sorted(wishes, key=lambda w: (w.joined_at, w.key))


def in_line(wishes: Iterable[Wish], opening: Opening, zone: tzinfo) -> list[Wish]:
    """Everyone the opening fits, in the order they are offered it."""
    return [w for w in order(wishes) if wants(w, opening, zone)]


def allocate(
    openings: Sequence[Opening],
    wishes: Iterable[Wish],
    zone: tzinfo,
    *,
    waiting: Collection[str] = (),
    offered_before: Collection[tuple[str, str, datetime]] = (),
) -> list[tuple[Opening, Wish]]:
    """One pass of offers: openings earliest first (then by clinician), each to the first person in line it fits
    who is not `waiting` on an open offer and was not offered that clinician and start before (`offered_before`
    holds (wish key, clinician, start)). A person gets at most one opening a pass; an opening that overlaps one
    already given out for the same clinician is skipped (its time is being held)."""
    line = order(w for w in wishes if w.key not in waiting)
    declined = set(offered_before)
    given: list[tuple[Opening, Wish]] = []
    served: set[str] = set()
    held: dict[str, list[tuple[datetime, datetime]]] = {}
    for opening in sorted(openings, key=lambda o: (o.start, o.clinician)):
        if len(served) == len(line):
            break
        taken = held.get(opening.clinician, [])
        if any(start < opening.end and opening.start < end for start, end in taken):
            continue
        for wish in line:
            if wish.key in served or (wish.key, opening.clinician, opening.start) in declined:
                continue
            if wants(wish, opening, zone):
                given.append((opening, wish))
                served.add(wish.key)
                held.setdefault(opening.clinician, []).append((opening.start, opening.end))
                break
    return given
