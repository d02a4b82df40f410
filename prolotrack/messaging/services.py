"""Writes of the messaging app: planning and sending reminders, patients' opt-outs, calendar feed tokens.

A scheduler pass (`run_pass`) plans the reminders each clinic owes today and sends those due. Planning is idempotent:
each reminder has a key (patient, kind, channel, target) that a database constraint keeps unique, so a second pass,
or two passes at once, never plan or send it twice. Each outbox row is a clinical record: every status change is a
version with its audit row. Rules and their sources: docs/MESSAGING.md.
"""

import base64
import hashlib
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation

from prolotrack.audit.services import Actor, ServiceError, create_record, record_event, update_record
from prolotrack.clinics.models import Clinic
from prolotrack.clinics.roles import Permission, require_permission
from prolotrack.core.access import require_same_clinic
from prolotrack.core.language import patient_language
from prolotrack.core.site import site_url
from prolotrack.domain import reminders as rules
from prolotrack.domain.reminders import Decision, ReminderKind
from prolotrack.intake import queries as intake_queries
from prolotrack.intake import services as intake_services
from prolotrack.intake.models import Intake
from prolotrack.messaging import appointments, booked_online, content, course_links, ics, outbox, waitlist
from prolotrack.messaging.backends import sms_backend
from prolotrack.messaging.models import (
    OPEN_STATUSES,
    CalendarFeedToken,
    Channel,
    MessageKind,
    MessageOptOut,
    MessageStatus,
    OutboxMessage,
)
from prolotrack.patients.models import Patient
from prolotrack.treatment.models import SessionStatus, TimepointKind, TreatmentSession

log = logging.getLogger(__name__)

SESSION_KINDS = (ReminderKind.APPOINTMENT, ReminderKind.NSAID_STOP, ReminderKind.PRE_PROCEDURE)
QUESTIONNAIRE_KINDS = (ReminderKind.QUESTIONNAIRE_DUE, ReminderKind.QUESTIONNAIRE_OVERDUE)
# Short texts go by SMS too; the instructions and the personal questionnaire link go by email only.
SMS_KINDS = frozenset({ReminderKind.APPOINTMENT, ReminderKind.NSAID_STOP})
# ... and an appointment's confirmation (messaging/appointments.py), which the opt-out grid offers by SMS too.
SMS_CHOICES = frozenset({*SMS_KINDS, MessageKind.APPOINTMENT_CONFIRMATION})
# Booked sessions up to this many days ahead get their reminders planned (visible in the outbox before they are due).
PLAN_AHEAD_DAYS = 35
# A claimed message is retried after this long if the process died between claiming and recording the result.
CLAIM_LEASE = timedelta(minutes=10)


@dataclass
class PassReport:
    planned: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    cancelled: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: "PassReport") -> None:
        self.planned += other.planned
        self.sent += other.sent
        self.failed += other.failed
        self.skipped += other.skipped
        self.cancelled += other.cancelled
        self.errors += other.errors

    def __str__(self) -> str:
        return (
            f"planned {self.planned}, sent {self.sent}, failed {self.failed}, skipped (opted out) {self.skipped}, "
            f"cancelled {self.cancelled}"
        )


def _local_start(session: TreatmentSession) -> datetime:
    return timezone.localtime(session.starts_at, session.clinic.tz)


def session_target(session: TreatmentSession) -> str:
    """The key of a session's reminders: the session and its local start to the minute.

    Any move, to another day or to another hour of the same day, gives a new key: the open reminders of the old time
    are cancelled and fresh ones are planned (the patient hears of the new time even if the old reminder was sent).
    """
    return f"session:{session.uuid}:{_local_start(session):%Y-%m-%dT%H:%M}"


def _reminder_settings(clinic: Clinic) -> rules.SessionReminderSettings:
    config = clinic.config
    return rules.SessionReminderSettings(
        appointment_days_before=config.appointment_reminder_days,
        nsaid_stop_days=config.nsaid_stop_days,
        pre_procedure_days_before=config.pre_procedure_days,
    )


def sending_window(clinic: Clinic) -> rules.SendingWindow:
    config = clinic.config
    return rules.SendingWindow(config.send_window_start_hour, config.send_window_end_hour)


def _channels(patient: Patient, kind: ReminderKind) -> list[tuple[str, str]]:
    out = []
    if patient.email:
        out.append((Channel.EMAIL.value, patient.email))
    if patient.phone and kind in SMS_KINDS:
        out.append((Channel.SMS.value, patient.phone))
    return out


