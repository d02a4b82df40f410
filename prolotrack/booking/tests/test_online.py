"""Online booking (booking/online.py, views/public.py; docs/BOOKING.md, "Online booking"): the hold and its code,
bad input writing nothing, the online rules, rate limits, the honeypot, the same answer for a known and an unknown
person, held-slot expiry, the kind 404."""

import re
from datetime import UTC, date, timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone
from django.utils.module_loading import import_string

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.booking import online, queries, services
from prolotrack.booking.models import Appointment, AppointmentKind, AppointmentStatus, PendingPatient, PendingStatus
from prolotrack.booking.testing import at, next_weekday
from prolotrack.clinics.testing import actor_of

pytestmark = pytest.mark.django_db

GOOD = {
    "given_name": "Grace",
    "family_name": "Hopper",
    "date_of_birth": "1970-12-09",
    "email": "grace@example.com",
    "phone": "",
}


def counts() -> tuple[int, ...]:
    return (
        PendingPatient.objects.count(),
        Appointment.objects.count(),
        AuditEvent.objects.count(),
        RecordVersion.objects.count(),
    )


@pytest.fixture(autouse=True)
def _fresh_counts() -> None:
    """Rate limits count in the cache, which outlives a test's database: each test starts from zero."""
    cache.clear()


@pytest.fixture
def open_clinic(clinic: Any, types: Any) -> Any:
    clinic.settings = {**clinic.settings, "online_booking": True}
    clinic.save()
    return clinic


@pytest.fixture
def day(clinic: Any) -> date:
    return next_weekday(clinic, 1)


def booker(**changes: str) -> online.Booker:
    return online.clean_booker({**GOOD, **changes}, date(2026, 12, 7), "en")


def hold(
    clinic: Any, types: Any, clinician: Any, day: date, clock: str = "10:00", kind: str = "assessment", **changes: str
) -> online.Held:
    return online.hold_online(
        clinic,
        appointment_type=types[kind],
        clinician=clinician,
        starts_at=at(clinic, day, clock),
        booker=booker(**changes),
        client_address="203.0.113.5",
    )


def sent_code() -> str:
    found = re.search(r"\b(\d{6})\b", mail.outbox[-1].body)
    assert found is not None
    return found.group(1)


# --- input ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"given_name": ""}, "given_name", "first name"),
        ({"given_name": "   "}, "given_name", "first name"),
        ({"family_name": "x" * 101}, "family_name", "at most 100"),
        ({"family_name": "1234"}, "family_name", "letters"),
        ({"family_name": "<script>"}, "family_name", "letters"),
        ({"date_of_birth": ""}, "date_of_birth", "date of birth"),
        ({"date_of_birth": "09/12/1970"}, "date_of_birth", "year-month-day"),
        ({"date_of_birth": "1970-02-30"}, "date_of_birth", "year-month-day"),
        ({"date_of_birth": "2030-01-01"}, "date_of_birth", "future"),
        ({"date_of_birth": "1800-01-01"}, "date_of_birth", "year of birth"),
        ({"email": "grace@"}, "email", "name@example.com"),
        ({"email": "not an email"}, "email", "name@example.com"),
        ({"email": "", "phone": ""}, "contact", "email address or a mobile number"),
        ({"email": "", "phone": "12345"}, "phone", "7 to 15 digits"),
        ({"email": "", "phone": "+1 (312) 555-0100 ext"}, "phone", "7 to 15 digits"),
        ({"email": "", "phone": "1" * 16}, "phone", "7 to 15 digits"),
    ],
)
def test_bad_details_name_the_field(changes: dict[str, str], field: str, words: str) -> None:
    with pytest.raises(Exception) as refused:
        booker(**changes)
    assert words in getattr(refused.value, "message_dict", {})[field][0]


def test_good_details_are_cleaned() -> None:
    got = booker(given_name="  Grace  Brewster ", email="Grace@Example.com", phone="+1 (312) 555-0100")
    assert (got.given_name, got.email, got.phone, got.channel) == (
        "Grace Brewster",
        "grace@example.com",
        "+13125550100",
        "email",
    )
    assert booker(email="", phone="0612345678").channel == "sms"


# --- the hold and the code ------------------------------------------------------------------------------------------


