"""The scheduler's waitlist job (docs/BOOKING.md, "Waitlist"): a pass offers a free slot to the first in line by
email with a working link that exists only in the patient's copy; a hold that runs out passes the slot to the next
in line on a later pass; two passes do not offer twice; no offer is made while messages cannot go out."""

import re
from datetime import time, timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from prolotrack.billing.testing import set_clinic_settings
from prolotrack.booking import waitlist
from prolotrack.booking.models import AppointmentKind, OfferOutcome, WaitlistOffer
from prolotrack.booking.testing import next_weekday, set_up_week
from prolotrack.clinics.testing import actor_of
from prolotrack.messaging.models import MessageKind, MessageStatus, OutboxMessage
from prolotrack.messaging.services import run_pass

pytestmark = pytest.mark.django_db


@pytest.fixture
def line(admin_user: Any, frontdesk: Any, clinician: Any, clinic: Any, make_patient: Any) -> list[Any]:
    """Three patients waiting, in this order, for a follow-up at 10:00 on one day; messages may go any hour."""
    set_clinic_settings(clinic, send_window_start_hour=0, send_window_end_hour=24)
    kind = set_up_week(actor_of(admin_user), [clinician])[AppointmentKind.FOLLOW_UP]
    day = next_weekday(clinic, 2, at_least=3)
    people = [make_patient(given_name=f"P{n}", email=f"p{n}@example.org") for n in range(3)]
    for person in people:
        waitlist.join_waitlist(
            actor_of(frontdesk),
            patient=person,
            appointment_type=kind,
            first_day=day,
            last_day=day,
            earliest=time(10),
            latest=time(10, 30),
        )
    return people


def _link(email: Any) -> str:
    found = re.search(r"https?://\S+/waitlist/offer/[\w-]+/", email.body)
    assert found, email.body
    return found.group(0)


def test_a_pass_offers_in_order_and_a_run_out_hold_passes_to_the_next(clinic, line, client):
    now = timezone.now()
    run_pass(now=now, clinics=[clinic])
    first = OutboxMessage.objects.get(kind=MessageKind.WAITLIST_OFFER)
    assert first.patient == line[0] and first.status == MessageStatus.SENT
    assert "[personal offer link: in the patient's copy only]" in first.body  # the stored copy cannot answer
    assert [m.to for m in mail.outbox] == [["p0@example.org"]]
    link = _link(mail.outbox[0])
    assert "/waitlist/offer/" not in first.body
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    assert client.get(path).status_code == 200

    run_pass(now=now + timedelta(minutes=5), clinics=[clinic])  # a second pass while the hold lasts: nothing new
    assert OutboxMessage.objects.filter(kind=MessageKind.WAITLIST_OFFER).count() == 1

    offer = WaitlistOffer.objects.get()
    run_pass(now=offer.expires_at + timedelta(seconds=1), clinics=[clinic])
    offer.refresh_from_db()
    assert offer.outcome == OfferOutcome.EXPIRED
    second = OutboxMessage.objects.filter(kind=MessageKind.WAITLIST_OFFER).exclude(pk=first.pk).get()
    assert second.patient == line[1]
    assert client.get(path).status_code == 410  # the first link is closed


def test_no_offer_while_messages_cannot_go_out(clinic, line):
    now = timezone.now()
    hour = timezone.localtime(now, clinic.tz).hour
    start, end = (hour + 1, hour + 2) if hour <= 21 else (0, 1)
    set_clinic_settings(clinic, send_window_start_hour=start, send_window_end_hour=end)
    run_pass(now=now, clinics=[clinic])
    assert not WaitlistOffer.objects.exists()
    assert not OutboxMessage.objects.filter(kind=MessageKind.WAITLIST_OFFER).exists()
