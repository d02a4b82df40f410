"""Writes of the booking app (docs/BOOKING.md). Each function checks the actor's permission and the input before
anything is written, then writes in one transaction through audit.services (record, version and audit rows commit
together). A refused input raises ValidationError (naming the field), AccessDenied or ServiceError and writes nothing.

Double booking: booking or moving an appointment locks the clinician's user row (SELECT ... FOR UPDATE on
PostgreSQL; SQLite's BEGIN IMMEDIATE already lets one writer in at a time), and the room's row when the slot is in one,
then checks the slot again against what is committed, inside the same transaction. Two people taking the last slot at
once: the second waits for the first to commit, then sees its appointment and is refused with the next free slots
(docs/BOOKING.md, "Double booking").
"""

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from prolotrack.audit.services import Actor, ServiceError, create_record, update_record
from prolotrack.billing.models import FeeItem
from prolotrack.booking import hooks, queries
from prolotrack.booking.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AppointmentType,
    BookingSource,
    ManageLink,
    PeriodKind,
    Room,
    TimeOff,
    TypeClinician,
    WeeklyPeriod,
)
from prolotrack.clinics.models import User
from prolotrack.clinics.roles import Permission, require_permission, roles_with
from prolotrack.core.access import require_same_clinic
from prolotrack.core.links import CHANNEL_PATIENT_LINK
from prolotrack.domain import availability as domain
from prolotrack.domain import clinic_names, limits
from prolotrack.domain.errors import DomainError, InputError
from prolotrack.domain.reasons import SESSION_CANCEL_REASONS, reason_text
from prolotrack.patients.models import Patient

# An appointment lasts 5 minutes to 8 hours; a buffer up to 2 hours (a room turned over, notes written).
DURATION_MINUTES = (int(limits.SESSION_MINUTES.low), int(limits.SESSION_MINUTES.high))
BUFFER_MINUTES = (int(limits.BUFFER_MINUTES.low), int(limits.BUFFER_MINUTES.high))
# How many next free slots a refused booking names, and how far it looks for them.
NEXT_SLOTS = 3
NEXT_SLOTS_DAYS = 14


class SlotUnavailable(ServiceError):
    """The chosen start is not free: the domain's reasons, and the next free slots to offer instead."""

    code = "slot_unavailable"

    def __init__(self, message: str, next_slots: Sequence[queries.FreeSlot]) -> None:
        super().__init__(message)
        self.next_slots = list(next_slots)


# --- Checks --------------------------------------------------------------------------------------------------------


def _whole(value: Any, name: str, low: int, high: int, what: str) -> int:
    if isinstance(value, bool):
        raise ValidationError({name: f"{what} must be a whole number of minutes."})
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({name: f"{what} must be a whole number of minutes."}) from None
    if str(number) != str(value).strip() and not isinstance(value, int):
        raise ValidationError({name: f"{what} must be a whole number of minutes."})
    if not low <= number <= high:
        raise ValidationError({name: f"{what} must be between {low} and {high} minutes, not {number}."})
    return number


def _text(value: Any, name: str, what: str, *, required: bool, limit: int) -> str:
    text = " ".join(str(value or "").split())
    if required and not text:
        raise ValidationError({name: f"Give the {what}."})
    if len(text) > limit:
        raise ValidationError({name: f"The {what} is at most {limit} characters."})
    return text


def _clinician(actor: Actor, clinician: Any, name: str = "clinician") -> User:
    """A clinician of the actor's clinic who can be booked to treat (an active member with session.treat)."""
    if (
        not isinstance(clinician, User)
        or not clinician.memberships.filter(
            clinic=actor.clinic, role__in=roles_with(Permission.SESSION_TREAT), is_active=True
        ).exists()
    ):
        raise ValidationError({name: "Choose a clinician of this clinic."})
    return clinician


def _aware(value: Any, name: str = "starts_at") -> datetime:
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise ValidationError({name: "Give the date and time with its time zone."})
    return value


# --- Appointment types ---------------------------------------------------------------------------------------------

# A type's name, in any language: the model's max_length (booking/models.py).
TYPE_NAME_LIMIT = AppointmentType._meta.get_field("name").max_length or 100
TYPE_FIELDS = (
    "name",
    "names",
    "kind",
    "duration_minutes",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "bookable_online",
    "fee_item",
)


