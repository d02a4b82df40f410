"""The welcome of a booking made on the public page, right after its code was verified (docs/BOOKING.md, "After the
code: the intake and the confirmation"; the `booking.online_booked` hook).

The person is still *pending* (booking.PendingPatient): the front desk has not confirmed them, so they have no chart,
and outbox rows belong to a patient. Their confirmation is therefore sent **at once through the same channel as the
code** (messaging/immediate.py), to the contact the code has just proved theirs, in the language of the page they
booked on; no copy is kept (it carries two personal links), and an audit row records that it was sent or failed. Once
the front desk confirms them, reminders go through the outbox like every patient's.

In order: the intake of a visit that needs one (an assessment) is opened for the pending person with its link shown
(`intake.services.open_for_online_booking`), a manage link is made, then the message (email with the .ics, or SMS)
carries both; the booked page shows the same two links. Each token exists only in that page and that message.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from prolotrack.audit.services import Actor, create_record, record_event, update_record
from prolotrack.booking import patient_links as manage
from prolotrack.booking.models import Appointment, AppointmentStatus, PendingStatus
from prolotrack.clinics.models import Clinic
from prolotrack.core.language import supported
from prolotrack.core.site import site_url
from prolotrack.domain import reminders as rules
from prolotrack.domain.reminders import Decision
from prolotrack.intake import queries as intake_queries
from prolotrack.intake import services as intake_services
from prolotrack.messaging import immediate
from prolotrack.messaging.appointments import (
    PLAN_AHEAD_DAYS,
    REMINDER,
    Written,
    change_line,
    reminder_day,
    reminder_target,
    signature,
    visit_calendar,
    visit_facts,
    visit_words,
    where_line,
)
from prolotrack.messaging.models import (
    OPEN_STATUSES,
    MessageStatus,
    PendingMessage,
    PendingMessageKind,
)

log = logging.getLogger(__name__)

# An intake whose link a retried confirmation makes anew (one not sent back yet).
OPEN_INTAKE = intake_services.OPEN_STATUSES


@dataclass(frozen=True)
class Welcome:
    """What the booked page shows: the two links (paths on this site) and where the confirmation went."""

    manage_path: str
    intake_path: str | None
    channel: str  # "email" or "sms": the verified contact
    sent: bool  # False when the backend failed (the page then says so)


def why_sent(clinic: Clinic) -> str:
    """Why a person still pending receives the clinic's email (they have no chart yet)."""
    return _("You receive this because this address was confirmed with a code on %(clinic)s's booking page.") % {
        "clinic": clinic.name
    }


def words(appointment: Appointment, *, channel: str, manage_url: str, intake_url: str | None) -> Written:
    """The confirmation of a pending person's booking, in the active language: what, with whom, when (the clinic's
    zone), where, that the clinic will confirm it, the pre-visit form's link when there is one, the manage link."""
    pending = appointment.pending_patient
    assert pending is not None, "a booking made online is a pending person's"
    facts = visit_facts(appointment, name=pending.given_name, link=manage_url)
    change = change_line(appointment, manage_url)
    form = _("Before your visit, please fill in the pre-visit form (about 10 minutes): %(link)s") % {"link": intake_url}
    calendar = visit_calendar(appointment, facts)
    if channel == "sms":
        parts = [_("%(clinic)s: your %(type)s with %(clinician)s is booked for %(when)s.") % facts]
        if intake_url:
            parts.append(_("Pre-visit form: %(link)s") % {"link": intake_url})
        parts.append(change)
        return Written("", " ".join(parts), calendar)
    paragraphs = [
        _("Dear %(name)s,") % facts,
        _(
            "Your booking is made: %(type)s with %(clinician)s on %(when)s. %(clinic)s will check it and confirm it "
            "with you."
        )
        % facts,
        where_line(appointment.clinic),
    ]
    if intake_url:
        paragraphs.append(form)
    paragraphs += [
        change,
        _("The attached calendar file adds it to your calendar."),
        why_sent(appointment.clinic),
        signature(appointment.clinic),
    ]
    return Written(_("Your appointment on %(day)s") % facts, "\n\n".join(paragraphs), calendar)


