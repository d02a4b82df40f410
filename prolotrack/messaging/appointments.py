"""Messages about booking-app appointments (assessments, follow-ups): the confirmation and the reminder, each with a
personal manage link and the appointment's .ics (docs/MESSAGING.md, "Appointments").

Like every message they are outbox rows, planned with what to send and when, and written at the moment of sending
from the facts of that moment (`render`): a moved appointment's message gives its new time, a cancelled one is not
sent (`lapse_reason`). The manage link is made at send time (booking.patient_links.issue_manage_link), so it is fresh and
appears only in the patient's copy; the stored copy holds a placeholder. The words are in the patient's language
(gettext, `Patient.preferred_language`).

services.py calls this module (planning, sending); this module does not import services.py.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from prolotrack.audit.services import Actor, update_record
from prolotrack.booking import patient_links as manage
from prolotrack.booking.models import Appointment, AppointmentStatus
from prolotrack.clinics.models import Clinic
from prolotrack.core.language import patient_language
from prolotrack.core.site import site_url
from prolotrack.domain import reminders as rules
from prolotrack.domain.reminders import Decision, ReminderKind
from prolotrack.messaging import content, ics, outbox
from prolotrack.messaging.models import (
    OPEN_STATUSES,
    Channel,
    MessageKind,
    MessageStatus,
    OutboxMessage,
    PendingMessage,
    PendingMessageKind,
)

CONFIRMATION = MessageKind.APPOINTMENT_CONFIRMATION.value
REMINDER = ReminderKind.APPOINTMENT.value
MANAGE_PLACEHOLDER = "{manage_link}"
MANAGE_REDACTED = "[personal link to move or cancel: in the patient's copy only]"
# Appointments up to this many days ahead get their reminders planned (as for course sessions).
PLAN_AHEAD_DAYS = 35


def _local(appointment: Appointment) -> Any:
    return timezone.localtime(appointment.starts_at, appointment.clinic.tz)


def reminder_target(appointment: Appointment) -> str:
    """The key of an appointment's reminder: the appointment and its local start to the minute; a move gives a new
    key, so the old time's reminder lapses and the new time gets its own."""
    return f"appointment:{appointment.uuid}:{_local(appointment):%Y-%m-%dT%H:%M}"


def _channels(patient: Any) -> list[tuple[str, str]]:
    out = []
    if patient.email:
        out.append((Channel.EMAIL.value, patient.email))
    if patient.phone:
        out.append((Channel.SMS.value, patient.phone))
    return out


def _cancel(actor: Actor, message: OutboxMessage, reason: str) -> None:
    with transaction.atomic():
        update_record(
            actor, message, {"status": MessageStatus.CANCELLED, "error": reason}, "messaging.message.cancelled",
            expected_version=None,
        )  # fmt: skip


def queue_appointment_message(actor: Actor, appointment: Appointment, kind: str) -> int:
    """The `booking.appointment_message` hook: queue the confirmation of a booked appointment on each channel the
    patient has, due today (sent by the scheduler's next pass in the sending window). An earlier confirmation of the
    same appointment not yet sent is cancelled: the new one carries the current time. Returns how many were queued.

    A person who booked online and is not yet confirmed by the front desk (a pending patient) has no chart, and
    outbox rows belong to a patient: nothing is queued for them (0); their appointment's reminder is planned once
    they are confirmed (docs/MESSAGING.md, "Appointments")."""
    if kind != "confirmation":
        raise ValueError(f"Unknown appointment message {kind!r}.")
    patient = appointment.patient
    if patient is None or patient.is_entered_in_error or appointment.status != AppointmentStatus.BOOKED:
        return 0
    clinic = appointment.clinic
    today = timezone.localtime(timezone.now(), clinic.tz).date()
    system = Actor.system(clinic)
    with transaction.atomic():
        earlier = OutboxMessage.objects.filter(appointment=appointment, kind=CONFIRMATION)
        for message in earlier.filter(status__in=OPEN_STATUSES).select_related("clinic"):
            _cancel(system, message, "A newer confirmation of this appointment replaces it.")
        number = earlier.count() + 1
        queued = 0
        for channel, address in _channels(patient):
            message = OutboxMessage(
                clinic=clinic,
                patient=patient,
                channel=channel,
                kind=CONFIRMATION,
                target=f"appointment:{appointment.uuid}:confirmation:{number}",
                appointment=appointment,
                to_address=address,
                scheduled_for=today,
            )
            queued += outbox.plan(system, message)
    return queued