def session_message(
    session: TreatmentSession, kind: ReminderKind, channel: str, today: date | None = None
) -> content.Content:
    """The words of one session reminder from the facts as they are now: the booking and the clinic's settings."""
    clinic, patient = session.clinic, session.patient
    start = _local_start(session)
    today = today or timezone.localtime(timezone.now(), clinic.tz).date()
    sms = channel == Channel.SMS
    nsaid_days = clinic.config.nsaid_stop_days
    stop_day = rules.stop_day_as_sent(start.date(), nsaid_days, today) if nsaid_days > 0 else None
    if kind == ReminderKind.APPOINTMENT:
        return content.appointment(patient, clinic, start, sms=sms)
    if kind == ReminderKind.NSAID_STOP:
        assert stop_day is not None
        return content.nsaid_stop(patient, clinic, start, stop_day, nsaid_days, today=today, sms=sms)
    return content.pre_procedure(
        patient, clinic, start, stop_day, nsaid_days, today=today, sedation=session.sedation != "none"
    )


def _attachments(session: TreatmentSession, kind: str, channel: str) -> list[dict[str, str]]:
    if kind != ReminderKind.APPOINTMENT or channel != Channel.EMAIL:
        return []
    return [
        {
            "filename": ics.ics_filename(session),
            "content_type": "text/calendar",
            "content": ics.patient_appointment(session).decode(),
        }
    ]


def _due_day(session: TreatmentSession, kind: str) -> date | None:
    """The day a session reminder is due under the clinic's current settings (None: this kind no longer applies)."""
    days = rules.session_reminder_days(_local_start(session).date(), _reminder_settings(session.clinic))
    return days.get(ReminderKind(kind))


def plan_session_reminders(clinic: Clinic, today: date) -> PassReport:
    """Plan the reminders of every booked session from today to PLAN_AHEAD_DAYS ahead; cancel those that lapsed.

    A planned row holds only what to send (kind, channel, the session and its time) and when; its words are written
    when it is sent. A row whose due day changed with the clinic's settings is moved to the new day.
    """
    report = PassReport()
    actor = Actor.system(clinic)
    settings_ = _reminder_settings(clinic)
    sessions = list(
        TreatmentSession.objects.filter(
            clinic=clinic,
            status=SessionStatus.BOOKED,
            starts_at__isnull=False,
            entered_in_error_at__isnull=True,
            planned_on__gte=today - timedelta(days=1),
            planned_on__lte=today + timedelta(days=PLAN_AHEAD_DAYS + 1),
        ).select_related("patient", "clinic", "course")
    )
    existing = {
        (m.patient_id, m.kind, m.channel, m.target): m
        for m in OutboxMessage.objects.filter(clinic=clinic, session__in=sessions).select_related("clinic")
    }
    for session in sessions:
        if _session_block(session):
            continue  # withdrawn consent, closed course, patient entered in error: nothing to plan
        start = _local_start(session)
        target = session_target(session)
        for kind, due in rules.session_reminder_days(start.date(), settings_).items():
            if rules.decide_session_reminder(due, start.date(), today) == Decision.TOO_LATE:
                continue
            for channel, address in _channels(session.patient, kind):
                found = existing.get((session.patient_id, kind.value, channel, target))
                if found is not None:
                    if found.status in OPEN_STATUSES and found.scheduled_for != max(due, today):
                        _finish(found, status=found.status, error=found.error, scheduled_for=max(due, today))
                    continue
                message = OutboxMessage(
                    clinic=clinic,
                    patient=session.patient,
                    channel=channel,
                    kind=kind.value,
                    target=target,
                    session=session,
                    to_address=address,
                    scheduled_for=max(due, today),
                )
                report.planned += outbox.plan(actor, message)
    report.cancelled += _cancel_lapsed(clinic, today)
    return report


def _cancel_lapsed(clinic: Clinic, today: date) -> int:
    """Cancel open session reminders that no longer apply (see `_lapse_reason`)."""
    count = 0
    open_messages = OutboxMessage.objects.filter(
        clinic=clinic, status__in=OPEN_STATUSES, session__isnull=False
    ).select_related("session", "session__course", "session__patient", "clinic")
    for message in open_messages:
        if message.session is None:  # not read: the query asks for session__isnull=False
            continue
        reason = _lapse_reason(message.session, message.target, today, message.kind)
        if reason:
            _finish(message, status=MessageStatus.CANCELLED, error=reason)
            count += 1
    return count