def test_a_hold_writes_a_pending_patient_and_a_held_slot_and_sends_a_hashed_code(
    open_clinic: Any, types: Any, clinician: Any, day: date
) -> None:
    held = hold(open_clinic, types, clinician, day)
    pending, visit = held.pending, held.appointment
    assert pending.status == PendingStatus.UNVERIFIED and pending.patient is None
    assert visit.status == AppointmentStatus.HELD and visit.source == "online" and visit.patient is None
    assert visit.hold_expires_at is not None
    assert timedelta(minutes=14) < visit.hold_expires_at - timezone.now() <= timedelta(minutes=15)
    assert pending.code_expires_at == visit.hold_expires_at
    code = sent_code()
    assert mail.outbox[-1].to == ["grace@example.com"] and "15 minutes" in mail.outbox[-1].body
    assert code not in pending.code_hash and len(pending.code_hash) == 64
    assert pending.code_hash == online.code_hash(pending, code)
    # The held slot is not free for anyone else, online or staff.
    kind = types[AppointmentKind.ASSESSMENT]
    starts = {s.start for s in queries.free_slots(open_clinic, kind, day, day, online=True)}
    assert visit.starts_at not in starts
    events = AuditEvent.objects.filter(channel="online_booking").values_list("action", "channel", "user_id")
    assert set(events) == {
        ("booking.pending.created", "online_booking", None),
        ("booking.appointment.held", "online_booking", None),
    }


# Messaging sits above booking: its test backend is named, not imported.
LOCMEM_SMS = "prolotrack.messaging.backends.LocmemSMSBackend"


@override_settings(PROLOTRACK_SMS_BACKEND=LOCMEM_SMS)
def test_only_a_mobile_gets_the_code_by_text(open_clinic: Any, types: Any, clinician: Any, day: date) -> None:
    LocmemSMSBackend = import_string(LOCMEM_SMS)
    LocmemSMSBackend.outbox.clear()
    hold(open_clinic, types, clinician, day, email="", phone="+1 312 555 0100")
    assert mail.outbox == []
    assert LocmemSMSBackend.outbox[-1]["to"] == "+13125550100"
    assert re.match(r"^\d{6} is your Alpha", LocmemSMSBackend.outbox[-1]["body"])


def test_the_right_code_books(open_clinic: Any, types: Any, clinician: Any, day: date) -> None:
    held = hold(open_clinic, types, clinician, day)
    result = online.verify_code(open_clinic, held.pending, f" {sent_code()} ", "203.0.113.5")
    assert result.outcome == "booked"
    held.pending.refresh_from_db()
    held.appointment.refresh_from_db()
    assert held.pending.status == PendingStatus.PENDING and held.pending.verified_by_channel == "email"
    assert held.appointment.status == AppointmentStatus.BOOKED and held.appointment.hold_expires_at is None
    # Again (a second tap): still booked, nothing more written.
    before = counts()
    assert online.verify_code(open_clinic, held.pending, "000000", None).outcome == "booked"
    assert counts() == before


def test_wrong_codes_count_down_then_release_the_hold(open_clinic: Any, types: Any, clinician: Any, day: date) -> None:
    held = hold(open_clinic, types, clinician, day)
    code = sent_code()
    wrong = "000000" if code != "000000" else "111111"
    outcomes = [online.verify_code(open_clinic, held.pending, wrong, None) for _ in range(5)]
    assert [(o.outcome, o.tries_left) for o in outcomes] == [
        ("wrong", 4),
        ("wrong", 3),
        ("wrong", 2),
        ("wrong", 1),
        ("released", 0),
    ]
    # The right code is too late now, and the slot is free again.
    assert online.verify_code(open_clinic, held.pending, code, None).outcome == "expired"
    held.appointment.refresh_from_db()
    assert held.appointment.status == AppointmentStatus.CANCELLED
    kind = types[AppointmentKind.ASSESSMENT]
    assert held.appointment.starts_at in {s.start for s in queries.free_slots(open_clinic, kind, day, day)}


