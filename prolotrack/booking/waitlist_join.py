"""People joining the waitlist by themselves (issue 16; docs/BOOKING.md, "Joining the waitlist by oneself").

- **From the public booking page** (`request_join`, `verify_join`): a type, a clinician or anyone, a window, and the
  same details and one-time code as an online booking (booking/online.py: the same cleaning, code, hash, rate limits
  and tries; the honeypot is the view's). The person becomes an unverified `PendingPatient` with an UNVERIFIED
  entry that is never offered anything; the right code makes the pending patient wait for the front desk and the
  entry ACTIVE, its place in line the moment of verification. Nothing looks a patient up, so the answer is the same
  whoever types the details (no enumeration).
- **From a patient's link** (`join_from_manage_link`, `join_from_follow_up_link`): the link is the proof of who they
  are (as for moving or booking from it), so no code. From a manage link the person asks for an **earlier time**
  than that appointment (same type and clinician): only earlier slots are offered, and accepting one moves them
  there (booking/waitlist.py `accept_offer`).
- **Their own link** (`WaitlistLink`, `/waitlist/<token>/`): shows the entry and lets them leave (`leave`).

Every write is one transaction with its audit rows, with an Actor of no user: channel `online_booking` for the
public page, `patient_link` for the links.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from prolotrack.audit.services import Actor, ServiceError, create_record, update_record
from prolotrack.booking import hooks, online, queries, waitlist
from prolotrack.booking import patient_links as links
from prolotrack.booking.models import (
    AppointmentType,
    FollowUpLink,
    ManageLink,
    OfferOutcome,
    PendingPatient,
    PendingStatus,
    WaitlistEntry,
    WaitlistLink,
    WaitlistOffer,
    WaitlistSource,
    WaitlistStatus,
)
from prolotrack.core import clinictime
from prolotrack.core.links import LinkState, new_token, token_hash
from prolotrack.core.site import site_url

ENTRY_PATH = "/waitlist/{token}/"
# A window reaching further than this is a typing slip (a year typed wrongly); product choice.
MAX_WINDOW_DAYS = 366
# The person's link stays open until this long after the window's last day (a late look at it still explains).
LINK_GRACE_DAYS = 1


class AlreadyWaiting(ServiceError):
    code = "already_waiting"


@dataclass(frozen=True)
class JoinVerification:
    """What a code try came to: "joined" (with the person's link when made now), "wrong" (tries left), "released"
    (too many wrong codes) or "expired"."""

    outcome: str
    tries_left: int = 0
    entry: WaitlistEntry | None = None
    token: str = ""


def entry_path(token: str) -> str:
    return ENTRY_PATH.format(token=token)


# --- The window as typed on a patient's page ---------------------------------------------------------------------


def _typed_day(text: Any, name: str, errors: dict[str, str]) -> date | None:
    value = str(text or "").strip()
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = (
            _("Please give the date as year-month-day, for example 2026-04-23.") if value else _("Please choose a day.")
        )
        return None


def _typed_clock(text: Any, name: str, errors: dict[str, str]) -> time | None:
    value = str(text or "").strip()
    if not value:
        return None
    try:
        return time.fromisoformat(value)
    except ValueError:
        errors[name] = _("Give a time of day such as 09:00, or leave it empty.")
        return None


def clean_window(
    clinic: Any, data: Mapping[str, Any], weekdays: list[str], *, last_allowed: date | None = None
) -> waitlist.JoinWindow:
    """The window a person typed, checked (waitlist.check_window), or ValidationError with one translated message
    per field. `last_allowed`: the latest last day (the day of the appointment an earlier time is asked for)."""
    errors: dict[str, str] = {}
    first = _typed_day(data.get("first_day"), "first_day", errors)
    last = _typed_day(data.get("last_day"), "last_day", errors)
    earliest = _typed_clock(data.get("earliest"), "earliest", errors)
    latest = _typed_clock(data.get("latest"), "latest", errors)
    if errors:
        raise ValidationError(errors)
    window = waitlist.check_window(clinic, first, last, weekdays, earliest, latest)
    today = queries.clinic_today(clinic)
    if window.first_day < today:
        raise ValidationError({"first_day": _("The first day cannot be before today.")})
    if last_allowed is not None and window.last_day > last_allowed:
        raise ValidationError(
            {
                "last_day": _("Choose days up to your appointment on %(day)s.")
                % {"day": clinictime.written_day(last_allowed)}
            }
        )
    if (window.last_day - today).days > MAX_WINDOW_DAYS:
        raise ValidationError({"last_day": _("Please choose a last day within a year from today.")})
    return window


# --- The person's own link ------------------------------------------------------------------------------------------


def issue_entry_link(actor: Actor, entry: WaitlistEntry) -> str:
    """A link to the entry for its person (inside the caller's transaction): the token, shown once."""
    token = new_token()
    until = datetime.combine(entry.last_day + timedelta(days=LINK_GRACE_DAYS + 1), time(), tzinfo=entry.clinic.tz)
    create_record(
        actor,
        WaitlistLink(clinic=entry.clinic, entry=entry, token_hash=token_hash(token), expires_at=until),
        "booking.waitlist.link_made",
        detail={"entry": str(entry.uuid)},
    )
    return token


def entry_link(token: str) -> WaitlistLink | None:
    return WaitlistLink.by_token(
        token,
        WaitlistLink.objects.select_related(
            "clinic", "entry", "entry__patient", "entry__pending_patient", "entry__appointment_type",
            "entry__clinician", "entry__replaces",
        ),
    )  # fmt: skip


def entry_link_state(link: WaitlistLink) -> str:
    """Open until its expiry; an entry never verified (the code was not entered) has no page."""
    state = link.state()
    if state == LinkState.OPEN and link.entry.status == WaitlistStatus.UNVERIFIED:
        return LinkState.REVOKED
    return state


def open_offer(entry: WaitlistEntry) -> WaitlistOffer | None:
    return (
        WaitlistOffer.objects.filter(entry=entry, outcome=OfferOutcome.OPEN)
        .select_related("appointment", "appointment__clinician")
        .first()
    )


def leave(link: WaitlistLink, *, client_address: str | None = None) -> WaitlistEntry:
    """The person leaves the waitlist from their link: the entry is withdrawn (it stays on record with the reason) and
    an open offer is withdrawn with its held slot released. Leaving twice changes nothing."""
    now = timezone.now()
    actor = links.patient_actor(link.clinic, client_address)
    why = "The patient left the waitlist from their link."
    with transaction.atomic():
        entry = WaitlistEntry.objects.select_for_update(no_key=True).get(pk=link.entry_id)
        if entry.status not in (WaitlistStatus.ACTIVE, WaitlistStatus.OFFERED):
            return entry
        for offer in WaitlistOffer.objects.select_for_update(no_key=True).filter(
            entry=entry, outcome=OfferOutcome.OPEN
        ):
            waitlist._close_offer(actor, offer, OfferOutcome.WITHDRAWN, why, now)
        return update_record(
            actor, entry, {"status": WaitlistStatus.WITHDRAWN, "status_reason": why}, "booking.waitlist.left",
            expected_version=None, reason=why,
        )  # fmt: skip


# --- From a patient's link -------------------------------------------------------------------------------------------


def _join_as_patient(
    link: Any, patient: Any, kind: AppointmentType, who: Any, window: Any, client_address: str | None, **extra: Any
) -> tuple[WaitlistEntry, str]:
    if patient is None or patient.is_entered_in_error:
        raise ServiceError(_("Please contact the clinic to join the waitlist."))
    if not waitlist.reachable(patient):
        raise ValidationError(
            {"form": _("The clinic has no email address or mobile number for you, so it could not tell you when a "
                       "time comes free. Please contact the clinic.")}
        )  # fmt: skip
    actor = links.patient_actor(link.clinic, client_address)
    with transaction.atomic():
        type(link).objects.select_for_update(of=("self",)).filter(pk=link.pk).first()  # one join at a time per link
        if waitlist.same_wait(link.clinic, kind, who, patient=patient):
            raise AlreadyWaiting(_("You are already on the waitlist for this appointment."))
        entry = waitlist.add_entry(actor, kind, who, window, patient=patient, source=WaitlistSource.LINK, **extra)
        return entry, issue_entry_link(actor, entry)


def earlier_window_end(link: ManageLink) -> date:
    """The last day an earlier time may fall on: the appointment's own local day."""
    return timezone.localtime(link.appointment.starts_at, link.clinic.tz).date()


def join_from_manage_link(
    link: ManageLink, data: Mapping[str, Any], weekdays: list[str], *, client_address: str | None = None
) -> tuple[WaitlistEntry, str]:
    """Ask for an earlier time than the link's appointment (its type, its clinician), inside a window up to its day;
    only while the appointment may still be changed online. (entry, the person's link token)."""
    if link.state() != LinkState.OPEN:
        raise links.LinkClosed(link.state())
    appointment = link.appointment
    if not links.may_change(appointment):
        raise links.OutsideWindow(_("This appointment can no longer be changed online. Please call the clinic."))
    window = clean_window(link.clinic, data, weekdays, last_allowed=earlier_window_end(link))
    return _join_as_patient(
        link, appointment.patient, appointment.appointment_type, appointment.clinician, window, client_address,
        replaces=appointment,
    )  # fmt: skip


def join_from_follow_up_link(
    link: FollowUpLink, data: Mapping[str, Any], weekdays: list[str], *, client_address: str | None = None
) -> tuple[WaitlistEntry, str]:
    """No free time suits: wait for one of the link's type (its clinician, or anyone who offers it) in a window.
    The link stays open for booking. (entry, the person's link token)."""
    if link.state() != LinkState.OPEN:
        raise links.LinkClosed(link.state())
    if not links.follow_up_clinicians(link):
        raise ServiceError(_("Please contact the clinic to join the waitlist."))
    window = clean_window(link.clinic, data, weekdays)
    return _join_as_patient(link, link.patient, link.appointment_type, link.clinician, window, client_address)


# --- From the public booking page ------------------------------------------------------------------------------------


def joinable(clinic: Any, appointment_type: Any, clinician: Any) -> tuple[AppointmentType, Any]:
    """The type (bookable online) and clinician (one who offers it online, or None for anyone) a stranger may wait
    for; ValidationError naming the field, BookingClosed when the clinic takes no online bookings."""
    if not online.takes_bookings(clinic):
        raise online.BookingClosed(_("This clinic does not take bookings online."))
    kind = next((t for t in online.bookable(clinic) if t == appointment_type), None)
    if kind is None:
        raise ValidationError({"type": _("Please choose a type of appointment from the list.")})
    if clinician is None:
        return kind, None
    who = next((c for c in queries.offering_clinicians(clinic, kind, online=True) if c == clinician), None)
    if who is None:
        raise ValidationError({"clinician": _("Please choose a clinician from the list, or anyone.")})
    return kind, who


def _code_message(clinic: Any, entry: WaitlistEntry, booker: online.Booker, code: str) -> tuple[str, str]:
    with translation.override(booker.language):
        if booker.channel == "sms":
            return "", _("%(code)s is your %(clinic)s waitlist code. It works for %(minutes)d minutes.") % {
                "code": code,
                "clinic": clinic.name,
                "minutes": online.HOLD_MINUTES,
            }
        subject = _("Your waitlist code for %(clinic)s: %(code)s") % {"clinic": clinic.name, "code": code}
        body = _(
            "Your code is %(code)s.\n\nEnter it on the waitlist page within %(minutes)d minutes to join the waitlist "
            "for %(type)s.\n\nIf you did not ask for this code, you can ignore this message: nothing happens "
            "without it."
        ) % {"code": code, "minutes": online.HOLD_MINUTES, "type": entry.appointment_type.patient_name()}
        return subject, body


def request_join(
    clinic: Any,
    *,
    appointment_type: Any,
    clinician: Any,
    window: Any,
    booker: online.Booker,
    client_address: str | None,
) -> PendingPatient:
    """Write an unverified pending patient and entry and send the code, as a hold does (the same rate limits per
    address and contact). Refused with ValidationError, BookingClosed, TooManyAttempts or CodeNotSent (then the entry
    and the pending patient are closed at once)."""
    kind, who = joinable(clinic, appointment_type, clinician)
    person, code = online.start_verification(clinic, booker, client_address)
    with transaction.atomic():
        until = timezone.now() + timedelta(minutes=online.HOLD_MINUTES)
        pending = online.unverified_pending(person, clinic, booker, code, until, **{"for": "waitlist"})
        entry = waitlist.add_entry(
            person, kind, who, window, pending=pending, source=WaitlistSource.ONLINE, status=WaitlistStatus.UNVERIFIED
        )
    subject, body = _code_message(clinic, entry, booker, code)
    try:
        hooks.send_now(clinic, booker.channel, booker.address, subject, body)
    except Exception as error:  # any backend failure: the person must be told, nothing left waiting
        with transaction.atomic():
            _release(person, pending, entry, f"The code could not be sent ({type(error).__name__}).")
        raise online.CodeNotSent(
            _("We could not send your code. Please check your details, try again later or contact the clinic.")
        ) from error
    return pending


def _release(who: Actor, pending: PendingPatient, entry: WaitlistEntry | None, reason: str) -> None:
    update_record(who, pending, {"status": PendingStatus.EXPIRED}, "booking.pending.expired", expected_version=None)
    if entry is not None and entry.status == WaitlistStatus.UNVERIFIED:
        update_record(
            who, entry, {"status": WaitlistStatus.EXPIRED, "status_reason": reason}, "booking.waitlist.not_verified",
            expected_version=None, reason=reason,
        )  # fmt: skip


def joined_entry(clinic: Any, ref: str) -> tuple[PendingPatient, WaitlistEntry] | None:
    """The pending patient of a join reference (kept in the person's session) and its entry."""
    try:
        pending = PendingPatient.objects.get(clinic=clinic, uuid=ref)
    except (PendingPatient.DoesNotExist, ValidationError, ValueError):
        return None
    entry = (
        WaitlistEntry.objects.filter(pending_patient=pending, source=WaitlistSource.ONLINE)
        .select_related("appointment_type", "clinician", "clinic")
        .order_by("-id")
        .first()
    )
    return (pending, entry) if entry is not None else None


def verify_join(clinic: Any, pending: PendingPatient, code: Any, client_address: str | None) -> JoinVerification:
    """Try a code (the same limits and tries as a booking's). The right one makes the person wait for the front desk
    and the entry ACTIVE (in line from now), makes their own link and sends it to them; a wrong one counts
    (online.CODE_TRIES release the entry); a code after its 15 minutes releases it."""
    online._limit(
        [
            (online.CODE_TRIES_PER_ADDRESS, client_address or "unknown"),
            (online.CODE_TRIES_PER_CONTACT, pending.email),
            (online.CODE_TRIES_PER_CONTACT, pending.phone),
        ]
    )
    person = online.actor(clinic, client_address)
    typed = re.sub(r"\s", "", str(code or ""))[:20]
    with transaction.atomic():
        current = PendingPatient.objects.select_for_update(no_key=True).get(pk=pending.pk)
        found = joined_entry(clinic, str(current.uuid))
        if found is None:
            return JoinVerification("expired")
        entry = (
            WaitlistEntry.objects.select_for_update(no_key=True).select_related("appointment_type").get(pk=found[1].pk)
        )
        if current.status != PendingStatus.UNVERIFIED or entry.status != WaitlistStatus.UNVERIFIED:
            done = current.status != PendingStatus.EXPIRED and entry.status != WaitlistStatus.EXPIRED
            return JoinVerification("joined" if done else "expired", entry=entry)
        now = timezone.now()
        if current.code_expires_at is None or current.code_expires_at <= now:
            _release(person, current, entry, "The code was not entered within its time.")
            return JoinVerification("expired", entry=entry)
        if not typed or not constant_time_compare(online.code_hash(current, typed), current.code_hash):
            tries = current.code_attempts + 1
            current = update_record(
                person, current, {"code_attempts": tries}, "booking.code.wrong", expected_version=current.version
            )
            if tries >= online.CODE_TRIES:
                _release(person, current, entry, f"{online.CODE_TRIES} wrong codes.")
                return JoinVerification("released", entry=entry)
            return JoinVerification("wrong", tries_left=online.CODE_TRIES - tries, entry=entry)
        channel = "email" if current.email else "sms"
        current = update_record(
            person,
            current,
            {"status": PendingStatus.PENDING, "verified_at": now, "verified_by_channel": channel},
            "booking.pending.verified",
            expected_version=current.version,
        )
        entry = update_record(
            person, entry, {"status": WaitlistStatus.ACTIVE, "joined_at": now}, "booking.waitlist.verified",
            expected_version=None,
        )  # fmt: skip
        token = issue_entry_link(person, entry)
    _send_joined(clinic, current, entry, token)
    return JoinVerification("joined", entry=entry, token=token)


def _send_joined(clinic: Any, pending: PendingPatient, entry: WaitlistEntry, token: str) -> None:
    """Tell the person they are on the waitlist, with their link, on the channel they verified (at once: a pending
    person has no outbox). A failure is only logged: the page they are on shows the link too."""
    channel = pending.verified_by_channel or ("email" if pending.email else "sms")
    address = pending.email if channel == "email" else pending.phone
    with translation.override(pending.preferred_language or "en"):
        url = site_url(entry_path(token))
        what = entry.appointment_type.patient_name()
        if channel == "sms":
            subject = ""
            body = _("%(clinic)s: you are on the waitlist for %(type)s. To see or leave it: %(link)s") % {
                "clinic": clinic.name,
                "type": what,
                "link": url,
            }
        else:
            subject = _("You are on the waitlist at %(clinic)s") % {"clinic": clinic.name}
            body = _(
                "You are on the waitlist for %(type)s. When a time that suits you comes free, we send you a message "
                "with a link; the time is kept for you for a while, and the first person in line who takes it gets "
                "it.\n\nTo see what you are waiting for, or to leave the waitlist: %(link)s"
            ) % {"type": what, "link": url}
    try:
        hooks.send_now(clinic, channel, address, subject, body)
    except Exception:  # the page shows the link; the clinic's log has the failure
        waitlist.log.exception("The waitlist confirmation to a pending person could not be sent")
