"""After the code (docs/BOOKING.md, "After the code: the intake and the confirmation"; messaging/booked_online.py): a
booking verified on the public page opens the assessment's intake for the pending person, shows the form's link and
the manage link on the booked page, and sends the same links at once to the verified contact, in the page's language;
the intake then follows the visit (moved: the same intake; cancelled or rejected: cancelled, its link revoked). And
staff booking an assessment emails its intake link through the outbox where the clinic's intake_auto_send says so."""

import re
from datetime import UTC, date, timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import transaction
from django.test import Client

from prolotrack.audit.models import AuditEvent
from prolotrack.booking import pending, services
from prolotrack.booking.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    ManageLink,
    PendingPatient,
)
from prolotrack.booking.testing import at, next_weekday, set_up_week
from prolotrack.clinics.testing import actor_of
from prolotrack.core.site import site_url
from prolotrack.intake import services as intake_services
from prolotrack.intake.models import Intake, IntakeDelivery, IntakeLink, IntakeStatus
from prolotrack.messaging import immediate
from prolotrack.messaging.backends import LocmemSMSBackend
from prolotrack.messaging.models import MessageKind, OutboxMessage

pytestmark = pytest.mark.django_db

PERSON = {"given_name": "Grace", "family_name": "Hopper", "date_of_birth": "1970-12-09"}


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    cache.clear()


@pytest.fixture
def types(admin_user: Any, clinician: Any) -> dict[str, Any]:
    return set_up_week(actor_of(admin_user), [clinician])


@pytest.fixture
def open_clinic(clinic: Any, types: Any) -> Any:
    clinic.settings = {**clinic.settings, "online_booking": True, "contact_phone": "+1 312 555 0199"}
    clinic.save()
    return clinic


@pytest.fixture
def day(clinic: Any) -> date:
    return next_weekday(clinic, 3)


def last_code(sms: bool) -> str:
    text = LocmemSMSBackend.outbox[-1]["body"] if sms else mail.outbox[-1].body
    found = re.search(r"\b(\d{6})\b", text)
    assert found is not None
    return found.group(1)


def hold_on_page(
    client: Client, clinic: Any, types: Any, clinician: Any, day: date, kind: str, language: str, **contact: str
) -> str:
    """The public page's details step; returns the code sent."""
    start = at(clinic, day, "10:00").astimezone(UTC)
    data = {"type": str(types[kind].uuid), "slot": f"{start.isoformat()}|{clinician.uuid}", **PERSON, **contact}
    held = client.post(f"/book/{clinic.slug}/details/", data, HTTP_ACCEPT_LANGUAGE=language)
    assert held.status_code == 302, held.content.decode()[:500]
    return last_code(sms=not contact.get("email"))


def book_on_page(
    client: Client,
    clinic: Any,
    types: Any,
    clinician: Any,
    day: date,
    *,
    kind: str = AppointmentKind.ASSESSMENT,
    language: str = "en",
    **contact: str,
) -> Any:
    contact = contact or {"email": "grace@example.com"}
    code = hold_on_page(client, clinic, types, clinician, day, kind, language, **contact)
    return client.post(f"/book/{clinic.slug}/code/", {"code": code}, HTTP_ACCEPT_LANGUAGE=language)


def paths(page: str) -> tuple[str | None, str]:
    intake = re.search(r'href="(/intake/[^"]+/)"', page)
    manage = re.search(r'href="(/my-appointment/[^"]+/)"', page)
    assert manage is not None
    return (intake.group(1) if intake else None), manage.group(1)