def _session_block(session: TreatmentSession) -> str:
    """Why no reminder about this session may go out whatever its kind, or ""."""
    from prolotrack.consent.queries import consent_state
    from prolotrack.domain.session import ConsentState
    from prolotrack.treatment.models import CourseStatus

    if session.patient.is_entered_in_error:
        return "The patient's record was entered in error."
    if session.course.status != CourseStatus.OPEN:
        return f"The course is {session.course.get_status_display().lower()}."
    if consent_state(session.course_id) == ConsentState.WITHDRAWN:
        return "The patient withdrew consent to the treatment."
    return ""


def _lapse_reason(session: TreatmentSession, target: str, today: date, kind: str | None = None) -> str:
    """Why a planned session reminder must not be sent now (the facts changed), or "" if it still applies."""
    if session.is_entered_in_error:
        return "The session was entered in error."
    if session.status != SessionStatus.BOOKED or session.starts_at is None:
        return f"The session is {session.get_status_display().lower()}, no longer booked."
    if session_target(session) != target:
        return f"The session was moved to {_local_start(session):%Y-%m-%d %H:%M}; the new time has its own reminders."
    if _local_start(session).date() <= today:
        return "The session day came before the reminder could be sent."
    block = _session_block(session)
    if block:
        return block
    if kind is not None and _due_day(session, kind) is None:
        return "The clinic no longer asks patients to stop NSAIDs before a session (NSAID window 0 days)."
    return ""


# --- Questionnaire reminders ------------------------------------------------------------------------------------


def _awaiting_timepoints(clinic: Clinic, today: date) -> list[Any]:
    from prolotrack.outcomes.queries import timepoints_awaiting_answers

    return list(timepoints_awaiting_answers(clinic, today))


def plan_questionnaire_reminders(clinic: Clinic, today: date) -> PassReport:
    """Plan "due" and "overdue" emails for follow-up timepoints still unanswered (outcomes' query says which)."""
    report = PassReport()
    actor = Actor.system(clinic)
    overdue_after = clinic.config.questionnaire_overdue_days
    for timepoint in _awaiting_timepoints(clinic, today):
        patient = timepoint.patient
        # Baseline and per-session questionnaires are answered at the visit (tablet or paper); follow-ups from home.
        if timepoint.kind != TimepointKind.FOLLOW_UP or not patient.email or patient.is_entered_in_error:
            continue
        for kind in QUESTIONNAIRE_KINDS:
            if rules.decide_questionnaire_reminder(kind, timepoint.due_on, overdue_after, today) != Decision.SEND:
                continue
            message = OutboxMessage(
                clinic=clinic,
                patient=patient,
                channel=Channel.EMAIL,
                kind=kind.value,
                target=f"timepoint:{timepoint.uuid}",
                timepoint=timepoint,
                to_address=patient.email,
                scheduled_for=rules.questionnaire_reminder_days(timepoint.due_on, overdue_after)[kind],
            )
            report.planned += outbox.plan(actor, message)
    return report


def _link_actor(clinic: Clinic) -> Actor:
    """The scheduler creating a questionnaire link: the system, acting for the clinic with outcomes.collect."""
    from prolotrack.clinics.roles import ROLE_PERMISSIONS

    role = sorted(ROLE_PERMISSIONS[Permission.OUTCOMES_COLLECT])[0]
    return Actor(user=None, clinic=clinic, role=role, client_address=None, channel="system")


def _questionnaire_body(message: OutboxMessage, stored: str) -> str:
    """Create the single-use link now (so it is fresh when it arrives) and put its URL in the patient's copy."""
    from prolotrack.outcomes.services import create_link

    with transaction.atomic():
        _link, url_path = create_link(
            _link_actor(message.clinic), message.patient, timepoint=message.timepoint, delivery="email"
        )
    url = site_url(url_path)
    return stored.replace(content.LINK_REDACTED, url)


# --- Pre-visit intake links (docs/INTAKE.md) -------------------------------------------------------------------


def _intake_of(message: OutboxMessage) -> Intake:
    uuid = message.target.split(":")[1]
    return Intake.objects.select_related("clinic", "appointment").get(clinic=message.clinic, uuid=uuid)


