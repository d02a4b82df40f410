"""The scheduler's waitlist job (docs/BOOKING.md, "Waitlist"): each pass, for each clinic, close the offers whose hold
ran out, then, inside the clinic's sending window, offer free slots to the people waiting (booking/waitlist.py) and
queue one email per offer, sent by the same pass (`send_due`).

The message is written when sent, like every reminder (docs/MESSAGING.md): the stored copy shows the slot and
"[personal offer link: in the patient's copy only]"; the link's token is made at that moment
(`booking.waitlist.issue_link`), so nobody reading the outbox can answer as the patient. Words are in the patient's
preferred language (gettext; the Spanish catalogue belongs to the i18n work).
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from prolotrack.audit.services import Actor, create_record
from prolotrack.booking import waitlist as booking_waitlist
from prolotrack.booking.models import OfferOutcome, WaitlistOffer
from prolotrack.clinics.models import Clinic
from prolotrack.core.links import LinkState
from prolotrack.core.site import site_url
from prolotrack.messaging import content
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
        report.offered += _queue(offer, today)
    return report


def _queue(offer: WaitlistOffer, today: date) -> int:
    patient = offer.entry.patient
    if patient is None or not patient.email:
        return 0
    message = OutboxMessage(
        clinic=offer.clinic,
        patient=patient,
        channel=Channel.EMAIL,
        kind=MessageKind.WAITLIST_OFFER,
        target=f"{TARGET_PREFIX}{offer.uuid}",
        to_address=patient.email,
        scheduled_for=today,
    )
    try:
        with transaction.atomic():
            create_record(
                Actor.system(offer.clinic), message, "messaging.message.planned", detail={"kind": message.kind}
            )
    except IntegrityError:
        return 0
    return 1


def lapse_reason(message: OutboxMessage, now: datetime) -> str:
    """Why a queued offer message must not go out now (the offer was answered, withdrawn or ran out), or ""."""
    offer = offer_of(message)
    if offer is None:
        return "The offer no longer exists."
    if booking_waitlist.offer_state(offer, now) != LinkState.OPEN or offer.outcome != OfferOutcome.OPEN:
        return "The offer was answered, withdrawn or ran out before it could be sent."
    return ""


def words(message: OutboxMessage, *, with_link: bool) -> tuple[str, str, str]:
    """(subject, stored body, the patient's body): the offer as it stands, in the patient's language."""
    offer = offer_of(message)
    assert offer is not None, "a waitlist message names its offer"
    clinic = offer.clinic
    held = offer.appointment
    start = timezone.localtime(held.starts_at, clinic.tz)
    until = timezone.localtime(offer.expires_at, clinic.tz)
    with translation.override(message.patient.preferred_language or "en"):
        subject = _("A time has come free at %(clinic)s") % {"clinic": clinic.name}
        body = "\n\n".join(
            [
                _("Dear %(name)s,") % {"name": message.patient.given_name},
                _(
                    "You are on the waitlist at %(clinic)s. This time has come free: %(type)s with %(clinician)s on "
                    "%(when)s."
                )
                % {
                    "clinic": clinic.name,
                    "type": held.appointment_type.name,
                    "clinician": held.clinician.get_full_name() or held.clinician.username,
                    "when": f"{start:%A} {start.day} {start:%B %Y}, {start:%H:%M} {start.tzname()}",
                },
                _(
                    "It is kept for you until %(until)s. To take it, or to say no so it goes to the next person "
                    "waiting, open: %(link)s"
                )
                % {
                    "until": f"{until:%H:%M} {until.tzname()} ({until:%A} {until.day} {until:%B})",
                    "link": LINK_PLACEHOLDER,
                },
                _(
                    "The link is personal and works once. If you do nothing, the time goes to the next person and you stay on the waitlist."
                ),
                f"{clinic.name}\n{content.contact_line(clinic)}",
            ]
        )
    stored = body.replace(LINK_PLACEHOLDER, LINK_REDACTED)
    patient_body = stored
    if with_link:
        patient_body = body.replace(LINK_PLACEHOLDER, site_url(booking_waitlist.issue_link(offer)))
    return subject, stored, patient_body