# --- the booked page and the message, by type and contact ------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "contact", "has_intake", "channel"),
    [
        (AppointmentKind.ASSESSMENT, {"email": "grace@example.com"}, True, "email"),
        (AppointmentKind.ASSESSMENT, {"email": "grace@example.com", "phone": "+1 312 555 0100"}, True, "email"),
        (AppointmentKind.ASSESSMENT, {"phone": "+1 312 555 0100"}, True, "sms"),
        (AppointmentKind.FOLLOW_UP, {"email": "grace@example.com"}, False, "email"),
        (AppointmentKind.FOLLOW_UP, {"phone": "+1 312 555 0100"}, False, "sms"),
    ],
)
def test_the_booked_page_and_the_confirmation_carry_the_same_links(
    client: Client,
    open_clinic: Any,
    types: Any,
    clinician: Any,
    day: date,
    kind: str,
    contact: dict[str, str],
    has_intake: bool,
    channel: str,
) -> None:
    mail.outbox.clear()
    LocmemSMSBackend.outbox.clear()
    response = book_on_page(client, open_clinic, types, clinician, day, kind=kind, **contact)
    page = response.content.decode()
    assert response.status_code == 200 and "Your booking is made" in page
    visit = Appointment.objects.get(status=AppointmentStatus.BOOKED)
    person = PendingPatient.objects.get()
    assert visit.pending_patient == person and visit.patient is None
    intake_path, manage_path = paths(page)
    # The intake: opened for the pending person, its link shown (not emailed through the outbox), only for an
    # assessment.
    intakes = Intake.objects.filter(appointment=visit)
    assert (intake_path is not None, intakes.count()) == (has_intake, int(has_intake))
    assert ("Fill in your pre-visit form now" in page) is has_intake
    if has_intake:
        intake = intakes.get()
        assert (intake.pending_patient, intake.patient, intake.delivery) == (person, None, IntakeDelivery.SHOWN)
        assert intake.status == IntakeStatus.REQUESTED and IntakeLink.objects.filter(intake=intake).count() == 1
    assert ManageLink.objects.filter(appointment=visit).count() == 1
    assert not OutboxMessage.objects.exists()  # a pending person has no outbox rows
    # The confirmation went at once to the verified contact (after the code: two messages on that channel).
    if channel == "email":
        _code_mail, confirmation = mail.outbox
        assert confirmation.to == ["grace@example.com"] and confirmation.subject.startswith("Your appointment on")
        body = confirmation.body
        (ics,) = [a for a in confirmation.attachments if a[2] == "text/calendar"]
        assert ics[0].endswith(".ics") and "BEGIN:VEVENT" in str(ics[1]) and "/my-appointment/" not in str(ics[1])
        assert "We have sent these links to your email address" in page
    else:
        assert mail.outbox == [] and len(LocmemSMSBackend.outbox) == 2
        body = LocmemSMSBackend.outbox[-1]["body"]
        assert LocmemSMSBackend.outbox[-1]["to"] == "+13125550100"
        assert "We have sent these links to your mobile number" in page
    assert site_url(manage_path) in body and "Alpha" in body
    assert (site_url(intake_path) in body) if intake_path else ("/intake/" not in body)
    event = AuditEvent.objects.get(action="booking.confirmation.sent_at_once")
    assert event.record_uuid == visit.uuid and event.detail["channel"] == channel
    assert event.detail["intake_link"] is has_intake and "grace" not in str(event.detail)
    # Both links open their pages.
    assert client.get(manage_path).status_code == 200
    if intake_path:
        assert client.get(intake_path).status_code == 200


def test_the_booked_page_and_the_email_in_spanish(
    client: Client, open_clinic: Any, types: Any, clinician: Any, day: date
) -> None:
    response = book_on_page(client, open_clinic, types, clinician, day, language="es")
    page = response.content.decode()
    assert response.status_code == 200 and '<html lang="es">' in page
    assert "Conteste ahora su formulario previo a la visita" in page and "Cambiar o cancelar esta cita" in page
    assert "Fill in your pre-visit form now" not in page
    assert 'aria-label="Idioma"' in page  # the switch reloads the page, which keeps the links for this browser
    english = client.get(f"/book/{open_clinic.slug}/code/?lang=en").content.decode()
    assert "Fill in your pre-visit form now" in english and paths(english) == paths(page)
    confirmation = mail.outbox[-1]
    assert confirmation.subject.startswith("Su cita del") and "Estimado/a Grace:" in confirmation.body
    assert "formulario previo a la visita" in confirmation.body and "Your booking" not in confirmation.body
    assert re.search(r"el \w+,? \d+ de \w+ de \d{4} a las \d\d:\d\d C[SD]T\.", confirmation.body)  # Spanish dates
    intake_path, manage_path = paths(page)
    assert intake_path and site_url(intake_path) in confirmation.body and site_url(manage_path) in confirmation.body
    # The manage page and the intake form of a pending person open in their language (a browser saying nothing).
    assert '<html lang="es">' in Client().get(manage_path).content.decode()
    form = Client().get(intake_path).content.decode()
    assert '<html lang="es">' in form and "Antes de su primera visita" in form and 'aria-label="Idioma"' in form
    assert '<html lang="en">' in Client().get(f"{intake_path}?lang=en").content.decode()  # the switch decides


