"""The patient's links to booked appointments (docs/BOOKING.md, "Manage links" and "Follow-up links").

A **manage link** opens one appointment for its patient, with no login: what it is, with whom, when (the clinic's
zone), and, until `booking_cancel_window_hours` before the start, cancelling it with a reason or moving it to another
free slot of the same clinician. A **follow-up link** lets an existing patient book one appointment of the type staff
chose, directly (the link is the proof of who they are).

Every write here goes through the booking services (`services.book_appointment`, `move_appointment`,
`cancel_appointment`: the clinician's row lock, the clash check and the reasons are theirs) with an Actor of the
patient channel (`patient_link`, no user), as the questionnaire links do; this module checks the link, the appointment
it names and the window first. Confirmations and reminders are written and sent by prolotrack/messaging (above this
app): `send_confirmation` asks it through the `booking.appointment_message` hook.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from prolotrack.audit.services import Actor, ServiceError, create_record, update_record
from prolotrack.booking import hooks, picker, queries, services
from prolotrack.booking.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AppointmentType,
    BookingSource,
    FollowUpLink,
    ManageLink,
)
from prolotrack.clinics.models import User
from prolotrack.clinics.roles import Permission, require_permission
from prolotrack.core.access import require_same_clinic
from prolotrack.core.links import CHANNEL_PATIENT_LINK, LinkState, RateLimit, new_token, token_hash
from prolotrack.patients.models import Patient

MANAGE_PATH = "/my-appointment/{token}/"
FOLLOW_UP_PATH = "/follow-up/{token}/"
# Unknown or closed tokens tried per client address per window before the pages answer 429 (the questionnaire
# links' figures, docs/SECURITY.md: a person mistyping a link is far below them, a guesser far above).
FAILED_LOOKUPS = RateLimit("booking-link-fail", 20, 600)


class LinkClosed(ServiceError):
    """The link is unknown, expired, used or revoked: the page says so and shows nothing of the appointment."""

    code = "link_closed"

    def __init__(self, state: str) -> None:
        self.state = state
        super().__init__(f"This link cannot be used ({state}).")


class OutsideWindow(ServiceError):
    """The appointment is too close (or past) to be changed online: the page says to call the clinic."""

    code = "outside_window"


class SlotTaken(ServiceError):
    """The chosen time is not free (any more): the patient's page offers the free slots again. It names no rule and
    no other appointment (another patient's times are not the patient's business)."""

    code = "slot_taken"


@dataclass(frozen=True)
class PatientReason:
    code: str
    label: str | Promise  # what the patient reads (translated)
    staff_code: str  # the SESSION_CANCEL_REASONS code it is stored as (domain/reasons.py)
    note: str  # the words stored after the staff reason (English: the staff read them)
    needs_text: bool = False


# The patient's reasons: plain words for them, each stored as the staff list's reason (domain/reasons.py) with a
# note that the patient cancelled online, so the record reads the same whoever cancelled.
PATIENT_CANCEL_REASONS: tuple[PatientReason, ...] = (
    PatientReason("unwell", gettext_lazy("I am unwell"), "patient_unwell", "cancelled online by the patient"),
    PatientReason(
        "cannot_come",
        gettext_lazy("I cannot come at this time"),
        "patient_request",
        "cannot come at this time; cancelled online by the patient",
    ),
    PatientReason(
        "not_needed", gettext_lazy("I no longer need this appointment"), "not_needed", "cancelled online by the patient"
    ),
    PatientReason("other", gettext_lazy("Another reason"), "other", "", needs_text=True),
)
OTHER_MIN_TEXT = 3
OTHER_MAX_TEXT = 200


def patient_actor(clinic: Any, client_address: str | None = None) -> Actor:
    """The patient acting through a link: no user, the link's clinic, channel patient_link in the audit trail."""
    return Actor(user=None, clinic=clinic, role="", client_address=client_address, channel=CHANNEL_PATIENT_LINK)


def manage_path(token: str) -> str:
    return MANAGE_PATH.format(token=token)


def follow_up_path(token: str) -> str:
    return FOLLOW_UP_PATH.format(token=token)


def ends_at(appointment: Appointment) -> datetime:
    return appointment.starts_at + timedelta(minutes=appointment.duration_minutes)


# --- The cancellation window ----------------------------------------------------------------------------------------


def change_deadline(appointment: Appointment) -> datetime:
    """The last moment the patient may cancel or move online: the start minus the clinic's cancellation window."""
    return appointment.starts_at - timedelta(hours=appointment.clinic.config.booking_cancel_window_hours)