def welcome(appointment: Appointment, language: str) -> Welcome:
    """The `booking.online_booked` hook: open the intake (an assessment), make a manage link, and send the
    confirmation at once to the verified contact in `language` (the booked page's). A failing backend is logged and
    audited, never raised: the booking is made and the page shows the links either way."""
    clinic = appointment.clinic
    pending = appointment.pending_patient
    assert pending is not None, "a booking made online is a pending person's"
    system = Actor.system(clinic)
    with transaction.atomic():
        intake_path = intake_services.open_for_online_booking(appointment)
        _link, token = manage.issue_manage_link(system, appointment)
    manage_path = manage.manage_path(token)
    channel = "sms" if pending.verified_by_channel == "sms" else "email"
    address = pending.phone if channel == "sms" else pending.email
    with translation.override(supported(language) or pending.preferred_language):
        written = words(
            appointment,
            channel=channel,
            manage_url=site_url(manage_path),
            intake_url=site_url(intake_path) if intake_path else None,
        )
        local = timezone.localtime(appointment.starts_at, clinic.tz)
        attachments = [] if channel == "sms" else [(f"appointment-{local:%Y-%m-%d}.ics", written.ics, "text/calendar")]
        try:
            immediate.send_now(clinic, channel, address, written.subject, written.body, attachments)
            sent, failure = True, ""
        except Exception as error:  # any backend failure: recorded; the page shows the links and says so
            log.warning("The confirmation of online booking %s could not be sent: %s", appointment.uuid, error)
            sent, failure = False, type(error).__name__
    detail: dict[str, Any] = {"channel": channel, "intake_link": intake_path is not None}
    now = timezone.now()
    row = PendingMessage(
        clinic=clinic,
        appointment=appointment,
        pending_patient=pending,
        kind=PendingMessageKind.CONFIRMATION,
        channel=channel,
        target="confirmation",
        language=supported(language) or pending.preferred_language,
        scheduled_for=timezone.localtime(now, clinic.tz).date(),
        attempts=1,
        status=MessageStatus.SENT if sent else MessageStatus.FAILED,
        sent_at=now if sent else None,
        next_attempt_at=None if sent else now + timedelta(minutes=rules.retry_delay_minutes(1)),
        error="" if sent else failure,
    )
    with transaction.atomic():
        create_record(system, row, "messaging.pending_message.recorded", detail={"kind": row.kind, "sent": sent})
        if sent:
            record_event(system, "booking.confirmation.sent_at_once", record=appointment, detail=detail)
        else:
            record_event(system, "booking.confirmation.failed", record=appointment, detail={**detail, "error": failure})
    return Welcome(manage_path, intake_path, channel, sent)


# --- Retries and the reminder, by the scheduler's pass --------------------------------------------------------------

# A try claims its row for this long (a pass that died mid-send is retried after it, as for the outbox).
CLAIM_LEASE = timedelta(minutes=10)


def reminder_words(appointment: Appointment, *, channel: str, manage_url: str) -> Written:
    """The reminder of a pending person's visit, in the active language: a patient's reminder (appointments.py
    `visit_words`, the same sentences: docs/MESSAGING.md) with the manage link and the reason they receive it."""
    pending = appointment.pending_patient
    assert pending is not None, "a pending person's reminder"
    written = visit_words(
        appointment, kind=REMINDER, name=pending.given_name, link=manage_url, sms=channel == "sms",
        reason=why_sent(appointment.clinic),
    )  # fmt: skip
    return Written("", written.body, written.ics) if channel == "sms" else written


def _contact(pending: Any) -> tuple[str, str]:
    """The verified contact: the channel the code went by, and its address."""
    channel = "sms" if pending.verified_by_channel == "sms" else "email"
    return channel, pending.phone if channel == "sms" else pending.email


