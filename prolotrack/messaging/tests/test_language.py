"""Messages written at send time in the patient's preferred language (issue 16; docs/LANGUAGES.md).

The language is read when the message is written, like every other fact (issue 19): a patient who changes it after
planning gets the next message in the new one. Staff previews in the outbox show what the patient will read.
"""

from datetime import date

from django.core import mail
from django.db import transaction
from icalendar import Calendar

from prolotrack.clinics.testing import actor_of
from prolotrack.messaging import services
from prolotrack.messaging.backends import LocmemSMSBackend
from prolotrack.messaging.tests.conftest import SESSION_AT, at
from prolotrack.patients import services as patient_services
from prolotrack.treatment import services as treatment_services
from prolotrack.treatment.testing import knee_course


def _spanish_booking(clinician, make_patient):
    patient = make_patient(email="rosa@example.org", phone="(312) 555-0102", preferred_language="es")
    course = knee_course(clinician, patient, date(2026, 11, 2))
    with transaction.atomic():
        treatment_services.book_session(
            actor_of(clinician), course.sessions.get(number=1), starts_at=SESSION_AT, clinician=clinician,
            duration_minutes=45,
        )  # fmt: skip
    return patient


def test_each_reminder_is_written_in_spanish_for_a_spanish_speaking_patient(clinician, make_patient):
    _spanish_booking(clinician, make_patient)
    services.run_pass(now=at(date(2026, 11, 13)))
    (prepare,) = mail.outbox
    assert prepare.subject == "Cómo prepararse para su cita del viernes, 20 de noviembre de 2026"
    assert "Su cita de tratamiento en Alpha Clinic es el viernes, 20 de noviembre de 2026 a las 09:30 CST" in (
        prepare.body
    )
    assert "Coma algo ligero" in prepare.body and "Estimado/a Ada:" in prepare.body
    assert "Estas instrucciones forman parte de su atención" in prepare.body  # the footer, at send time
    html = prepare.alternatives[0][0]
    assert '<html lang="es">' in html and "Coma algo ligero" in html
    services.run_pass(now=at(date(2026, 11, 17)))
    nsaid = mail.outbox[1]
    assert nsaid.subject.startswith("Desde hoy: no tome analgésicos antiinflamatorios")
    assert "A partir de hoy, martes, 17 de noviembre de 2026 (3 días antes de su cita)" in nsaid.body
    (sms,) = LocmemSMSBackend.outbox
    assert sms["body"].startswith("Alpha Clinic: a partir de hoy, por favor deje de tomar ibuprofeno")
    services.run_pass(now=at(date(2026, 11, 18)))
    reminder = mail.outbox[2]
    assert reminder.subject == "Recordatorio: su cita del viernes, 20 de noviembre de 2026"
    event = Calendar.from_ical(reminder.attachments[0][1]).walk("VEVENT")[0]
    assert str(event["summary"]) == "Cita en Alpha Clinic"
    assert "Traiga una lista de las medicinas que toma" in str(event["description"])
    for message in mail.outbox:  # nothing of the English left in what the patient reads
        assert "Dear" not in message.body and "appointment" not in message.body


def test_the_language_is_read_at_send_time_not_when_planned(clinician, make_patient):
    patient = _spanish_booking(clinician, make_patient)
    services.run_pass(now=at(date(2026, 11, 10)))  # planned, nothing sent yet
    with transaction.atomic():
        patient_services.update_patient(
            actor_of(clinician), patient, {"preferred_language": "en"}, expected_version=patient.version
        )
    services.run_pass(now=at(date(2026, 11, 13)))
    assert mail.outbox[0].subject == "Preparing for your appointment on Friday 20 November 2026"


def test_an_english_speaking_patient_reads_english_whatever_ran_before(booked, clinician, make_patient):
    _spanish_booking(clinician, make_patient)
    services.run_pass(now=at(date(2026, 11, 13)))
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects == [
        "Cómo prepararse para su cita del viernes, 20 de noviembre de 2026",
        "Preparing for your appointment on Friday 20 November 2026",
    ]
