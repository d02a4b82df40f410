"""Reads of the booking app: free slots from the database rows (docs/BOOKING.md, "Free slots from the database").

The rows are mapped onto the inputs of the pure `prolotrack.domain.availability` and the answer comes back from it.
`load` reads everything one question needs in a fixed number of statements (six, whatever the number of days or
clinicians): who offers the type, their weekly hours and breaks, time off and holidays, the appointments and the
treatment sessions that hold time, and the buffers of the clinic's prolotherapy-session type (course sessions carry
no type of their own).
"""

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, Subquery
from django.utils import timezone

from prolotrack.booking.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AppointmentType,
    PeriodKind,
    Room,
    TimeOff,
    TypeClinician,
    WeeklyPeriod,
    holding_q,
)
from prolotrack.clinics.models import User
from prolotrack.clinics.queries import clinic_today as clinic_today  # one definition, re-exported
from prolotrack.domain import availability as domain
from prolotrack.treatment.models import SessionStatus, TreatmentSession

# Course sessions that hold their clinician's time: booked or done with a start (cancelled and no-show ones do not).
SESSION_HOLDING = (SessionStatus.PLANNED, SessionStatus.BOOKED, SessionStatus.DONE)
# Staff book any free slot from now to two years ahead, today included, without the online notice (docs/BOOKING.md,
# "Staff and online rules"); the grid is the clinic's.
STAFF_DAYS_AHEAD = 730


def staff_rules(clinic: Any) -> domain.BookingRules:
    """Staff booking: the clinic's grid, no minimum notice, today allowed, two years ahead."""
    return domain.BookingRules(
        min_notice=timedelta(0),
        max_days_ahead=STAFF_DAYS_AHEAD,
        same_day=True,
        step=timedelta(minutes=clinic.config.booking_step_minutes),
    )


def online_rules(clinic: Any) -> domain.BookingRules:
    """Online booking: the clinic's notice, horizon, same-day rule and grid (clinic settings)."""
    config = clinic.config
    return domain.BookingRules(
        min_notice=timedelta(minutes=config.booking_min_notice_minutes),
        max_days_ahead=config.booking_max_days_ahead,
        same_day=config.booking_same_day,
        step=timedelta(minutes=config.booking_step_minutes),
    )


def domain_type(appointment_type: AppointmentType) -> domain.AppointmentType:
    return domain.AppointmentType(
        duration=timedelta(minutes=appointment_type.duration_minutes),
        buffer_before=timedelta(minutes=appointment_type.buffer_before_minutes),
        buffer_after=timedelta(minutes=appointment_type.buffer_after_minutes),
    )


# --- Setup lists (the admin pages) ----------------------------------------------------------------------------------


def appointment_types(clinic: Any, *, active_only: bool = False) -> list[AppointmentType]:
    qs = AppointmentType.objects.filter(clinic=clinic, entered_in_error_at__isnull=True).select_related("fee_item")
    if active_only:
        qs = qs.filter(active=True)
    return list(qs.order_by("-active", "name", "id"))


def appointment_type(clinic: Any, uuid: Any) -> AppointmentType:
    return AppointmentType.objects.get(clinic=clinic, uuid=uuid, entered_in_error_at__isnull=True)


def offers(clinic: Any) -> dict[int, list[TypeClinician]]:
    """The active offers of each type (type id -> offers, clinicians joined)."""
    out: dict[int, list[TypeClinician]] = defaultdict(list)
    for offer in TypeClinician.objects.filter(
        clinic=clinic, active=True, entered_in_error_at__isnull=True
    ).select_related("clinician"):
        out[offer.appointment_type_id].append(offer)
    return out


def fee_items(clinic: Any) -> list[Any]:
    """The fee schedule's items a type may name (billing's FeeItem)."""
    from prolotrack.billing.models import FeeItem

    return list(FeeItem.objects.filter(clinic=clinic, entered_in_error_at__isnull=True).order_by("code"))


def rooms(clinic: Any) -> list[Room]:
    return list(Room.objects.filter(clinic=clinic, active=True, entered_in_error_at__isnull=True))


def room(clinic: Any, uuid: Any) -> Room:
    return Room.objects.get(clinic=clinic, uuid=uuid, entered_in_error_at__isnull=True)


def weekly_periods(clinic: Any, clinician: Any = None) -> list[WeeklyPeriod]:
    qs = WeeklyPeriod.objects.filter(clinic=clinic, active=True, entered_in_error_at__isnull=True).select_related(
        "clinician", "room"
    )
    if clinician is not None:
        qs = qs.filter(clinician=clinician)
    return list(qs.order_by("clinician__username", "weekday", "starts", "id"))