def plan_reminders(clinic: Clinic, today: date) -> int:
    """Plan the reminder of every booked visit of a person still pending, from today to PLAN_AHEAD_DAYS ahead, on the
    clinic's usual reminder day, to their verified contact in their language. Returns how many were planned."""
    start = datetime.combine(today, time.min, tzinfo=clinic.tz)
    visits = Appointment.objects.filter(
        clinic=clinic,
        status=AppointmentStatus.BOOKED,
        pending_patient__status=PendingStatus.PENDING,
        patient__isnull=True,
        entered_in_error_at__isnull=True,
        starts_at__gte=start,
        starts_at__lt=start + timedelta(days=PLAN_AHEAD_DAYS + 1),
    ).select_related("pending_patient", "clinic")
    system = Actor.system(clinic)
    planned = 0
    for visit in visits:
        pending = visit.pending_patient
        assert pending is not None  # filtered
        due = reminder_day(visit)
        local_day = timezone.localtime(visit.starts_at, clinic.tz).date()
        if rules.decide_session_reminder(due, local_day, today) == Decision.TOO_LATE:
            continue
        target = reminder_target(visit)
        if PendingMessage.objects.filter(appointment=visit, kind=PendingMessageKind.REMINDER, target=target).exists():
            continue
        channel, _address = _contact(pending)
        row = PendingMessage(
            clinic=clinic,
            appointment=visit,
            pending_patient=pending,
            kind=PendingMessageKind.REMINDER,
            channel=channel,
            target=target,
            language=pending.preferred_language,
            scheduled_for=max(due, today),
        )
        try:
            with transaction.atomic():
                create_record(system, row, "messaging.pending_message.planned", detail={"kind": row.kind})
        except IntegrityError:  # planned by a pass running at the same moment
            continue
        planned += 1
    return planned


def lapse_reason(row: PendingMessage, now: datetime) -> str:
    """Why a pending person's message must not be sent now, or "" when it still applies."""
    visit, pending = row.appointment, row.pending_patient
    if visit.is_entered_in_error or visit.status != AppointmentStatus.BOOKED:
        return "The appointment is no longer booked."
    if visit.pending_patient_id != pending.pk or pending.status != PendingStatus.PENDING:
        return "The person is no longer pending: the front desk confirmed, merged or rejected them."
    if visit.starts_at <= now:
        return "The appointment's time came before the message could be sent."
    if row.kind == PendingMessageKind.REMINDER:
        if reminder_target(visit) != row.target:
            return "The appointment was moved; the new time has its own reminder."
        if (
            timezone.localtime(visit.starts_at, visit.clinic.tz).date()
            <= timezone.localtime(now, visit.clinic.tz).date()
        ):
            return "The appointment day came before the reminder could be sent."
    return ""


def _finish(row: PendingMessage, changes: dict[str, Any], action: str) -> None:
    with transaction.atomic():
        update_record(Actor.system(row.clinic), row, changes, action, expected_version=None)


def _claim(pk: int, now: datetime) -> PendingMessage | None:
    """Lock the row, check it is still due and still applies (else cancel it), count the try; None when not to send."""
    with transaction.atomic():
        row = (
            PendingMessage.objects.select_for_update(of=("self",))
            .select_related(
                "clinic", "appointment", "appointment__clinic", "appointment__appointment_type",
                "appointment__clinician", "pending_patient",
            )
            .get(pk=pk)
        )  # fmt: skip
        if row.status not in OPEN_STATUSES or row.attempts >= rules.MAX_ATTEMPTS:
            return None
        if row.next_attempt_at and row.next_attempt_at > now:
            return None
        reason = lapse_reason(row, now)
        system = Actor.system(row.clinic)
        if reason:
            update_record(
                system, row, {"status": MessageStatus.CANCELLED, "error": reason[:300], "next_attempt_at": None},
                "messaging.pending_message.cancelled", expected_version=None,
            )  # fmt: skip
            return None
        changes = {"attempts": row.attempts + 1, "next_attempt_at": now + CLAIM_LEASE}
        row = update_record(system, row, changes, "messaging.pending_message.attempted", expected_version=None)
    return row


def _fresh_links(row: PendingMessage) -> tuple[str, str | None]:
    """A new manage link (and, for a confirmation, a new link to the visit's intake still to be filled in), each made
    with the earlier ones revoked in the same transaction: one link of each works at a time."""
    system = Actor.system(row.clinic)
    intake_path = None
    with transaction.atomic():
        _link, token = manage.issue_manage_link(system, row.appointment, replace=True)
        if row.kind == PendingMessageKind.CONFIRMATION:
            intake = intake_queries.appointment_intakes(row.appointment).filter(status__in=OPEN_INTAKE).first()
            if intake is not None:
                _ilink, intake_path = intake_services.issue_link(system, intake)
    return manage.manage_path(token), intake_path


