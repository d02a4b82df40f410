"""The patient's pages by link (no login): the manage page, cancel, move and the follow-up booking page render, show
only their appointment, refuse bad posts writing nothing, and answer unknown, closed and too many tokens as the
questionnaire links do (404, 410, 429)."""

from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.utils import timezone

from prolotrack.audit.models import AuditEvent
from prolotrack.billing.testing import set_clinic_settings
from prolotrack.booking import patient_links, services
from prolotrack.booking.models import Appointment, AppointmentKind, AppointmentStatus
from prolotrack.booking.testing import at, next_weekday
from prolotrack.clinics.testing import actor_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counts() -> None:
    cache.clear()  # rate-limit counts live in the cache


@pytest.fixture
def visit(frontdesk: Any, clinician: Any, make_patient: Any, types: dict[str, Any]) -> Appointment:
    patient = make_patient(email="ada@example.org")
    day = next_weekday(patient.clinic, 1, at_least=3)
    return services.book_appointment(
        actor_of(frontdesk),
        patient=patient,
        appointment_type=types[AppointmentKind.FOLLOW_UP],
        clinician=clinician,
        starts_at=at(patient.clinic, day, "10:00"),
    )


@pytest.fixture
def token(frontdesk: Any, visit: Appointment) -> str:
    return patient_links.issue_manage_link(actor_of(frontdesk), visit)[1]


def test_the_manage_page_shows_only_its_appointment(client: Any, token: str, visit: Appointment, clinic: Any) -> None:
    set_clinic_settings(clinic, address="1 River Road, Springfield", contact_phone="(312) 555-0199")
    page = client.get(f"/my-appointment/{token}/")
    text = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"] and page["X-Robots-Tag"] == "noindex"
    local = timezone.localtime(visit.starts_at, clinic.tz)
    assert "Follow-up" in text and "Clinician" in text and f"{local:%H:%M}" in text and local.tzname() in text
    assert "1 River Road, Springfield" in text and "(312) 555-0199" in text
    assert "Lovelace" not in text and "Ada" not in text  # the page names no one (a link may be forwarded)
    assert "Move to another time" in text and "Cancel the appointment" in text
    assert AuditEvent.objects.filter(action="booking.manage_link.opened", channel="patient_link").count() == 1


def test_outside_the_window_the_page_says_to_call(client: Any, token: str, clinic: Any) -> None:
    set_clinic_settings(clinic, booking_cancel_window_hours=336, contact_phone="(312) 555-0199")
    for path in ("", "cancel/", "move/"):
        text = client.get(f"/my-appointment/{token}/{path}").content.decode()
        assert "can no longer be changed online" in text and "(312) 555-0199" in text
        assert 'name="slot"' not in text and 'name="reason"' not in text


def test_cancel_from_the_page(client: Any, token: str, visit: Appointment) -> None:
    page = client.get(f"/my-appointment/{token}/cancel/")
    assert page.status_code == 200 and "I am unwell" in page.content.decode()
    refused = client.post(f"/my-appointment/{token}/cancel/", {"reason": "other", "details": ""})
    assert refused.status_code == 400 and "Tell the clinic the reason" in refused.content.decode()
    assert Appointment.objects.get(pk=visit.pk).status == AppointmentStatus.BOOKED
    done = client.post(f"/my-appointment/{token}/cancel/", {"reason": "cannot_come"})
    assert done.status_code == 200 and "Your appointment is cancelled" in done.content.decode()
    assert Appointment.objects.get(pk=visit.pk).status == AppointmentStatus.CANCELLED
    assert client.get(f"/my-appointment/{token}/").status_code == 410  # revoked with the appointment


def test_move_from_the_page(client: Any, token: str, visit: Appointment, clinic: Any) -> None:
    day = timezone.localtime(visit.starts_at, clinic.tz).date()
    page = client.get(f"/my-appointment/{token}/move/", {"day": day.isoformat()})
    text = page.content.decode()
    assert page.status_code == 200 and 'name="slot"' in text and "Next day" in text
    target = at(clinic, day, "15:00")
    refused = client.post(f"/my-appointment/{token}/move/?day={day}", {"slot": "not a time"})
    assert refused.status_code == 409 and Appointment.objects.get(pk=visit.pk).starts_at == visit.starts_at
    moved = client.post(f"/my-appointment/{token}/move/", {"slot": f"{target.isoformat()}|x"})
    assert moved.status_code == 302 and moved["Location"].endswith("?done=moved")
    assert Appointment.objects.get(pk=visit.pk).starts_at == target
    assert "was moved" in client.get(moved["Location"]).content.decode()


