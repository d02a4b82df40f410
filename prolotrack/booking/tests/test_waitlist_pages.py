"""The waitlist's pages: the staff list (who sees it, adding, refused input written nowhere, withdrawing) and the
patient's offer page by link (only the offered slot, accept, decline, closed links)."""

from datetime import time
from typing import Any

import pytest
from django.utils import timezone

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.booking import waitlist
from prolotrack.booking.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    WaitlistEntry,
    WaitlistStatus,
)
from prolotrack.booking.testing import next_weekday
from prolotrack.clinics.testing import actor_of

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int]:
    return WaitlistEntry.objects.count(), RecordVersion.objects.count(), AuditEvent.objects.count()


@pytest.fixture
def emailed(make_patient: Any) -> Any:
    return make_patient(given_name="Wanda", family_name="Wait", email="wanda@example.org")


def _entry(frontdesk: Any, clinic: Any, patient: Any, kind: Any) -> WaitlistEntry:
    day = next_weekday(clinic, 2, at_least=3)
    return waitlist.join_waitlist(
        actor_of(frontdesk),
        patient=patient,
        appointment_type=kind,
        first_day=day,
        last_day=day,
        earliest=time(10),
        latest=time(10, 30),
    )


@pytest.mark.parametrize(
    ("persona", "list_status", "add_status"),
    [("frontdesk", 200, 200), ("clinician", 200, 200), ("admin", 200, 403), ("researcher", 403, 403)],
)
def test_who_sees_the_waitlist(login, personas, types, persona, list_status, add_status):
    client = login(personas[persona])
    assert client.get("/booking/waitlist/").status_code == list_status
    assert client.get("/booking/waitlist/add/").status_code == add_status


def test_adding_from_the_page_and_seeing_the_entry(login, frontdesk, clinic, types, emailed):
    kind = types[AppointmentKind.FOLLOW_UP]
    client = login(frontdesk)
    page = client.get(f"/booking/waitlist/add/?patient={emailed.uuid}&type={kind.uuid}")
    assert page.status_code == 200 and "Wait, Wanda" in page.content.decode()
    day = next_weekday(clinic, 2, at_least=3)
    answer = client.post(
        "/booking/waitlist/add/",
        {
            "patient": str(emailed.uuid),
            "type": str(kind.uuid),
            "first_day": day.isoformat(),
            "last_day": day.isoformat(),
            "weekdays": ["2"],
            "earliest": "09:00",
            "latest": "12:00",
        },
    )
    assert answer.status_code == 302
    entry = WaitlistEntry.objects.get()
    assert entry.weekdays == "2" and entry.earliest == time(9)
    listing = client.get("/booking/waitlist/").content.decode()
    assert "Wait, Wanda" in listing and "Follow-up with anyone" in listing
    assert AuditEvent.objects.filter(action="booking.waitlist.viewed", patient_uuid=emailed.uuid).exists()


@pytest.mark.parametrize(
    ("post", "message"),
    [
        ({"first_day": "someday"}, "Give the first day as YYYY-MM-DD."),
        ({"last_day": ""}, "Choose the last day."),  # left empty: not a format to learn
        ({"earliest": "11:00", "latest": "10:00"}, "the earliest time must be before the latest"),
        ({"earliest": "half past"}, "Give a time of day such as 09:00"),
        ({"type": ""}, "Choose an appointment type this clinic offers."),
        ({"patient": ""}, "Choose the patient."),
    ],
)
def test_a_refused_form_shows_why_next_to_the_field_and_writes_nothing(
    login, frontdesk, clinic, types, emailed, post, message
):
    kind = types[AppointmentKind.FOLLOW_UP]
    day = next_weekday(clinic, 2, at_least=3).isoformat()
    data = {"patient": str(emailed.uuid), "type": str(kind.uuid), "first_day": day, "last_day": day, **post}
    client = login(frontdesk)
    before = _counts()
    answer = client.post("/booking/waitlist/add/", data)
    assert answer.status_code == 400
    assert message in answer.content.decode()
    assert _counts() == before


def test_withdrawing_needs_a_reason(login, frontdesk, clinic, types, emailed):
    entry = _entry(frontdesk, clinic, emailed, types[AppointmentKind.FOLLOW_UP])
    client = login(frontdesk)
    url = f"/booking/waitlist/{entry.uuid}/withdraw/"
    assert client.get(url).status_code == 200
    before = _counts()
    refused = client.post(url, {"version": entry.version, "reason": ""})
    assert refused.status_code == 400 and "Give the reason" in refused.content.decode()
    assert _counts() == before
    assert client.post(url, {"version": entry.version, "reason": "Found another clinic"}).status_code == 302
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.WITHDRAWN


def _offer_link(frontdesk: Any, clinic: Any, patient: Any, kind: Any) -> tuple[Any, str]:
    _entry(frontdesk, clinic, patient, kind)
    offer = waitlist.make_offers(clinic, timezone.now())[0]
    return offer, waitlist.issue_link(offer)


def test_the_offer_page_shows_only_the_slot_and_accepts(client, frontdesk, clinic, clinician, types, emailed):
    offer, path = _offer_link(frontdesk, clinic, emailed, types[AppointmentKind.FOLLOW_UP])
    page = client.get(path)
    text = page.content.decode()
    assert page.status_code == 200
    assert "Follow-up" in text and ("10:00–10:30 CST" in text or "10:00–10:30 CDT" in text)  # the clinic's zone
    assert clinician.get_full_name() in text
    for private in ("Wanda", "Wait", "wanda@example.org", "born"):
        assert private not in text  # the link shows the slot, nothing about the person
    assert "no-store" in page["Cache-Control"]
    done = client.post(path, {"answer": "accept"})
    assert done.status_code == 200 and "It is booked" in done.content.decode()
    assert Appointment.objects.get(pk=offer.appointment_id).status == AppointmentStatus.BOOKED
    again = client.get(path)
    assert again.status_code == 410 and "already been answered" in again.content.decode()


def test_declining_from_the_page_keeps_them_waiting(client, frontdesk, clinic, types, emailed):
    offer, path = _offer_link(frontdesk, clinic, emailed, types[AppointmentKind.FOLLOW_UP])
    answer = client.post(path, {"answer": "decline"})
    assert answer.status_code == 200 and "You stay on the waitlist" in answer.content.decode()
    assert WaitlistEntry.objects.get(pk=offer.entry_id).status == WaitlistStatus.ACTIVE
    assert Appointment.objects.get(pk=offer.appointment_id).status == AppointmentStatus.CANCELLED


def test_a_bad_answer_and_an_unknown_link(client, frontdesk, clinic, types, emailed):
    _offer, path = _offer_link(frontdesk, clinic, emailed, types[AppointmentKind.FOLLOW_UP])
    assert client.post(path, {"answer": "maybe"}).status_code == 400
    assert client.get("/waitlist/offer/not-a-real-token/").status_code == 404
