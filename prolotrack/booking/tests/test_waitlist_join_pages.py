"""The pages of joining the waitlist by oneself (booking/views/public_waitlist.py): the public join in English and
Spanish, refused forms writing nothing, the whole path with the code, the same answer for a known patient, an
unknown person and a robot; asking for an earlier time from a manage link and joining from a follow-up link; the
person's own link (leave; unknown links); where an entry came from on the staff page."""

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.booking import patient_links, queries, services
from prolotrack.booking.models import (
    Appointment,
    AppointmentKind,
    PendingPatient,
    WaitlistEntry,
    WaitlistLink,
    WaitlistStatus,
)
from prolotrack.booking.testing import at, next_weekday
from prolotrack.clinics.testing import actor_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counts() -> None:
    cache.clear()  # rate-limit counts live in the cache


@pytest.fixture
def open_clinic(clinic: Any, types: Any) -> Any:
    clinic.settings = {**clinic.settings, "online_booking": True}
    clinic.save()
    return clinic


def counts() -> tuple[int, ...]:
    return (
        PendingPatient.objects.count(),
        WaitlistEntry.objects.count(),
        WaitlistLink.objects.count(),
        RecordVersion.objects.count(),
        AuditEvent.objects.count(),
    )


def form(clinic: Any, types: Any, **changes: Any) -> dict[str, Any]:
    today = queries.clinic_today(clinic)
    return {
        "type": str(types[AppointmentKind.FOLLOW_UP].uuid),
        "clinician": "",
        "first_day": today.isoformat(),
        "last_day": (today + timedelta(days=14)).isoformat(),
        "weekdays": ["0", "2"],
        "earliest": "",
        "latest": "12:00",
        "given_name": "Grace",
        "family_name": "Hopper",
        "date_of_birth": "1970-12-09",
        "email": "grace@example.com",
        "phone": "",
        **changes,
    }


def test_the_join_page_in_english_and_spanish(client, open_clinic):
    url = f"/book/{open_clinic.slug}/waitlist/"
    english = client.get(url).content.decode()
    assert "Join the waitlist" in english and 'name="weekdays"' in english and 'name="website"' in english
    spanish = Client(HTTP_ACCEPT_LANGUAGE="es").get(url)
    text = spanish.content.decode()
    assert spanish["Content-Language"] == "es" and '<html lang="es">' in text
    assert "Unirse a la lista de espera" in text and "lunes" in text and "Join the waitlist" not in text
    start = client.get(f"/book/{open_clinic.slug}/").content.decode()
    assert f"/book/{open_clinic.slug}/waitlist/?type=" in start  # the way there when no time suits


def test_the_join_page_is_a_kind_404_while_online_booking_is_off(client, clinic, types):
    assert client.get(f"/book/{clinic.slug}/waitlist/").status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"given_name": ""}, "given_name"),
        ({"email": "", "phone": ""}, "contact"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"first_day": "soon"}, "first_day"),
        ({"earliest": "13:00", "latest": "12:00"}, "latest"),
        ({"weekdays": ["9"]}, "weekdays"),
        ({"type": "not-a-type"}, "type"),
        ({"clinician": "00000000-0000-0000-0000-000000000000"}, "clinician"),
    ],
)
def test_a_refused_form_says_why_next_to_the_field_and_writes_nothing(client, open_clinic, types, changes, field):
    before = counts()
    answer = client.post(f"/book/{open_clinic.slug}/waitlist/", form(open_clinic, types, **changes))
    assert answer.status_code == 400
    assert f'id="{field}-error"' in answer.content.decode()
    assert counts() == before and mail.outbox == []


@pytest.mark.parametrize(
    ("typed", "said"),
    [("", "Please choose a day."), ("23/04/2026", "Please give the date as year-month-day, for example 2026-04-23.")],
)
def test_a_day_left_empty_is_asked_for_and_a_mistyped_one_shown_how(client, open_clinic, types, typed, said):
    """An empty day is not a format mistake: the patient is asked to choose one (found on a phone walk)."""
    answer = client.post(f"/book/{open_clinic.slug}/waitlist/", form(open_clinic, types, last_day=typed))
    assert answer.status_code == 400
    assert f'<p class="error" id="last_day-error">{said}</p>' in answer.content.decode()