def _type_values(actor: Actor, data: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(data) - set(TYPE_FIELDS))
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field cannot be set here."))
    values: dict[str, Any] = {}
    if "name" in data:
        values["name"] = _text(
            data["name"], "name", "name of the appointment type", required=True, limit=TYPE_NAME_LIMIT
        )
    if "names" in data:
        values["names"] = _type_names(data["names"])
    if "kind" in data:
        if data["kind"] not in AppointmentKind.values:
            raise ValidationError(
                {"kind": f"Choose one of: {', '.join(label for _v, label in AppointmentKind.choices)}."}
            )
        values["kind"] = data["kind"]
    if "duration_minutes" in data:
        values["duration_minutes"] = _whole(
            data["duration_minutes"], "duration_minutes", *DURATION_MINUTES, "The length"
        )
    for side in ("before", "after"):
        name = f"buffer_{side}_minutes"
        if name in data:
            values[name] = _whole(
                data[name] if data[name] not in (None, "") else 0, name, *BUFFER_MINUTES, f"The buffer {side}"
            )
    if "bookable_online" in data:
        if not isinstance(data["bookable_online"], bool):
            raise ValidationError({"bookable_online": "Say yes or no."})
        values["bookable_online"] = data["bookable_online"]
    if "fee_item" in data:
        item = data["fee_item"]
        if item is not None and (
            not isinstance(item, FeeItem) or item.clinic_id != actor.clinic.pk or item.is_entered_in_error
        ):
            raise ValidationError({"fee_item": "Choose an item of this clinic's fee schedule, or none."})
        values["fee_item"] = item
    return values


def _type_names(raw: Any) -> dict[str, str]:
    """The type's name in each other language patients read (domain/clinic_names.py; docs/LANGUAGES.md): a blank one
    is left out and patients reading it see the default name. A refusal names the language's field (name_es)."""
    offered = [code for code, _name in settings.LANGUAGES]
    try:
        return clinic_names.clean_names(
            raw, offered=offered, default_language=settings.LANGUAGE_CODE, limit=TYPE_NAME_LIMIT
        )
    except clinic_names.NameRefused as error:
        raise ValidationError({f"name_{error.language}" if error.language else "names": str(error)}) from None


def create_appointment_type(actor: Actor, data: Mapping[str, Any]) -> AppointmentType:
    """A new appointment type: name, kind and length required; buffers, online booking and fee item optional."""
    require_permission(actor, Permission.CLINIC_MANAGE)
    missing = [f for f in ("name", "kind", "duration_minutes") if f not in data or data[f] in (None, "")]
    if missing:
        raise ValidationError(dict.fromkeys(missing, "This field is required."))
    values = _type_values(actor, data)
    with transaction.atomic():
        return create_record(
            actor,
            AppointmentType(clinic=actor.clinic, **values),
            "booking.type.created",
            detail={"name": values["name"]},
        )


def update_appointment_type(
    actor: Actor, appointment_type: AppointmentType, data: Mapping[str, Any], *, expected_version: int | None
) -> AppointmentType:
    """Change a type. Appointments already booked keep the length and buffers they were booked with."""
    require_permission(actor, Permission.CLINIC_MANAGE)
    require_same_clinic(actor, appointment_type)
    values = _type_values(actor, data)
    with transaction.atomic():
        return update_record(actor, appointment_type, values, "booking.type.updated", expected_version=expected_version)


def set_type_active(
    actor: Actor, appointment_type: AppointmentType, active: bool, *, expected_version: int | None
) -> AppointmentType:
    """Retire a type (no new bookings; booked ones stay) or bring it back."""
    require_permission(actor, Permission.CLINIC_MANAGE)
    require_same_clinic(actor, appointment_type)
    action = "booking.type.restored" if active else "booking.type.retired"
    with transaction.atomic():
        return update_record(actor, appointment_type, {"active": active}, action, expected_version=expected_version)


