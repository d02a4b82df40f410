"""Online booking from the public page /book/<clinic-slug>/ (docs/BOOKING.md, "Online booking").

A person with no account chooses a type, a clinician or the first available, and a free slot (online rules); gives
their name, date of birth and an email address and/or a mobile number. `hold_online` then writes, in one transaction
and under the same clinician row lock and slot check as staff booking (`services._locked_check` with the online
rules), a pending patient (unverified) and a HELD appointment that holds its slot for HOLD_MINUTES, and sends a
one-time code by email (or SMS when only a mobile is given) at once (the booking.send_now hook). `verify_code` turns
the right code into a pending patient waiting for the front desk and a BOOKED appointment, provided the hold is still
the slot's; CODE_TRIES wrong codes release the hold.

No enumeration: nothing here looks a patient up. A person who is already a patient is a pending patient like anyone
else (the front desk merges), so every answer is the same whoever types the details. Abuse: rate limits per client
address and per contact (core/links.py RateLimit) on holds and on code tries; the honeypot is the view's (it writes
nothing). Every write is audited with an Actor of channel "online_booking" and no user.
"""

import json
import logging
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from prolotrack.audit.services import Actor, ServiceError, create_record, update_record
from prolotrack.booking import hooks, queries
from prolotrack.booking.models import (
    Appointment,
    AppointmentStatus,
    AppointmentType,
    BookingSource,
    ManageLink,
    PendingPatient,
    PendingStatus,
)
from prolotrack.booking.services import SlotUnavailable, _lock, _locked_check
from prolotrack.clinics.models import Clinic
from prolotrack.core import clinictime
from prolotrack.core.links import LinkState, RateLimit

log = logging.getLogger(__name__)

CHANNEL = "online_booking"
# Issue 16: "bookings from unverified contacts expire in 15 minutes". The code lives exactly as long as the hold.
HOLD_MINUTES = 15
# A 6-digit code (one in a million per guess) with at most 5 wrong tries per hold: a guesser's chance is 5 in
# 1,000,000. Six digits is what NIST SP 800-63B (5.1.3.2, out-of-band authenticators) asks of a code sent by message,
# and 5 tries is well under its limit of 100 failed attempts per authenticator (5.2.2).
CODE_DIGITS = 6
CODE_TRIES = 5
# The booked page's links are shown again to the browser that booked for at most this long (a session lasts 12 hours:
# settings.SESSION_COOKIE_AGE; docs/BOOKING.md, "After the code").
KEPT_LINKS_SECONDS = 24 * 60 * 60
# Rate limits (product defaults, counted in the shared cache): a clinic's front desk on one address may book a
# handful of people in an hour; a stranger scripting holds may not. Per contact fewer: one person rarely needs more
# than a few holds (a code that did not arrive, a changed mind) in an hour.
HOLDS_PER_ADDRESS = RateLimit("book-hold-address", 10, 3600)
HOLDS_PER_CONTACT = RateLimit("book-hold-contact", 5, 3600)
# Code tries: 5 per hold already; these stop one address or contact cycling through holds to keep guessing.
CODE_TRIES_PER_ADDRESS = RateLimit("book-code-address", 30, 3600)
CODE_TRIES_PER_CONTACT = RateLimit("book-code-contact", 15, 3600)
# The oldest verified person lived to 122: a date of birth further back is a typing mistake.
MAX_AGE_YEARS = 122
NAME_MAX = 100
# A mobile number: an optional +, then 7 to 15 digits (E.164 allows at most 15), spaces, dots, dashes and brackets
# allowed between them.
PHONE_RE = re.compile(r"^\+?[0-9 ().-]+$")
PHONE_DIGITS = (7, 15)
# How many next free slots an answer offers instead of a taken or expired one.
NEXT_SLOTS = 6


class OnlineBookingError(ServiceError):
    """A refusal the page shows in the person's words."""


class BookingClosed(OnlineBookingError):
    """The clinic does not take online bookings (off in its settings), or has nothing bookable online."""

    code = "online_booking_closed"


class TooManyAttempts(OnlineBookingError):
    code = "too_many_attempts"

    def __init__(self, retry_after: int) -> None:
        super().__init__(_("Too many attempts. Please try again later or contact the clinic."))
        self.retry_after = retry_after


class SlotTaken(OnlineBookingError):
    """The chosen time is no longer free (someone else took it a moment before): the next free slots instead."""

    code = "slot_taken"

    def __init__(self, next_slots: Sequence[queries.FreeSlot]) -> None:
        super().__init__(_("Sorry, that time has just been taken. Please choose another."))
        self.next_slots = list(next_slots)


