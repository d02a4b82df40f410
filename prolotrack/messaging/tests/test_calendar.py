"""Calendar feeds (RFC 5545): secret, revocable, the right events, minimum necessary text; the patient's .ics."""

from datetime import datetime, timedelta

import pytest
from django.db import transaction
from icalendar import Calendar

from prolotrack.clinics.testing import actor_of
from prolotrack.messaging import services
from prolotrack.messaging.models import CalendarFeedToken
from prolotrack.messaging.tests.conftest import CHICAGO
from prolotrack.treatment import services as treatment_services
from prolotrack.treatment.models import SessionStatus


@pytest.fixture
def today(monkeypatch):
    """Pin the clinic's 'today' so the feed's window contains the fixture's November sessions."""
    from datetime import date

    monkeypatch.setattr("prolotrack.messaging.views.clinic_today", lambda clinic: date(2026, 11, 10))


def feed_of(client, token):
    response = client.get(f"/calendar/feed/{token}.ics")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def test_a_clinicians_feed_lists_their_sessions_with_stable_uids(client, clinician, booked, course, book, today):
    _feed, token = services.create_feed_token(actor_of(clinician))
    cal = feed_of(client, token)
    events = cal.walk("VEVENT")
    assert [str(e["uid"]) for e in events] == [f"session-{booked.uuid}@prolotrack"]
    event = events[0]
    assert event.decoded("dtstart") == datetime(2026, 11, 20, 9, 30, tzinfo=CHICAGO)
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(minutes=45)
    assert "dtstamp" in event and str(event["status"]) == "CONFIRMED"
    assert cal.walk("VTIMEZONE")[0]["tzid"] == "America/Chicago"
    # Minimum necessary: first name and family initial; no diagnosis, region or MRN.
    summary = str(event["summary"])
    assert summary == "Prolotherapy session 1: Ada L."
    text = (summary + str(event["description"])).lower()
    for secret in ("osteoarthritis", "knee", "lovelace", booked.patient.mrn.lower()):
        assert secret not in text
    # The same session keeps its UID when rebooked; a cancelled one stays as STATUS:CANCELLED.
    book(booked.__class__.objects.get(pk=booked.pk), datetime(2026, 11, 21, 11, 0, tzinfo=CHICAGO))
    with transaction.atomic():
        treatment_services.set_attendance(
            actor_of(clinician),
            booked.__class__.objects.get(pk=booked.pk),
            SessionStatus.CANCELLED,
            reason="patient_unwell",
        )
    event = feed_of(client, token).walk("VEVENT")[0]
    assert str(event["uid"]) == f"session-{booked.uuid}@prolotrack"
    assert str(event["status"]) == "CANCELLED" and str(event["summary"]).startswith("Cancelled:")
    assert event.decoded("dtstart") == datetime(2026, 11, 21, 11, 0, tzinfo=CHICAGO)


def test_only_the_hash_is_stored_and_a_revoked_or_regenerated_url_stops_working(client, clinician, booked, today):
    feed, token = services.create_feed_token(actor_of(clinician))
    assert token not in feed.token_hash and feed.token_hash == services.hash_token(token)
    feed_of(client, token)
    _new, new_token = services.create_feed_token(actor_of(clinician))  # regenerate
    assert client.get(f"/calendar/feed/{token}.ics").status_code == 404
    feed_of(client, new_token)
    services.revoke_feed_token(actor_of(clinician))
    assert client.get(f"/calendar/feed/{new_token}.ics").status_code == 404
    assert CalendarFeedToken.objects.filter(user=clinician).count() == 2  # kept, revoked


def test_a_feed_stops_when_its_owner_leaves_the_clinic(client, clinician, booked, today):
    _feed, token = services.create_feed_token(actor_of(clinician))
    clinician.memberships.update(is_active=False)
    assert client.get(f"/calendar/feed/{token}.ics").status_code == 404
    assert client.get("/calendar/feed/not-a-token.ics").status_code == 404


def test_another_clinicians_sessions_are_not_in_my_feed(client, make_member, clinic, booked, today):
    other = make_member("other_doc", "clinician", clinic)
    _feed, token = services.create_feed_token(actor_of(other))
    assert feed_of(client, token).walk("VEVENT") == []


def test_the_front_desk_feed_lists_the_clinics_sessions(client, frontdesk, booked, today):
    _feed, token = services.create_feed_token(actor_of(frontdesk))
    assert len(feed_of(client, token).walk("VEVENT")) == 1


def test_roles_without_calendar_feed_cannot_create_one(admin_user, researcher):
    from prolotrack.audit.services import AccessDenied

    for user in (admin_user, researcher):
        with pytest.raises(AccessDenied):
            services.create_feed_token(actor_of(user))


def test_reading_a_feed_is_audited(client, clinician, booked, today):
    from prolotrack.audit.models import AuditEvent

    _feed, token = services.create_feed_token(actor_of(clinician))
    feed_of(client, token)
    event = AuditEvent.objects.get(action="calendar.feed.read")
    assert event.user == clinician and event.detail["sessions"] == 1


def test_the_feed_page_shows_a_new_url_once(login, clinician):
    client = login(clinician)
    page = client.post("/account/calendar-feed/", {"action": "create"})
    assert page.status_code == 200 and b"/calendar/feed/" in page.content and b"only this once" in page.content
    again = client.get("/account/calendar-feed/")
    assert b"/calendar/feed/" not in again.content and b"A feed address is active" in again.content
    revoked = client.post("/account/calendar-feed/", {"action": "revoke"}, follow=True)
    assert b"You have no calendar feed" in revoked.content
    assert client.post("/account/calendar-feed/", {"action": "delete-everything"}).status_code == 400


def test_the_session_ics_downloads_for_the_patient(login, frontdesk, booked):
    response = login(frontdesk).get(f"/sessions/{booked.uuid}/appointment.ics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    assert 'filename="appointment-2026-11-20.ics"' in response["Content-Disposition"]
    cal = Calendar.from_ical(response.content)
    event = cal.walk("VEVENT")[0]
    assert str(event["summary"]) == "Appointment at Alpha Clinic" and str(cal["method"]) == "PUBLISH"
    assert event.decoded("dtstart") == datetime(2026, 11, 20, 9, 30, tzinfo=CHICAGO)


def test_an_unbooked_session_has_no_ics(login, frontdesk, course):
    session = course.sessions.get(number=2)
    assert login(frontdesk).get(f"/sessions/{session.uuid}/appointment.ics").status_code == 404