def set_offers(
    actor: Actor, appointment_type: AppointmentType, clinicians: Sequence[Any], *, online: Sequence[Any] = ()
) -> list[TypeClinician]:
    """Who offers a type (and, of them, who may be booked online for it). Offers no longer wanted are switched off
    (a version each), new ones created, existing ones kept."""
    require_permission(actor, Permission.CLINIC_MANAGE)
    require_same_clinic(actor, appointment_type)
    chosen = {c.pk: _clinician(actor, c, "clinicians") for c in clinicians}
    online_ids = {c.pk for c in online}
    if online_ids - set(chosen):
        raise ValidationError({"online": "Only a clinician who offers the type can be booked online for it."})
    with transaction.atomic():
        existing = {
            o.clinician_id: o
            for o in TypeClinician.objects.filter(appointment_type=appointment_type, entered_in_error_at__isnull=True)
        }
        kept: list[TypeClinician] = []
        for clinician_id, offer in existing.items():
            if clinician_id not in chosen and offer.active:
                update_record(
                    actor, offer, {"active": False}, "booking.offer.withdrawn", expected_version=offer.version
                )
        for clinician_id, clinician in chosen.items():
            values = {"active": True, "bookable_online": clinician_id in online_ids}
            current = existing.get(clinician_id)
            if current is None:
                kept.append(
                    create_record(
                        actor,
                        TypeClinician(
                            clinic=actor.clinic, appointment_type=appointment_type, clinician=clinician, **values
                        ),
                        "booking.offer.created",
                    )
                )
            else:
                kept.append(
                    update_record(actor, current, values, "booking.offer.updated", expected_version=current.version)
                )
        return kept


# --- Rooms ---------------------------------------------------------------------------------------------------------


def create_room(actor: Actor, *, name: str, allow_double_booking: bool = False) -> Room:
    require_permission(actor, Permission.CLINIC_MANAGE)
    clean = _text(name, "name", "room's name", required=True, limit=60)
    if Room.objects.filter(clinic=actor.clinic, name__iexact=clean, active=True).exists():
        raise ValidationError({"name": f"There is already a room called {clean}."})
    with transaction.atomic():
        return create_record(
            actor,
            Room(clinic=actor.clinic, name=clean, allow_double_booking=bool(allow_double_booking)),
            "booking.room.created",
        )


# --- Weekly hours, breaks, time off ------------------------------------------------------------------------------


def _clock(value: Any, name: str) -> time:
    if not isinstance(value, time):
        raise ValidationError({name: "Give a time of day such as 09:00."})
    return value.replace(second=0, microsecond=0)


def add_weekly_period(
    actor: Actor,
    clinician: Any,
    *,
    weekday: Any,
    starts: Any,
    ends: Any,
    kind: str = PeriodKind.HOURS,
    room: Room | None = None,
) -> WeeklyPeriod:
    """Add working hours (in a room, or none) or a break to a clinician's week. Working hours of one day may not
    overlap (the domain's rule: join them, or add a break)."""
    require_permission(actor, Permission.CLINIC_MANAGE)
    who = _clinician(actor, clinician)
    if kind not in PeriodKind.values:
        raise ValidationError({"kind": "Choose working hours or a break."})
    if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
        raise ValidationError({"weekday": "Choose a day of the week."})
    start, end = _clock(starts, "starts"), _clock(ends, "ends")
    if room is not None:
        require_same_clinic(actor, room)
        if kind == PeriodKind.BREAK:
            raise ValidationError({"room": "A break has no room."})
    try:
        period = domain.WeeklyPeriod(weekday, start, end)
    except InputError as error:
        raise ValidationError({"ends": str(error)}) from None
    with transaction.atomic():
        if kind == PeriodKind.HOURS:
            others = WeeklyPeriod.objects.filter(
                clinic=actor.clinic,
                clinician=who,
                kind=PeriodKind.HOURS,
                weekday=weekday,
                active=True,
                entered_in_error_at__isnull=True,
            ).values_list("weekday", "starts", "ends")
            try:
                domain.ClinicianAvailability(str(who), (*(domain.WeeklyPeriod(*row) for row in others), period))
            except InputError as error:
                raise ValidationError({"starts": str(error)}) from None
        return create_record(
            actor,
            WeeklyPeriod(
                clinic=actor.clinic, clinician=who, kind=kind, weekday=weekday, starts=start, ends=end, room=room
            ),
            "booking.hours.added" if kind == PeriodKind.HOURS else "booking.break.added",
        )


