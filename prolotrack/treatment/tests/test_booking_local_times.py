"""Booking at a time the clocks skip or pass twice (issue 19: 02:15 on the spring-forward day was confirmed as 02:15
and stored as 03:15)."""

from datetime import UTC, datetime

from prolotrack.treatment.models import SessionStatus, TreatmentSession


def _post(client, session, **changes):
    data = {"day": "2027-03-14", "time": "02:15", "clinician": "clinician", "duration_minutes": "30",
            "version": session.version, **changes}  # fmt: skip
    return client.post(f"/sessions/{session.uuid}/appointment/", data)


def test_a_time_the_clocks_skip_is_refused_and_nothing_is_booked(login, frontdesk, clinician, session):
    # Chicago springs forward on Sunday 14 March 2027: 02:00-02:59 does not exist.
    response = _post(login(frontdesk), session)
    assert response.status_code == 400
    text = response.content.decode()
    assert "2027-03-14 02:15 does not exist in America/Chicago" in text and "Choose another time" in text
    assert TreatmentSession.objects.get(pk=session.pk).status == SessionStatus.PLANNED


def test_a_time_the_clocks_pass_twice_asks_which_then_books_the_one_chosen(login, frontdesk, clinician, session):
    client = login(frontdesk)
    asked = _post(client, session, day="2026-11-01", time="01:30")
    assert asked.status_code == 400 and "happens twice" in asked.content.decode()
    assert 'name="fold"' in asked.content.decode()
    assert TreatmentSession.objects.get(pk=session.pk).starts_at is None
    booked = _post(client, session, day="2026-11-01", time="01:30", fold="1")
    assert booked.status_code == 302
    # The second 01:30 is in CST (UTC-6): 07:30 UTC, not 06:30.
    assert TreatmentSession.objects.get(pk=session.pk).starts_at == datetime(2026, 11, 1, 7, 30, tzinfo=UTC)
