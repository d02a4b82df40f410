"""Free appointment slots from clinicians' weekly hours, breaks, time off and existing appointments (issue 16).

Pure: no Django, no clock. The caller passes "now", the clinic's time zone and everything booked; the answer is a
sorted list of `Slot`s whose times are aware datetimes in UTC (shown to people in the clinic's zone with the
`local_time` filter). The rules are written out in docs/BOOKING.md; in short:

- Working hours, breaks and time off are the clinic's wall-clock times in its IANA zone, per weekday (0 Monday ...
  6 Sunday). A period runs from the *first* moment the clock shows its start to the *last* moment the clock shows its
  end. A bound the clocks skip (02:30 on a spring-forward night) is the moment the clocks jump (03:00 new time); a
  bound the clocks show twice (01:30 on a fall-back night) is its first showing for a start and its second showing for
  an end. So 09:00-17:00 is 09:00 local on every day, and 8 real hours except where a change falls inside it.
- A slot of an appointment type is [start, start + duration). It lies inside one working period, outside every break,
  on a day that is not time off or a clinic holiday. Its start is on the grid: the working period's start plus a
  whole number of steps (real time).
- Buffers: every appointment, booked or proposed, may have a buffer before and after. Two appointments of one
  clinician must be apart by at least the larger of the earlier one's buffer after and the later one's buffer
  before. Buffers need not fit inside working hours (a buffer after the last appointment may run past closing).
- Notice and horizon: a slot starts at or after now + minimum notice, and on a local date no later than today (the
  clinic's date at "now") + maximum days ahead; with same-day booking off, not on today at all.
- `refusals` says which of these rules a chosen start breaks (empty when it is a free slot).

Interval arithmetic on whole seconds since the epoch: each working period is cut by the sorted, merged busy intervals
(breaks and buffered appointments) in one sweep, and slots are laid on the grid of each free piece. The cost grows
with the number of days, periods and appointments, not with minutes.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import pairwise
from typing import Literal, NamedTuple

from .errors import InputError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class WeeklyPeriod:
    """A weekly wall-clock period (working hours or a break): `weekday` 0 Monday ... 6 Sunday, start before end."""

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise InputError(f"Weekday {self.weekday} is not a day of the week: use 0 (Monday) to 6 (Sunday).")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise InputError("Working hours and breaks are wall-clock times in the clinic's zone: give them no zone.")
        if self.start >= self.end:
            raise InputError(
                f"A period from {self.start:%H:%M} to {self.end:%H:%M} is empty: the start must be before the end "
                "(periods past midnight are two periods, one on each day)."
            )


@dataclass(frozen=True)
class DayRange:
    """Whole local days from `first` to `last`, both included (time off, a holiday)."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.first > self.last:
            raise InputError(
                f"Time off from {self.first.isoformat()} to {self.last.isoformat()} ends before it starts."
            )

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last


def _non_negative(value: timedelta, what: str) -> None:
    if value < timedelta(0):
        raise InputError(f"The {what} cannot be negative.")


@dataclass(frozen=True)
class Booked:
    """An appointment already held (not cancelled): an aware start, its duration and its type's buffers."""

    start: datetime
    duration: timedelta
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.start.utcoffset() is None:
            raise InputError("An appointment's start must be an aware date and time (UTC or with its zone).")
        if self.duration <= timedelta(0):
            raise InputError("An appointment's duration must be more than zero.")
        _non_negative(self.buffer_before, "buffer before an appointment")
        _non_negative(self.buffer_after, "buffer after an appointment")


@dataclass(frozen=True)
class AppointmentType:
    """What is being booked: its duration and buffers (a new-patient assessment, a prolotherapy session ...)."""

    duration: timedelta
    buffer_after: timedelta = timedelta(0)
    buffer_before: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        if self.duration <= timedelta(0):
            raise InputError("An appointment type's duration must be more than zero.")
        _non_negative(self.buffer_before, "buffer before the appointment type")
        _non_negative(self.buffer_after, "buffer after the appointment type")


@dataclass(frozen=True)
class ClinicianAvailability:
    """One clinician's weekly hours, weekly breaks, days off and held appointments."""

    clinician: str
    hours: tuple[WeeklyPeriod, ...]
    breaks: tuple[WeeklyPeriod, ...] = ()
    time_off: tuple[DayRange, ...] = ()
    appointments: tuple[Booked, ...] = ()

    def __post_init__(self) -> None:
        for weekday in range(7):
            periods = sorted((p for p in self.hours if p.weekday == weekday), key=lambda p: p.start)
            for before, after in pairwise(periods):
                if after.start < before.end:
                    raise InputError(
                        f"{self.clinician}: working hours {before.start:%H:%M}-{before.end:%H:%M} and "
                        f"{after.start:%H:%M}-{after.end:%H:%M} overlap on weekday {weekday}: join them into one "
                        "period or use a break."
                    )


