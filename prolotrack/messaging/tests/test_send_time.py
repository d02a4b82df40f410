"""Messages written when they are sent, from the facts of that moment (issue 19).

A planned row holds only what to send and when; a move (even within the same day), a cancelled session, a withdrawn
consent, a closed course or a changed NSAID window is what the patient reads, or stops the message.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.core import mail
from django.db import transaction
from icalendar import Calendar

from prolotrack.audit.services import update_record
from prolotrack.clinics.testing import actor_of
from prolotrack.consent import services as consent_services
from prolotrack.consent.testing import sign_for_course
from prolotrack.messaging import services
from prolotrack.messaging.backends import LocmemSMSBackend
from prolotrack.messaging.models import Channel, MessageKind, MessageStatus, OutboxMessage
from prolotrack.messaging.tests.conftest import CHICAGO, at
from prolotrack.treatment import services as treatment_services
from prolotrack.treatment.models import CourseStatus

DAY = date(2026, 11, 20)


def _set(clinic, **values):
    clinic.settings = {**(clinic.settings or {}), **values}
    clinic.save(update_fields=["settings"])


def _email(subject_start):
    return next(m for m in mail.outbox if m.subject.startswith(subject_start))


def test_a_same_day_move_after_planning_sends_the_new_time(course, book):
    session = book(course.sessions.get(number=1), datetime(2026, 11, 20, 11, 0, tzinfo=CHICAGO))
    services.run_pass(now=at(date(2026, 11, 10)))
    moved = book(session, datetime(2026, 11, 20, 16, 30, tzinfo=CHICAGO))
    services.run_pass(now=at(date(2026, 11, 18)))
    reminder = _email("Reminder")
    assert "16:30 CST" in reminder.body and "11:00" not in reminder.body
    event = Calendar.from_ical(reminder.attachments[0][1]).walk("VEVENT")[0]
    assert event.decoded("dtstart") == datetime(2026, 11, 20, 16, 30, tzinfo=CHICAGO)
    sms = [m["body"] for m in LocmemSMSBackend.outbox]
    assert sms and all("16:30" in b and "11:00" not in b for b in sms)
    old = OutboxMessage.objects.filter(session=moved).exclude(target=services.session_target(moved))
    assert old.exists() and set(old.values_list("status", flat=True)) == {MessageStatus.CANCELLED}


def test_a_same_day_move_after_the_reminder_went_out_sends_a_fresh_one(course, book):
    session = book(course.sessions.get(number=1), datetime(2026, 11, 20, 11, 0, tzinfo=CHICAGO))
    services.run_pass(now=at(date(2026, 11, 18)))
    assert "11:00 CST" in _email("Reminder").body
    mail.outbox.clear()
    book(session, datetime(2026, 11, 20, 16, 30, tzinfo=CHICAGO))
    services.run_pass(now=at(date(2026, 11, 18), 12))
    assert "16:30 CST" in _email("Reminder").body


def test_withdrawn_consent_stops_every_session_reminder(clinician, course, book):
    consent = sign_for_course(actor_of(clinician), course, render=False)
    book(course.sessions.get(number=1))
    services.run_pass(now=at(date(2026, 11, 10)))
    assert OutboxMessage.objects.filter(status=MessageStatus.QUEUED).count() == 5
    with transaction.atomic():
        consent_services.withdraw_consent(actor_of(clinician), consent, reason="Patient changed their mind")
    for day in (13, 17, 18, 19):
        services.run_pass(now=at(date(2026, 11, day)))
    assert mail.outbox == [] and LocmemSMSBackend.outbox == []
    rows = OutboxMessage.objects.all()
    assert {m.status for m in rows} == {MessageStatus.CANCELLED}
    assert all("withdrew consent" in m.error for m in rows)


def test_the_send_re_checks_consent_even_without_a_planning_pass(clinician, course, book):
    consent = sign_for_course(actor_of(clinician), course, render=False)
    book(course.sessions.get(number=1))
    services.run_pass(now=at(date(2026, 11, 10)))
    with transaction.atomic():
        consent_services.withdraw_consent(actor_of(clinician), consent, reason="Patient changed their mind")
    message = OutboxMessage.objects.get(kind=MessageKind.PRE_PROCEDURE)
    assert services.send_message(message, now=at(date(2026, 11, 13))) == MessageStatus.CANCELLED
    assert mail.outbox == []


def test_a_closed_course_stops_its_reminders(clinician, course, book):
    book(course.sessions.get(number=1))
    services.run_pass(now=at(date(2026, 11, 10)))
    with transaction.atomic():
        treatment_services.close_course(actor_of(clinician), course, reason="lost_to_follow_up")
    services.run_pass(now=at(date(2026, 11, 18)))
    assert mail.outbox == [] and LocmemSMSBackend.outbox == []
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {MessageStatus.CANCELLED}


def test_the_send_re_checks_the_course_state_whatever_path_closed_it(clinician, course, book):
    book(course.sessions.get(number=1))
    services.run_pass(now=at(date(2026, 11, 10)))
    # A course stopped by a path that did not cancel its reminders (an import, a data fix): the send still checks.
    with transaction.atomic():
        update_record(actor_of(clinician), course, {"status": CourseStatus.STOPPED}, "test.course.stopped",
                      expected_version=None)  # fmt: skip
    message = OutboxMessage.objects.get(kind=MessageKind.PRE_PROCEDURE)
    assert services.send_message(message, now=at(date(2026, 11, 13))) == MessageStatus.CANCELLED
    message.refresh_from_db()
    assert message.error == "The course is stopped." and mail.outbox == []


def test_a_longer_nsaid_window_after_planning_moves_the_reminder_and_its_date(booked):
    services.run_pass(now=at(date(2026, 11, 10)))
    _set(booked.clinic, nsaid_stop_days=5)
    services.run_pass(now=at(date(2026, 11, 11)))
    row = OutboxMessage.objects.get(kind=MessageKind.NSAID_STOP, channel=Channel.EMAIL)
    assert row.scheduled_for == date(2026, 11, 15)
    services.run_pass(now=at(date(2026, 11, 15)))
    nsaid = _email("From today")
    assert "From today, Sunday 15 November 2026 (5 days before your appointment)" in nsaid.body
    assert "17 November" not in nsaid.body


def test_a_shorter_nsaid_window_after_planning_waits_for_the_new_day(booked):
    services.run_pass(now=at(date(2026, 11, 10)))
    _set(booked.clinic, nsaid_stop_days=1)
    message = OutboxMessage.objects.get(kind=MessageKind.NSAID_STOP, channel=Channel.EMAIL)
    assert services.send_message(message, now=at(date(2026, 11, 17))) == MessageStatus.QUEUED  # not due any more
    services.run_pass(now=at(date(2026, 11, 19)))
    nsaid = _email("From today")
    assert "From today, Thursday 19 November 2026 (1 day before your appointment)" in nsaid.body


def test_an_nsaid_window_of_zero_cancels_the_nsaid_reminders(booked):
    services.run_pass(now=at(date(2026, 11, 10)))
    _set(booked.clinic, nsaid_stop_days=0)
    services.run_pass(now=at(date(2026, 11, 17)))
    rows = OutboxMessage.objects.filter(kind=MessageKind.NSAID_STOP)
    assert rows.count() == 2 and set(rows.values_list("status", flat=True)) == {MessageStatus.CANCELLED}
    assert LocmemSMSBackend.outbox == []


def test_a_late_nsaid_email_says_today_and_names_today(course, book):
    # Booked on the 18th for the 20th: the stop day (17th) has passed; the email names the 18th, not the 17th.
    book(course.sessions.get(number=1))
    services.run_pass(now=at(date(2026, 11, 18)))
    nsaid = _email("From today")
    assert "From today, Wednesday 18 November 2026" in nsaid.body and "17 November" not in nsaid.body
    instructions = _email("Preparing")
    assert "From today, Wednesday 18 November 2026" in instructions.body and "17 November" not in instructions.body


def test_due_messages_wait_for_the_sending_window(booked):
    services.run_pass(now=at(date(2026, 11, 13), 0, 5))
    services.run_pass(now=at(date(2026, 11, 13), 7, 59))
    assert mail.outbox == []
    services.run_pass(now=at(date(2026, 11, 13), 8, 0))
    assert len(mail.outbox) == 1
    _set(booked.clinic, send_window_start_hour=10, send_window_end_hour=12)
    services.run_pass(now=at(date(2026, 11, 17), 9, 0))
    services.run_pass(now=at(date(2026, 11, 17), 12, 0))
    assert len(mail.outbox) == 1 and LocmemSMSBackend.outbox == []
    message = OutboxMessage.objects.get(kind=MessageKind.NSAID_STOP, channel=Channel.SMS)
    assert services.send_message(message, now=at(date(2026, 11, 17), 21)) == MessageStatus.QUEUED
    services.run_pass(now=at(date(2026, 11, 17), 11, 59))
    assert len(mail.outbox) == 2 and len(LocmemSMSBackend.outbox) == 1


def test_emails_are_multipart_with_contact_zone_and_opt_out(booked):
    _set(booked.clinic, contact_phone="(312) 555-0100", contact_email="desk@alpha.example")
    services.run_pass(now=at(date(2026, 11, 18)))
    reminder, nsaid = _email("Reminder"), _email("From today")
    for email in (reminder, nsaid):
        html = {mime: body for body, mime in email.alternatives}["text/html"]
        assert "(312) 555-0100" in email.body and "(312) 555-0100" in html
        assert "CST" in email.body and "CST" in html
        assert "<p>" in html and "Dear Ada" in html
    assert "To stop these reminders" in reminder.body
    assert reminder.extra_headers["List-Unsubscribe"].startswith("<mailto:desk@alpha.example?subject=")
    assert reminder.reply_to == ["desk@alpha.example"]
    # The NSAID stop is part of the patient's care: no one-click unsubscribe, but a line saying how to opt out.
    assert "List-Unsubscribe" not in nsaid.extra_headers and "part of your care" in nsaid.body
    message = reminder.message()
    assert message.get_content_type() == "multipart/mixed"
    assert {p.get_content_type() for p in message.walk()} >= {"text/plain", "text/html", "text/calendar"}


def test_a_planned_row_holds_no_words_until_sent(booked):
    services.run_pass(now=at(date(2026, 11, 10)))
    assert set(OutboxMessage.objects.values_list("body", flat=True)) == {""}
    services.run_pass(now=at(date(2026, 11, 13)))
    sent = OutboxMessage.objects.get(status=MessageStatus.SENT)
    assert sent.body.startswith("Dear Ada") and sent.subject.startswith("Preparing")


def test_the_clinic_time_zone_abbreviation_follows_daylight_saving(course, book):
    book(course.sessions.get(number=1), datetime(2026, 10, 30, 9, 30, tzinfo=CHICAGO))
    services.run_pass(now=datetime(2026, 10, 28, 14, 0, tzinfo=ZoneInfo("UTC")))
    assert "Friday 30 October 2026 at 09:30 CDT" in _email("Reminder").body