def may_change(appointment: Appointment, now: datetime | None = None) -> bool:
    """Before the deadline (the deadline itself is too late), for a booked appointment."""
    now = now or timezone.now()
    return appointment.status == AppointmentStatus.BOOKED and now < change_deadline(appointment)


# --- Manage links ---------------------------------------------------------------------------------------------------


def issue_manage_link(actor: Actor, appointment: Appointment, *, replace: bool = False) -> tuple[ManageLink, str]:
    """A new manage link for a booked appointment of a patient: (the link, its token, shown once). Staff may
    `replace` the links sent so far (a message went to a wrong address): they are revoked in the same transaction.
    The system (messaging, at send time) and staff who book may issue; a patient's link cannot make another."""
    if actor.channel != "system":
        require_permission(actor, Permission.SCHEDULE_MANAGE)
    require_same_clinic(actor, appointment)
    if appointment.status != AppointmentStatus.BOOKED or appointment.is_entered_in_error:
        raise ServiceError("Only a booked appointment has a manage link.")
    token = new_token()
    with transaction.atomic():
        if replace:
            services.revoke_manage_links(actor, appointment, "Replaced by a new link.")
        link = create_record(
            actor,
            ManageLink(
                clinic=appointment.clinic,
                appointment=appointment,
                token_hash=token_hash(token),
                expires_at=ends_at(appointment),
            ),
            "booking.manage_link.created",
            detail={"appointment": str(appointment.uuid), "replaced": replace},
        )
    return link, token


def manage_link(token: str) -> ManageLink | None:
    """The link a token opens (any state), with what its page shows, or None."""
    return ManageLink.by_token(
        token,
        ManageLink.objects.select_related(
            "clinic", "appointment", "appointment__appointment_type", "appointment__clinician", "appointment__clinic"
        ),
    )


def _open(link: ManageLink, now: datetime | None = None) -> None:
    state = link.state(now)
    if state != LinkState.OPEN:
        raise LinkClosed(state)


def open_manage_link(link: ManageLink, client_address: str | None = None) -> ManageLink:
    """Note the first time the patient opens the link (audited); refuse a closed link."""
    _open(link)
    if link.opened_at is not None:
        return link
    with transaction.atomic():
        return update_record(
            patient_actor(link.clinic, client_address), link, {"opened_at": timezone.now()},
            "booking.manage_link.opened", expected_version=None,
        )  # fmt: skip


def _locked(link: ManageLink) -> ManageLink:
    """Inside the transaction: the link again under a row lock, so two tabs of the same link change it one at a time;
    then its state and the window are checked on what is committed."""
    current = ManageLink.objects.select_for_update(of=("self",)).select_related("appointment", "clinic").get(pk=link.pk)
    current.appointment = Appointment.objects.select_related("clinic", "appointment_type", "clinician").get(
        pk=current.appointment_id
    )
    _open(current)
    if not may_change(current.appointment):
        raise OutsideWindow(_("This appointment can no longer be changed online. Please call the clinic."))
    return current


def cancel_reason(code: Any, details: Any) -> tuple[PatientReason, str]:
    """The patient's reason checked: (the reason, the words to store after it); ValidationError naming the field."""
    reason = next((r for r in PATIENT_CANCEL_REASONS if r.code == code), None)
    if reason is None:
        raise ValidationError({"reason": _("Choose a reason from the list.")})
    words = " ".join(str(details or "").split())
    if len(words) > OTHER_MAX_TEXT:
        raise ValidationError({"details": _("Please use at most %(count)s characters.") % {"count": OTHER_MAX_TEXT}})
    if reason.needs_text and len(words) < OTHER_MIN_TEXT:
        raise ValidationError({"details": _("Tell the clinic the reason in a few words.")})
    note = f"{words} (cancelled online by the patient)" if reason.needs_text else reason.note
    if words and not reason.needs_text:
        note = f"{note}: {words}"
    return reason, note


def cancel_by_patient(
    link: ManageLink, *, reason: Any, details: Any = "", client_address: str | None = None
) -> Appointment:
    """Cancel the link's appointment with the patient's reason, before the window closes. Refused input writes
    nothing (ValidationError naming the field); a closed link raises LinkClosed, a late one OutsideWindow."""
    chosen, note = cancel_reason(reason, details)
    actor = patient_actor(link.clinic, client_address)
    with transaction.atomic():
        current = _locked(link)
        cancelled = services.cancel_appointment(
            actor, current.appointment, reason=chosen.staff_code, details=note, expected_version=None
        )
        # The booking service revoked the links; the one used keeps its time of use too.
        update_record(actor, current, {"used_at": timezone.now()}, "booking.manage_link.used", expected_version=None)
    return cancelled