class CodeNotSent(OnlineBookingError):
    code = "code_not_sent"


@dataclass(frozen=True)
class Booker:
    """What the person typed, cleaned."""

    given_name: str
    family_name: str
    date_of_birth: date
    email: str
    phone: str
    language: str

    @property
    def channel(self) -> str:
        """Where the code goes: email when given, else SMS."""
        return "email" if self.email else "sms"

    @property
    def address(self) -> str:
        return self.email or self.phone


@dataclass(frozen=True)
class Held:
    pending: PendingPatient
    appointment: Appointment


@dataclass(frozen=True)
class Verification:
    """What a code try came to: "booked", "wrong" (with tries left), "released" (too many wrong codes) or
    "expired" (the hold ended before the right code came)."""

    outcome: str
    tries_left: int = 0
    appointment: Appointment | None = None
    just_booked: bool = False  # this try booked it (a repeat of a right code is "booked" too, not just booked)


# --- Reads -----------------------------------------------------------------------------------------------------------


def public_clinic(slug: str) -> Clinic | None:
    """The clinic of a booking address, whether or not it takes online bookings (None: no such address)."""
    return Clinic.objects.filter(slug=slug).first()


def takes_bookings(clinic: Clinic) -> bool:
    return bool(clinic.config.online_booking)


def bookable(clinic: Clinic) -> list[AppointmentType]:
    """The types a stranger may book: active, bookable online, offered online by at least one clinician."""
    types = queries.bookable_types(clinic, online=True)
    return [t for t in types if queries.offering_clinicians(clinic, t, online=True)]


def pending_booking(clinic: Clinic, ref: str) -> tuple[PendingPatient, Appointment] | None:
    """The pending patient of a booking reference (kept in the person's session) and its online appointment."""
    try:
        pending = PendingPatient.objects.get(clinic=clinic, uuid=ref)
    except (PendingPatient.DoesNotExist, ValidationError, ValueError):
        return None
    appointment = (
        Appointment.objects.filter(pending_patient=pending, source=BookingSource.ONLINE)
        .select_related("appointment_type", "clinician")
        .order_by("-id")
        .first()
    )
    return (pending, appointment) if appointment is not None else None


def next_online_slots(
    clinic: Clinic, appointment_type: AppointmentType, clinician: Any, after: datetime
) -> list[queries.FreeSlot]:
    """The next free slots online from `after` (the clinician's, else anyone's who offers the type online)."""
    horizon = queries.clinic_today(clinic) + timedelta(days=queries.online_rules(clinic).max_days_ahead)
    first = max(after, timezone.now()).astimezone(clinic.tz).date()
    if first > horizon:
        return []
    for who in (clinician, None):
        found = [
            s
            for s in queries.free_slots(
                clinic, appointment_type, first, horizon, clinician=who, online=True, limit=NEXT_SLOTS * 4
            )
            if s.start >= after
        ][:NEXT_SLOTS]
        if found:
            return found
    return []


# --- Input -----------------------------------------------------------------------------------------------------------


def _name(value: Any, what: str, errors: dict[str, str], key: str) -> str:
    text = " ".join(str(value or "").split())
    if not text:
        errors[key] = _("Please give your %(what)s.") % {"what": what}
    elif len(text) > NAME_MAX:
        errors[key] = _("Please shorten this to at most %(n)d characters.") % {"n": NAME_MAX}
    elif not any(c.isalpha() for c in text) or any(c in "<>{}[]\\/@#$%^*=|~`" or not c.isprintable() for c in text):
        errors[key] = _("Please use letters (spaces, hyphens and apostrophes are fine).")
    return text


def _birth(value: Any, today: date, errors: dict[str, str]) -> date | None:
    text = str(value or "").strip()
    if not text:
        errors["date_of_birth"] = _("Please give your date of birth.")
        return None
    try:
        born = date.fromisoformat(text)
    except ValueError:
        errors["date_of_birth"] = _("Please give the date as year-month-day, for example 1980-04-23.")
        return None
    if born > today:
        errors["date_of_birth"] = _("A date of birth cannot be in the future.")
    elif born.year < today.year - MAX_AGE_YEARS:
        errors["date_of_birth"] = _("Please check the year of birth.")
    return born


def _email(value: Any, errors: dict[str, str]) -> str:
    text = str(value or "").strip()
    if not text:
        return ""
    try:
        if len(text) > 254:
            raise ValidationError("too long")
        validate_email(text)
    except ValidationError:
        errors["email"] = _("Please give an email address like name@example.com.")
        return ""
    return text.lower()