def test_an_expired_hold_frees_its_slot_and_refuses_the_right_code(
    open_clinic: Any, types: Any, clinician: Any, day: date, monkeypatch: Any
) -> None:
    monkeypatch.setattr(online, "HOLD_MINUTES", 0)  # a hold that has already run out (no clock is moved)
    held = hold(open_clinic, types, clinician, day)
    code = sent_code()
    kind = types[AppointmentKind.ASSESSMENT]
    # Free again at once (no sweep), for staff and online.
    assert held.appointment.starts_at in {s.start for s in queries.free_slots(open_clinic, kind, day, day)}
    assert online.verify_code(open_clinic, held.pending, code, None).outcome == "expired"
    held.pending.refresh_from_db()
    held.appointment.refresh_from_db()
    assert held.pending.status == PendingStatus.EXPIRED
    assert held.appointment.status == AppointmentStatus.CANCELLED


def test_a_slot_taken_meanwhile_is_refused_with_the_next_free_times(
    open_clinic: Any, types: Any, clinician: Any, frontdesk: Any, patient: Any, day: date
) -> None:
    kind = types[AppointmentKind.ASSESSMENT]
    services.book_appointment(
        actor_of(frontdesk),
        patient=patient,
        appointment_type=kind,
        clinician=clinician,
        starts_at=at(open_clinic, day, "10:00"),
    )
    before = counts()
    with pytest.raises(online.SlotTaken) as taken:
        hold(open_clinic, types, clinician, day, "10:00")
    assert counts() == before and mail.outbox == []
    nexts = taken.value.next_slots
    assert nexts and all(s.start > at(open_clinic, day, "10:00") for s in nexts)
    # No other patient's details in what is shown.
    assert "Lovelace" not in str(taken.value) and "10:00" not in str(taken.value)


def test_the_online_rules_apply(open_clinic: Any, types: Any, clinician: Any, day: date) -> None:
    before = counts()
    # Beyond the horizon (60 days by default) and a session type not bookable online.
    far = next_weekday(open_clinic, 1, at_least=70)
    with pytest.raises(online.SlotTaken):
        hold(open_clinic, types, clinician, far)
    with pytest.raises(Exception) as refused:
        online.hold_online(
            open_clinic,
            appointment_type=types[AppointmentKind.SESSION],
            clinician=clinician,
            starts_at=at(open_clinic, day, "10:00"),
            booker=booker(),
            client_address=None,
        )
    assert "type of appointment" in str(refused.value)
    # Not on the grid, or in the lunch break.
    for clock in ("10:05", "12:00"):
        with pytest.raises(online.SlotTaken):
            hold(open_clinic, types, clinician, day, clock)
    assert counts() == before


def test_online_booking_off_refuses(clinic: Any, types: Any, clinician: Any, day: date) -> None:
    with pytest.raises(online.BookingClosed):
        hold(clinic, types, clinician, day)
    assert counts()[:2] == (0, 0)


@override_settings(EMAIL_BACKEND="prolotrack.booking.tests.test_online.BrokenEmail")
def test_a_code_that_cannot_be_sent_frees_the_slot(open_clinic: Any, types: Any, clinician: Any, day: date) -> None:
    with pytest.raises(online.CodeNotSent):
        hold(open_clinic, types, clinician, day)
    visit = Appointment.objects.get()
    assert visit.status == AppointmentStatus.CANCELLED and visit.pending_patient.status == PendingStatus.EXPIRED


class BrokenEmail:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def send_messages(self, messages: Any) -> int:
        raise OSError("smtp down")


def test_rate_limits_per_contact_and_per_address(open_clinic: Any, types: Any, clinician: Any, day: date) -> None:
    clocks = ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "13:00", "13:30", "14:00", "14:30", "15:00"]
    follow_up = AppointmentKind.FOLLOW_UP
    for clock in clocks[:5]:
        hold(open_clinic, types, clinician, day, clock, kind=follow_up)
    before = counts()
    with pytest.raises(online.TooManyAttempts) as refused:
        hold(open_clinic, types, clinician, day, clocks[5], kind=follow_up)
    assert refused.value.retry_after > 0 and counts() == before
    # Another contact from the same address still may, up to the address's limit (10 an hour).
    for n, clock in enumerate(clocks[5:10]):
        hold(open_clinic, types, clinician, day, clock, kind=follow_up, email=f"p{n}@example.com")
    with pytest.raises(online.TooManyAttempts):
        hold(open_clinic, types, clinician, day, clocks[10], kind=follow_up, email="other@example.com")
    assert Appointment.objects.count() == 10