def _intake_body(intake: Intake, stored: str) -> str:
    """Make the intake's link now (so it is fresh when it arrives; earlier links stop) for the patient's copy."""
    with transaction.atomic():
        _link, url_path = intake_services.issue_link(Actor.system(intake.clinic), intake)
    return stored.replace(content.INTAKE_LINK_REDACTED, site_url(url_path))


def plan_intake_message(intake_pk: int) -> bool:
    """Plan the email of an intake's link (the listener of intake.intake_email_requested): a new row for a request
    made after the earlier email went (staff sending it again), none while one is still queued; due today, sent by
    the next pass in the sending window."""
    intake = Intake.objects.select_related("clinic", "patient", "appointment").get(pk=intake_pk)
    patient = intake.patient
    if patient is None or not patient.email or intake.status not in intake_services.OPEN_STATUSES:
        return False
    earlier = OutboxMessage.objects.filter(
        patient=patient, kind=MessageKind.INTAKE_LINK, target__startswith=f"intake:{intake.uuid}:"
    )
    if earlier.filter(status__in=OPEN_STATUSES).exists():
        return False  # one still to send: it carries a fresh link when it goes, so a second would say the same
    sent_before = earlier.count()
    message = OutboxMessage(
        clinic=intake.clinic,
        patient=patient,
        channel=Channel.EMAIL,
        kind=MessageKind.INTAKE_LINK,
        target=f"intake:{intake.uuid}:{sent_before + 1}",
        to_address=patient.email,
        scheduled_for=timezone.localtime(timezone.now(), intake.clinic.tz).date(),
    )
    return outbox.plan(Actor.system(intake.clinic), message)


def plan_intake_messages(clinic: Clinic, today: date) -> PassReport:
    """The pass's catch-up: an emailed intake still open whose request planned no message (the listener failed)."""
    report = PassReport()
    planned = OutboxMessage.objects.filter(clinic=clinic, kind=MessageKind.INTAKE_LINK).values_list("target", flat=True)
    have = {t.split(":")[1] for t in planned}
    for intake in intake_queries.emailed_open(clinic):
        if str(intake.uuid) not in have:
            report.planned += plan_intake_message(intake.pk)
    return report


# --- Sending ---------------------------------------------------------------------------------------------------


def _opted_out(message: OutboxMessage) -> bool:
    return MessageOptOut.objects.filter(
        patient=message.patient,
        channel=message.channel,
        kind=message.kind,
        opted_out=True,
        entered_in_error_at__isnull=True,
    ).exists()


def _finish(message: OutboxMessage, *, status: str, error: str = "", **changes: Any) -> OutboxMessage:
    with transaction.atomic():
        return update_record(
            Actor.system(message.clinic),
            message,
            {"status": status, "error": error, **changes},
            f"messaging.message.{status}",
            expected_version=None,
        )


def _hold_reason(current: OutboxMessage, now: datetime, today: date) -> tuple[str, str]:
    """Re-check every condition just before sending: ("cancel", why), ("wait", why) or ("", "") to send now."""
    clinic = current.clinic
    if not sending_window(clinic).is_open(timezone.localtime(now, clinic.tz).time()):
        return "wait", "outside the clinic's sending window"
    if current.kind == MessageKind.WAITLIST_OFFER:
        reason = waitlist.lapse_reason(current, now)
        if reason:
            return "cancel", reason
    elif current.session_id is not None:
        session = TreatmentSession.objects.select_related("clinic", "course", "patient").get(pk=current.session_id)
        reason = _lapse_reason(session, current.target, today, current.kind)
        if reason:
            return "cancel", reason
        due = _due_day(session, current.kind)
        if due is not None and due > today:
            return "wait", "its day moved later with the clinic's settings"
    elif current.appointment_id is not None:
        reason = appointments.lapse_reason(current, today, now)
        if reason:
            return "cancel", reason
        if appointments.not_yet(current, today):
            return "wait", "its day moved later with the clinic's settings"
    elif current.timepoint_id is not None:
        timepoint = current.timepoint
        assert timepoint is not None  # timepoint_id is set
        if current.patient.is_entered_in_error:
            return "cancel", "The patient's record was entered in error."
        decision = rules.decide_questionnaire_reminder(
            ReminderKind(current.kind), timepoint.due_on, clinic.config.questionnaire_overdue_days, today
        )
        if decision == Decision.TOO_LATE:
            return "cancel", "Its window passed before it could be sent."
        if decision == Decision.WAIT:
            return "wait", "not due yet"
        if not any(t.pk == timepoint.pk for t in _awaiting_timepoints(clinic, today)):
            return "cancel", "The questionnaire was answered, or its course was stopped or entered in error."
    elif current.kind == MessageKind.INTAKE_LINK:
        reason = intake_services.still_to_send(_intake_of(current), now)
        if reason:
            return "cancel", reason
    elif current.kind == MessageKind.COURSE_LINK:
        reason = course_links.lapse_reason(current, now)
        if reason:
            return "cancel", reason
    elif current.kind == MessageKind.SESSION_CONFIRMATION:
        reason = course_links.confirmation_lapse(current, now)
        if reason:
            return "cancel", reason
    return "", ""


