"""The pre-visit intake's email (docs/INTAKE.md, docs/MESSAGING.md): planned in the outbox once the request is
committed; its link is made when it is sent, so the stored copy never holds a working link."""

from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from prolotrack.booking import services as booking_services
from prolotrack.booking.models import AppointmentKind
from prolotrack.booking.testing import at, next_weekday, set_up_week
from prolotrack.clinics.testing import actor_of
from prolotrack.intake import services
from prolotrack.intake.models import IntakeLink, IntakeStatus
from prolotrack.messaging.models import MessageKind, OutboxMessage
from prolotrack.messaging.services import render, run_pass


@pytest.fixture
def appointment(admin_user: Any, clinician: Any, make_patient: Any) -> Any:
    types = set_up_week(actor_of(admin_user), [clinician])
    patient = make_patient(email="ada@example.org")
    day = next_weekday(patient.clinic, 1)
    with transaction.atomic():
        return booking_services.book_appointment(
            actor_of(clinician),
            patient=patient,
            appointment_type=types[AppointmentKind.ASSESSMENT],
            clinician=clinician,
            starts_at=at(patient.clinic, day, "10:00"),
        )


@pytest.mark.django_db(transaction=True)  # the outbox row is planned after the commit (an AfterCommit event)
def test_email_request_plans_an_outbox_row_whose_link_is_made_when_sent(appointment, clinician):
    intake, path = services.request_intake(actor_of(clinician), appointment)
    assert path is None and intake.status == IntakeStatus.REQUESTED
    (message,) = OutboxMessage.objects.filter(kind=MessageKind.INTAKE_LINK)
    assert message.patient == appointment.patient and message.target == f"intake:{intake.uuid}:1"
    assert not IntakeLink.objects.filter(intake=intake).exists()
    today = timezone.localdate(timezone=appointment.clinic.tz)
    preview = render(message, today)
    assert "[personal intake link" in preview.body and "/intake/" not in preview.body
    sent = render(message, today, with_link=True)
    assert "/intake/" in sent.patient_body and "/intake/" not in sent.body
    assert IntakeLink.objects.filter(intake=intake, revoked_at__isnull=True).count() == 1
    # Asking again while that email is queued adds none (it goes with a fresh link); once it went, a second is planned.
    again, _ = services.request_intake(actor_of(clinician), appointment)
    assert again.pk == intake.pk
    assert OutboxMessage.objects.filter(kind=MessageKind.INTAKE_LINK).count() == 1
    noon = timezone.localtime(timezone.now(), appointment.clinic.tz).replace(hour=12)
    run_pass(now=noon, clinics=[appointment.clinic])
    message.refresh_from_db()
    assert message.status == "sent" and "/intake/" not in message.body
    services.request_intake(actor_of(clinician), appointment)
    assert OutboxMessage.objects.filter(kind=MessageKind.INTAKE_LINK).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_cancelled_intake_is_not_sent(appointment, clinician):
    intake, _ = services.request_intake(actor_of(clinician), appointment)
    services.cancel_intake(actor_of(clinician), intake, reason="Visit changed")
    (message,) = OutboxMessage.objects.filter(kind=MessageKind.INTAKE_LINK)
    noon = timezone.localtime(timezone.now(), appointment.clinic.tz).replace(hour=12)
    run_pass(now=noon, clinics=[appointment.clinic])
    message.refresh_from_db()
    assert message.status == "cancelled"
    assert not IntakeLink.objects.filter(intake=intake).exists()