def _phone(value: Any, errors: dict[str, str]) -> str:
    text = str(value or "").strip()
    if not text:
        return ""
    digits = re.sub(r"\D", "", text)
    if len(text) > 40 or not PHONE_RE.match(text) or not PHONE_DIGITS[0] <= len(digits) <= PHONE_DIGITS[1]:
        errors["phone"] = _("Please give a mobile number of 7 to 15 digits, for example +1 312 555 0100.")
        return ""
    return ("+" if text.startswith("+") else "") + digits


def clean_booker(data: Mapping[str, Any], today: date, language: str = "") -> Booker:
    """The person's details, or ValidationError with one message per field (all at once). `contact` is the error of
    giving neither an email address nor a mobile number."""
    errors: dict[str, str] = {}
    given = _name(data.get("given_name"), _("first name"), errors, "given_name")
    family = _name(data.get("family_name"), _("family name"), errors, "family_name")
    born = _birth(data.get("date_of_birth"), today, errors)
    email = _email(data.get("email"), errors)
    phone = _phone(data.get("phone"), errors)
    if not email and not phone and "email" not in errors and "phone" not in errors:
        errors["contact"] = _("Please give an email address or a mobile number (or both), to receive your code.")
    languages = {code for code, _name in settings.LANGUAGES}
    if errors or born is None:
        raise ValidationError(errors)
    return Booker(given, family, born, email, phone, language if language in languages else settings.LANGUAGE_CODE)


# --- Writes ----------------------------------------------------------------------------------------------------------


def actor(clinic: Clinic, client_address: str | None) -> Actor:
    """The person booking online: no user, the clinic's, from their address (as the questionnaire links' actor)."""
    return Actor(user=None, clinic=clinic, role="", client_address=client_address, channel=CHANNEL)


def code_hash(pending: PendingPatient, code: str) -> str:
    """The stored form of a code: a keyed hash (the project's secret key), bound to its pending patient, so a copy of
    the database alone does not give the codes away by trying the million."""
    return salted_hmac("booking.online.code", f"{pending.uuid}:{code}", algorithm="sha256").hexdigest()


def _limit(limits: Sequence[tuple[RateLimit, str]]) -> None:
    """Refuse when any (limit, key) is over; else count one event on each (a refused event counts on none)."""
    for limit, key in limits:
        wait = limit.retry_after(key) if key else None
        if wait is not None:
            raise TooManyAttempts(wait)
    for limit, key in limits:
        if key:
            limit.count(key)


def _offer(clinic: Clinic, appointment_type: Any, clinician: Any) -> tuple[AppointmentType, Any]:
    if not takes_bookings(clinic):
        raise BookingClosed(_("This clinic does not take bookings online."))
    kind = next((t for t in bookable(clinic) if t == appointment_type), None)
    if kind is None:
        raise ValidationError({"slot": _("Please choose a type of appointment from the list.")})
    who = next((c for c in queries.offering_clinicians(clinic, kind, online=True) if c == clinician), None)
    if who is None:
        raise ValidationError({"slot": _("Please choose one of the free times.")})
    return kind, who


def _code_message(clinic: Clinic, appointment: Appointment, booker: Booker, code: str) -> tuple[str, str]:
    with translation.override(booker.language), timezone.override(clinic.tz):
        shown = clinictime.format_time(appointment.starts_at, clinic, "long")  # the day written out, the zone
        if booker.channel == "sms":
            body = _("%(code)s is your %(clinic)s booking code. It works for %(minutes)d minutes.") % {
                "code": code,
                "clinic": clinic.name,
                "minutes": HOLD_MINUTES,
            }
            return "", body
        subject = _("Your booking code for %(clinic)s: %(code)s") % {"clinic": clinic.name, "code": code}
        body = _(
            "Your code is %(code)s.\n\nEnter it on the booking page within %(minutes)d minutes to book "
            "%(type)s on %(when)s. Until then the time is held for you.\n\nIf you did not ask for this code, you can "
            "ignore this message: nothing is booked without it."
        ) % {"code": code, "minutes": HOLD_MINUTES, "type": appointment.appointment_type.patient_name(), "when": shown}
        return subject, body


def _release(who: Actor, pending: PendingPatient, appointment: Appointment | None, reason: str) -> None:
    """End a hold: the pending patient expires and the held appointment is cancelled with the reason."""
    update_record(
        who, pending, {"status": PendingStatus.EXPIRED}, "booking.pending.expired", expected_version=pending.version
    )
    if appointment is not None and appointment.status == AppointmentStatus.HELD:
        update_record(
            who,
            appointment,
            {"status": AppointmentStatus.CANCELLED, "status_reason": reason},
            "booking.appointment.hold_released",
            expected_version=appointment.version,
            reason=reason,
        )