def reminder_day(appointment: Appointment) -> date:
    """The day an appointment's reminder is due: the clinic's `appointment_reminder_days` before the visit (as for
    course sessions), a patient's (here) or a pending person's (booked_online.py)."""
    settings_ = rules.SessionReminderSettings(appointment.clinic.config.appointment_reminder_days, 0, 1)
    return rules.session_reminder_days(_local(appointment).date(), settings_)[ReminderKind.APPOINTMENT]


def plan_reminders(clinic: Clinic, today: date) -> tuple[int, int]:
    """Plan the reminder of every booked appointment of a patient from today to PLAN_AHEAD_DAYS ahead, on the day
    the clinic's `appointment_reminder_days` gives (as for course sessions); cancel open appointment messages that no
    longer apply. (planned, cancelled)."""
    actor = Actor.system(clinic)
    start = datetime.combine(today, time.min, tzinfo=clinic.tz)
    appointments = Appointment.objects.filter(
        clinic=clinic,
        status=AppointmentStatus.BOOKED,
        patient__isnull=False,
        entered_in_error_at__isnull=True,
        starts_at__gte=start,
        starts_at__lt=start + timedelta(days=PLAN_AHEAD_DAYS + 1),
    ).select_related("patient", "clinic")
    # A reminder already sent to the person while they were pending (booked_online.py) is not sent again once the
    # front desk has confirmed them.
    sent_pending = set(
        PendingMessage.objects.filter(
            clinic=clinic, kind=PendingMessageKind.REMINDER, status=MessageStatus.SENT
        ).values_list("appointment_id", "target")
    )
    planned = 0
    for appointment in appointments:
        assert appointment.patient is not None  # filtered
        if appointment.patient.is_entered_in_error or (appointment.pk, reminder_target(appointment)) in sent_pending:
            continue
        day = _local(appointment).date()
        due = reminder_day(appointment)
        if rules.decide_session_reminder(due, day, today) == Decision.TOO_LATE:
            continue
        for channel, address in _channels(appointment.patient):
            planned += outbox.plan(
                actor,
                OutboxMessage(
                    clinic=clinic,
                    patient=appointment.patient,
                    channel=channel,
                    kind=REMINDER,
                    target=reminder_target(appointment),
                    appointment=appointment,
                    to_address=address,
                    scheduled_for=max(due, today),
                ),
            )
    cancelled = 0
    for message in OutboxMessage.objects.filter(
        clinic=clinic, status__in=OPEN_STATUSES, appointment__isnull=False
    ).select_related("appointment", "appointment__clinic", "patient", "clinic"):
        reason = lapse_reason(message, today)
        if reason:
            _cancel(actor, message, reason)
            cancelled += 1
    return planned, cancelled


def lapse_reason(message: OutboxMessage, today: date, now: datetime | None = None) -> str:
    """Why an appointment message must not be sent now (the facts changed), or "" if it still applies."""
    appointment = message.appointment
    assert appointment is not None, "an appointment message names its appointment"
    if appointment.is_entered_in_error:
        return "The appointment was entered in error."
    if appointment.status != AppointmentStatus.BOOKED:
        return f"The appointment is {appointment.get_status_display().lower()}, no longer booked."
    if message.patient.is_entered_in_error:
        return "The patient's record was entered in error."
    if appointment.starts_at <= (now or timezone.now()):
        return "The appointment's time came before the message could be sent."
    if message.kind == REMINDER:
        if reminder_target(appointment) != message.target:
            return (
                f"The appointment was moved to {_local(appointment):%Y-%m-%d %H:%M}; the new time has its own reminder."
            )
        if _local(appointment).date() <= today:
            return "The appointment day came before the reminder could be sent."
    return ""


def not_yet(message: OutboxMessage, today: date) -> bool:
    """A reminder whose day moved later with the clinic's settings waits."""
    return message.kind == REMINDER and message.appointment is not None and reminder_day(message.appointment) > today


# --- The words ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    subject: str
    body: str  # with MANAGE_PLACEHOLDER where the link goes
    ics: bytes


def visit_facts(appointment: Appointment, *, name: str, link: str) -> dict[str, str]:
    """What a message about a booked visit says of it, in the active language: the clinic, the visit's type, the
    clinician, when (the day written out, the time with its zone), the day, whom it greets, the manage link."""
    local = _local(appointment)
    return {
        "clinic": appointment.clinic.name,
        "type": appointment.appointment_type.patient_name(),
        "clinician": str(appointment.clinician),
        "when": content.written_when(local),
        "day": content.written_day(local.date()),
        "name": name,
        "link": link,
    }