def test_unknown_and_closed_tokens_show_nothing_and_too_many_are_limited(
    client: Any, token: str, frontdesk: Any, visit: Appointment
) -> None:
    unknown = client.get("/my-appointment/not-a-token/")
    assert unknown.status_code == 404 and "Follow-up" not in unknown.content.decode()
    services.cancel_appointment(actor_of(frontdesk), visit, reason="clinic", expected_version=None)
    closed = client.get(f"/my-appointment/{token}/")
    assert closed.status_code == 410 and "Follow-up" not in closed.content.decode()
    for _ in range(patient_links.FAILED_LOOKUPS.allowed):
        client.get("/follow-up/guess/")
    limited = client.get("/my-appointment/another-guess/")
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0


def test_an_open_link_opens_even_when_its_address_is_limited(client: Any, token: str) -> None:
    for _ in range(patient_links.FAILED_LOOKUPS.allowed + 1):
        client.get("/my-appointment/guess/")
    assert client.get(f"/my-appointment/{token}/").status_code == 200


def test_the_follow_up_page_books_once(client: Any, frontdesk: Any, patient: Any, clinician: Any, types: Any) -> None:
    _link, follow_token = patient_links.create_follow_up_link(
        actor_of(frontdesk), patient, appointment_type=types[AppointmentKind.FOLLOW_UP], clinician=clinician
    )
    day = next_weekday(patient.clinic, 2, at_least=3)
    page = client.get(f"/follow-up/{follow_token}/", {"day": day.isoformat()})
    text = page.content.decode()
    assert page.status_code == 200 and "Book your Follow-up" in text and 'name="slot"' in text
    assert "Lovelace" not in text
    taken = client.post(f"/follow-up/{follow_token}/", {"slot": f"{at(patient.clinic, day, '12:15').isoformat()}|x"})
    assert taken.status_code == 409 and not Appointment.objects.exists()
    start = at(patient.clinic, day, "10:00")
    booked = client.post(f"/follow-up/{follow_token}/", {"slot": f"{start.isoformat()}|{clinician.uuid}"})
    assert booked.status_code == 200 and "Your appointment is booked" in booked.content.decode()
    assert Appointment.objects.get().starts_at == start
    assert client.get(f"/follow-up/{follow_token}/").status_code == 410


def test_a_link_page_opens_on_the_first_day_with_free_times(
    client: Any, admin_user: Any, frontdesk: Any, patient: Any, clinician: Any, types: Any
) -> None:
    """Opened without a day, a follow-up link whose today has no free time shows the next day that has one (a link
    opened late in the afternoon showed an empty today); a day the patient asks for is shown even when it is empty."""
    from prolotrack.booking import queries

    today = queries.clinic_today(patient.clinic)
    services.add_time_off(actor_of(admin_user), clinician=clinician, first_day=today, last_day=today, note="away")
    _link, token = patient_links.create_follow_up_link(
        actor_of(frontdesk), patient, appointment_type=types[AppointmentKind.FOLLOW_UP], clinician=clinician
    )
    opened = client.get(f"/follow-up/{token}/")
    assert opened.status_code == 200
    picker = opened.context["picker"]
    assert picker.day > today and picker.slots, "the page opens on a day with free times"
    asked = client.get(f"/follow-up/{token}/", {"day": today.isoformat()}).context["picker"]
    assert asked.day == today and asked.slots == [] and asked.next_free_day == picker.day


def test_staff_make_a_follow_up_link_shown_once(
    client: Any, login: Any, frontdesk: Any, researcher: Any, patient: Any, types: Any
) -> None:
    from prolotrack.booking.models import FollowUpLink

    login(researcher)
    assert client.get(f"/patients/{patient.uuid}/follow-up-link/").status_code == 403
    login(frontdesk)
    page = client.get(f"/patients/{patient.uuid}/follow-up-link/")
    text = page.content.decode()
    assert page.status_code == 200 and "Follow-up" in text and "Prolotherapy session" not in text  # no course sessions
    refused = client.post(f"/patients/{patient.uuid}/follow-up-link/", {"type": "nonsense"})
    assert refused.status_code == 400 and not FollowUpLink.objects.exists()
    made = client.post(
        f"/patients/{patient.uuid}/follow-up-link/", {"type": str(types[AppointmentKind.FOLLOW_UP].uuid)}
    )
    url = made.content.decode().split('readonly value="')[1].split('"')[0]
    assert made.status_code == 200 and "/follow-up/" in url and FollowUpLink.objects.get().patient == patient
    client.logout()
    assert client.get(urlsplit(url).path).status_code == 200