def start_verification(clinic: Clinic, booker: Booker, client_address: str | None) -> tuple[Actor, str]:
    """The rate limits of a hold (per address and per contact; TooManyAttempts), the anonymous actor and a new
    one-time code: the start of a booking hold and of a public waitlist join alike."""
    _limit(
        [
            (HOLDS_PER_ADDRESS, client_address or "unknown"),
            (HOLDS_PER_CONTACT, booker.email),
            (HOLDS_PER_CONTACT, booker.phone),
        ]
    )
    return actor(clinic, client_address), f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def unverified_pending(
    person: Actor, clinic: Clinic, booker: Booker, code: str, until: datetime, **detail: str
) -> PendingPatient:
    """Write the pending person a booker typed, not verified yet, with the hash of their code (inside the caller's
    transaction, audited)."""
    pending = PendingPatient(
        clinic=clinic,
        given_name=booker.given_name,
        family_name=booker.family_name,
        date_of_birth=booker.date_of_birth,
        email=booker.email,
        phone=booker.phone,
        preferred_language=booker.language,
        status=PendingStatus.UNVERIFIED,
        code_expires_at=until,
    )
    pending.code_hash = code_hash(pending, code)
    create_record(person, pending, "booking.pending.created", detail={"channel": booker.channel, **detail})
    return pending


def hold_online(
    clinic: Clinic,
    *,
    appointment_type: Any,
    clinician: Any,
    starts_at: Any,
    booker: Booker,
    client_address: str | None,
) -> Held:
    """Hold a free slot for a person booking online and send their code. Refused with ValidationError (a field),
    BookingClosed, TooManyAttempts, SlotTaken (with the next free slots online) or CodeNotSent; a refusal before the
    code is sent writes nothing."""
    kind, who = _offer(clinic, appointment_type, clinician)
    if not isinstance(starts_at, datetime) or timezone.is_naive(starts_at):
        raise ValidationError({"slot": _("Please choose one of the free times.")})
    start = starts_at.replace(second=0, microsecond=0)
    person, code = start_verification(clinic, booker, client_address)
    try:
        with transaction.atomic():
            room_id = _locked_check(person, kind, who, start, rules=queries.online_rules(clinic))
            until = timezone.now() + timedelta(minutes=HOLD_MINUTES)
            pending = unverified_pending(person, clinic, booker, code, until)
            appointment = create_record(
                person,
                Appointment(
                    clinic=clinic,
                    pending_patient=pending,
                    source=BookingSource.ONLINE,
                    status=AppointmentStatus.HELD,
                    hold_expires_at=until,
                    appointment_type=kind,
                    clinician=who,
                    room_id=room_id,
                    starts_at=start,
                    duration_minutes=kind.duration_minutes,
                    buffer_before_minutes=kind.buffer_before_minutes,
                    buffer_after_minutes=kind.buffer_after_minutes,
                ),
                "booking.appointment.held",
                detail={"starts_at": start, "clinician": who.username, "type": kind.name, "hold_minutes": HOLD_MINUTES},
            )
    except SlotUnavailable:
        raise SlotTaken(next_online_slots(clinic, kind, who, start)) from None
    subject, body = _code_message(clinic, appointment, booker, code)
    try:
        hooks.send_now(clinic, booker.channel, booker.address, subject, body)
    except Exception as error:  # any backend failure: the person must be told, the slot freed
        with transaction.atomic():
            _release(person, pending, appointment, f"The code could not be sent ({type(error).__name__}).")
        raise CodeNotSent(
            _("We could not send your code. Please check your details, try again later or contact the clinic.")
        ) from error
    return Held(pending, appointment)