def test_code_tries_are_rate_limited_per_address(open_clinic: Any, types: Any, clinician: Any, day: date) -> None:
    held = hold(open_clinic, types, clinician, day)
    for _ in range(online.CODE_TRIES_PER_ADDRESS.allowed):
        online.CODE_TRIES_PER_ADDRESS.hit("198.51.100.9")
    before = counts()
    with pytest.raises(online.TooManyAttempts):
        online.verify_code(open_clinic, held.pending, sent_code(), "198.51.100.9")
    assert counts() == before


# --- the pages ------------------------------------------------------------------------------------------------------


def slot_value(clinic: Any, clinician: Any, day: date, clock: str) -> str:
    return f"{at(clinic, day, clock).astimezone(UTC).isoformat()}|{clinician.uuid}"


def details_post(client: Any, clinic: Any, types: Any, clinician: Any, day: date, **changes: str) -> Any:
    data = {
        "type": str(types[AppointmentKind.ASSESSMENT].uuid),
        "slot": slot_value(clinic, clinician, day, "10:00"),
        **GOOD,
        **changes,
    }
    return client.post(f"/book/{clinic.slug}/details/", data)


def test_closed_and_unknown_addresses_answer_a_kind_404(client: Any, clinic: Any, types: Any) -> None:
    for path in (f"/book/{clinic.slug}/", f"/book/{clinic.slug}/details/", f"/book/{clinic.slug}/code/"):
        response = client.get(path)
        assert response.status_code == 404 and "does not take bookings online" in response.content.decode()
    response = client.get("/book/no-such-clinic/")
    assert response.status_code == 404 and "could not find a booking page" in response.content.decode()
    assert 'class="mainnav"' not in response.content.decode()


def test_the_start_page_offers_online_types_and_one_day_of_free_times(
    client: Any, open_clinic: Any, types: Any, clinician: Any
) -> None:
    response = client.get(f"/book/{open_clinic.slug}/")
    text = response.content.decode()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert "New-patient assessment" in text and "Follow-up" in text and "Prolotherapy session" not in text
    assert "First available" in text and 'id="slot-picker"' in text and 'type="radio" name="slot"' in text
    assert '<html lang="en">' in text and "mainnav" not in text


def test_bad_details_show_messages_by_the_fields_and_write_nothing(
    client: Any, open_clinic: Any, types: Any, clinician: Any, day: date
) -> None:
    before = counts()
    response = details_post(client, open_clinic, types, clinician, day, given_name="", email="", date_of_birth="x")
    text = response.content.decode()
    assert response.status_code == 400
    assert 'id="given_name-error"' in text and 'id="date_of_birth-error"' in text and 'id="contact-error"' in text
    assert 'value="Hopper"' in text  # what was typed stays
    assert counts() == before and mail.outbox == []
    response = details_post(client, open_clinic, types, clinician, day, slot="garbage")
    assert response.status_code == 400 and "choose one of the free times" in response.content.decode()
    assert counts() == before


def paths_of(page: str) -> list[str | None]:
    found = [re.search(rf'href="(/{kind}/[^"]+)"', page) for kind in ("intake", "my-appointment")]
    return [m.group(1) if m else None for m in found]


