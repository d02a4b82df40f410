"""The demo's waitlist: patients waiting, offers the scheduler made (each a held slot), their emails with the link
in the patient's copy only."""

from typing import Any

from prolotrack.booking.models import WaitlistEntry, WaitlistOffer
from prolotrack.clinics.models import Clinic
from prolotrack.messaging.models import MessageKind, OutboxMessage


def test_the_demo_has_a_waitlist_with_offers_sent(demo: Clinic, db: Any) -> None:
    assert WaitlistEntry.objects.filter(clinic=demo).count() == 3
    offers = WaitlistOffer.objects.filter(clinic=demo)
    assert offers.exists()
    assert all(o.appointment.patient_id == o.entry.patient_id for o in offers.select_related("appointment", "entry"))
    messages = OutboxMessage.objects.filter(clinic=demo, kind=MessageKind.WAITLIST_OFFER)
    assert messages.count() == offers.count()
    for message in messages.exclude(body=""):
        assert "[personal offer link: in the patient's copy only]" in message.body
        assert "/waitlist/offer/" not in message.body