def verify_code(clinic: Clinic, pending: PendingPatient, code: Any, client_address: str | None) -> Verification:
    """Try a code. The right one books the held appointment (while the hold is still its slot's: not expired, not
    released) and makes the pending patient wait for the front desk; a wrong one counts (CODE_TRIES release the
    hold). Refused with TooManyAttempts over the rate limits (nothing counted on the pending patient then)."""
    _limit(
        [
            (CODE_TRIES_PER_ADDRESS, client_address or "unknown"),
            (CODE_TRIES_PER_CONTACT, pending.email),
            (CODE_TRIES_PER_CONTACT, pending.phone),
        ]
    )
    person = actor(clinic, client_address)
    typed = re.sub(r"\s", "", str(code or ""))[:20]
    with transaction.atomic():
        found = pending_booking(clinic, str(pending.uuid))
        if found is None:
            return Verification("expired")
        appointment = found[1]
        # The clinician's lock first (the order every booking takes), then the pending row: a booking of this slot
        # after the hold expired and this confirmation cannot both succeed.
        _lock(appointment.clinician, None)
        current = PendingPatient.objects.select_for_update(no_key=True).get(pk=pending.pk)
        appointment.refresh_from_db()
        now = timezone.now()
        if current.status == PendingStatus.PENDING and appointment.status == AppointmentStatus.BOOKED:
            return Verification("booked", appointment=appointment)
        held = appointment.status == AppointmentStatus.HELD and (appointment.hold_expires_at or now) > now
        if current.status != PendingStatus.UNVERIFIED or not held:
            if current.status == PendingStatus.UNVERIFIED:
                _release(person, current, appointment, "The hold expired before the code was entered.")
            return Verification("expired", appointment=appointment)
        if not typed or not constant_time_compare(code_hash(current, typed), current.code_hash):
            tries = current.code_attempts + 1
            current = update_record(
                person, current, {"code_attempts": tries}, "booking.code.wrong", expected_version=current.version
            )
            if tries >= CODE_TRIES:
                _release(person, current, appointment, f"{CODE_TRIES} wrong codes.")
                return Verification("released", appointment=appointment)
            return Verification("wrong", tries_left=CODE_TRIES - tries, appointment=appointment)
        channel = "email" if current.email else "sms"
        update_record(
            person,
            current,
            {"status": PendingStatus.PENDING, "verified_at": now, "verified_by_channel": channel},
            "booking.pending.verified",
            expected_version=current.version,
        )
        appointment = update_record(
            person,
            appointment,
            {"status": AppointmentStatus.BOOKED, "hold_expires_at": None},
            "booking.appointment.booked_online",
            expected_version=appointment.version,
        )
        return Verification("booked", appointment=appointment, just_booked=True)


def welcome(appointment: Appointment, language: str) -> Any:
    """Once a right code has booked (and committed): open the visit's intake when it needs one and send the
    confirmation at once to the verified contact, in the page's language (the booking.online_booked hook,
    messaging/booked_online.py). Returns what the booked page shows (the manage and intake paths), or None when that
    failed: the booking stands either way, and staff can send the links from the appointment's page."""
    try:
        return hooks.online_booked(appointment, language)
    except Exception:  # the booking is made; the page must say so, not fail
        log.exception("The welcome of online booking %s failed.", appointment.uuid)
        return None


# --- The booked page opened again by the browser that booked -------------------------------------------------------


@dataclass(frozen=True)
class KeptLinks:
    """What the booked page shows again when the browser that booked reloads it (the same fields as the welcome)."""

    manage_path: str
    intake_path: str | None
    channel: str
    sent: bool


def seal_links(appointment: Appointment, shown: Any) -> tuple[str, str]:
    """Seal the booked page's links for the browser that booked (docs/BOOKING.md, "After the code"): returns the
    sealed box, kept in that browser's session (in the database), and a fresh random key, kept only in a cookie of
    that browser. Neither opens the links alone: the session table holds no working token, and the cookie holds no
    link. The box names its appointment, so another booking in the same session does not open it."""
    key = Fernet.generate_key()
    kept = {
        "appointment": str(appointment.uuid),
        "manage_path": shown.manage_path,
        "intake_path": shown.intake_path,
        "channel": shown.channel,
        "sent": bool(shown.sent),
    }
    box = Fernet(key).encrypt(json.dumps(kept).encode())
    return box.decode(), key.decode()


def open_links(box: str, key: str, appointment: Appointment) -> KeptLinks | None:
    """The links `seal_links` sealed, for this appointment still booked; None for a missing or wrong key, another
    appointment's box, or a box older than a day (the session itself lasts 12 hours)."""
    if not box or not key:
        return None
    try:
        kept = json.loads(Fernet(key.encode()).decrypt(box.encode(), ttl=KEPT_LINKS_SECONDS))
    except (InvalidToken, ValueError, TypeError):
        return None
    if kept.get("appointment") != str(appointment.uuid) or appointment.status != AppointmentStatus.BOOKED:
        return None
    link = ManageLink.by_token(str(kept["manage_path"]).rstrip("/").rsplit("/", 1)[-1])
    if link is None or link.state() != LinkState.OPEN:  # replaced by a later message's link: that message has it
        return None
    return KeptLinks(kept["manage_path"], kept["intake_path"], kept["channel"], kept["sent"])
