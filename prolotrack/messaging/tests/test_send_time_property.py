"""Property: whatever happens between planning and sending, a message says what the database says when it goes out.

Any sequence of book / move (same day or not) / cancel / withdraw consent / NSAID-window change / sending-window
change / scheduler pass, at any hour, never sends a message whose facts differ from the database at the moment of
sending, never sends one about a cancelled session or after consent was withdrawn, and never sends outside the
clinic's sending window (issue 19). The expected words are computed here from the rows, not by the code under test.
"""

from datetime import date, datetime, timedelta

import pytest
from django.core import mail
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prolotrack.clinics.models import Clinic
from prolotrack.clinics.testing import actor_of
from prolotrack.consent import services as consent_services
from prolotrack.consent.models import Consent, ConsentStatus
from prolotrack.consent.testing import sign_for_course
from prolotrack.messaging import services
from prolotrack.messaging.backends import LocmemSMSBackend
from prolotrack.messaging.tests.conftest import CHICAGO
from prolotrack.treatment import services as treatment_services
from prolotrack.treatment.models import SessionStatus, TreatmentSession

CLOCK_START = datetime(2026, 11, 1, 6, 0, tzinfo=CHICAGO)

actions = st.one_of(
    st.tuples(st.just("book"), st.integers(2, 20), st.integers(7, 18), st.sampled_from([0, 15, 30])),
    st.tuples(st.just("cancel")),
    st.tuples(st.just("withdraw")),
    st.tuples(st.just("nsaid"), st.integers(0, 6)),
    st.tuples(st.just("window"), st.sampled_from([(8, 20), (9, 17), (0, 24), (12, 13)])),
    st.tuples(st.just("pass"), st.integers(1, 40)),
)


def _day(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _check_sent(clinic: Clinic, session: TreatmentSession, now: datetime, emails: list, sms: list) -> None:
    """Every message this pass sent agrees with the rows as they are now (nothing changed during the pass)."""
    if not emails and not sms:
        return
    clinic.refresh_from_db()
    session.refresh_from_db()
    config = clinic.config
    local_now = now.astimezone(CHICAGO)
    assert config.send_window_start_hour <= local_now.hour < config.send_window_end_hour, "sent outside the window"
    assert session.status == SessionStatus.BOOKED, "sent about a session that is not booked"
    withdrawn = Consent.objects.filter(course_id=session.course_id, status=ConsentStatus.WITHDRAWN).exists()
    assert not withdrawn, "sent after consent was withdrawn"
    start = session.starts_at.astimezone(CHICAGO)
    assert local_now.date() < start.date(), "sent on or after the session day"
    when = f"{_day(start.date())} at {start:%H:%M} {start.tzname()}"
    stop = max(start.date() - timedelta(days=config.nsaid_stop_days), local_now.date())
    for text in [m.body for m in emails] + [m["body"] for m in sms]:
        assert when in text, f"stale appointment time: expected {when!r} in {text[:200]!r}"
    for email in emails:
        if email.subject.startswith("From today"):
            assert config.nsaid_stop_days > 0, "NSAID reminder sent with no NSAID window"
            assert f"From today, {_day(local_now.date())}" in email.body
        if email.subject.startswith(("From today", "Preparing")) and config.nsaid_stop_days > 0:
            assert _day(stop) in email.body, f"stale NSAID date: expected {_day(stop)}"
        if email.subject.startswith("Reminder"):
            ics = email.attachments[0][1]
            assert f"DTSTART;TZID=America/Chicago:{start:%Y%m%dT%H%M%S}" in ics, "stale .ics"


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    stateful_step_count=10,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(actions, min_size=1, max_size=10))
def test_no_message_says_anything_the_database_does_not(clinician, course, steps):
    actor = actor_of(clinician)
    with transaction.atomic():
        consent = sign_for_course(actor, course, render=False)
        session = course.sessions.get(number=1)
        clinic = course.clinic
        now = CLOCK_START
        mail.outbox.clear()
        LocmemSMSBackend.outbox.clear()
        for step in steps:
            kind = step[0]
            session.refresh_from_db()
            if kind == "book" and session.status in (SessionStatus.PLANNED, SessionStatus.BOOKED):
                _, days, hour, minute = step
                when = datetime.combine(date(2026, 11, 1) + timedelta(days=days), datetime.min.time())
                starts = when.replace(hour=hour, minute=minute, tzinfo=CHICAGO)
                session = treatment_services.book_session(
                    actor, session, starts_at=starts, clinician=clinician, duration_minutes=45
                )
            elif kind == "cancel" and session.status in (SessionStatus.PLANNED, SessionStatus.BOOKED):
                session = treatment_services.set_attendance(actor, session, "cancelled", reason="Patient unwell")
            elif kind == "withdraw":
                consent.refresh_from_db()
                if consent.status == ConsentStatus.SIGNED:
                    consent = consent_services.withdraw_consent(actor, consent, reason="Patient changed their mind")
            elif kind == "nsaid":
                clinic.settings = {**(clinic.settings or {}), "nsaid_stop_days": step[1]}
                clinic.save(update_fields=["settings"])
            elif kind == "window":
                opens, closes = step[1]
                clinic.settings = {**(clinic.settings or {}), "send_window_start_hour": opens}
                clinic.settings["send_window_end_hour"] = closes
                clinic.save(update_fields=["settings"])
            elif kind == "pass":
                now += timedelta(hours=step[1])
                emails_before, sms_before = len(mail.outbox), len(LocmemSMSBackend.outbox)
                services.run_pass(now=now, clinics=[Clinic.objects.get(pk=clinic.pk)])
                _check_sent(clinic, session, now, mail.outbox[emails_before:], LocmemSMSBackend.outbox[sms_before:])
        transaction.set_rollback(True)
