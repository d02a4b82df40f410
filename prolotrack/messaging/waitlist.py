"""The scheduler's waitlist job (docs/BOOKING.md, "Waitlist"): each pass, for each clinic, close the offers whose hold
ran out, then, inside the clinic's sending window, offer free slots to the people waiting (booking/waitlist.py) and
send one message per offer in the same pass:

- to a patient, an outbox row sent by the same pass (`send_due`): by email when the chart has an address, else by SMS
  to the chart's mobile number. One channel per offer: the link is single use and made when the message is sent, so
  a second message would need a second live link (or carry a dead one);
- to a person who joined online and is not yet confirmed by the front desk (a pending patient: outbox rows belong to
  patients), at once through the booking.send_now hook (messaging/immediate.py) on the channel they verified their
  code with. A message that cannot be sent withdraws the offer at once (its held slot goes back), the person waits on.

The message is written when sent, like every reminder (docs/MESSAGING.md): the stored copy shows the slot and
"[personal offer link: in the patient's copy only]"; the link's token is made at that moment
(`booking.waitlist.issue_link`), so nobody reading the outbox can answer as the patient. Words are in the patient's
preferred language (gettext; the Spanish catalogue belongs to the i18n work).
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from prolotrack.audit.services import Actor
from prolotrack.booking import waitlist as booking_waitlist
from prolotrack.booking.models import OfferOutcome, WaitlistOffer
from prolotrack.clinics.models import Clinic
from prolotrack.core import clinictime
from prolotrack.core.language import patient_language
from prolotrack.core.links import LinkState
from prolotrack.core.site import site_url
from prolotrack.messaging import content, immediate, outbox
from prolotrack.messaging.models import Channel, MessageKind, OutboxMessage

LINK_PLACEHOLDER = "{offer_link}"
LINK_REDACTED = "[personal offer link: in the patient's copy only]"
TARGET_PREFIX = "waitlist_offer:"


@dataclass
class WaitlistReport:
    offered: int = 0
    expired: int = 0


def offer_of(message: OutboxMessage) -> WaitlistOffer | None:
    """The offer a waitlist message is about (its target names it)."""
    uuid = message.target.removeprefix(TARGET_PREFIX)
    return (
        WaitlistOffer.objects.select_related(
            "clinic", "entry", "appointment", "appointment__appointment_type", "appointment__clinician"
        )
        .filter(uuid=uuid)
        .first()
    )


def run(clinic: Clinic, now: datetime, *, window_open: bool) -> WaitlistReport:
    """One pass of the waitlist for a clinic: expiries always; new offers only while messages can go out (a hold
    whose message waits for the morning would run out unread)."""
    report = WaitlistReport(expired=booking_waitlist.expire_offers(clinic, now))
    if not window_open:
        return report
    today = timezone.localtime(now, clinic.tz).date()
    for offer in booking_waitlist.make_offers(clinic, now):
        if offer.entry.patient is None:
            report.offered += _send_to_pending(offer)
        else:
            report.offered += _queue(offer, today)
    return report


def _queue(offer: WaitlistOffer, today: date) -> int:
    patient = offer.entry.patient
    if patient is None or not (patient.email or patient.phone):
        booking_waitlist.release_unsent(offer, "The patient has no email address or mobile number to send it to.")
        return 0
    return plan_link_message(offer.clinic, patient, MessageKind.WAITLIST_OFFER, f"{TARGET_PREFIX}{offer.uuid}", today)


def plan_link_message(clinic: Clinic, patient: Any, kind: str, target: str, today: date) -> int:
    """One outbox row for a single-use link made when the message is sent (a waitlist offer, a course's link): by
    email when the chart has an address, else by SMS, never both (a second message would need a second live link).
    1 when planned, 0 when that message exists already."""
    channel, address = (Channel.EMAIL, patient.email) if patient.email else (Channel.SMS, patient.phone)
    message = OutboxMessage(
        clinic=clinic, patient=patient, channel=channel, kind=kind, target=target, to_address=address,
        scheduled_for=today,
    )  # fmt: skip
    return int(outbox.plan(Actor.system(clinic), message))


def lapse_reason(message: OutboxMessage, now: datetime) -> str:
    """Why a queued offer message must not go out now (the offer was answered, withdrawn or ran out), or ""."""
    offer = offer_of(message)
    if offer is None:
        return "The offer no longer exists."
    if booking_waitlist.offer_state(offer, now) != LinkState.OPEN or offer.outcome != OfferOutcome.OPEN:
        return "The offer was answered, withdrawn or ran out before it could be sent."
    return ""


def _send_to_pending(offer: WaitlistOffer) -> int:
    """Send a pending person's offer at once on the channel they verified; withdraw the offer if it cannot go."""
    pending = offer.entry.pending_patient
    assert pending is not None, "an entry is for a patient or a pending patient"
    channel = pending.verified_by_channel or (Channel.EMAIL if pending.email else Channel.SMS)
    address = pending.email if channel == Channel.EMAIL else pending.phone
    if not address:
        booking_waitlist.release_unsent(offer, "The person gave no address on the channel they verified.")
        return 0
    try:
        subject, body = offer_text(offer, pending, channel, site_url(booking_waitlist.issue_link(offer)))
        immediate.send_now(offer.clinic, channel, address, subject, body)
    except Exception as error:  # any backend failure: the slot must not stay held for someone who was not told
        booking_waitlist.log.warning("A waitlist offer to a pending person could not be sent: %s", error)
        booking_waitlist.release_unsent(offer, f"The offer could not be sent ({type(error).__name__}).")
        return 0
    return 1


def words(message: OutboxMessage, *, with_link: bool) -> tuple[str, str, str]:
    """(subject, stored body, the patient's body): the offer as it stands, in the patient's language."""
    offer = offer_of(message)
    assert offer is not None, "a waitlist message names its offer"
    subject, body = offer_text(offer, message.patient, message.channel, LINK_PLACEHOLDER)
    stored = body.replace(LINK_PLACEHOLDER, LINK_REDACTED)
    patient_body = stored
    if with_link:
        patient_body = body.replace(LINK_PLACEHOLDER, site_url(booking_waitlist.issue_link(offer)))
    return subject, stored, patient_body


def offer_text(offer: WaitlistOffer, person: Any, channel: str, link: str) -> tuple[str, str]:
    """(subject, body) of an offer to a patient or a pending person, in their language; an SMS is one short text
    (no subject)."""
    clinic = offer.clinic
    held = offer.appointment
    start = timezone.localtime(held.starts_at, clinic.tz)
    until = timezone.localtime(offer.expires_at, clinic.tz)
    with translation.override(patient_language(person)):
        facts = {
            "clinic": clinic.name,
            "type": held.appointment_type.patient_name(),
            "clinician": held.clinician.get_full_name() or held.clinician.username,
            "when": content.written_when(start),
            "until": f"{until:%H:%M} {until.tzname()}",
            "link": link,
        }
        if channel == Channel.SMS:
            return "", _(
                "%(clinic)s: a time has come free for you: %(type)s with %(clinician)s on %(when)s, kept for you "
                "until %(until)s. Take it or say no: %(link)s"
            ) % facts
        subject = _("A time has come free at %(clinic)s") % {"clinic": clinic.name}
        body = "\n\n".join(
            [
                _("Dear %(name)s,") % {"name": person.given_name},
                _(
                    "You are on the waitlist at %(clinic)s. This time has come free: %(type)s with %(clinician)s on "
                    "%(when)s."
                )
                % facts,
                _(
                    "It is kept for you until %(until)s. To take it, or to say no so it goes to the next person "
                    "waiting, open: %(link)s"
                )
                % {
                    **facts,
                    "until": f"{until:%H:%M} {until.tzname()} ({clinictime.written_day_no_year(until, clinic)})",
                },
                _(
                    "The link is personal and works once. If you do nothing, the time goes to the next person and you stay on the waitlist."
                ),
                f"{clinic.name}\n{content.contact_line(clinic)}",
            ]
        )
    return subject, body