def end_weekly_period(actor: Actor, period: WeeklyPeriod, *, expected_version: int | None) -> WeeklyPeriod:
    """Take working hours or a break off the week (a new version; the history keeps it). Booked appointments stay."""
    require_permission(actor, Permission.CLINIC_MANAGE)
    require_same_clinic(actor, period)
    with transaction.atomic():
        return update_record(
            actor, period, {"active": False}, "booking.hours.removed", expected_version=expected_version
        )


def add_time_off(actor: Actor, *, clinician: Any = None, first_day: Any, last_day: Any, note: str = "") -> TimeOff:
    """Days off for a clinician, or a clinic holiday (no clinician); both days included."""
    require_permission(actor, Permission.CLINIC_MANAGE)
    who = _clinician(actor, clinician) if clinician is not None else None
    if not isinstance(first_day, date):
        raise ValidationError({"first_day": "Give the first day off as YYYY-MM-DD."})
    if not isinstance(last_day, date):
        raise ValidationError({"last_day": "Give the last day off as YYYY-MM-DD."})
    try:
        domain.DayRange(first_day, last_day)
    except InputError as error:
        raise ValidationError({"last_day": str(error)}) from None
    text = _text(note, "note", "note", required=False, limit=200)
    with transaction.atomic():
        return create_record(
            actor,
            TimeOff(clinic=actor.clinic, clinician=who, first_day=first_day, last_day=last_day, note=text),
            "booking.time_off.added" if who else "booking.holiday.added",
        )


def end_time_off(actor: Actor, row: TimeOff, *, expected_version: int | None) -> TimeOff:
    require_permission(actor, Permission.CLINIC_MANAGE)
    require_same_clinic(actor, row)
    with transaction.atomic():
        return update_record(
            actor, row, {"active": False}, "booking.time_off.removed", expected_version=expected_version
        )


# --- Appointments --------------------------------------------------------------------------------------------------


def _may_schedule(actor: Actor) -> None:
    """Staff need schedule.manage. A patient acting through their own link (channel patient_link, no user) has no
    role: booking/patient_links.py checks the link, the appointment it names and the cancellation window before it calls
    here, and every other rule (lock, clash check, reasons) is this module's, the same as for staff."""
    if actor.channel != CHANNEL_PATIENT_LINK or actor.user is not None:
        require_permission(actor, Permission.SCHEDULE_MANAGE)


def revoke_manage_links(actor: Actor, appointment: Appointment, reason: str) -> int:
    """Close the appointment's open manage links (in the caller's transaction), each a version with its audit row."""
    links = ManageLink.objects.filter(appointment=appointment, revoked_at__isnull=True)
    return revoke_links(actor, links, reason, "booking.manage_link.revoked")


def revoke_links(actor: Actor, links: Any, reason: str, action: str) -> int:
    """Close these patient links (in the caller's transaction, locked), each a version with its audit row."""
    count = 0
    for link in links.select_for_update():
        update_record(
            actor, link, {"revoked_at": timezone.now(), "revoked_reason": reason[:200]}, action, expected_version=None
        )
        count += 1
    return count


def _lock(clinician: User, room_id: int | None) -> None:
    """Serialise bookings of one clinician (and of one room): the rows stay locked until the transaction ends."""
    User.objects.select_for_update(no_key=True).filter(pk=clinician.pk).first()
    if room_id is not None:
        Room.objects.select_for_update(no_key=True).filter(pk=room_id).first()


def lock_clinician(clinician: User) -> None:
    """Serialise bookings of one clinician for the caller's transaction (a course's link checks its slot under it)."""
    _lock(clinician, None)


def next_free(
    clinic: Any, appointment_type: AppointmentType, clinician: Any, after: datetime, now: datetime
) -> list[queries.FreeSlot]:
    """The next free slots of the type with the clinician from `after` (with anyone who offers it if they have
    none in the next two weeks): what a refused booking offers instead."""
    first = max(after, now).astimezone(clinic.tz).date()
    last = first + timedelta(days=NEXT_SLOTS_DAYS)
    for who in (clinician, None):
        found = [
            s
            for s in queries.free_slots(clinic, appointment_type, first, last, clinician=who, now=now)
            if s.start >= after
        ][:NEXT_SLOTS]
        if found:
            return found
    return []