def _claim(message: OutboxMessage, now: datetime, today: date) -> OutboxMessage | None:
    """Take the message for this pass, or None if it is not (or no longer) to be sent; records skips and lapses."""
    actor = Actor.system(message.clinic)
    with transaction.atomic():
        current = (
            OutboxMessage.objects.select_for_update(of=("self",))
            .select_related("clinic", "patient", "timepoint", "timepoint__course")
            .get(pk=message.pk)
        )
        if current.status not in OPEN_STATUSES or (current.next_attempt_at and current.next_attempt_at > now):
            return None
        action, reason = _hold_reason(current, now, today)
        if action == "wait":
            return None
        if action == "cancel":
            update_record(
                actor, current, {"status": MessageStatus.CANCELLED, "error": reason}, "messaging.message.cancelled",
                expected_version=None,
            )  # fmt: skip
            return None
        if _opted_out(current):
            update_record(
                actor,
                current,
                {"status": MessageStatus.SKIPPED_OPTED_OUT, "error": "", "next_attempt_at": None},
                "messaging.message.skipped_opted_out",
                expected_version=None,
            )
            return None
        return update_record(
            actor,
            current,
            {"attempts": current.attempts + 1, "next_attempt_at": now + CLAIM_LEASE},
            "messaging.message.attempted",
            expected_version=None,
        )


@dataclass(frozen=True)
class Rendered:
    """A message as it goes out: the stored copy (subject, body, attachments) and the patient's copy of the body."""

    subject: str
    body: str
    attachments: list[dict[str, str]]
    patient_body: str


def render(message: OutboxMessage, today: date, *, with_link: bool = False) -> Rendered:
    """Write the message from the facts as they are now (booking, settings, course); the send path calls it just
    before handing the message over, and the outbox shows it as a preview of a queued message. The words are in
    the patient's preferred language as it is now (docs/LANGUAGES.md)."""
    with translation.override(patient_language(message.patient)):
        return _render(message, today, with_link=with_link)


def _render(message: OutboxMessage, today: date, *, with_link: bool) -> Rendered:
    if message.appointment_id is not None:
        visit = appointments.render(message, with_link=with_link)
        return Rendered(visit.subject, visit.body, visit.attachments, visit.patient_body)
    if message.session_id is not None:
        session = TreatmentSession.objects.select_related("clinic", "patient").get(pk=message.session_id)
        words = session_message(session, ReminderKind(message.kind), message.channel, today)
        attachments = _attachments(session, message.kind, message.channel)
        return Rendered(words.subject, words.body, attachments, words.body)
    if message.kind == MessageKind.WAITLIST_OFFER:
        subject, stored, patient_body = waitlist.words(message, with_link=with_link)
        return Rendered(subject, stored, [], patient_body)
    if message.kind == MessageKind.COURSE_LINK:
        subject, stored, patient_body = course_links.words(message, with_link=with_link)
        return Rendered(subject, stored, [], patient_body)
    if message.kind == MessageKind.SESSION_CONFIRMATION:
        subject, body, attachments = course_links.confirmation_words(message)
        return Rendered(subject, body, attachments, body)
    if message.kind == MessageKind.BILLING_DOCUMENT:
        # Written when staff queued it: the document as it was then (an issued invoice never changes).
        return Rendered(message.subject, message.body, list(message.attachments), message.body)
    if message.kind == MessageKind.INTAKE_LINK:
        intake = _intake_of(message)
        words = content.intake(
            message.patient, message.clinic, intake.appointment.starts_at.astimezone(message.clinic.tz)
        )
        stored = words.body.replace(content.LINK_PLACEHOLDER, content.INTAKE_LINK_REDACTED)
        patient_body = _intake_body(intake, stored) if with_link else stored
        return Rendered(words.subject, stored, [], patient_body)
    timepoint = message.timepoint
    assert timepoint is not None, "a message is about a session, a questionnaire timepoint or a billing document"
    words = content.questionnaire(
        message.patient,
        message.clinic,
        timepoint.label,
        timepoint.due_on,
        overdue=message.kind == ReminderKind.QUESTIONNAIRE_OVERDUE,
    )
    stored = words.body.replace(content.LINK_PLACEHOLDER, content.LINK_REDACTED)
    patient_body = _questionnaire_body(message, stored) if with_link else stored
    return Rendered(words.subject, stored, [], patient_body)


