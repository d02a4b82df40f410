"""The phone slot picker: the free slots of ONE day, with the previous and next day and a jump to the next day that
has free slots (templates/booking/public/_slots.html; docs/BOOKING.md, "The slot picker").

A week of slots is too long on a 390 px phone; a day fits on one or two screens. The picker is shaped here and drawn
by the partial, which works without JavaScript (its day links are plain links that reload the page with the day in
the query) and is enhanced by HTMX (the same links swap only the picker, `hx-select`, and push the address so Back
works). The public booking page and the staff booking page both use it; each slot is a radio button whose value is
`slot_value` (the UTC start and the clinician's uuid), read back by `parse_slot`.

"First available" online shows each start once (`one_per_start`): the slot goes to the clinician with the fewest
appointments holding time that local day, then by name (docs/BOOKING.md, "The slot picker").
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count
from django.utils import timezone
from django.utils.http import urlencode

from prolotrack.booking import queries
from prolotrack.booking.models import Appointment, holding_q

# How far "next day with free slots" and the first day shown look ahead, in days: two months, the online horizon's
# default (docs/SETTINGS.md, booking_max_days_ahead), so one question reads at most that span (six statements).
SEARCH_DAYS = 62


def slot_value(slot: queries.FreeSlot) -> str:
    """A slot as a form value: its UTC start and its clinician's uuid."""
    return f"{slot.start.isoformat()}|{slot.clinician.uuid}"


def parse_slot(text: str, clinicians: Sequence[Any]) -> tuple[datetime, Any] | None:
    """The start and clinician of a form value made by `slot_value`, or None (malformed, naive, or a clinician not in
    the list)."""
    start_text, _, who = (text or "").partition("|")
    try:
        start = datetime.fromisoformat(start_text)
    except ValueError:
        return None
    person = next((c for c in clinicians if str(c.uuid) == who), None)
    if person is None or timezone.is_naive(start):
        return None
    return start, person


@dataclass(frozen=True)
class PickerSlot:
    value: str
    clock: str  # local wall-clock time, HH:MM
    who: str  # the clinician, shown when the day has several
    checked: bool


@dataclass(frozen=True)
class DayPicker:
    """What the partial draws: one day's slots and the addresses of the days around it ("" when there is none)."""

    day: date
    slots: list[PickerSlot]
    previous_url: str
    next_url: str
    next_free_day: date | None
    next_free_url: str
    field: str
    show_who: bool
    zone: str
    anchor: str


@dataclass(frozen=True)
class Span:
    """The days the picker may show: from `first` (the clinic's today) to `last` (the horizon of the rules)."""

    first: date
    last: date


def span(clinic: Any, *, online: bool) -> Span:
    today = queries.clinic_today(clinic)
    ahead = queries.online_rules(clinic).max_days_ahead if online else queries.STAFF_DAYS_AHEAD
    return Span(today, today + timedelta(days=ahead))


def first_free_day(
    clinic: Any, appointment_type: Any, from_day: date, *, clinician: Any = None, online: bool = False
) -> date | None:
    """The first local day from `from_day` (within SEARCH_DAYS and the horizon) with a free slot, or None."""
    bounds = span(clinic, online=online)
    start = max(from_day, bounds.first)
    last = min(bounds.last, start + timedelta(days=SEARCH_DAYS - 1))
    if start > last:
        return None
    found = queries.free_slots(clinic, appointment_type, start, last, clinician=clinician, online=online, limit=1)
    return timezone.localtime(found[0].start, clinic.tz).date() if found else None


def one_per_start(clinic: Any, slots: Sequence[queries.FreeSlot], day: date) -> list[queries.FreeSlot]:
    """One slot per start for "first available": of the clinicians free at a start, the one with the fewest
    appointments holding time on the local `day` (booked, attended, or held and not expired), then by name, then by
    id (so the choice is stable). One statement. The hold still locks and checks that clinician, as any booking."""
    if len({s.clinician.pk for s in slots}) < 2:
        return list(slots)
    tz = clinic.tz
    starts = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    ends = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    booked = dict(
        Appointment.objects.filter(
            holding_q(timezone.now()),
            clinic=clinic,
            clinician_id__in={s.clinician.pk for s in slots},
            entered_in_error_at__isnull=True,
            starts_at__gte=starts,
            starts_at__lt=ends,
        )
        .values("clinician_id")
        .annotate(n=Count("id"))
        .values_list("clinician_id", "n")
    )
    chosen: dict[datetime, queries.FreeSlot] = {}
    for slot in sorted(
        slots, key=lambda s: (s.start, booked.get(s.clinician.pk, 0), str(s.clinician).casefold(), s.clinician.pk)
    ):
        chosen.setdefault(slot.start, slot)
    return list(chosen.values())


def _url(path: str, query: Mapping[str, str], param: str, day: date, anchor: str) -> str:
    kept = {k: v for k, v in query.items() if v and k != param}
    return f"{path}?{urlencode({**kept, param: day.isoformat()})}#{anchor}"


def day_picker(
    clinic: Any,
    appointment_type: Any,
    day: date | None,
    *,
    path: str,
    query: Mapping[str, str],
    clinician: Any = None,
    online: bool = False,
    param: str = "day",
    field: str = "slot",
    chosen: str = "",
    show_who: bool | None = None,
    anchor: str = "slot-picker",
) -> DayPicker:
    """The picker for `day` (None: the first day with free slots, else today), clamped to today..the horizon.

    `path` and `query` make the day links (the query's other parameters are kept, `param` holds the day); `chosen`
    is a slot value to show checked (a form sent back with an error); `show_who` names the clinician on each slot
    (default: when the slots are of several clinicians). Online with no clinician chosen ("first available"), each
    start is shown once, with the clinician `one_per_start` gives it."""
    bounds = span(clinic, online=online)
    if day is None:
        day = first_free_day(clinic, appointment_type, bounds.first, clinician=clinician, online=online)
    day = min(max(day or bounds.first, bounds.first), bounds.last)
    found = queries.free_slots(clinic, appointment_type, day, day, clinician=clinician, online=online)
    several = len({s.clinician.pk for s in found}) > 1
    if online and clinician is None:
        found = one_per_start(clinic, found, day)
    tz = clinic.tz
    slots = [
        PickerSlot(
            value=slot_value(s),
            clock=timezone.localtime(s.start, tz).strftime("%H:%M"),
            who=str(s.clinician),
            checked=slot_value(s) == chosen,
        )
        for s in found
    ]
    after = day + timedelta(days=1)
    next_free = first_free_day(clinic, appointment_type, after, clinician=clinician, online=online)
    return DayPicker(
        day=day,
        slots=slots,
        previous_url=_url(path, query, param, day - timedelta(days=1), anchor) if day > bounds.first else "",
        next_url=_url(path, query, param, after, anchor) if day < bounds.last else "",
        next_free_day=next_free,
        # The jump is offered when it skips at least one empty day (otherwise "Next day" does the same).
        next_free_url=_url(path, query, param, next_free, anchor) if next_free and next_free > after else "",
        field=field,
        show_who=several if show_who is None else show_who,
        zone=str(tz),
        anchor=anchor,
    )


@dataclass(frozen=True)
class OtherSlot:
    """A slot offered instead of a taken or expired one: its value, its local start (any day) and clinician."""

    value: str
    start: datetime
    who: str


def other_slots(slots: Sequence[queries.FreeSlot], tz: Any) -> list[OtherSlot]:
    return [OtherSlot(slot_value(s), timezone.localtime(s.start, tz), str(s.clinician)) for s in slots]