def test_the_whole_path_and_leaving_from_the_own_link(client, open_clinic, types, frontdesk, login):
    answer = client.post(f"/book/{open_clinic.slug}/waitlist/", form(open_clinic, types))
    assert answer.status_code == 302 and answer["Location"] == f"/book/{open_clinic.slug}/waitlist/code/"
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    wrong = client.post(answer["Location"], {"code": "000000"})
    assert wrong.status_code == 400 and "4 more tries" in wrong.content.decode()
    done = client.post(answer["Location"], {"code": code})
    page = done.content.decode()
    assert done.status_code == 200 and "You are on the waitlist" in page
    assert "Monday, Wednesday" in page and "finished by 12:00" in page
    own = re.search(r'href="(/waitlist/[\w-]+/)"', page).group(1)
    assert own in mail.outbox[-1].body  # the same link, sent on the channel verified
    entry = WaitlistEntry.objects.get()
    assert entry.status == WaitlistStatus.ACTIVE and entry.weekdays == "02" and str(entry.latest) == "12:00:00"
    # Staff see where it came from, and that the person is not confirmed yet.
    login(frontdesk)
    staff = client.get("/booking/waitlist/").content.decode()
    assert "Joined on the public booking page" in staff and "pending" in staff
    desk = client.get(f"/booking/pending/{entry.pending_patient.uuid}/").content.decode()
    assert "On the waitlist" in desk and "Follow-up with anyone" in desk
    person = Client()
    shown = person.get(own).content.decode()
    assert "Follow-up" in shown and "Leave the waitlist" in shown and "Grace" not in shown
    left = person.post(own, {"answer": "leave"})
    assert left.status_code == 200 and "You are off the waitlist" in left.content.decode()
    assert WaitlistEntry.objects.get().status == WaitlistStatus.WITHDRAWN


def _normalised(text: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)


def test_the_same_answer_for_a_known_patient_an_unknown_person_and_a_robot(open_clinic, types, make_patient):
    make_patient(given_name="Grace", family_name="Hopper", date_of_birth=date(1970, 12, 9), email="grace@example.com")
    answers = []
    for extra in ({}, {"given_name": "Unknown", "email": "nobody@example.com"}, {"website": "http://spam.example"}):
        person = Client()
        before = counts()
        response = person.post(f"/book/{open_clinic.slug}/waitlist/", form(open_clinic, types, **extra))
        page = person.get(response["Location"])
        answers.append((response.status_code, response["Location"], page.status_code, _normalised(page.text)))
        if "website" in extra:  # the robot: nothing written, nothing sent
            assert counts() == before and len(mail.outbox) == 2
    assert answers[0] == answers[1] == answers[2]


@pytest.fixture
def visit(frontdesk: Any, clinician: Any, make_patient: Any, types: Any, clinic: Any) -> Appointment:
    day = next_weekday(clinic, 2, at_least=8)
    return services.book_appointment(
        actor_of(frontdesk), patient=make_patient(email="ada@example.org", preferred_language="es"),
        appointment_type=types[AppointmentKind.FOLLOW_UP], clinician=clinician, starts_at=at(clinic, day, "15:00"),
    )  # fmt: skip


def test_an_earlier_time_from_the_manage_page_in_the_patients_language(client, clinic, frontdesk, visit):
    _link, token = patient_links.issue_manage_link(actor_of(frontdesk), visit)
    manage = client.get(f"/my-appointment/{token}/").content.decode()
    assert f"/my-appointment/{token}/waitlist/" in manage
    page = client.get(f"/my-appointment/{token}/waitlist/")
    assert page.status_code == 200 and "Pedir una hora antes" in page.content.decode()  # Ada reads Spanish
    visit_day = queries.clinic_today(clinic) + timedelta(days=30)
    before = counts()
    late = client.post(f"/my-appointment/{token}/waitlist/", {"first_day": queries.clinic_today(clinic).isoformat(),
                                                               "last_day": visit_day.isoformat()})  # fmt: skip
    assert late.status_code == 400 and 'id="last_day-error"' in late.content.decode() and counts() == before
    day = visit.starts_at.astimezone(clinic.tz).date()
    joined = client.post(
        f"/my-appointment/{token}/waitlist/", {"first_day": day.isoformat(), "last_day": day.isoformat()}
    )
    assert joined.status_code == 302 and joined["Location"].startswith("/waitlist/")
    entry = WaitlistEntry.objects.get()
    assert entry.replaces == visit and entry.source == "link"
    shown = client.get(joined["Location"]).content.decode()
    assert "Está en la lista de espera" in shown


def test_joining_from_a_follow_up_link(client, clinic, frontdesk, make_patient, types):
    patient = make_patient(email="ada@example.org")
    _link, token = patient_links.create_follow_up_link(
        actor_of(frontdesk), patient, appointment_type=types[AppointmentKind.FOLLOW_UP]
    )
    assert f"/follow-up/{token}/waitlist/" in client.get(f"/follow-up/{token}/").content.decode()
    assert client.get(f"/follow-up/{token}/waitlist/").status_code == 200
    today = queries.clinic_today(clinic)
    answer = client.post(
        f"/follow-up/{token}/waitlist/", {"first_day": today.isoformat(), "last_day": today.isoformat(), "latest": "x"}
    )
    assert answer.status_code == 400 and not WaitlistEntry.objects.exists()
    answer = client.post(
        f"/follow-up/{token}/waitlist/", {"first_day": today.isoformat(), "last_day": today.isoformat()}
    )
    assert answer.status_code == 302 and WaitlistEntry.objects.get().patient == patient
    again = client.post(
        f"/follow-up/{token}/waitlist/", {"first_day": today.isoformat(), "last_day": today.isoformat()}
    )
    assert again.status_code == 400 and "already on the waitlist" in again.content.decode()


def test_unknown_own_links_show_nothing_and_are_limited(client):
    for _ in range(20):
        assert client.get("/waitlist/not-a-real-token/").status_code == 404
    assert client.get("/waitlist/not-a-real-token/").status_code == 429