def _deliver(message: OutboxMessage, rendered: Rendered) -> None:
    if message.channel == Channel.SMS:
        sms_backend().send(message)
        return
    with translation.override(patient_language(message.patient)):  # the footer and the HTML part
        email = content.email_message(message, rendered.subject, rendered.patient_body)
    for item in rendered.attachments:
        data = base64.b64decode(item["content"]) if item.get("encoding") == "base64" else item["content"]
        email.attach(item["filename"], data, item["content_type"])
    email.send(fail_silently=False)


def send_message(message: OutboxMessage, *, now: datetime | None = None) -> str:
    """Send one open message if it is still due; return its status afterwards. A failure is recorded, not raised.

    Every condition is checked again under the row lock (`_hold_reason`), and the words are written from the facts
    of this moment: a booking moved, a setting changed or consent withdrawn after planning is what the patient reads.
    """
    now = now or timezone.now()
    today = timezone.localtime(now, message.clinic.tz).date()
    claimed = _claim(message, now, today)
    if claimed is None:
        return OutboxMessage.objects.get(pk=message.pk).status
    written: dict[str, Any] = {}
    try:
        rendered = render(claimed, today, with_link=True)
        written = {"subject": rendered.subject, "body": rendered.body, "attachments": rendered.attachments}
        claimed.subject, claimed.body = rendered.subject, rendered.patient_body
        _deliver(claimed, rendered)
    except Exception as error:  # any backend failure is recorded on the message and retried
        log.warning("Sending message %s failed: %s", claimed.uuid, error)
        text = f"{type(error).__name__}: {error}"[:2000]
        retry_at = None
        if claimed.attempts < rules.MAX_ATTEMPTS:
            retry_at = now + timedelta(minutes=rules.retry_delay_minutes(claimed.attempts))
        else:
            text += f" (gave up after {claimed.attempts} tries)"
        _finish(claimed, status=MessageStatus.FAILED, error=text, next_attempt_at=retry_at)
        return MessageStatus.FAILED
    _finish(claimed, status=MessageStatus.SENT, sent_at=now, next_attempt_at=None, **written)
    return MessageStatus.SENT


def send_due(clinic: Clinic, now: datetime) -> PassReport:
    """Send every open message of the clinic due by today (and failed ones whose retry time has come)."""
    report = PassReport()
    local = timezone.localtime(now, clinic.tz)
    if not sending_window(clinic).is_open(local.time()):
        return report  # due messages wait for the window to open (docs/MESSAGING.md, "Sending window")
    today = local.date()
    due = OutboxMessage.objects.filter(
        clinic=clinic, status__in=OPEN_STATUSES, scheduled_for__lte=today, attempts__lt=rules.MAX_ATTEMPTS
    ).filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    for message in due.select_related("clinic", "patient").order_by("scheduled_for", "id"):
        status = send_message(message, now=now)
        if status == MessageStatus.SENT:
            report.sent += 1
        elif status == MessageStatus.FAILED:
            report.failed += 1
        elif status == MessageStatus.SKIPPED_OPTED_OUT:
            report.skipped += 1
        elif status == MessageStatus.CANCELLED:
            report.cancelled += 1
    return report