@dataclass(frozen=True)
class BookingRules:
    """The clinic's booking limits: minimum notice, maximum days ahead, same-day booking, and the slot grid step."""

    min_notice: timedelta = timedelta(0)
    max_days_ahead: int = 60
    same_day: bool = True
    step: timedelta = field(default=timedelta(minutes=15))

    def __post_init__(self) -> None:
        _non_negative(self.min_notice, "minimum notice")
        if self.max_days_ahead < 0:
            raise InputError("The maximum days ahead cannot be negative.")
        if self.step <= timedelta(0) or self.step % timedelta(seconds=1):
            raise InputError("The slot step must be a whole number of seconds, more than zero.")


class Slot(NamedTuple):
    """A free slot: the clinician and [start, end) as aware datetimes in UTC."""

    start: datetime
    end: datetime
    clinician: str


def _seconds(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(seconds=1)


def _wall_instant(day: date, clock: time, zone: tzinfo, side: Literal["start", "end"]) -> int:
    """Seconds since the epoch of `clock` on `day` in `zone`, by the rule in the module docstring."""
    naive = datetime.combine(day, clock)
    valid = []
    for fold in (0, 1):
        aware = naive.replace(tzinfo=zone, fold=fold)
        if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive:
            valid.append(_seconds(aware))
    if valid:
        # One showing, or two (fall-back): the first for a start, the second for an end.
        return min(valid) if side == "start" else max(valid)
    # Skipped (spring-forward gap): the moment the clocks jump, the first moment whose wall time is after `naive`.
    low, high = sorted(_seconds(naive.replace(tzinfo=zone, fold=fold)) for fold in (0, 1))
    while low < high:
        middle = (low + high) // 2
        shown = (_EPOCH + timedelta(seconds=middle)).astimezone(zone).replace(tzinfo=None)
        if shown >= naive:
            high = middle
        else:
            low = middle + 1
    return low


def _merged(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    intervals.sort()
    merged: list[tuple[int, int]] = []
    for start, end in intervals:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _days(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


Instant = Callable[[date, time, Literal["start", "end"]], int]


def _periods_of_day(day: date, periods: Sequence[WeeklyPeriod], instant: Instant) -> list[tuple[int, int, int]]:
    """(start, end, grid anchor) of each working period of the day, in seconds, `periods` sorted by start."""
    out: list[tuple[int, int, int]] = []
    for period in periods:
        anchor, end = instant(day, period.start, "start"), instant(day, period.end, "end")
        # Adjacent periods meeting at a time shown twice would overlap by the rule: the later starts where the
        # earlier ends.
        start = max(anchor, out[-1][1]) if out else anchor
        if start < end:
            out.append((start, end, anchor))
    return out


def free_slots(
    clinicians: Sequence[ClinicianAvailability],
    appointment_type: AppointmentType,
    zone: tzinfo,
    now: datetime,
    rules: BookingRules,
    first_day: date,
    last_day: date,
    holidays: Sequence[DayRange] = (),
) -> list[Slot]:
    """Every free slot of `appointment_type` on local days `first_day` to `last_day` (both included), sorted by
    start then clinician; each (clinician, start) once.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise InputError("'now' must be an aware date and time.")
    if first_day > last_day:
        raise InputError(f"The days asked for run from {first_day.isoformat()} back to {last_day.isoformat()}.")
    today = now.astimezone(zone).date()
    first = max(first_day, today if rules.same_day else today + timedelta(days=1))
    last = min(last_day, today + timedelta(days=rules.max_days_ahead))
    earliest = _seconds(now + rules.min_notice)
    duration = appointment_type.duration // timedelta(seconds=1)
    step = rules.step // timedelta(seconds=1)
    before = appointment_type.buffer_before
    after = appointment_type.buffer_after
    instants: dict[tuple[date, time, str], int] = {}

    def instant(day: date, clock: time, side: Literal["start", "end"]) -> int:
        key = (day, clock, side)
        found = instants.get(key)
        if found is None:
            found = instants[key] = _wall_instant(day, clock, zone, side)
        return found

    found: list[tuple[int, str]] = []
    days = [d for d in _days(first, last) if not any(d in h for h in holidays)] if first <= last else []
    for who in clinicians:
        hours_by_day: list[list[WeeklyPeriod]] = [[] for _ in range(7)]
        for period in sorted(who.hours, key=lambda p: p.start):
            hours_by_day[period.weekday].append(period)
        breaks_by_day: list[list[WeeklyPeriod]] = [[] for _ in range(7)]
        for period in who.breaks:
            breaks_by_day[period.weekday].append(period)
        work: list[tuple[int, int, int]] = []  # (start, end, grid anchor)
        busy: list[tuple[int, int]] = []
        for day in days:
            periods = hours_by_day[day.weekday()]
            if not periods or any(day in off for off in who.time_off):
                continue
            work.extend(_periods_of_day(day, periods, instant))
            for pause in breaks_by_day[day.weekday()]:
                busy.append((instant(day, pause.start, "start"), instant(day, pause.end, "end")))
        if not work:
            continue
        # A slot [s, s + duration) clashes with a held appointment when they are closer than the larger buffer on
        # each side: held [a, b) blocks slots overlapping [a - max(its before, type's after), b + max(its after,
        # type's before)).
        for held in who.appointments:
            start = _seconds(held.start)
            end = start + held.duration // timedelta(seconds=1)
            busy.append(
                (
                    start - max(held.buffer_before, after) // timedelta(seconds=1),
                    end + max(held.buffer_after, before) // timedelta(seconds=1),
                )
            )
        blocked = _merged(busy)
        j = 0
        for start, end, anchor in work:  # sorted and not overlapping
            while j < len(blocked) and blocked[j][1] <= start:
                j += 1
            pieces: list[tuple[int, int]] = []
            cursor = start
            k = j
            while k < len(blocked) and blocked[k][0] < end:
                if blocked[k][0] > cursor:
                    pieces.append((cursor, blocked[k][0]))
                cursor = max(cursor, blocked[k][1])
                k += 1
            if cursor < end:
                pieces.append((cursor, end))
            for low, high in pieces:
                low = max(low, earliest)
                # The grid is anchored at the working period's start.
                slot = anchor + -(-(low - anchor) // step) * step
                while slot + duration <= high:
                    found.append((slot, who.clinician))
                    slot += step
    found.sort()
    length = timedelta(seconds=duration)
    slots = []
    for seconds, clinician in found:
        begins = _EPOCH + timedelta(seconds=seconds)
        slots.append(Slot(begins, begins + length, clinician))
    return slots


def _minutes(span: timedelta) -> str:
    minutes = span / timedelta(minutes=1)
    return f"{minutes:g} minute" if minutes == 1 else f"{minutes:g} minutes"


def refusals(
    start: datetime,
    who: ClinicianAvailability,
    appointment_type: AppointmentType,
    zone: tzinfo,
    now: datetime,
    rules: BookingRules,
    holidays: Sequence[DayRange] = (),
) -> list[str]:
    """Why `who` cannot take `appointment_type` at `start`, one sentence a rule, for staff (times in the clinic's
    zone); empty when the slot is free. The same rules as `free_slots`: a start is free exactly when it is one of
    its slots. Meant for checking a chosen slot again when it is booked, and for the staff booking form.
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise InputError("The start of an appointment must be an aware date and time.")
    if now.tzinfo is None or now.utcoffset() is None:
        raise InputError("'now' must be an aware date and time.")
    second = timedelta(seconds=1)
    begins = _seconds(start)
    ends = begins + appointment_type.duration // second
    local = start.astimezone(zone)
    day, today = local.date(), now.astimezone(zone).date()

    def shown(seconds: int) -> str:
        return f"{(_EPOCH + timedelta(seconds=seconds)).astimezone(zone):%H:%M}"

    def instant(d: date, clock: time, side: Literal["start", "end"]) -> int:
        return _wall_instant(d, clock, zone, side)

    reasons = []
    if start < now + rules.min_notice:
        reasons.append(
            "It is in the past."
            if start < now
            else f"It is less than the minimum notice ({_minutes(rules.min_notice)}) ahead."
        )
    if day == today and not rules.same_day:
        reasons.append("Same-day booking is off.")
    if (day - today).days > rules.max_days_ahead:
        reasons.append(f"It is more than {rules.max_days_ahead} days ahead.")
    if any(day in r for r in holidays):
        reasons.append(f"{day.isoformat()} is a clinic holiday.")
    if any(day in r for r in who.time_off):
        reasons.append(f"{who.clinician} is off on {day.isoformat()}.")
    periods = sorted((p for p in who.hours if p.weekday == day.weekday()), key=lambda p: p.start)
    inside = [w for w in _periods_of_day(day, periods, instant) if w[0] <= begins and ends <= w[1]]
    if not inside:
        reasons.append(f"{local:%H:%M} to {shown(ends)} is not within {who.clinician}'s working hours.")
    elif (begins - inside[0][2]) % (rules.step // second):
        reasons.append(f"{local:%H:%M} is not on the {_minutes(rules.step)} grid from {shown(inside[0][2])}.")
    for pause in who.breaks:
        if pause.weekday == day.weekday():
            low, high = instant(day, pause.start, "start"), instant(day, pause.end, "end")
            if low < ends and begins < high:
                reasons.append(f"It overlaps the break {pause.start:%H:%M}-{pause.end:%H:%M}.")
    for held in who.appointments:
        held_begins = _seconds(held.start)
        held_ends = held_begins + held.duration // second
        apart_before = max(held.buffer_before, appointment_type.buffer_after) // second
        apart_after = max(held.buffer_after, appointment_type.buffer_before) // second
        if held_begins - apart_before < ends and begins < held_ends + apart_after:
            reasons.append(
                f"It is too close to the appointment {shown(held_begins)}-{shown(held_ends)} "
                "(overlapping, or within its buffer)."
            )
    return reasons