def change_line(appointment: Appointment, link: str) -> str:
    """How to move or cancel the visit: by the link until the clinic's cancellation deadline, else by a call."""
    if manage.may_change(appointment):
        deadline = content.written_when(timezone.localtime(manage.change_deadline(appointment), appointment.clinic.tz))
        return _("To move or cancel it (until %(deadline)s): %(link)s") % {"deadline": deadline, "link": link}
    return _("To change it now, please call the clinic. Your appointment: %(link)s") % {"link": link}


def where_line(clinic: Clinic) -> str:
    return _("Where: %(where)s") % {"where": ", ".join(x for x in (clinic.name, clinic.config.address) if x)}


def signature(clinic: Clinic) -> str:
    """The clinic's name and how to reach it, the last paragraph of an email."""
    ways = " / ".join(x for x in (clinic.config.contact_phone, clinic.config.contact_email) if x)
    return "\n".join(x for x in (clinic.name, _("Contact: %(ways)s") % {"ways": ways} if ways else "") if x)


def visit_calendar(appointment: Appointment, facts: dict[str, str]) -> bytes:
    """The visit's .ics, its summary and description in the active language."""
    summary = _("%(type)s at %(clinic)s") % facts
    description = _("With %(clinician)s. To move or cancel, use the link in the clinic's message.") % facts
    return ics.patient_visit(appointment, summary=summary, description=description)


def visit_words(appointment: Appointment, *, kind: str, name: str, link: str, sms: bool, reason: str = "") -> Written:
    """A visit's confirmation (`kind` CONFIRMATION) or reminder in the active language, a patient's or a pending
    person's: an SMS is one short text, an email a letter with the visit's .ics. `reason`, when given, is said before
    the signature (why a person still pending receives it)."""
    facts = visit_facts(appointment, name=name, link=link)
    change = change_line(appointment, link)
    if kind == CONFIRMATION:
        subject = _("Your appointment on %(day)s") % facts
        opening = _("%(clinic)s: your %(type)s with %(clinician)s is booked for %(when)s.") % facts
        lead = _("Your appointment is booked: %(type)s with %(clinician)s on %(when)s.") % facts
    else:
        subject = _("Reminder: your appointment on %(day)s") % facts
        opening = _("%(clinic)s: reminder of your %(type)s on %(when)s.") % facts
        lead = _("This is a reminder of your appointment: %(type)s with %(clinician)s on %(when)s.") % facts
    if sms:
        body = f"{opening} {change}"
    else:
        parts = [_("Dear %(name)s,") % facts, lead, where_line(appointment.clinic), change]
        parts.append(_("The attached calendar file adds it to your calendar."))
        parts += [reason] if reason else []
        parts.append(signature(appointment.clinic))
        body = "\n\n".join(parts)
    return Written(subject, body, visit_calendar(appointment, facts))


def words(message: OutboxMessage, appointment: Appointment) -> Written:
    """The message from the appointment as it is now, in the patient's language."""
    with translation.override(patient_language(message.patient)):
        return visit_words(
            appointment, kind=message.kind, name=message.patient.given_name, link=MANAGE_PLACEHOLDER,
            sms=message.channel == Channel.SMS,
        )  # fmt: skip


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    attachments: list[dict[str, str]]
    patient_body: str


def render(message: OutboxMessage, *, with_link: bool) -> Rendered:
    """The stored copy (the link redacted) and the patient's copy (with a fresh manage link, made now, when
    `with_link`: the send path; the outbox preview makes none)."""
    assert message.appointment_id is not None, "an appointment message names its appointment"
    appointment = Appointment.objects.select_related("clinic", "appointment_type", "clinician", "patient").get(
        pk=message.appointment_id
    )
    written = words(message, appointment)
    stored = written.body.replace(MANAGE_PLACEHOLDER, MANAGE_REDACTED)
    patient_body = stored
    if with_link and MANAGE_PLACEHOLDER in written.body:
        _link, token = manage.issue_manage_link(Actor.system(appointment.clinic), appointment)
        patient_body = written.body.replace(MANAGE_PLACEHOLDER, site_url(manage.manage_path(token)))
    attachments = []
    if message.channel == Channel.EMAIL:
        local = _local(appointment)
        attachments.append(
            {
                "filename": f"appointment-{local:%Y-%m-%d}.ics",
                "content_type": "text/calendar",
                "content": written.ics.decode(),
            }
        )
    return Rendered(written.subject if message.channel == Channel.EMAIL else "", stored, attachments, patient_body)