def run_pass(*, now: datetime | None = None, clinics: Iterable[Clinic] | None = None) -> PassReport:
    """One scheduler pass: for each clinic, plan what is owed as of its local today, then send what is due."""
    now = now or timezone.now()
    report = PassReport()
    for clinic in clinics if clinics is not None else Clinic.objects.all():
        today = timezone.localtime(now, clinic.tz).date()
        try:
            report.add(plan_session_reminders(clinic, today))
            report.add(plan_questionnaire_reminders(clinic, today))
            report.add(plan_intake_messages(clinic, today))
            planned, cancelled = appointments.plan_reminders(clinic, today)
            report.add(PassReport(planned=planned, cancelled=cancelled))
            report.planned += booked_online.plan_reminders(clinic, today)  # people still pending (docs/BOOKING.md)
        except Exception as error:  # one clinic's failure must not stop the others' reminders
            log.exception("Planning reminders for %s failed", clinic)
            report.errors.append(f"{clinic.name}: {error}")
        try:
            # Expire unanswered waitlist offers, and offer freed slots while messages can go out (docs/BOOKING.md).
            found = waitlist.run(
                clinic, now, window_open=sending_window(clinic).is_open(timezone.localtime(now, clinic.tz).time())
            )
            report.planned += found.offered
        except Exception as error:  # the waitlist of one clinic must not stop its reminders or the others'
            log.exception("The waitlist pass for %s failed", clinic)
            report.errors.append(f"{clinic.name} waitlist: {error}")
        report.add(send_due(clinic, now))
        try:  # a pending person's confirmation retried, their reminder (docs/BOOKING.md, "After the code")
            done = booked_online.send_due(clinic, now)
            report.add(PassReport(sent=done["sent"], failed=done["failed"], cancelled=done["cancelled"]))
        except Exception as error:  # one clinic's failure must not stop the others' messages
            log.exception("Messages to pending people of %s failed", clinic)
            report.errors.append(f"{clinic.name} pending people: {error}")
    return report


# --- Billing documents by email ---------------------------------------------------------------------------------

BILLING_DOCUMENTS = ("invoice", "receipt", "superbill")


def queue_billing_document(
    actor: Actor, patient: Patient, *, document: str, record: Any, title: str, filename: str, pdf: bytes
) -> OutboxMessage:
    """Queue an invoice, receipt or superbill PDF to the patient's email (docs/BILLING.md, "Emailing"): one outbox row
    with the PDF attached (base64, with its SHA-256), sent by the scheduler's next pass in the sending window like
    every message, and skipped then if the patient has opted out meanwhile. Refused, with nothing written, when the
    patient has no email address, has opted out of billing documents by email, or the record is entered in error.
    Queuing is the disclosure: its audit row names the patient, the document and the address."""
    require_permission(actor, Permission.BILLING_VIEW)
    require_same_clinic(actor, patient)
    if document not in BILLING_DOCUMENTS:
        raise ValidationError({"document": f"Choose one of {', '.join(BILLING_DOCUMENTS)}."})
    if patient.is_entered_in_error:
        raise ServiceError("This patient record was marked entered in error: nothing is sent from it.")
    if not patient.email:
        raise ServiceError(
            f"{patient.full_name} has no email address on record: add it on the patient's details (with their "
            f"agreement), or print the {document} and hand it over."
        )
    opted = MessageOptOut.objects.filter(
        patient=patient, channel=Channel.EMAIL, kind=MessageKind.BILLING_DOCUMENT, opted_out=True
    ).active()
    if opted.exists():
        raise ServiceError(
            f"{patient.full_name} asked not to receive invoices and receipts by email (their message choices): print "
            f"the {document} instead."
        )
    if not pdf.startswith(b"%PDF-"):
        raise ServiceError(f"The {document} could not be made as a PDF; nothing was sent.")
    digest = hashlib.sha256(pdf).hexdigest()
    with translation.override(patient_language(patient)):
        words = content.billing_document(patient, patient.clinic, title)
    attachment = {
        "filename": filename,
        "content_type": "application/pdf",
        "encoding": "base64",
        "content": base64.b64encode(pdf).decode("ascii"),
        "sha256": digest,
    }
    today = timezone.localtime(timezone.now(), patient.clinic.tz).date()
    with transaction.atomic():
        earlier = OutboxMessage.objects.filter(
            patient=patient, kind=MessageKind.BILLING_DOCUMENT, target__startswith=f"{document}:{record.uuid}:"
        ).count()
        message = OutboxMessage(
            clinic=patient.clinic,
            patient=patient,
            channel=Channel.EMAIL,
            kind=MessageKind.BILLING_DOCUMENT,
            target=f"{document}:{record.uuid}:{earlier + 1}",
            to_address=patient.email,
            subject=words.subject,
            body=words.body,
            attachments=[attachment],
            scheduled_for=today,
        )
        return create_record(
            actor,
            message,
            "messaging.document.queued",
            detail={"document": document, "record": str(record.uuid), "to": patient.email, "sha256": digest},
        )