def _refuse(
    clinic: Any,
    appointment_type: AppointmentType,
    clinician: User,
    start: datetime,
    now: datetime,
    reasons: Sequence[str],
) -> SlotUnavailable:
    nexts = next_free(clinic, appointment_type, clinician, start - timedelta(hours=12), now)
    tz = clinic.tz
    offered = "; ".join(f"{timezone.localtime(s.start, tz):%a %Y-%m-%d %H:%M} with {s.clinician}" for s in nexts)
    message = f"{clinician} cannot take this at {timezone.localtime(start, tz):%a %Y-%m-%d %H:%M}: {' '.join(reasons)}"
    message += f" Next free: {offered}." if offered else " No free slot in the next two weeks."
    return SlotUnavailable(message, nexts)


def _check_slot(
    actor: Actor,
    appointment_type: AppointmentType,
    clinician: User,
    start: datetime,
    *,
    exclude: Appointment | None = None,
    rules: domain.BookingRules | None = None,
) -> int | None:
    """Inside the transaction, after the lock: the slot is free (or SlotUnavailable is raised); its room. Staff
    rules unless `rules` are given (the online ones, booking/online.py)."""
    now = timezone.now()
    clinic = actor.clinic
    reasons, room_id = queries.refusals(
        clinic,
        appointment_type,
        clinician,
        start,
        now=now,
        rules=rules or queries.staff_rules(clinic),
        exclude=exclude,
    )
    if reasons:
        raise _refuse(clinic, appointment_type, clinician, start, now, reasons)
    return room_id


def _locked_check(
    actor: Actor,
    appointment_type: AppointmentType,
    clinician: User,
    start: datetime,
    *,
    exclude: Appointment | None = None,
    rules: domain.BookingRules | None = None,
) -> int | None:
    """Lock the clinician, check the slot against what is committed; when it is in a room, lock the room too and
    check again (a colleague may have booked the room meanwhile). The room's id, or None. The online booking
    (booking/online.py) calls it with the online rules."""
    _lock(clinician, None)
    room_id = _check_slot(actor, appointment_type, clinician, start, exclude=exclude, rules=rules)
    if room_id is not None:
        _lock(clinician, room_id)
        room_id = _check_slot(actor, appointment_type, clinician, start, exclude=exclude, rules=rules)
    return room_id


def _bookable_type(actor: Actor, appointment_type: Any) -> AppointmentType:
    if (
        not isinstance(appointment_type, AppointmentType)
        or appointment_type.clinic_id != actor.clinic.pk
        or not appointment_type.active
        or appointment_type.is_entered_in_error
    ):
        raise ValidationError({"appointment_type": "Choose an appointment type this clinic offers."})
    return appointment_type


def _offered_by(appointment_type: AppointmentType, clinician: User) -> None:
    if not TypeClinician.objects.filter(
        appointment_type=appointment_type, clinician=clinician, active=True, entered_in_error_at__isnull=True
    ).exists():
        raise ValidationError({"clinician": f"{clinician} does not offer {appointment_type.name}."})


def book_appointment(
    actor: Actor,
    *,
    patient: Any,
    appointment_type: Any,
    clinician: Any,
    starts_at: Any,
    note: str = "",
    source: str = BookingSource.STAFF,
) -> Appointment:
    """Book a visit (an assessment, a follow-up) in a free slot. Refused with the domain's reasons and the next free
    slots when the slot is not free, including when someone else took it a moment before (SlotUnavailable)."""
    _may_schedule(actor)
    if source not in BookingSource.values:
        raise ValidationError({"source": "Say how the appointment was booked."})
    if not isinstance(patient, Patient):
        raise ValidationError({"patient": "Choose a patient."})
    require_same_clinic(actor, patient)
    if patient.is_entered_in_error:
        raise ServiceError("This patient record was marked entered in error; book nothing for it.")
    kind = _bookable_type(actor, appointment_type)
    who = _clinician(actor, clinician)
    start = _aware(starts_at).replace(second=0, microsecond=0)
    _offered_by(kind, who)
    text = _text(note, "note", "note", required=False, limit=2000)
    with transaction.atomic():
        room_id = _locked_check(actor, kind, who, start)
        appointment = create_record(
            actor,
            Appointment(
                clinic=actor.clinic,
                patient=patient,
                appointment_type=kind,
                clinician=who,
                room_id=room_id,
                starts_at=start,
                duration_minutes=kind.duration_minutes,
                buffer_before_minutes=kind.buffer_before_minutes,
                buffer_after_minutes=kind.buffer_after_minutes,
                note=text,
                source=source,
            ),
            "booking.appointment.booked",
            detail={"starts_at": start, "clinician": who.username, "type": kind.name},
        )
        # Once committed: an assessment's intake link by email, where the clinic says so (intake listens).
        hooks.appointment_booked.send(appointment.pk)
        return appointment