def patient_slots(
    clinic: Any,
    appointment_type: AppointmentType,
    first: date,
    last: date,
    *,
    clinician: Any = None,
    now: datetime | None = None,
    leave_out: datetime | None = None,
    limit: int | None = None,
) -> list[queries.FreeSlot]:
    """Free slots a patient's link may take from local day `first` to `last`: the type's (with the clinician, or
    anyone who offers it), under the clinic's online rules (minimum notice, horizon, same day). The offer need not
    allow online booking: staff chose the type (a follow-up link) or booked it (a manage link)."""
    now = now or timezone.now()
    rules = queries.online_rules(clinic)
    today = queries.clinic_today(clinic)
    last = min(last, today + timedelta(days=rules.max_days_ahead))
    first = max(first, today if rules.same_day else today + timedelta(days=1))
    if first > last:
        return []
    slots = queries.free_slots(clinic, appointment_type, first, last, clinician=clinician, now=now)
    out = [s for s in slots if s.start >= now + rules.min_notice and s.start != leave_out]
    return out[:limit] if limit is not None else out


def move_slots(link: ManageLink, day: date, now: datetime | None = None) -> list[queries.FreeSlot]:
    """The free slots on one local day the appointment may move to: its type with its clinician, online rules, its
    own time left out."""
    appointment = link.appointment
    return patient_slots(
        appointment.clinic, appointment.appointment_type, day, day, clinician=appointment.clinician, now=now,
        leave_out=appointment.starts_at,
    )  # fmt: skip


def _online_refusals(appointment: Appointment, clinician: User, start: datetime) -> list[str]:
    """The online rules (notice, horizon, same day) and the slot check for a patient's chosen time, the appointment
    itself left out; the booking service checks the slot again under its lock."""
    reasons, _room = queries.refusals(
        appointment.clinic,
        appointment.appointment_type,
        clinician,
        start,
        now=timezone.now(),
        rules=queries.online_rules(appointment.clinic),
        exclude=appointment,
    )
    return list(reasons)


def _aware_start(starts_at: Any) -> datetime:
    if not isinstance(starts_at, datetime) or timezone.is_naive(starts_at):
        raise ValidationError({"slot": _("Choose one of the free times.")})
    return starts_at.replace(second=0, microsecond=0)


def move_by_patient(link: ManageLink, *, starts_at: Any, client_address: str | None = None) -> Appointment:
    """Move the link's appointment to another free slot of its clinician, before the window closes, and queue a
    confirmation of the new time. A time that is not free raises SlotTaken (nothing written)."""
    start = _aware_start(starts_at)
    actor = patient_actor(link.clinic, client_address)
    with transaction.atomic():
        current = _locked(link)
        appointment = current.appointment
        if _online_refusals(appointment, appointment.clinician, start):
            raise SlotTaken(_("That time is not free. Please choose another."))
        try:
            moved = services.move_appointment(
                actor, appointment, starts_at=start, clinician=appointment.clinician, expected_version=None
            )
        except services.SlotUnavailable:
            raise SlotTaken(_("That time was just taken. Please choose another.")) from None
        update_record(actor, current, {"used_at": timezone.now()}, "booking.manage_link.used", expected_version=None)
        send_confirmation(moved)
    return moved


def link_view(link: ManageLink, now: datetime | None = None) -> dict[str, Any]:
    return appointment_view(link.appointment, now)


def appointment_view(appointment: Appointment, now: datetime | None = None) -> dict[str, Any]:
    """What the patient's page shows: only this appointment (type, clinician, local time with its zone, the clinic's
    address and phone when it has them) and whether it can still be changed online."""
    clinic = appointment.clinic
    config = clinic.config
    return {
        "appointment": appointment,
        "clinic": clinic,
        "type_name": appointment.appointment_type.patient_name(),
        "clinician": str(appointment.clinician),
        "starts": timezone.localtime(appointment.starts_at, clinic.tz),
        "ends": timezone.localtime(ends_at(appointment), clinic.tz),
        "address": config.address,
        "phone": config.contact_phone,
        "email": config.contact_email,
        "may_change": may_change(appointment, now),
        "deadline": timezone.localtime(change_deadline(appointment), clinic.tz),
        "window_hours": config.booking_cancel_window_hours,
    }


# --- Messages -------------------------------------------------------------------------------------------------------


