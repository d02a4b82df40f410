"""Every patient message that names an appointment type, as a table (docs/LANGUAGES.md, "Names the clinic types"):
a Spanish reader's message names the type in Spanish where the clinic named it so, an English reader's in English,
and a type without a Spanish name keeps its default name; the .ics attached follows the message. The pages' table is
booking's (booking/tests/test_type_names.py)."""

from datetime import datetime, time
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone, translation
from icalendar import Calendar

from prolotrack.billing.testing import set_clinic_settings
from prolotrack.booking import patient_links, queries, services, waitlist
from prolotrack.booking.models import Appointment, AppointmentKind
from prolotrack.booking.testing import at, next_weekday, pending_booking, set_up_week
from prolotrack.clinics.testing import actor_of
from prolotrack.core.language import patient_language
from prolotrack.messaging import appointments, booked_online
from prolotrack.messaging import services as messaging
from prolotrack.messaging import waitlist as waitlist_messages
from prolotrack.messaging.backends import LocmemSMSBackend

pytestmark = pytest.mark.django_db

SPANISH, ENGLISH = "Consulta de seguimiento", "Follow-up"


@pytest.fixture(params=[("es", True), ("en", True), ("es", False)], ids=["es-named", "en-named", "es-not-named"])
def variant(request: Any, admin_user: Any, clinician: Any, clinic: Any) -> dict[str, Any]:
    language, named = request.param
    set_clinic_settings(clinic, send_window_start_hour=0, send_window_end_hour=24)
    kind = set_up_week(actor_of(admin_user), [clinician])[AppointmentKind.FOLLOW_UP]
    if named:
        kind = services.update_appointment_type(
            actor_of(admin_user), kind, {"names": {"es": SPANISH}}, expected_version=kind.version
        )
    shown = SPANISH if language == "es" and named else ENGLISH
    return {"language": language, "kind": kind, "shown": shown, "hidden": ENGLISH if shown == SPANISH else SPANISH}


def names_right(variant: dict[str, Any], where: str, text: str) -> None:
    assert variant["shown"] in text, f"{where}: {variant['shown']!r} missing from {text!r}"
    assert variant["hidden"] not in text, f"{where}: {variant['hidden']!r} written to a reader of {variant['language']}"


def summary(ics: bytes) -> str:
    return str(Calendar.from_ical(ics).walk("VEVENT")[0]["summary"])


@pytest.fixture
def person(make_patient: Any, variant: Any) -> Any:
    return make_patient(email="ada@example.org", phone="(312) 555-0101", preferred_language=variant["language"])


def test_the_confirmation_and_the_reminder(variant: Any, person: Any, frontdesk: Any, clinician: Any, clinic: Any):
    visit = services.book_appointment(
        actor_of(frontdesk), patient=person, appointment_type=variant["kind"], clinician=clinician,
        starts_at=at(clinic, next_weekday(clinic, 2, at_least=3), "10:00"),
    )  # fmt: skip
    patient_links.send_confirmation(visit)
    mail.outbox.clear()
    LocmemSMSBackend.outbox.clear()
    now = datetime.combine(queries.clinic_today(clinic), time(10), tzinfo=clinic.tz)
    messaging.run_pass(now=now, clinics=[type(clinic).objects.get(pk=clinic.pk)])
    [email] = [m for m in mail.outbox if "ada@example.org" in m.to]
    names_right(variant, "confirmation email", email.body)
    names_right(variant, "confirmation .ics", summary(email.attachments[0][1]))
    [sms] = LocmemSMSBackend.outbox
    names_right(variant, "confirmation SMS", sms["body"])
    with translation.override(patient_language(person)):
        for sms_channel in (False, True):
            reminder = appointments.visit_words(
                visit, kind=appointments.REMINDER, name="Ada", link="LINK", sms=sms_channel
            )
            names_right(variant, f"reminder (sms={sms_channel})", reminder.body)


def test_the_messages_of_an_online_booking(variant: Any, clinician: Any, clinic: Any) -> None:
    start = at(clinic, next_weekday(clinic, 2, at_least=3), "10:00")
    person = pending_booking(clinic, variant["kind"], clinician, start, preferred_language=variant["language"])
    visit = Appointment.objects.get(pending_patient=person)
    with translation.override(patient_language(person)):
        for channel in ("email", "sms"):
            booked = booked_online.words(visit, channel=channel, manage_url="LINK", intake_url=None)
            names_right(variant, f"booked online ({channel})", booked.body)
            reminder = booked_online.reminder_words(visit, channel=channel, manage_url="LINK")
            names_right(variant, f"reminder of an online booking ({channel})", reminder.body)
        names_right(variant, "online booking .ics", summary(booked.ics))


def test_the_waitlist_offer(variant: Any, person: Any, frontdesk: Any, clinic: Any) -> None:
    day = next_weekday(clinic, 2, at_least=3)
    waitlist.join_waitlist(
        actor_of(frontdesk), patient=person, appointment_type=variant["kind"], first_day=day, last_day=day
    )
    offer = waitlist.make_offers(clinic, timezone.now())[0]
    for channel in ("email", "sms"):
        _subject, body = waitlist_messages.offer_text(offer, person, channel, "LINK")
        names_right(variant, f"waitlist offer ({channel})", body)
