"""Waitlist offers reach everyone waiting (docs/BOOKING.md, "Waitlist"): a person not yet confirmed by the front desk
(a pending patient, no outbox) gets the offer at once on the channel they verified, in their language, with a link
that works; a patient without an email address gets it by SMS through the outbox; a message that cannot be sent
withdraws the offer at once, so no slot stays held for someone who was not told."""

import re
from typing import Any

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from prolotrack.billing.testing import set_clinic_settings
from prolotrack.booking import waitlist
from prolotrack.booking.models import AppointmentKind, AppointmentStatus, OfferOutcome, WaitlistEntry, WaitlistOffer
from prolotrack.booking.testing import next_weekday, pending_on_waitlist, set_up_week
from prolotrack.clinics.testing import actor_of
from prolotrack.messaging.backends import LocmemSMSBackend
from prolotrack.messaging.models import Channel, MessageKind, OutboxMessage
from prolotrack.messaging.services import run_pass

pytestmark = pytest.mark.django_db
LOCMEM_SMS = "prolotrack.messaging.backends.LocmemSMSBackend"


@pytest.fixture
def kind(admin_user: Any, clinician: Any, clinic: Any) -> Any:
    set_clinic_settings(clinic, send_window_start_hour=0, send_window_end_hour=24)
    return set_up_week(actor_of(admin_user), [clinician])[AppointmentKind.FOLLOW_UP]


@pytest.fixture
def day(clinic: Any) -> Any:
    return next_weekday(clinic, 2, at_least=3)


def _path(body: str) -> str:
    found = re.search(r"https?://[^/\s]+(/waitlist/offer/[\w-]+/)", body)
    assert found, body
    return found.group(1)


def test_a_pending_person_gets_the_offer_at_once_in_their_language(clinic, kind, day, client):
    person = pending_on_waitlist(clinic, kind, day, day)
    run_pass(now=timezone.now(), clinics=[clinic])
    offer = WaitlistOffer.objects.get()
    assert offer.appointment.pending_patient == person and offer.appointment.status == AppointmentStatus.HELD
    assert not OutboxMessage.objects.exists()  # outbox rows belong to patients
    email = mail.outbox[-1]
    assert email.to == ["ana.ruiz@example.org"] and "Se liberó un horario" in email.subject, email.subject
    assert email.body.startswith("Estimado/a Ana:")
    page = client.get(_path(email.body))
    assert page.status_code == 200 and page["Content-Language"] == "es"


@override_settings(PROLOTRACK_SMS_BACKEND=LOCMEM_SMS)
def test_a_person_verified_by_text_gets_the_offer_by_text(clinic, kind, day, client):
    LocmemSMSBackend.outbox.clear()
    pending_on_waitlist(
        clinic, kind, day, day, verified_by="sms", email="", phone="+13125550100", preferred_language="en"
    )
    run_pass(now=timezone.now(), clinics=[clinic])
    sent = LocmemSMSBackend.outbox[-1]
    assert sent["to"] == "+13125550100" and "a time has come free for you" in sent["body"]
    assert client.get(_path(sent["body"])).status_code == 200
    assert mail.outbox == []


@override_settings(PROLOTRACK_SMS_BACKEND="prolotrack.messaging.backends.FailingSMSBackend")
def test_an_offer_that_cannot_be_sent_is_withdrawn_at_once(clinic, kind, day):
    pending_on_waitlist(clinic, kind, day, day, verified_by="sms", email="", phone="+13125550100")
    run_pass(now=timezone.now(), clinics=[clinic])
    offer = WaitlistOffer.objects.get()
    offer.appointment.refresh_from_db()
    assert offer.outcome == OfferOutcome.WITHDRAWN and offer.appointment.status == AppointmentStatus.CANCELLED
    assert WaitlistEntry.objects.get().status == "active"  # still waiting for the next pass


@override_settings(PROLOTRACK_SMS_BACKEND=LOCMEM_SMS)
def test_a_patient_without_email_gets_the_offer_by_sms_through_the_outbox(
    clinic, kind, day, frontdesk, make_patient, client
):
    LocmemSMSBackend.outbox.clear()
    texting = make_patient(given_name="Tex", phone="+1 312 555 0199", preferred_language="es")
    waitlist.join_waitlist(actor_of(frontdesk), patient=texting, appointment_type=kind, first_day=day, last_day=day)
    run_pass(now=timezone.now(), clinics=[clinic])
    message = OutboxMessage.objects.get(kind=MessageKind.WAITLIST_OFFER)
    assert message.channel == Channel.SMS and message.status == "sent"
    assert "[personal offer link: in the patient's copy only]" in message.body  # the stored copy cannot answer
    sent = LocmemSMSBackend.outbox[-1]
    assert "se liberó un horario para usted" in sent["body"], sent["body"]
    assert client.get(_path(sent["body"])).status_code == 200