def send_one(pk: int, now: datetime) -> str:
    """One try of a pending person's message; returns its status afterwards. A failure is recorded with the next try
    (5, 15, 45, 135 minutes: domain/reminders.py), never raised; after MAX_ATTEMPTS tries it gives up."""
    row = _claim(pk, now)
    if row is None:
        return PendingMessage.objects.get(pk=pk).status
    visit = row.appointment
    channel, address = _contact(row.pending_patient)
    try:
        manage_path, intake_path = _fresh_links(row)
        with translation.override(supported(row.language) or row.pending_patient.preferred_language):
            manage_url = site_url(manage_path)
            if row.kind == PendingMessageKind.CONFIRMATION:
                intake_url = site_url(intake_path) if intake_path else None
                written = words(visit, channel=channel, manage_url=manage_url, intake_url=intake_url)
            else:
                written = reminder_words(visit, channel=channel, manage_url=manage_url)
            local = timezone.localtime(visit.starts_at, visit.clinic.tz)
            files = [] if channel == "sms" else [(f"appointment-{local:%Y-%m-%d}.ics", written.ics, "text/calendar")]
            immediate.send_now(visit.clinic, channel, address, written.subject, written.body, files)
    except Exception as error:  # any failure: recorded (its type only: no address, no link) and tried again
        log.warning("Message %s to a pending person failed: %s", row.uuid, type(error).__name__)
        retry = row.attempts < rules.MAX_ATTEMPTS
        text = type(error).__name__ + ("" if retry else f" (gave up after {row.attempts} tries)")
        next_at = now + timedelta(minutes=rules.retry_delay_minutes(row.attempts)) if retry else None
        _finish(
            row,
            {"status": MessageStatus.FAILED, "error": text, "next_attempt_at": next_at},
            "messaging.pending_message.failed",
        )
        return MessageStatus.FAILED
    _finish(
        row,
        {"status": MessageStatus.SENT, "error": "", "sent_at": now, "next_attempt_at": None},
        "messaging.pending_message.sent",
    )
    return MessageStatus.SENT


def send_due(clinic: Clinic, now: datetime) -> dict[str, int]:
    """Send the pending people's messages due now: failed confirmations whose retry time has come and reminders of
    their day, within the clinic's sending window (as the outbox; docs/MESSAGING.md, "Sending window")."""
    counts = {"sent": 0, "failed": 0, "cancelled": 0}
    local = timezone.localtime(now, clinic.tz)
    config = clinic.config
    if not rules.SendingWindow(config.send_window_start_hour, config.send_window_end_hour).is_open(local.time()):
        return counts
    due = PendingMessage.objects.filter(
        clinic=clinic, status__in=OPEN_STATUSES, scheduled_for__lte=local.date(), attempts__lt=rules.MAX_ATTEMPTS
    ).filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    for pk in due.order_by("scheduled_for", "id").values_list("pk", flat=True):
        status = send_one(pk, now)
        if status in counts:
            counts[status] += 1
    return counts


# --- What the front desk sees -----------------------------------------------------------------------------------------


def states(appointment_ids: list[int]) -> dict[int, list[str]]:
    """The `booking.pending_messages` hook: for each appointment, its messages to the pending person in words for the
    front desk's list ("Confirmation by email: failed (Timeout), next try 16:05 CST, try 2 of 5")."""
    out: dict[int, list[str]] = {}
    rows = PendingMessage.objects.filter(appointment_id__in=appointment_ids).select_related("clinic")
    for row in rows.order_by("appointment_id", "kind", "id"):
        out.setdefault(row.appointment_id, []).append(_state(row))
    return out


def _state(row: PendingMessage) -> str:
    tz = row.clinic.tz
    what = f"{row.get_kind_display()} by {row.get_channel_display().lower() if row.channel == 'email' else 'SMS'}"
    if row.status == MessageStatus.SENT and row.sent_at:
        return f"{what}: sent {timezone.localtime(row.sent_at, tz):%Y-%m-%d %H:%M %Z}"
    if row.status == MessageStatus.FAILED:
        if row.next_attempt_at:
            at = timezone.localtime(row.next_attempt_at, tz)
            return f"{what}: failed ({row.error}), try {row.attempts + 1} of {rules.MAX_ATTEMPTS} at {at:%H:%M %Z}"
        return f"{what}: not sent ({row.error}); please call the person"
    if row.status == MessageStatus.QUEUED:
        return f"{what}: planned for {row.scheduled_for:%Y-%m-%d}"
    return f"{what}: {row.get_status_display().lower()} ({row.error})" if row.error else f"{what}: {row.status}"