def test_a_confirmation_that_cannot_be_sent_leaves_the_booking_and_the_links(
    client: Client, open_clinic: Any, types: Any, clinician: Any, day: date, monkeypatch: Any
) -> None:
    code = hold_on_page(
        client, open_clinic, types, clinician, day, AppointmentKind.ASSESSMENT, "en", email="grace@example.com"
    )

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("mail server down")

    monkeypatch.setattr(immediate, "send_now", broken)  # the code went; the confirmation fails
    response = client.post(f"/book/{open_clinic.slug}/code/", {"code": code})
    page = response.content.decode()
    assert response.status_code == 200 and "We could not send your confirmation message" in page
    intake_path, _manage_path = paths(page)
    assert intake_path and Appointment.objects.get().status == AppointmentStatus.BOOKED
    failed = AuditEvent.objects.get(action="booking.confirmation.failed")
    assert failed.detail["error"] == "ConnectionError"
    assert not AuditEvent.objects.filter(action="booking.confirmation.sent_at_once").exists()


def test_a_wrong_code_opens_nothing_and_the_right_code_again_makes_no_new_links(
    client: Client, open_clinic: Any, types: Any, clinician: Any, day: date
) -> None:
    code = hold_on_page(
        client, open_clinic, types, clinician, day, AppointmentKind.ASSESSMENT, "en", email="grace@example.com"
    )
    wrong = client.post(f"/book/{open_clinic.slug}/code/", {"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 400
    assert not Intake.objects.exists() and not ManageLink.objects.exists() and len(mail.outbox) == 1
    assert client.post(f"/book/{open_clinic.slug}/code/", {"code": code}).status_code == 200
    made = (Intake.objects.count(), IntakeLink.objects.count(), ManageLink.objects.count(), len(mail.outbox))
    assert made == (1, 1, 1, 2)
    # The same code posted again (a second tap, a reload): still booked, nothing new made or sent.
    again = client.post(f"/book/{open_clinic.slug}/code/", {"code": code})
    assert again.status_code == 302
    assert (Intake.objects.count(), IntakeLink.objects.count(), ManageLink.objects.count(), len(mail.outbox)) == made


# --- the intake follows the visit ------------------------------------------------------------------------------------


@pytest.fixture
def booked_online(client: Client, open_clinic: Any, types: Any, clinician: Any, day: date) -> tuple[Any, str, str]:
    page = book_on_page(client, open_clinic, types, clinician, day).content.decode()
    intake_path, manage_path = paths(page)
    assert intake_path is not None
    return Appointment.objects.get(), intake_path, manage_path


def test_cancelled_by_the_person_from_the_manage_link_cancels_the_intake(
    client: Client, booked_online: tuple[Any, str, str]
) -> None:
    visit, intake_path, manage_path = booked_online
    response = client.post(f"{manage_path}cancel/", {"reason": "not_needed"})
    assert response.status_code in (200, 302)
    visit.refresh_from_db()
    intake = Intake.objects.get()
    assert visit.status == AppointmentStatus.CANCELLED and intake.status == IntakeStatus.CANCELLED
    assert IntakeLink.objects.get().revoked_reason == "The intake was cancelled."
    assert client.get(intake_path).status_code == 410
    assert AuditEvent.objects.filter(action="intake.cancelled", channel="patient_link").count() == 1


def test_rejected_by_the_front_desk_cancels_the_intake_and_closes_the_manage_link(
    client: Client, booked_online: tuple[Any, str, str], frontdesk: Any
) -> None:
    _visit, intake_path, manage_path = booked_online
    person = PendingPatient.objects.get()
    with transaction.atomic():
        pending.reject_pending(actor_of(frontdesk), person, reason="duplicate_booking", expected_version=person.version)
    assert Intake.objects.get().status == IntakeStatus.CANCELLED
    assert client.get(intake_path).status_code == 410 and client.get(manage_path).status_code == 410


@pytest.mark.parametrize(
    ("days_later", "link_days", "expires"),
    [
        (7, 30, "start"),  # later, within the link's days: it works until the new start
        (-1, 30, "start"),  # earlier: it closes at the new, earlier start
        (7, 1, "days"),  # later than the link's days: those still end it
    ],
)
def test_moved_by_staff_keeps_the_intake_and_its_link_follows_the_start(
    client: Client,
    booked_online: tuple[Any, str, str],
    clinician: Any,
    days_later: int,
    link_days: int,
    expires: str,
) -> None:
    visit, intake_path, _manage = booked_online
    clinic = visit.clinic
    clinic.settings = {**clinic.settings, "intake_link_days": link_days}
    clinic.save()
    link = IntakeLink.objects.get()
    new_start = at(clinic, visit.starts_at.astimezone(clinic.tz).date() + timedelta(days=days_later), "14:00")
    with transaction.atomic():
        moved = services.move_appointment(
            actor_of(clinician), visit, starts_at=new_start, expected_version=visit.version
        )
    link.refresh_from_db()
    intake = Intake.objects.get()
    assert intake.appointment_id == moved.pk and intake.status == IntakeStatus.REQUESTED
    want = new_start if expires == "start" else link.created_at + timedelta(days=link_days)
    assert link.expires_at == min(want, new_start)
    assert AuditEvent.objects.filter(action="intake.appointment_moved").count() == 1
    assert client.get(intake_path).status_code == 200


# --- staff booking: the intake by email where the clinic says so -----------------------------------------------------


@pytest.mark.parametrize(
    ("auto_send", "kind", "email", "rows"),
    [
        (True, AppointmentKind.ASSESSMENT, "ada@example.org", 1),
        (False, AppointmentKind.ASSESSMENT, "ada@example.org", 0),  # the clinic sends it by hand
        (True, AppointmentKind.FOLLOW_UP, "ada@example.org", 0),  # not a visit the form prepares
        (True, AppointmentKind.ASSESSMENT, "", 0),  # no address to email
    ],
)
def test_staff_booking_an_assessment_emails_the_intake_where_the_clinic_says_so(
    clinic: Any,
    types: Any,
    clinician: Any,
    make_patient: Any,
    django_capture_on_commit_callbacks: Any,
    auto_send: bool,
    kind: str,
    email: str,
    rows: int,
) -> None:
    clinic.settings = {**clinic.settings, "intake_auto_send": auto_send}
    clinic.save()
    patient = make_patient(email=email)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        visit = services.book_appointment(
            actor_of(clinician),
            patient=patient,
            appointment_type=types[kind],
            clinician=clinician,
            starts_at=at(clinic, next_weekday(clinic, 2), "10:00"),
        )
    intakes = Intake.objects.filter(appointment=visit)
    assert intakes.count() == rows
    messages = OutboxMessage.objects.filter(kind=MessageKind.INTAKE_LINK, patient=patient)
    assert messages.count() == rows
    if rows:
        intake = intakes.get()
        assert (intake.patient, intake.delivery, intake.status) == (patient, IntakeDelivery.EMAIL, "requested")
        assert messages.get().to_address == email
        assert AuditEvent.objects.get(action="intake.requested").channel == "system"
        # Booked again from the appointment's own page by hand: the same intake, no second one.
        again, _ = intake_services.request_intake(actor_of(clinician), visit)
        assert again.pk == intake.pk


def test_staff_cancelling_an_assessment_cancels_its_emailed_intake(
    clinic: Any, types: Any, clinician: Any, make_patient: Any, django_capture_on_commit_callbacks: Any
) -> None:
    patient = make_patient(email="ada@example.org")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        visit = services.book_appointment(
            actor_of(clinician),
            patient=patient,
            appointment_type=types[AppointmentKind.ASSESSMENT],
            clinician=clinician,
            starts_at=at(clinic, next_weekday(clinic, 2), "10:00"),
        )
    with transaction.atomic():
        services.cancel_appointment(
            actor_of(clinician), visit, reason="patient_request", expected_version=visit.version
        )
    assert Intake.objects.get(appointment=visit).status == IntakeStatus.CANCELLED