# --- Opt-outs -------------------------------------------------------------------------------------------------


def set_opt_outs(actor: Actor, patient: Patient, opted_out: set[tuple[str, str]]) -> int:
    """Record the patient's choices: `opted_out` holds the (channel, kind) pairs they do not want. Returns changes."""
    require_permission(actor, Permission.PATIENT_EDIT_DEMOGRAPHICS)
    require_same_clinic(actor, patient)
    valid = {(c.value, k.value) for c in Channel for k in MessageKind}
    unknown = opted_out - valid
    if unknown:
        raise ServiceError(f"Unknown message choice: {sorted(unknown)[0]}. Choose from the listed kinds and channels.")
    changed = 0
    with transaction.atomic():
        rows = {(r.channel, r.kind): r for r in MessageOptOut.objects.filter(patient=patient).active()}
        for channel, kind in sorted(valid):
            want = (channel, kind) in opted_out
            row = rows.get((channel, kind))
            if row is None and want:
                create_record(
                    actor,
                    MessageOptOut(clinic=patient.clinic, patient=patient, channel=channel, kind=kind, opted_out=True),
                    "messaging.opt_out.changed",
                )
                changed += 1
            elif row is not None and row.opted_out != want:
                update_record(actor, row, {"opted_out": want}, "messaging.opt_out.changed", expected_version=None)
                changed += 1
    return changed


# --- Calendar feed tokens ---------------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_feed_token(actor: Actor) -> tuple[CalendarFeedToken, str]:
    """A new secret feed URL for the actor (revoking any earlier one). The token is returned once, never stored."""
    require_permission(actor, Permission.CALENDAR_FEED)
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        _revoke(actor)
        feed = CalendarFeedToken.objects.create(user=actor.user, clinic=actor.clinic, token_hash=hash_token(token))
        record_event(actor, "calendar.feed.created", detail={"feed": feed.pk})
    return feed, token


def _revoke(actor: Actor) -> int:
    count = 0
    for feed in CalendarFeedToken.objects.select_for_update().filter(
        user=actor.user, clinic=actor.clinic, revoked_at__isnull=True
    ):
        feed.revoked_at = timezone.now()
        feed.save(update_fields=["revoked_at"])
        record_event(actor, "calendar.feed.revoked", detail={"feed": feed.pk})
        count += 1
    return count


def revoke_feed_token(actor: Actor) -> int:
    """Revoke the actor's feed URL; calendars subscribed to it stop updating."""
    require_permission(actor, Permission.CALENDAR_FEED)
    with transaction.atomic():
        return _revoke(actor)


def touch_feed(feed: CalendarFeedToken, sessions: int) -> None:
    """Note the feed's use and audit the read (a calendar client polling reads appointment data)."""
    from prolotrack.clinics.models import Membership

    membership = Membership.objects.get(user=feed.user, clinic=feed.clinic)
    actor = Actor(user=feed.user, clinic=feed.clinic, role=membership.role, client_address=None, channel="calendar")
    with transaction.atomic():
        CalendarFeedToken.objects.filter(pk=feed.pk).update(last_used_at=timezone.now())
        record_event(actor, "calendar.feed.read", detail={"feed": feed.pk, "sessions": sessions})


def cancel_session_reminders(actor: Actor, sessions: Iterable[TreatmentSession], reason: str) -> int:
    """Cancel the reminders still to be sent about these sessions, now, in the caller's transaction.

    Called by the treatment services when a session is cancelled or its course closed, so no reminder of a session
    that will not happen stays queued until the next scheduler pass (which would also cancel it, `_lapse_reason`)."""
    count = 0
    messages = OutboxMessage.objects.select_for_update().filter(
        session__in=list(sessions), status__in=OPEN_STATUSES, entered_in_error_at__isnull=True
    )
    for message in messages:
        update_record(
            actor, message, {"status": MessageStatus.CANCELLED, "error": reason}, "messaging.message.cancelled",
            expected_version=None,
        )  # fmt: skip
        count += 1
    return count
