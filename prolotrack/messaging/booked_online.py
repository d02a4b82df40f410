"""The welcome of a booking made on the public page, right after its code was verified (docs/BOOKING.md, "After the
code: the intake and the confirmation"; the `booking.online_booked` hook).

The person is still *pending* (booking.PendingPatient): the front desk has not confirmed them, so they have no chart,
and outbox rows belong to a patient. Their confirmation is therefore sent **at once through the same channel as the
code** (messaging/immediate.py), to the contact the code has just proved theirs, in the language of the page they
booked on; no copy is kept (it carries two personal links), and an audit row records that it was sent or failed. Once
the front desk confirms them, reminders go through the outbox like every patient's.

In order: the intake of a visit that needs one (an assessment) is opened for the pending person with its link shown
(`intake.services.open_for_online_booking`), a manage link is made, then the message (email with the .ics, or SMS)
carries both; the booked page shows the same two links. Each token exists only in that page and that message.
"""

import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from prolotrack.audit.services import Actor, record_event
from prolotrack.booking import patient_links as manage
from prolotrack.booking.models import Appointment
from prolotrack.core.language import supported
from prolotrack.core.site import site_url
from prolotrack.intake import services as intake_services
from prolotrack.messaging import content, ics, immediate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Welcome:
    """What the booked page shows: the two links (paths on this site) and where the confirmation went."""

    manage_path: str
    intake_path: str | None
    channel: str  # "email" or "sms": the verified contact
    sent: bool  # False when the backend failed (the page then says so)


@dataclass(frozen=True)
class Words:
    subject: str
    body: str
    ics: bytes


def words(appointment: Appointment, *, channel: str, manage_url: str, intake_url: str | None) -> Words:
    """The confirmation of a pending person's booking, in the active language: what, with whom, when (the clinic's
    zone), where, that the clinic will confirm it, the pre-visit form's link when there is one, the manage link."""
    clinic = appointment.clinic
    pending = appointment.pending_patient
    assert pending is not None, "a booking made online is a pending person's"
    local = timezone.localtime(appointment.starts_at, clinic.tz)
    config = clinic.config
    facts = {
        "clinic": clinic.name,
        "type": appointment.appointment_type.name,
        "clinician": str(appointment.clinician),
        "when": content.written_when(local),  # the day written out in the language's own words, the time with its zone
        "day": content.written_day(local.date()),
        "name": pending.given_name,
        "link": manage_url,
    }
    if manage.may_change(appointment):
        deadline = content.written_when(timezone.localtime(manage.change_deadline(appointment), clinic.tz))
        change = _("To move or cancel it (until %(deadline)s): %(link)s") % {"deadline": deadline, "link": manage_url}
    else:
        change = _("To change it now, please call the clinic. Your appointment: %(link)s") % facts
    form = _("Before your visit, please fill in the pre-visit form (about 10 minutes): %(link)s") % {"link": intake_url}
    summary = _("%(type)s at %(clinic)s") % facts
    description = _("With %(clinician)s. To move or cancel, use the link in the clinic's message.") % facts
    calendar = ics.patient_visit(appointment, summary=summary, description=description)
    if channel == "sms":
        parts = [_("%(clinic)s: your %(type)s with %(clinician)s is booked for %(when)s.") % facts]
        if intake_url:
            parts.append(_("Pre-visit form: %(link)s") % {"link": intake_url})
        parts.append(change)
        return Words("", " ".join(parts), calendar)
    where = ", ".join(x for x in (clinic.name, config.address) if x)
    ways = " / ".join(x for x in (config.contact_phone, config.contact_email) if x)
    paragraphs = [
        _("Dear %(name)s,") % facts,
        _(
            "Your booking is made: %(type)s with %(clinician)s on %(when)s. %(clinic)s will check it and confirm it "
            "with you."
        )
        % facts,
        _("Where: %(where)s") % {"where": where},
    ]
    if intake_url:
        paragraphs.append(form)
    paragraphs += [
        change,
        _("The attached calendar file adds it to your calendar."),
        _("You receive this because this address was confirmed with a code on %(clinic)s's booking page.") % facts,
        "\n".join(x for x in (clinic.name, _("Contact: %(ways)s") % {"ways": ways} if ways else "") if x),
    ]
    return Words(_("Your appointment on %(day)s") % facts, "\n\n".join(paragraphs), calendar)


def welcome(appointment: Appointment, language: str) -> Welcome:
    """The `booking.online_booked` hook: open the intake (an assessment), make a manage link, and send the
    confirmation at once to the verified contact in `language` (the booked page's). A failing backend is logged and
    audited, never raised: the booking is made and the page shows the links either way."""
    clinic = appointment.clinic
    pending = appointment.pending_patient
    assert pending is not None, "a booking made online is a pending person's"
    system = Actor.system(clinic)
    with transaction.atomic():
        intake_path = intake_services.open_for_online_booking(appointment)
        _link, token = manage.issue_manage_link(system, appointment)
    manage_path = manage.manage_path(token)
    channel = "sms" if pending.verified_by_channel == "sms" else "email"
    address = pending.phone if channel == "sms" else pending.email
    with translation.override(supported(language) or pending.preferred_language):
        written = words(
            appointment,
            channel=channel,
            manage_url=site_url(manage_path),
            intake_url=site_url(intake_path) if intake_path else None,
        )
        local = timezone.localtime(appointment.starts_at, clinic.tz)
        attachments = [] if channel == "sms" else [(f"appointment-{local:%Y-%m-%d}.ics", written.ics, "text/calendar")]
        try:
            immediate.send_now(clinic, channel, address, written.subject, written.body, attachments)
            sent, failure = True, ""
        except Exception as error:  # any backend failure: recorded; the page shows the links and says so
            log.warning("The confirmation of online booking %s could not be sent: %s", appointment.uuid, error)
            sent, failure = False, type(error).__name__
    detail: dict[str, Any] = {"channel": channel, "intake_link": intake_path is not None}
    with transaction.atomic():
        if sent:
            record_event(system, "booking.confirmation.sent_at_once", record=appointment, detail=detail)
        else:
            record_event(system, "booking.confirmation.failed", record=appointment, detail={**detail, "error": failure})
    return Welcome(manage_path, intake_path, channel, sent)