def send_confirmation(appointment: Appointment, *, actor: Actor | None = None) -> int:
    """Queue the confirmation of a booked appointment (email, and SMS when the patient has a mobile), with a manage
    link and an .ics file, written and sent by the messaging scheduler's next pass (docs/MESSAGING.md,
    "Appointments"). For staff booking, a patient's move and the public page once a booking is verified. Returns the
    number of messages queued (0 when the person has no email or phone, or the appointment is not booked)."""
    if appointment.status != AppointmentStatus.BOOKED or appointment.is_entered_in_error:
        return 0
    return hooks.appointment_message(actor or Actor.system(appointment.clinic), appointment, "confirmation")


# --- Follow-up links -----------------------------------------------------------------------------------------------

# Kinds a follow-up link may book. A prolotherapy session of a course is booked by staff (or a course's link, not
# built): a session belongs to a course plan, with its consent, screening and NSAID window.
FOLLOW_UP_KINDS = (AppointmentKind.FOLLOW_UP, AppointmentKind.ASSESSMENT)


def create_follow_up_link(
    actor: Actor, patient: Any, *, appointment_type: Any, clinician: Any = None
) -> tuple[FollowUpLink, str]:
    """A single-use "book your follow-up" link for an existing patient: one appointment type, with one clinician or
    any who offers it; it expires after the clinic's `booking_follow_up_link_days`. (link, token shown once)."""
    require_permission(actor, Permission.SCHEDULE_MANAGE)
    if not isinstance(patient, Patient):
        raise ValidationError({"patient": "Choose a patient."})
    require_same_clinic(actor, patient)
    if patient.is_entered_in_error:
        raise ServiceError("This patient record was marked entered in error; send nothing from it.")
    if (
        not isinstance(appointment_type, AppointmentType)
        or appointment_type.clinic_id != actor.clinic.pk
        or not appointment_type.active
        or appointment_type.is_entered_in_error
    ):
        raise ValidationError({"appointment_type": "Choose an appointment type this clinic offers."})
    if appointment_type.kind not in FOLLOW_UP_KINDS:
        raise ValidationError(
            {
                "appointment_type": "A prolotherapy session belongs to a course: book it for the patient (course "
                "sessions are not booked from a follow-up link)."
            }
        )
    offering = queries.offering_clinicians(actor.clinic, appointment_type)
    if clinician is not None and not any(c.pk == getattr(clinician, "pk", None) for c in offering):
        raise ValidationError({"clinician": f"Choose a clinician who offers {appointment_type.name}, or anyone."})
    if not offering:
        raise ValidationError({"appointment_type": f"No clinician offers {appointment_type.name} yet."})
    token = new_token()
    days = actor.clinic.config.booking_follow_up_link_days
    with transaction.atomic():
        link = create_record(
            actor,
            FollowUpLink(
                clinic=actor.clinic,
                patient=patient,
                appointment_type=appointment_type,
                clinician=clinician,
                token_hash=token_hash(token),
                expires_at=timezone.now() + timedelta(days=days),
            ),
            "booking.follow_up_link.created",
            detail={"type": appointment_type.name, "clinician": getattr(clinician, "username", "")},
        )
    return link, token


def follow_up_link(token: str) -> FollowUpLink | None:
    return FollowUpLink.by_token(
        token, FollowUpLink.objects.select_related("clinic", "patient", "appointment_type", "clinician")
    )


def follow_up_clinicians(link: FollowUpLink) -> list[User]:
    """Who the link may book with: its clinician, or everyone who offers the type now."""
    offering = queries.offering_clinicians(link.clinic, link.appointment_type)
    if link.clinician_id is not None:
        return [c for c in offering if c.pk == link.clinician_id]
    return offering


def follow_up_slots(link: FollowUpLink, day: date, now: datetime | None = None) -> list[queries.FreeSlot]:
    """Free slots of the link's type on one local day (its clinician, or anyone who offers it), online rules."""
    if not follow_up_clinicians(link):
        return []
    return patient_slots(link.clinic, link.appointment_type, day, day, clinician=link.clinician, now=now)