def test_the_whole_path_on_the_pages(client: Any, open_clinic: Any, types: Any, clinician: Any, day: date) -> None:
    kind = types[AppointmentKind.ASSESSMENT]
    page = client.get(
        f"/book/{open_clinic.slug}/details/",
        {"type": str(kind.uuid), "slot": slot_value(open_clinic, clinician, day, "10:00")},
    )
    assert page.status_code == 200 and "10:00" in page.content.decode()
    response = details_post(client, open_clinic, types, clinician, day)
    assert response.status_code == 302 and response["Location"] == f"/book/{open_clinic.slug}/code/"
    assert f"/{PendingPatient.objects.get().uuid}" not in response["Location"]
    code = sent_code()
    wrong = client.post(response["Location"], {"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 400 and "4 more tries" in wrong.content.decode()
    # The error is told next to the field, under it (as every other field's), and the field points to it.
    field = re.search(r'<div class="field has-error">(.*?)</div>', wrong.content.decode(), re.S)
    assert field is not None and field.group(1).index('id="id_code"') < field.group(1).index('id="code-error"')
    assert 'aria-describedby="code-error"' in field.group(1)
    right = client.post(response["Location"], {"code": code})
    booked = right.content.decode()
    # The answer itself is the booked page, with the pre-visit form of the assessment and the manage link (shown on
    # this answer only: docs/BOOKING.md, "After the code"; their tests are messaging's, test_booked_online.py).
    assert right.status_code == 200 and "Your booking is made" in booked and "no-store" in right["Cache-Control"]
    assert "Fill in your pre-visit form now" in booked and 'href="/intake/' in booked
    assert 'href="/my-appointment/' in booked
    # Opened again (a refresh) by the same browser: the same two links, sealed in its session with the key in its own
    # cookie (docs/BOOKING.md, "After the code"); the session table holds no working token.
    again = client.get(response["Location"]).content.decode()
    assert "Your booking is made" in again and paths_of(booked) == paths_of(again) != [None, None]
    cookie = client.cookies["booked_links"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == f"/book/{open_clinic.slug}/"
    from django.contrib.sessions.models import Session

    stored = " ".join(s.session_data for s in Session.objects.all())
    assert all(p.rsplit("/", 2)[-2] not in stored for p in paths_of(booked) if p)
    # The session without the key (a copied session cookie, the key lost): the booking, without the links.
    del client.cookies["booked_links"]
    done = client.get(response["Location"]).content.decode()
    assert "Your booking is made" in done and "will check your booking and confirm it" in done
    assert "/intake/" not in done and "/my-appointment/" not in done
    assert Appointment.objects.get().status == AppointmentStatus.BOOKED


def test_an_expired_hold_says_so_and_offers_the_next_free_times(
    client: Any, open_clinic: Any, types: Any, clinician: Any, day: date, monkeypatch: Any
) -> None:
    monkeypatch.setattr(online, "HOLD_MINUTES", 0)
    details_post(client, open_clinic, types, clinician, day)
    assert "no longer held" in client.get(f"/book/{open_clinic.slug}/code/").content.decode()
    response = client.post(f"/book/{open_clinic.slug}/code/", {"code": sent_code()})
    text = response.content.decode()
    assert response.status_code == 410 and "15 minutes to enter the code have passed" in text
    assert "Next free times" in text and f"/book/{open_clinic.slug}/details/?type=" in text


def test_two_people_one_slot_on_the_pages_the_second_sees_the_next_free_times(
    client: Any, open_clinic: Any, types: Any, clinician: Any, day: date
) -> None:
    from django.test import Client

    assert details_post(client, open_clinic, types, clinician, day).status_code == 302
    other = details_post(Client(), open_clinic, types, clinician, day, email="ada@example.com")
    text = other.content.decode()
    assert other.status_code == 409 and "has just been taken" in text and 'type="radio" name="slot"' in text
    assert "Grace" not in text.replace('value="Grace"', "")  # only the second person's own typing


def normalised(text: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)


def test_the_same_answer_for_a_known_patient_an_unknown_person_and_a_robot(
    open_clinic: Any, types: Any, clinician: Any, day: date, make_patient: Any
) -> None:
    from django.test import Client

    make_patient(given_name="Grace", family_name="Hopper", date_of_birth=date(1970, 12, 9), email="grace@example.com")
    answers = []
    for n, extra in enumerate(
        [{}, {"given_name": "Unknown", "email": "nobody@example.com"}, {"website": "http://spam.example"}]
    ):
        person = Client()
        clock = ["09:00", "13:00", "15:00"][n]
        before = counts()
        response = details_post(
            person, open_clinic, types, clinician, day, slot=slot_value(open_clinic, clinician, day, clock), **extra
        )
        assert response.status_code == 302
        page = person.get(response["Location"])
        answers.append((response["Location"], page.status_code, normalised(page.content.decode())))
        if "website" in extra:  # the robot: nothing written, nothing sent
            assert counts() == before and len(mail.outbox) == 2
    assert answers[0] == answers[1] == answers[2]
