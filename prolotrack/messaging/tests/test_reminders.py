"""Reminder planning and sending: the right day, once each, opt-outs, backends, time zones, failures and retries."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.test import override_settings
from icalendar import Calendar

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.audit.services import Actor, create_record
from prolotrack.clinics.testing import actor_of
from prolotrack.core.records import HistoryBypassError
from prolotrack.messaging import services
from prolotrack.messaging.backends import LocmemSMSBackend
from prolotrack.messaging.models import Channel, MessageKind, MessageStatus, OutboxMessage
from prolotrack.messaging.tests.conftest import CHICAGO, at
from prolotrack.treatment import services as treatment_services
from prolotrack.treatment.models import SessionStatus

SESSION_DAY = date(2026, 11, 20)


def kinds(status=None, **filters):
    qs = OutboxMessage.objects.filter(**filters)
    if status:
        qs = qs.filter(status=status)
    return sorted((m.kind, m.channel) for m in qs)


def test_a_pass_plans_each_reminder_for_its_day_and_sends_none_early(booked):
    report = services.run_pass(now=at(date(2026, 11, 10)))
    rows = {(m.kind, m.channel): m.scheduled_for for m in OutboxMessage.objects.all()}
    assert rows == {
        (MessageKind.APPOINTMENT, Channel.EMAIL): date(2026, 11, 18),
        (MessageKind.APPOINTMENT, Channel.SMS): date(2026, 11, 18),
        (MessageKind.NSAID_STOP, Channel.EMAIL): date(2026, 11, 17),  # 20 Nov minus nsaid_stop_days (3)
        (MessageKind.NSAID_STOP, Channel.SMS): date(2026, 11, 17),
        (MessageKind.PRE_PROCEDURE, Channel.EMAIL): date(2026, 11, 13),
    }
    assert report.planned == 5 and report.sent == 0
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {MessageStatus.QUEUED}
    assert mail.outbox == [] and LocmemSMSBackend.outbox == []


def test_each_reminder_goes_out_on_its_day_and_only_once(booked):
    services.run_pass(now=at(date(2026, 11, 13)))
    assert [m.subject for m in mail.outbox] == ["Preparing for your appointment on Friday 20 November 2026"]
    services.run_pass(now=at(date(2026, 11, 13), 15))  # a second pass the same day sends nothing again
    assert len(mail.outbox) == 1
    services.run_pass(now=at(date(2026, 11, 17)))
    assert kinds(MessageStatus.SENT) == [
        (MessageKind.NSAID_STOP, Channel.EMAIL),
        (MessageKind.NSAID_STOP, Channel.SMS),
        (MessageKind.PRE_PROCEDURE, Channel.EMAIL),
    ]
    # Sent on the stop day: the body names the same day as the subject's "From today" (issue 19).
    assert "From today, Tuesday 17 November 2026 (3 days before your appointment)" in mail.outbox[1].body
    assert "ibuprofen" in LocmemSMSBackend.outbox[0]["body"]
    services.run_pass(now=at(date(2026, 11, 18)))
    services.run_pass(now=at(date(2026, 11, 19)))
    assert OutboxMessage.objects.filter(status=MessageStatus.SENT).count() == 5
    assert len(mail.outbox) == 3 and len(LocmemSMSBackend.outbox) == 2
    assert OutboxMessage.objects.count() == 5  # nothing planned twice across five passes


def test_the_appointment_email_carries_the_ics_and_honest_instructions(booked):
    services.run_pass(now=at(date(2026, 11, 18)))
    reminder = next(m for m in mail.outbox if m.subject.startswith("Reminder"))
    (filename, content, mimetype) = reminder.attachments[0]
    assert (filename, mimetype) == ("appointment-2026-11-20.ics", "text/calendar")
    event = Calendar.from_ical(content).walk("VEVENT")[0]
    assert event.decoded("dtstart") == datetime(2026, 11, 20, 9, 30, tzinfo=CHICAGO)
    assert str(event["uid"]) == f"session-{booked.uuid}@prolotrack"
    instructions = next(m for m in mail.outbox if m.subject.startswith("Preparing"))
    text = instructions.body
    assert "light meal" in text and "list of the medicines" in text.lower() and "Acetaminophen" in text
    assert "drive" not in text  # no sedation planned
    for claim in ("permanent", "cure", "natural"):
        assert claim not in text.lower()


def test_sedation_adds_the_driver_line(booked, clinician):
    with transaction.atomic():
        treatment_services.update_session_record(
            actor_of(clinician), booked, {"sedation": "oral"}, expected_version=None
        )
    services.run_pass(now=at(date(2026, 11, 13)))
    assert "someone to drive you home" in mail.outbox[0].body


def test_the_unique_key_is_enforced_by_the_database(booked):
    services.run_pass(now=at(date(2026, 11, 10)))
    first = OutboxMessage.objects.filter(kind=MessageKind.APPOINTMENT, channel=Channel.EMAIL).get()
    duplicate = OutboxMessage(
        clinic=first.clinic, patient=first.patient, channel=first.channel, kind=first.kind, target=first.target,
        to_address="x@example.org", body="again", scheduled_for=first.scheduled_for,
    )  # fmt: skip
    with pytest.raises(Exception) as raised, transaction.atomic():
        create_record(Actor.system(first.clinic), duplicate, "messaging.message.planned")
    assert isinstance(raised.value, IntegrityError) or "already exists" in str(raised.value)


def test_messages_are_never_deleted(booked):
    services.run_pass(now=at(date(2026, 11, 10)))
    with pytest.raises(HistoryBypassError):
        OutboxMessage.objects.first().delete()
    with pytest.raises(HistoryBypassError):
        OutboxMessage.objects.all().delete()


def test_an_opted_out_message_is_recorded_as_skipped(booked, frontdesk, contact_patient):
    services.set_opt_outs(actor_of(frontdesk), contact_patient, {(Channel.SMS, MessageKind.NSAID_STOP)})
    report = services.run_pass(now=at(date(2026, 11, 17)))
    assert kinds(MessageStatus.SKIPPED_OPTED_OUT) == [(MessageKind.NSAID_STOP, Channel.SMS)]
    assert kinds(MessageStatus.SENT) == [
        (MessageKind.NSAID_STOP, Channel.EMAIL),
        (MessageKind.PRE_PROCEDURE, Channel.EMAIL),
    ]
    assert report.skipped == 1 and LocmemSMSBackend.outbox == []
    # Opting back in is a new version of the choice, not a deletion; later reminders go out again.
    services.set_opt_outs(actor_of(frontdesk), contact_patient, set())
    services.run_pass(now=at(date(2026, 11, 18)))
    assert len(LocmemSMSBackend.outbox) == 1


def test_opt_outs_refuse_unknown_choices_and_roles_without_permission(contact_patient, frontdesk, researcher):
    from prolotrack.audit.services import AccessDenied, ServiceError

    with pytest.raises(ServiceError, match="Unknown message choice"):
        services.set_opt_outs(actor_of(frontdesk), contact_patient, {("fax", "appointment_reminder")})
    with pytest.raises(AccessDenied):
        services.set_opt_outs(actor_of(researcher), contact_patient, set())


def test_the_sms_backend_is_a_setting(booked, tmp_path):
    with override_settings(PROLOTRACK_SMS_BACKEND="prolotrack.messaging.backends.FileSMSBackend", DATA_DIR=tmp_path):
        services.run_pass(now=at(date(2026, 11, 18)))
    lines = (tmp_path / "outbox" / "sms.jsonl").read_text().splitlines()
    assert len(lines) == 2 and "(312) 555-0101" in lines[0]
    assert LocmemSMSBackend.outbox == []


def test_a_failure_is_recorded_and_retried_later(booked):
    with override_settings(PROLOTRACK_SMS_BACKEND="prolotrack.messaging.backends.FailingSMSBackend"):
        report = services.run_pass(now=at(date(2026, 11, 17)))
    failed = OutboxMessage.objects.get(kind=MessageKind.NSAID_STOP, channel=Channel.SMS)
    assert report.failed == 1 and failed.status == MessageStatus.FAILED and failed.attempts == 1
    assert "SMS provider unavailable" in failed.error
    assert failed.next_attempt_at == at(date(2026, 11, 17)) + timedelta(minutes=5)
    services.run_pass(now=at(date(2026, 11, 17), 8, 2))  # before the retry time: not tried again
    assert OutboxMessage.objects.get(pk=failed.pk).attempts == 1
    services.run_pass(now=at(date(2026, 11, 17), 8, 6))  # the provider is back
    sent = OutboxMessage.objects.get(pk=failed.pk)
    assert (sent.status, sent.attempts, sent.error) == (MessageStatus.SENT, 2, "")
    assert len(LocmemSMSBackend.outbox) == 1
    # Every status change left a version: planned, claimed, failed, claimed, sent.
    assert RecordVersion.objects.filter(record_uuid=sent.uuid).count() == 5


def test_a_failing_message_gives_up_after_five_tries(booked):
    now = at(date(2026, 11, 17))
    with override_settings(PROLOTRACK_SMS_BACKEND="prolotrack.messaging.backends.FailingSMSBackend"):
        for _ in range(8):
            services.run_pass(now=now)
            now += timedelta(hours=7)
            if now.date() >= SESSION_DAY:
                break
    failed = OutboxMessage.objects.get(kind=MessageKind.NSAID_STOP, channel=Channel.SMS)
    assert failed.status == MessageStatus.FAILED and failed.attempts == 5
    assert "gave up after 5 tries" in failed.error and failed.next_attempt_at is None


def test_email_failure_is_recorded(booked):
    with override_settings(EMAIL_BACKEND="prolotrack.messaging.tests.test_reminders.BrokenEmailBackend"):
        services.run_pass(now=at(date(2026, 11, 13)))
    message = OutboxMessage.objects.get(kind=MessageKind.PRE_PROCEDURE)
    assert message.status == MessageStatus.FAILED and "SMTP server said no" in message.error


class BrokenEmailBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("SMTP server said no")


def test_a_cancelled_session_cancels_its_queued_reminders(booked, clinician):
    services.run_pass(now=at(date(2026, 11, 14)))
    with transaction.atomic():
        treatment_services.set_attendance(actor_of(clinician), booked, SessionStatus.CANCELLED, reason="Patient unwell")
    # Cancelled at once by the cancellation itself, not at the next pass.
    cancelled = OutboxMessage.objects.filter(status=MessageStatus.CANCELLED)
    assert cancelled.count() == 4
    assert "marked cancelled: Patient unwell" in cancelled.first().error
    report = services.run_pass(now=at(date(2026, 11, 17)))
    assert report.sent == 0 and report.cancelled == 0
    assert kinds(MessageStatus.SENT) == [(MessageKind.PRE_PROCEDURE, Channel.EMAIL)]


def test_closing_the_course_cancels_the_queued_reminders_of_its_sessions(booked, clinician):
    from prolotrack.treatment.models import Course

    services.run_pass(now=at(date(2026, 11, 14)))
    course = Course.objects.get(pk=booked.course_id)
    with transaction.atomic():
        treatment_services.close_course(actor_of(clinician), course, reason="patient_choice")
    assert OutboxMessage.objects.filter(status=MessageStatus.CANCELLED).count() == 4
    assert not OutboxMessage.objects.filter(status__in=[MessageStatus.QUEUED, MessageStatus.FAILED]).exists()


def test_a_rebooked_session_gets_reminders_for_its_new_day(booked, book):
    services.run_pass(now=at(date(2026, 11, 13)))  # instructions for the 20th sent
    moved = book(booked.__class__.objects.get(pk=booked.pk), datetime(2026, 11, 27, 10, 0, tzinfo=CHICAGO))
    services.run_pass(now=at(date(2026, 11, 17)))
    assert OutboxMessage.objects.filter(status=MessageStatus.CANCELLED).count() == 4  # the 20th's unsent ones
    new = OutboxMessage.objects.filter(target=services.session_target(moved))
    assert sorted(m.scheduled_for for m in new if m.channel == Channel.EMAIL) == [
        date(2026, 11, 20), date(2026, 11, 24), date(2026, 11, 25),
    ]  # fmt: skip
    assert len(mail.outbox) == 1
    services.run_pass(now=at(date(2026, 11, 20)))
    assert mail.outbox[-1].subject == "Preparing for your appointment on Friday 27 November 2026"


def test_booked_late_reminders_go_out_at_once_but_never_on_the_day(course, book):
    session = book(course.sessions.get(number=1), datetime(2026, 11, 20, 9, 30, tzinfo=CHICAGO))
    services.run_pass(now=at(date(2026, 11, 19)))
    assert len(mail.outbox) == 3  # instructions, NSAID and appointment emails, all late but before the day
    assert {m.scheduled_for for m in OutboxMessage.objects.filter(session=session)} == {date(2026, 11, 19)}
    # Booked for today: nothing is planned (a reminder on the day itself would be noise or too late).
    later = book(course.sessions.get(number=2), datetime(2026, 12, 1, 16, 0, tzinfo=CHICAGO))
    services.run_pass(now=at(date(2026, 12, 1), 7))
    assert not OutboxMessage.objects.filter(session=later).exists()


def test_days_are_the_clinics_days_not_utc(course, book):
    # 18:30 in Chicago on 17 November is already the 18th in UTC. The NSAID reminder for a session on Friday the
    # 20th is due on the 17th (clinic time); a pass late on the 16th in Chicago (already the 17th in UTC) waits.
    book(course.sessions.get(number=1), datetime(2026, 11, 20, 9, 30, tzinfo=CHICAGO))
    services.run_pass(now=datetime(2026, 11, 17, 2, 0, tzinfo=ZoneInfo("UTC")))  # 16 Nov, 20:00 in Chicago
    assert not OutboxMessage.objects.filter(status=MessageStatus.SENT, kind=MessageKind.NSAID_STOP).exists()
    services.run_pass(now=datetime(2026, 11, 17, 6, 5, tzinfo=ZoneInfo("UTC")))  # 17 Nov, 00:05 in Chicago
    # Due, but the sending window (08:00-20:00 clinic time) is closed: nothing goes out just after midnight.
    assert not OutboxMessage.objects.filter(status=MessageStatus.SENT).exists()
    services.run_pass(now=datetime(2026, 11, 17, 14, 0, tzinfo=ZoneInfo("UTC")))  # 17 Nov, 08:00 in Chicago
    assert OutboxMessage.objects.filter(status=MessageStatus.SENT, kind=MessageKind.NSAID_STOP).count() == 2


def test_a_late_evening_appointment_keeps_its_local_day(course, book):
    # 23:30 in Chicago on the 20th is 05:30 UTC on the 21st: the reminders are for the 20th.
    session = book(course.sessions.get(number=1), datetime(2026, 11, 20, 23, 30, tzinfo=CHICAGO))
    services.run_pass(now=at(date(2026, 11, 10)))
    assert services.session_target(session).endswith(":2026-11-20T23:30")
    appointment = OutboxMessage.objects.get(kind=MessageKind.APPOINTMENT, channel=Channel.EMAIL)
    assert appointment.scheduled_for == date(2026, 11, 18)
    services.run_pass(now=at(date(2026, 11, 18)))
    appointment.refresh_from_db()
    assert "Friday 20 November 2026 at 23:30 CST" in appointment.body


def test_daylight_saving_change_keeps_the_wall_clock_time(course, book):
    # Chicago leaves daylight saving on 1 November 2026; a reminder planned before for a session after says 09:30.
    session = book(course.sessions.get(number=1), datetime(2026, 11, 3, 9, 30, tzinfo=CHICAGO))
    services.run_pass(now=at(date(2026, 10, 29)))
    services.run_pass(now=at(date(2026, 11, 1)))
    message = OutboxMessage.objects.get(kind=MessageKind.APPOINTMENT, channel=Channel.EMAIL, session=session)
    assert "Tuesday 3 November 2026 at 09:30 CST" in message.body


def test_a_patient_without_email_or_phone_gets_nothing_planned(clinician, make_patient, book):
    patient = make_patient(given_name="Nobody", email="", phone="")
    course = treatment_services.create_course(
        actor_of(clinician), patient, protocol_id="", indication="Knee pain", region="knee", side="left",
        start_on=date(2026, 11, 2), clinician=clinician,
    )  # fmt: skip
    book(course.sessions.get(number=1))
    assert services.run_pass(now=at(date(2026, 11, 10))).planned == 0


def test_other_clinics_are_planned_in_their_own_time_zone(booked, other_clinic):
    report = services.run_pass(now=at(date(2026, 11, 10)), clinics=[other_clinic])
    assert report.planned == 0 and not OutboxMessage.objects.exists()


def test_questionnaire_reminders_create_an_email_link(fake_outcomes, course):
    timepoint = course.timepoints.filter(kind="follow_up").order_by("due_on").first()
    fake_outcomes.awaiting.append(timepoint)
    services.run_pass(now=at(timepoint.due_on))
    message = OutboxMessage.objects.get(kind=MessageKind.QUESTIONNAIRE_DUE)
    assert message.status == MessageStatus.SENT and message.channel == Channel.EMAIL
    assert fake_outcomes.created[0]["delivery"] == "email" and fake_outcomes.created[0]["timepoint"] == timepoint
    assert "http://127.0.0.1:8000/q/token-1/" in mail.outbox[0].body
    assert "/q/token-1/" not in message.body  # the stored copy does not keep a working link
    assert "personal questionnaire link" in message.body
    # Still unanswered a week later: one "overdue" reminder, then nothing more (passes on later days plan nothing).
    for days in (0, 7, 8, 9):
        report = services.run_pass(now=at(timepoint.due_on + timedelta(days=days), 10))
        assert report.planned == (1 if days == 7 else 0)
    assert kinds(MessageStatus.SENT) == [
        (MessageKind.QUESTIONNAIRE_DUE, Channel.EMAIL),
        (MessageKind.QUESTIONNAIRE_OVERDUE, Channel.EMAIL),
    ]
    assert "have not yet received" in mail.outbox[1].body


def test_an_answered_questionnaire_gets_no_overdue_reminder(fake_outcomes, course):
    timepoint = course.timepoints.filter(kind="follow_up").order_by("due_on").first()
    fake_outcomes.awaiting.append(timepoint)
    services.run_pass(now=at(timepoint.due_on))
    fake_outcomes.awaiting.clear()  # answered
    services.run_pass(now=at(timepoint.due_on + timedelta(days=7)))
    assert kinds() == [(MessageKind.QUESTIONNAIRE_DUE, Channel.EMAIL)]


def test_every_send_is_audited(booked):
    services.run_pass(now=at(date(2026, 11, 13)))
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"messaging.message.planned", "messaging.message.attempted", "messaging.message.sent"} <= actions


def test_a_questionnaire_reminder_carries_a_working_link_from_the_outcomes_feature(course, client, monkeypatch):
    from prolotrack.messaging.tests.conftest import REAL_AWAITING
    from prolotrack.outcomes.models import QuestionnaireLink

    monkeypatch.setattr(services, "_awaiting_timepoints", REAL_AWAITING)
    timepoint = course.timepoints.filter(kind="follow_up").order_by("due_on").first()
    services.run_pass(now=at(timepoint.due_on, 9))
    message = OutboxMessage.objects.get(kind=MessageKind.QUESTIONNAIRE_DUE, timepoint=timepoint)
    assert message.status == MessageStatus.SENT, message.error
    link = QuestionnaireLink.objects.get(timepoint=timepoint)
    assert link.delivery == "email"
    url = next(word for word in mail.outbox[-1].body.split() if "/q/" in word)
    assert url.startswith("http://127.0.0.1:8000/q/")
    assert client.get(url.removeprefix("http://127.0.0.1:8000")).status_code == 200