def day_picker(
    clinic: Any,
    day: date,
    slots_of: Any,
    *,
    path: str,
    appointment_type: AppointmentType,
    clinician: Any = None,
    leave_out: datetime | None = None,
    first: date | None = None,
    asked: bool = True,
) -> picker.DayPicker:
    """The public page's phone slot picker (booking/picker.py, templates/booking/public/_slots.html) for a link's
    page: one day of `slots_of(day)`, the days around it within today (or `first`, when later)..the online horizon,
    and a jump to the next day with free slots. When the patient did not ask for a day (`asked` false) and `day` has
    no free time, the picker opens on the next day that has one (as the public page opens on the first free day):
    a link opened late in the afternoon showed an empty today."""
    last = queries.clinic_today(clinic) + timedelta(days=queries.online_rules(clinic).max_days_ahead)
    today = max(queries.clinic_today(clinic), first or date.min)
    day = min(max(day, today), last)
    found = slots_of(day)

    def next_free_after(shown: date) -> date | None:
        after = shown + timedelta(days=1)
        ahead = patient_slots(
            clinic, appointment_type, after, after + timedelta(days=picker.SEARCH_DAYS - 1), clinician=clinician,
            leave_out=leave_out, limit=1,
        )  # fmt: skip
        return timezone.localtime(ahead[0].start, clinic.tz).date() if ahead else None

    next_free = next_free_after(day)
    if not found and not asked and next_free is not None and next_free <= last and slots_of(next_free):
        day, found = next_free, slots_of(next_free)
        next_free = next_free_after(day)
    after = day + timedelta(days=1)

    def url(target: date) -> str:
        return f"{path}?day={target.isoformat()}#slot-picker"

    return picker.DayPicker(
        day=day,
        slots=[
            picker.PickerSlot(
                picker.slot_value(s), timezone.localtime(s.start, clinic.tz).strftime("%H:%M"), str(s.clinician), False
            )
            for s in found
        ],
        previous_url=url(day - timedelta(days=1)) if day > today else "",
        next_url=url(after) if day < last else "",
        next_free_day=next_free,
        next_free_url=url(next_free) if next_free and next_free > after else "",
        field="slot",
        show_who=len({s.clinician.pk for s in found}) > 1,
        zone=str(clinic.tz),
        anchor="slot-picker",
    )


def locked_open(link: Any, *related: str) -> Any:
    """Inside the transaction: a single-use link again under a row lock (two taps of one link book one at a time), with
    `related` joined; LinkClosed unless it is open on what is committed."""
    current = type(link).objects.select_for_update(of=("self",)).select_related(*related).get(pk=link.pk)
    state = current.state()
    if state != LinkState.OPEN:
        raise LinkClosed(state)
    return current


def chosen(allowed: Sequence[User], clinician: Any) -> User:
    """The clinician of the chosen slot, if the link may book with them (ValidationError on the slot otherwise)."""
    who = next((c for c in allowed if c.pk == getattr(clinician, "pk", None)), None)
    if who is None:
        raise ValidationError({"slot": _("Choose one of the free times.")})
    return who


def book_from_follow_up(
    link: FollowUpLink, *, starts_at: Any, clinician: Any, client_address: str | None = None
) -> Appointment:
    """Book the link's appointment in the chosen free slot (source "link"; the link is the proof, no code), close the
    link and queue the confirmation. A time that is not free raises SlotTaken; a closed link LinkClosed."""
    start = _aware_start(starts_at)
    actor = patient_actor(link.clinic, client_address)
    with transaction.atomic():
        current = locked_open(link, "clinic", "patient", "appointment_type", "clinician")
        who = chosen(follow_up_clinicians(current), clinician)
        reasons, _room = queries.refusals(
            current.clinic, current.appointment_type, who, start, now=timezone.now(),
            rules=queries.online_rules(current.clinic),
        )  # fmt: skip
        if reasons:
            raise SlotTaken(_("That time is not free. Please choose another."))
        try:
            made = services.book_appointment(
                actor,
                patient=current.patient,
                appointment_type=current.appointment_type,
                clinician=who,
                starts_at=start,
                source=BookingSource.LINK,
            )
        except services.SlotUnavailable:
            raise SlotTaken(_("That time was just taken. Please choose another.")) from None
        update_record(
            actor, current, {"used_at": timezone.now(), "appointment": made}, "booking.follow_up_link.used",
            expected_version=None,
        )  # fmt: skip
        send_confirmation(made)
    return made


def revoke_follow_up_link(actor: Actor, link: FollowUpLink, *, reason: str = "") -> FollowUpLink:
    require_permission(actor, Permission.SCHEDULE_MANAGE)
    require_same_clinic(actor, link)
    with transaction.atomic():
        return update_record(
            actor, link, {"revoked_at": timezone.now(), "revoked_reason": (reason or "Revoked by staff.")[:200]},
            "booking.follow_up_link.revoked", expected_version=None,
        )  # fmt: skip


def follow_up_links(patient: Patient) -> Sequence[FollowUpLink]:
    return list(FollowUpLink.objects.filter(patient=patient).select_related("appointment_type", "clinician")[:20])