def move_appointment(
    actor: Actor,
    appointment: Appointment,
    *,
    starts_at: Any,
    clinician: Any = None,
    expected_version: int | None,
) -> Appointment:
    """Move a booked appointment to another free slot (and clinician): the same rules as booking, the appointment
    itself left out of what holds time."""
    _may_schedule(actor)
    require_same_clinic(actor, appointment)
    if appointment.status != AppointmentStatus.BOOKED:
        raise ServiceError(f"A {appointment.get_status_display().lower()} appointment cannot be moved.")
    who = _clinician(actor, clinician if clinician is not None else appointment.clinician)
    start = _aware(starts_at).replace(second=0, microsecond=0)
    _offered_by(appointment.appointment_type, who)
    with transaction.atomic():
        room_id = _locked_check(actor, appointment.appointment_type, who, start, exclude=appointment)
        moved = update_record(
            actor,
            appointment,
            {"starts_at": start, "clinician": who, "room_id": room_id},
            "booking.appointment.moved",
            expected_version=expected_version,
        )
        hooks.appointment_changed(actor, moved, "moved")  # the same intake; its link's expiry follows the start
        return moved


def cancel_appointment(
    actor: Actor, appointment: Appointment, *, reason: str, details: str = "", expected_version: int | None
) -> Appointment:
    """Cancel with a reason from the list ("other" needs words). Kept, never deleted; within the clinic's
    cancellation window it is marked as a late cancellation in its audit row. Its manage links close."""
    _may_schedule(actor)
    require_same_clinic(actor, appointment)
    if appointment.status != AppointmentStatus.BOOKED:
        raise ServiceError(f"A {appointment.get_status_display().lower()} appointment cannot be cancelled.")
    try:
        text = reason_text(SESSION_CANCEL_REASONS, reason, details)
    except DomainError as error:
        raise ValidationError({"reason": str(error)}) from None
    window = timedelta(hours=actor.clinic.config.booking_cancel_window_hours)
    if appointment.starts_at - timezone.now() < window:
        text += f" (late cancellation: within {actor.clinic.config.booking_cancel_window_hours} hours of the start)"
    with transaction.atomic():
        cancelled = update_record(
            actor,
            appointment,
            {"status": AppointmentStatus.CANCELLED, "status_reason": text[:300]},
            "booking.appointment.cancelled",
            expected_version=expected_version,
            reason=text,
        )
        revoke_manage_links(actor, cancelled, "The appointment was cancelled.")
        hooks.appointment_changed(actor, cancelled, "cancelled")  # its open intake cancelled, the link revoked
        return cancelled


def lock_and_check_session(
    clinic: Any, clinician: Any, start: datetime, minutes: int, session: Any = None
) -> list[str]:
    """The treatment.appointment_clashes hook: inside the session's booking transaction, lock the clinician (as
    booking an appointment does) and name the appointments a course session at that time would clash with; when the
    clinic's course sessions keep to working hours (`booking_sessions_follow_hours`), every availability rule the time
    breaks instead (docs/BOOKING.md, "Course sessions under the availability rules"). `session` is the one being
    booked, left out of what holds time (a rebooking may overlap its own old time)."""
    if clinician is None:
        return []
    User.objects.select_for_update(no_key=True).filter(pk=clinician.pk).first()
    if clinic.config.booking_sessions_follow_hours:
        return queries.session_refusals(clinic, clinician, start, minutes, session)
    return queries.session_clashes(clinic, clinician, start, minutes)