def weekly_period(clinic: Any, uuid: Any) -> WeeklyPeriod:
    return WeeklyPeriod.objects.get(clinic=clinic, uuid=uuid, active=True, entered_in_error_at__isnull=True)


def time_off(clinic: Any, from_day: date) -> list[TimeOff]:
    """Time off and holidays that end on or after `from_day`."""
    return list(
        TimeOff.objects.filter(
            clinic=clinic, active=True, entered_in_error_at__isnull=True, last_day__gte=from_day
        ).select_related("clinician")
    )


def time_off_row(clinic: Any, uuid: Any) -> TimeOff:
    return TimeOff.objects.get(clinic=clinic, uuid=uuid, active=True, entered_in_error_at__isnull=True)


def appointment(clinic: Any, uuid: Any) -> Appointment:
    return Appointment.objects.select_related(
        "patient", "pending_patient", "appointment_type", "clinician", "room"
    ).get(clinic=clinic, uuid=uuid, entered_in_error_at__isnull=True)


def offering_clinicians(clinic: Any, appointment_type: AppointmentType, *, online: bool = False) -> list[User]:
    """The clinic's active members who offer the type (online: those whose offer allows online booking), one query."""
    offered = TypeClinician.objects.filter(
        clinic=clinic, appointment_type=appointment_type, active=True, entered_in_error_at__isnull=True
    )
    if online:
        offered = offered.filter(bookable_online=True)
    return list(
        User.objects.filter(
            pk__in=Subquery(offered.values("clinician_id")),
            memberships__clinic=clinic,
            memberships__is_active=True,
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def staff_member(clinic: Any, username: str) -> User | None:
    """An active member of the clinic with this username (any role), or None (the API names clinicians so)."""
    return User.objects.filter(username=username, memberships__clinic=clinic, memberships__is_active=True).first()


def bookable_types(clinic: Any, *, online: bool = False) -> list[AppointmentType]:
    qs = AppointmentType.objects.filter(clinic=clinic, active=True, entered_in_error_at__isnull=True)
    if online:
        qs = qs.filter(bookable_online=True)
    return list(qs.order_by("name", "id"))


# --- Loading availability -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HoursRoom:
    """A working period's room, to tell which room a slot is in: weekday, wall-clock start and end, room id."""

    weekday: int
    starts: time
    ends: time
    room_id: int | None


@dataclass
class Loaded:
    """What one free-slot question needs, read from the database."""

    availability: list[domain.ClinicianAvailability]
    holidays: list[domain.DayRange]
    # clinician key -> the rooms of their working periods
    rooms_of: dict[str, list[HoursRoom]] = field(default_factory=dict)
    # rooms that may not be double-booked -> held intervals in them (seconds since the epoch, buffers applied later)
    room_busy: dict[int, list[tuple[datetime, datetime, int, int, int]]] = field(default_factory=dict)
    exclusive_rooms: frozenset[int] = frozenset()


def key(user: Any) -> str:
    """The clinician's key in the domain's inputs (their user id as text)."""
    return str(user.pk)


def _bounds(clinic: Any, first: date, last: date) -> tuple[datetime, datetime]:
    """Held time that can touch the local days first..last: a day of margin each side (no visit lasts a day)."""
    tz = clinic.tz
    return (
        datetime.combine(first - timedelta(days=1), time.min, tzinfo=tz),
        datetime.combine(last + timedelta(days=2), time.min, tzinfo=tz),
    )


def load(
    clinic: Any, clinicians: Sequence[Any], first: date, last: date, *, exclude: Any = None, exclude_session: Any = None
) -> Loaded:
    """Hours, breaks, time off, holidays, appointments and course sessions of `clinicians` around the local days
    `first`..`last`, as the domain's inputs. Five statements whatever the span or the number of clinicians.
    `exclude` is an appointment left out (the one being moved), `exclude_session` a course session (being booked)."""
    ids = {c.pk for c in clinicians}
    start, end = _bounds(clinic, first, last)
    spans: dict[int, timedelta] = {}

    def span(minutes: int) -> timedelta:
        found = spans.get(minutes)
        if found is None:
            found = spans[minutes] = timedelta(minutes=minutes)
        return found

    hours: dict[int, list[domain.WeeklyPeriod]] = defaultdict(list)
    breaks: dict[int, list[domain.WeeklyPeriod]] = defaultdict(list)
    rooms_of: dict[str, list[HoursRoom]] = defaultdict(list)
    exclusive: set[int] = set()
    for clinician_id, kind, weekday, starts, ends, room_id, shared in WeeklyPeriod.objects.filter(
        clinic=clinic, clinician_id__in=ids, active=True, entered_in_error_at__isnull=True
    ).values_list("clinician_id", "kind", "weekday", "starts", "ends", "room_id", "room__allow_double_booking"):
        period = domain.WeeklyPeriod(weekday, starts, ends)
        if kind == PeriodKind.BREAK:
            breaks[clinician_id].append(period)
        else:
            hours[clinician_id].append(period)
            rooms_of[str(clinician_id)].append(HoursRoom(weekday, starts, ends, room_id))
            if room_id is not None and not shared:
                exclusive.add(room_id)
    off: dict[int, list[domain.DayRange]] = defaultdict(list)
    holidays: list[domain.DayRange] = []
    for clinician_id, first_day, last_day in TimeOff.objects.filter(
        Q(clinician_id__in=ids) | Q(clinician__isnull=True),
        clinic=clinic,
        active=True,
        entered_in_error_at__isnull=True,
        first_day__lte=last,
        last_day__gte=first,
    ).values_list("clinician_id", "first_day", "last_day"):
        (holidays if clinician_id is None else off[clinician_id]).append(domain.DayRange(first_day, last_day))
    held: dict[int, list[domain.Booked]] = defaultdict(list)
    room_busy: dict[int, list[tuple[datetime, datetime, int, int, int]]] = defaultdict(list)
    appointments = Appointment.objects.filter(
        Q(clinician_id__in=ids) | Q(room_id__in=exclusive) if exclusive else Q(clinician_id__in=ids),
        holding_q(timezone.now()),
        clinic=clinic,
        entered_in_error_at__isnull=True,
        starts_at__gte=start,
        starts_at__lt=end,
    )
    if exclude is not None:
        appointments = appointments.exclude(pk=exclude.pk)
    for clinician_id, room_id, starts_at, minutes, before, after in appointments.values_list(
        "clinician_id", "room_id", "starts_at", "duration_minutes", "buffer_before_minutes", "buffer_after_minutes"
    ):
        if clinician_id in ids:
            held[clinician_id].append(domain.Booked(starts_at, span(minutes), span(before), span(after)))
        if room_id in exclusive:
            room_busy[room_id].append((starts_at, starts_at + span(minutes), before, after, clinician_id))
    session_type = (
        AppointmentType.objects.filter(
            clinic=clinic, kind=AppointmentKind.SESSION, active=True, entered_in_error_at__isnull=True
        )
        .order_by("id")
        .values_list("buffer_before_minutes", "buffer_after_minutes")
        .first()
    )
    before, after = session_type or (0, 0)
    sessions = TreatmentSession.objects.filter(
        clinic=clinic,
        clinician_id__in=ids,
        status__in=SESSION_HOLDING,
        starts_at__gte=start,
        starts_at__lt=end,
        entered_in_error_at__isnull=True,
    )
    if exclude_session is not None and exclude_session.pk is not None:
        sessions = sessions.exclude(pk=exclude_session.pk)
    for clinician_id, session_start, minutes in sessions.values_list("clinician_id", "starts_at", "duration_minutes"):
        if session_start is None:
            continue
        held[clinician_id].append(domain.Booked(session_start, span(minutes), span(before), span(after)))
    availability = [
        domain.ClinicianAvailability(
            clinician=key(c),
            hours=tuple(hours[c.pk]),
            breaks=tuple(breaks[c.pk]),
            time_off=tuple(off[c.pk]),
            appointments=tuple(held[c.pk]),
        )
        for c in clinicians
    ]
    return Loaded(availability, holidays, dict(rooms_of), dict(room_busy), frozenset(exclusive))


# --- Rooms ---------------------------------------------------------------------------------------------------------


def room_at(loaded: Loaded, clinician_key: str, start: datetime, tz: Any) -> int | None:
    """The room of the working period a start lies in (by the wall clock of its day), or None."""
    local = start.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    for period in loaded.rooms_of.get(clinician_key, ()):
        if period.weekday == local.weekday() and period.starts <= clock < period.ends:
            return period.room_id
    return None


def room_clash(
    loaded: Loaded,
    room_id: int | None,
    clinician_id: int,
    start: datetime,
    appointment_type: domain.AppointmentType,
) -> tuple[datetime, datetime] | None:
    """Another clinician's appointment that holds a room that may not be double-booked, within the larger buffer of
    the two (the same rule as a clinician's own appointments), or None."""
    if room_id is None or room_id not in loaded.exclusive_rooms:
        return None
    end = start + appointment_type.duration
    for held_start, held_end, before, after, who in loaded.room_busy.get(room_id, []):
        if who == clinician_id:
            continue  # the clinician's own appointments are checked by the domain
        apart_before = max(timedelta(minutes=before), appointment_type.buffer_after)
        apart_after = max(timedelta(minutes=after), appointment_type.buffer_before)
        if held_start - apart_before < end and start < held_end + apart_after:
            return held_start, held_end
    return None


# --- Free slots ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FreeSlot:
    start: datetime
    end: datetime
    clinician: Any
    room_id: int | None


def free_slots(
    clinic: Any,
    appointment_type: AppointmentType,
    first: date,
    last: date,
    *,
    clinician: Any = None,
    now: datetime | None = None,
    online: bool = False,
    limit: int | None = None,
) -> list[FreeSlot]:
    """Free slots of a type from local day `first` to `last`, for one clinician or every clinician who offers it
    ("first available" is the first of the list), sorted by start then clinician. Staff rules unless `online`.
    Six statements whatever the span or the number of clinicians."""
    moment = now or timezone.now()
    clinicians = offering_clinicians(clinic, appointment_type, online=online)
    if clinician is not None:
        clinicians = [c for c in clinicians if c.pk == clinician.pk]
    if not clinicians:
        return []
    loaded = load(clinic, clinicians, first, last)
    wanted = domain_type(appointment_type)
    rules = online_rules(clinic) if online else staff_rules(clinic)
    tz = clinic.tz
    by_key = {key(c): c for c in clinicians}
    out: list[FreeSlot] = []
    for slot in domain.free_slots(loaded.availability, wanted, tz, moment, rules, first, last, loaded.holidays):
        who = by_key[slot.clinician]
        room_id = room_at(loaded, slot.clinician, slot.start, tz)
        if room_clash(loaded, room_id, who.pk, slot.start, wanted) is not None:
            continue
        out.append(FreeSlot(slot.start, slot.end, who, room_id))
        if limit is not None and len(out) >= limit:
            break
    return out


def refusals(
    clinic: Any,
    appointment_type: AppointmentType,
    clinician: Any,
    start: datetime,
    *,
    now: datetime,
    rules: domain.BookingRules,
    exclude: Any = None,
) -> tuple[list[str], int | None]:
    """Why the clinician cannot take the type at `start` (the domain's sentences, plus a room taken by a colleague),
    and the room the start would be in. Empty when it is free."""
    day = start.astimezone(clinic.tz).date()
    loaded = load(clinic, [clinician], day, day, exclude=exclude)
    wanted = domain_type(appointment_type)
    # The domain names the clinician by their key in its sentences: their name here, for staff to read.
    who = dataclasses.replace(loaded.availability[0], clinician=str(clinician))
    reasons = domain.refusals(start, who, wanted, clinic.tz, now, rules, loaded.holidays)
    room_id = room_at(loaded, key(clinician), start, clinic.tz)
    clash = room_clash(loaded, room_id, clinician.pk, start, wanted)
    if clash is not None:
        shown = [timezone.localtime(moment, clinic.tz).strftime("%H:%M") for moment in clash]
        reasons.append(f"Its room is taken {shown[0]}-{shown[1]} by another clinician, and it cannot be double-booked.")
    return reasons, room_id


# --- The calendar --------------------------------------------------------------------------------------------------


def calendar_appointments(clinic: Any, first: date, days: int, clinician: Any = None) -> list[Appointment]:
    """Appointments (not cancelled, nor an online hold that ran out) starting within local days [first, first + days)."""
    tz = clinic.tz
    start = datetime.combine(first, time.min, tzinfo=tz)
    end = datetime.combine(first + timedelta(days=days), time.min, tzinfo=tz)
    qs = (
        Appointment.objects.filter(
            clinic=clinic, starts_at__gte=start, starts_at__lt=end, entered_in_error_at__isnull=True
        )
        .exclude(status=AppointmentStatus.CANCELLED)
        .exclude(Q(status=AppointmentStatus.HELD) & ~holding_q(timezone.now()))
    )
    if clinician is not None:
        qs = qs.filter(clinician=clinician)
    return list(
        qs.select_related("patient", "pending_patient", "appointment_type", "clinician", "room").order_by(
            "starts_at", "id"
        )
    )


def search_appointments(
    clinic: Any,
    first: date,
    last: date,
    *,
    clinician: Any = None,
    patient: Any = None,
    status: str | None = None,
) -> Any:
    """Appointments starting within the local days first..last (both included), soonest first, for the API's list:
    of one clinician, one patient, one status; without a status every one but an online hold that ran out (it holds
    nothing and was never a booking). A queryset, so the caller pages it."""
    tz = clinic.tz
    start = datetime.combine(first, time.min, tzinfo=tz)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz)
    qs = Appointment.objects.filter(
        clinic=clinic, starts_at__gte=start, starts_at__lt=end, entered_in_error_at__isnull=True
    )
    if status:
        qs = qs.filter(status=status)
    else:
        qs = qs.exclude(Q(status=AppointmentStatus.HELD) & ~holding_q(timezone.now()))
    if clinician is not None:
        qs = qs.filter(clinician=clinician)
    if patient is not None:
        qs = qs.filter(patient=patient)
    return qs.select_related("patient", "pending_patient", "appointment_type", "clinician", "room").order_by(
        "starts_at", "id"
    )


def session_type(clinic: Any) -> AppointmentType | None:
    """The clinic's first active prolotherapy-session type: the length and buffers of a course session booked from
    the course's link (docs/BOOKING.md, "Course links"), as its buffers are every course session's."""
    return (
        AppointmentType.objects.filter(
            clinic=clinic, kind=AppointmentKind.SESSION, active=True, entered_in_error_at__isnull=True
        )
        .order_by("id")
        .first()
    )


def _session_type(clinic: Any) -> tuple[int, int]:
    """The buffers (before, after) of the clinic's first active prolotherapy-session type: a course session's."""
    found = (
        AppointmentType.objects.filter(
            clinic=clinic, kind=AppointmentKind.SESSION, active=True, entered_in_error_at__isnull=True
        )
        .order_by("id")
        .values_list("buffer_before_minutes", "buffer_after_minutes")
        .first()
    )
    return found or (0, 0)


def session_refusals(clinic: Any, clinician: Any, start: datetime, minutes: int, session: Any = None) -> list[str]:
    """Why a course session of `minutes` at `start` breaks the availability rules of the clinician, for staff: working
    hours, breaks, time off and holidays, and the appointments and other course sessions that hold time (with the
    session type's buffers). Not the slot grid, the notice or the horizon: a session is booked by staff at the minute
    they choose, as before (docs/BOOKING.md, "Course sessions under the availability rules")."""
    day = start.astimezone(clinic.tz).date()
    loaded = load(clinic, [clinician], day, day, exclude_session=session)
    before, after = _session_type(clinic)
    wanted = domain.AppointmentType(
        duration=timedelta(minutes=minutes),
        buffer_before=timedelta(minutes=before),
        buffer_after=timedelta(minutes=after),
    )
    who = dataclasses.replace(loaded.availability[0], clinician=str(clinician))
    # A one-minute grid and "now" at the start itself: the grid, notice, same-day and horizon rules never refuse.
    rules = domain.BookingRules(min_notice=timedelta(0), max_days_ahead=STAFF_DAYS_AHEAD, step=timedelta(minutes=1))
    return domain.refusals(
        start.replace(second=0, microsecond=0), who, wanted, clinic.tz, start, rules, loaded.holidays
    )


def session_clashes(clinic: Any, clinician: Any, start: datetime, minutes: int) -> list[str]:
    """The clinician's appointments (booked or attended) that a course session at `start` lasting `minutes` would
    clash with, apart by less than the larger buffer (the session type's buffers for the session), as sentences."""
    session_type = (
        AppointmentType.objects.filter(
            clinic=clinic, kind=AppointmentKind.SESSION, active=True, entered_in_error_at__isnull=True
        )
        .order_by("id")
        .values_list("buffer_before_minutes", "buffer_after_minutes")
        .first()
    )
    before, after = session_type or (0, 0)
    end = start + timedelta(minutes=minutes)
    out = []
    for held in Appointment.objects.filter(
        holding_q(timezone.now()),
        clinic=clinic,
        clinician=clinician,
        entered_in_error_at__isnull=True,
        starts_at__gte=start - timedelta(days=1),
        starts_at__lt=end + timedelta(days=1),
    ).select_related("appointment_type"):
        held_end = held.starts_at + timedelta(minutes=held.duration_minutes)
        apart_before = timedelta(minutes=max(held.buffer_before_minutes, after))
        apart_after = timedelta(minutes=max(held.buffer_after_minutes, before))
        if held.starts_at - apart_before < end and start < held_end + apart_after:
            shown = [timezone.localtime(t, clinic.tz).strftime("%H:%M") for t in (held.starts_at, held_end)]
            out.append(
                f"{clinician} has {held.appointment_type.name} {shown[0]}-{shown[1]} then (overlapping, or within "
                "its buffer): choose another time or move that appointment."
            )
    return out
