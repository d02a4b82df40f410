"""The waitlist (issue 16; rules and reasons in docs/BOOKING.md, "Waitlist"): services and reads.

- Staff put a patient on the waitlist for a type (a clinician or anyone who offers it) inside a window
  (`join_waitlist`) and take them off with a reason (`withdraw_entry`).
- Each scheduler pass (prolotrack/messaging/waitlist.py) first closes the offers whose hold ran out
  (`expire_offers`), then offers the free slots that fit waiting people, earliest slot to the first in line it fits,
  one open offer per person (`make_offers`, through the pure `prolotrack.domain.waitlist.allocate`). An offer is a
  HELD appointment for that person (nobody else can book the slot while the hold lasts) and a single-use link
  (`WaitlistOffer`, on core.links.PatientLinkBase) whose token is made when the message is sent (`issue_link`).
- The person accepts (`accept_offer`: the held appointment becomes booked) or declines (`decline_offer`: the slot is
  cancelled and goes to the next in line on the next pass).

Every write is one transaction with its version and audit rows. Offering and accepting lock the clinician's row
first (as staff booking does, booking/services.py), then the entry or offer row, and check again what is committed:
two scheduler passes cannot offer the same slot or two slots to one person (plus a database constraint: one open
offer per entry), and exactly one of two acceptances wins.
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from prolotrack.audit.services import Actor, ServiceError, create_record, update_record
from prolotrack.booking import hooks, queries
from prolotrack.booking import services as booking
from prolotrack.booking.models import (
    Appointment,
    AppointmentStatus,
    AppointmentType,
    BookingSource,
    OfferOutcome,
    PendingStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistSource,
    WaitlistStatus,
)
from prolotrack.clinics.models import User
from prolotrack.clinics.roles import Permission, require_permission
from prolotrack.core.access import require_same_clinic
from prolotrack.core.links import CHANNEL_PATIENT_LINK, LinkState, new_token, token_hash
from prolotrack.domain import waitlist as domain
from prolotrack.patients.models import Patient

log = logging.getLogger(__name__)

# The audit channel of a patient answering an offer by its link (the questionnaire links' channel).
OFFER_PATH = "/waitlist/offer/{token}/"


class OfferClosed(ServiceError):
    """The offer can no longer be answered: accepted, declined, run out or withdrawn. `state` says which."""

    code = "offer_closed"

    def __init__(self, message: str, state: str) -> None:
        super().__init__(message)
        self.state = state


def offer_path(token: str) -> str:
    return OFFER_PATH.format(token=token)


# --- Reads ---------------------------------------------------------------------------------------------------------


def entries(clinic: Any, *, current_only: bool = True) -> list[WaitlistEntry]:
    """The clinic's waitlist in line order (waiting and offered first), with the open and past offers."""
    qs = WaitlistEntry.objects.filter(clinic=clinic, entered_in_error_at__isnull=True).select_related(
        "patient", "pending_patient", "appointment_type", "clinician", "replaces"
    )
    if current_only:
        qs = qs.filter(status__in=(WaitlistStatus.ACTIVE, WaitlistStatus.OFFERED))
    return list(qs.prefetch_related("offers__appointment__clinician").order_by("joined_at", "id"))


def entry(clinic: Any, uuid: Any) -> WaitlistEntry:
    return WaitlistEntry.objects.select_related("patient", "pending_patient", "appointment_type", "clinician").get(
        clinic=clinic, uuid=uuid, entered_in_error_at__isnull=True
    )


def offer_by_token(token: str) -> WaitlistOffer | None:
    """The offer a link's token opens (in any state), or None."""
    return WaitlistOffer.by_token(
        token,
        WaitlistOffer.objects.select_related(
            "clinic",
            "entry",
            "entry__patient",
            "entry__pending_patient",
            "appointment",
            "appointment__appointment_type",
            "appointment__clinician",
        ),
    )


def offer_state(offer: WaitlistOffer, now: datetime | None = None) -> str:
    """The link's state; an offer answered or withdrawn is used or revoked whatever its link says."""
    state = offer.state(now)
    if state == LinkState.OPEN and offer.outcome != OfferOutcome.OPEN:
        return LinkState.USED
    return state


def _window(entry: WaitlistEntry) -> domain.Window:
    return domain.Window(
        entry.first_day, entry.last_day, frozenset(entry.weekday_numbers), entry.earliest, entry.latest
    )


def earlier_than(entry: WaitlistEntry) -> datetime | None:
    """The start of the appointment the person asked an earlier time for, while it is still booked (else None)."""
    held = entry.replaces
    if held is None or held.status != AppointmentStatus.BOOKED or held.is_entered_in_error:
        return None
    return held.starts_at


def _wish(entry: WaitlistEntry) -> domain.Wish:
    return domain.Wish(
        key=str(entry.pk),
        joined_at=entry.joined_at,
        appointment_type=str(entry.appointment_type_id),
        clinician=str(entry.clinician_id) if entry.clinician_id else None,
        window=_window(entry),
        before=earlier_than(entry),
    )


# --- Staff: joining and withdrawing ---------------------------------------------------------------------------------


def _date(value: Any, name: str) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        what = _("first day") if name == "first_day" else _("last day")
        raise ValidationError({name: _("Give the %(what)s as YYYY-MM-DD.") % {"what": what}})
    return value


def _clock(value: Any, name: str) -> time | None:
    if value in (None, ""):
        return None
    if not isinstance(value, time):
        raise ValidationError({name: _("Give a time of day such as 09:00, or leave it empty.")})
    return value.replace(second=0, microsecond=0)


def _weekdays(values: Iterable[Any]) -> str:
    days: set[int] = set()
    for value in values:
        try:
            day = int(value)
        except (TypeError, ValueError):
            raise ValidationError({"weekdays": _("Tick days of the week, or none for any day.")}) from None
        if not 0 <= day <= 6:
            raise ValidationError({"weekdays": _("Tick days of the week, or none for any day.")})
        days.add(day)
    return "".join(str(d) for d in sorted(days))


@dataclass(frozen=True)
class JoinWindow:
    """When a person can come, checked: local days (both included), weekday digits, a time of day."""

    first_day: date
    last_day: date
    weekdays: str = ""
    earliest: time | None = None
    latest: time | None = None


def check_window(
    clinic: Any,
    first_day: Any,
    last_day: Any,
    weekdays: Sequence[Any] = (),
    earliest: Any = None,
    latest: Any = None,
) -> JoinWindow:
    """The window checked (ValidationError naming the field; the words translated, patients read them too): real
    dates, the last not before the first nor before the clinic's today, weekdays 0-6, an earliest time before the
    latest."""
    first, last = _date(first_day, "first_day"), _date(last_day, "last_day")
    start, end = _clock(earliest, "earliest"), _clock(latest, "latest")
    days = _weekdays(weekdays)
    if last < first:
        raise ValidationError({"last_day": _("The last day is before the first day.")})
    if start is not None and end is not None and start >= end:
        raise ValidationError(
            {"latest": _("From %(start)s to %(end)s is no time at all: the earliest time must be before the latest.")
             % {"start": f"{start:%H:%M}", "end": f"{end:%H:%M}"}}
        )  # fmt: skip
    today = queries.clinic_today(clinic)
    if last < today:
        raise ValidationError(
            {"last_day": _("The window ended before today (%(today)s): choose later days.") % {"today": today}}
        )
    domain.Window(first, last, frozenset(int(d) for d in days), start, end)  # the domain's own checks, passed above
    return JoinWindow(first, last, days, start, end)


def reachable(person: Any) -> bool:
    """Offers go by email, or by SMS to a mobile number: a person with neither could never be offered anything."""
    return bool(getattr(person, "email", "") or getattr(person, "phone", ""))


def same_wait(clinic: Any, kind: AppointmentType, who: Any, *, patient: Any = None, pending: Any = None) -> bool:
    """Whether the person already waits (or is being offered a slot) for this type with this clinician (or anyone)."""
    person = {"patient": patient} if patient is not None else {"pending_patient": pending}
    return WaitlistEntry.objects.filter(
        clinic=clinic,
        appointment_type=kind,
        clinician=who,
        status__in=(WaitlistStatus.ACTIVE, WaitlistStatus.OFFERED),
        entered_in_error_at__isnull=True,
        **person,
    ).exists()


def join_waitlist(
    actor: Actor,
    *,
    patient: Any,
    appointment_type: Any,
    clinician: Any = None,
    first_day: Any,
    last_day: Any,
    weekdays: Sequence[Any] = (),
    earliest: Any = None,
    latest: Any = None,
    note: str = "",
) -> WaitlistEntry:
    """Put a patient on the waitlist (staff). Refused, with nothing written, for a patient of another clinic or with
    neither an email address nor a mobile number (offers go by email or SMS), a type or clinician not offered, a
    window that is empty or already over, or a second waiting entry for the same type and clinician."""
    require_permission(actor, Permission.SCHEDULE_MANAGE)
    if not isinstance(patient, Patient):
        raise ValidationError({"patient": "Choose a patient."})
    require_same_clinic(actor, patient)
    if patient.is_entered_in_error:
        raise ServiceError("This patient record was marked entered in error; put nothing on the waitlist for it.")
    if not reachable(patient):
        raise ValidationError(
            {"patient": f"{patient.full_name} has no email address or mobile number on record, and offers are sent "
             "by email or SMS: add one on the patient's details first (with their agreement)."}
        )  # fmt: skip
    kind = booking._bookable_type(actor, appointment_type)
    who = None
    if clinician is not None:
        who = booking._clinician(actor, clinician)
        booking._offered_by(kind, who)
    window = check_window(actor.clinic, first_day, last_day, weekdays, earliest, latest)
    text = booking._text(note, "note", "note", required=False, limit=300)
    with transaction.atomic():
        if same_wait(actor.clinic, kind, who, patient=patient):
            raise ValidationError(
                {"appointment_type": f"{patient.full_name} is already waiting for {kind.name} with "
                 f"{who or 'anyone'}: change or withdraw that entry instead."}
            )  # fmt: skip
        return add_entry(actor, kind, who, window, patient=patient, note=text, source=WaitlistSource.STAFF)


def add_entry(
    actor: Actor,
    kind: AppointmentType,
    who: Any,
    window: JoinWindow,
    *,
    patient: Any = None,
    pending: Any = None,
    note: str = "",
    source: str,
    status: str = WaitlistStatus.ACTIVE,
    replaces: Appointment | None = None,
) -> WaitlistEntry:
    """Write an entry (inside the caller's transaction, after the caller's checks) with its audit row."""
    return create_record(
        actor,
        WaitlistEntry(
            clinic=actor.clinic,
            patient=patient,
            pending_patient=pending,
            appointment_type=kind,
            clinician=who,
            first_day=window.first_day,
            last_day=window.last_day,
            weekdays=window.weekdays,
            earliest=window.earliest,
            latest=window.latest,
            note=note,
            joined_at=timezone.now(),
            status=status,
            source=source,
            replaces=replaces,
        ),
        "booking.waitlist.joined",
        detail={
            "type": kind.name,
            "clinician": who.username if who else None,
            "from": window.first_day,
            "to": window.last_day,
            "source": source,
            "earlier_than": replaces.starts_at if replaces is not None else None,
        },
    )


def _close_offer(actor: Actor, offer: WaitlistOffer, outcome: str, why: str, now: datetime) -> None:
    """Close an open offer (inside the caller's transaction): the hold is cancelled, so the slot is free again."""
    changes: dict[str, Any] = {"outcome": outcome, "answered_at": now}
    if outcome == OfferOutcome.WITHDRAWN:
        changes.update(revoked_at=now, revoked_reason=why[:200])
    elif outcome == OfferOutcome.DECLINED:
        changes["used_at"] = now
    update_record(actor, offer, changes, f"booking.waitlist.offer_{outcome}", expected_version=None, reason=why)
    held = Appointment.objects.select_for_update(no_key=True, of=("self",)).get(pk=offer.appointment_id)
    if held.status == AppointmentStatus.HELD:
        update_record(
            actor,
            held,
            {"status": AppointmentStatus.CANCELLED, "status_reason": why[:300], "hold_expires_at": None},
            "booking.appointment.hold_released",
            expected_version=None,
            reason=why,
        )


def withdraw_entry(actor: Actor, entry: WaitlistEntry, *, reason: str, expected_version: int | None) -> WaitlistEntry:
    """Take someone off the waitlist with a reason; an open offer is withdrawn and its held slot released."""
    require_permission(actor, Permission.SCHEDULE_MANAGE)
    require_same_clinic(actor, entry)
    text = booking._text(reason, "reason", "reason", required=True, limit=300)
    if entry.status not in (WaitlistStatus.ACTIVE, WaitlistStatus.OFFERED):
        raise ServiceError(f"This entry is {entry.get_status_display().lower()}: there is nothing to withdraw.")
    now = timezone.now()
    with transaction.atomic():
        for offer in WaitlistOffer.objects.select_for_update(no_key=True).filter(
            entry=entry, outcome=OfferOutcome.OPEN
        ):
            _close_offer(actor, offer, OfferOutcome.WITHDRAWN, f"Withdrawn from the waitlist: {text}", now)
        return update_record(
            actor,
            entry,
            {"status": WaitlistStatus.WITHDRAWN, "status_reason": text},
            "booking.waitlist.withdrawn",
            expected_version=expected_version,
            reason=text,
        )


# --- The scheduler: expiring and offering ----------------------------------------------------------------------------


def expire_offers(clinic: Any, now: datetime) -> int:
    """Close the open offers whose hold ran out (their slot goes to the next in line), and end the entries whose
    window is over. The number of offers closed."""
    actor = Actor.system(clinic)
    count = 0
    for offer_id in WaitlistOffer.objects.filter(
        clinic=clinic, outcome=OfferOutcome.OPEN, expires_at__lte=now
    ).values_list("pk", flat=True):
        with transaction.atomic():
            offer = WaitlistOffer.objects.select_for_update(no_key=True, of=("self",)).get(pk=offer_id)
            if offer.outcome != OfferOutcome.OPEN:
                continue  # answered, or closed by another pass meanwhile
            _close_offer(actor, offer, OfferOutcome.EXPIRED, "Waitlist offer not answered in time.", now)
            current = WaitlistEntry.objects.select_for_update(no_key=True).get(pk=offer.entry_id)
            if current.status == WaitlistStatus.OFFERED:
                update_record(
                    actor, current, {"status": WaitlistStatus.ACTIVE}, "booking.waitlist.waiting_again",
                    expected_version=None,
                )  # fmt: skip
            count += 1
    today = timezone.localtime(now, clinic.tz).date()
    for entry_id in WaitlistEntry.objects.filter(
        clinic=clinic, status=WaitlistStatus.ACTIVE, last_day__lt=today, entered_in_error_at__isnull=True
    ).values_list("pk", flat=True):
        with transaction.atomic():
            current = WaitlistEntry.objects.select_for_update(no_key=True).get(pk=entry_id)
            if current.status == WaitlistStatus.ACTIVE:
                update_record(
                    actor,
                    current,
                    {"status": WaitlistStatus.EXPIRED, "status_reason": "Its window passed."},
                    "booking.waitlist.expired",
                    expected_version=None,
                )
    return count


def earliest_start(clinic: Any, now: datetime) -> datetime:
    """The earliest start offered: the hold, then the clinic's online notice, must fit before it (the person may
    accept at the end of the hold and still needs the notice the clinic gives online bookers)."""
    config = clinic.config
    return now + timedelta(minutes=config.waitlist_hold_minutes + config.booking_min_notice_minutes)


def _openings(clinic: Any, kind: AppointmentType, waiting: list[WaitlistEntry], now: datetime) -> list[Any]:
    today = timezone.localtime(now, clinic.tz).date()
    first = max(today, min(e.first_day for e in waiting))
    last = min(today + timedelta(days=clinic.config.booking_max_days_ahead), max(e.last_day for e in waiting))
    if last < first:
        return []
    after = earliest_start(clinic, now)
    return [slot for slot in queries.free_slots(clinic, kind, first, last, now=now) if slot.start >= after]


def make_offers(clinic: Any, now: datetime) -> list[WaitlistOffer]:
    """Offer free slots to the people waiting, in order (domain.allocate), each in its own transaction. A slot
    taken meanwhile, or a person offered by another pass meanwhile, is skipped (tried again next pass)."""
    today = timezone.localtime(now, clinic.tz).date()
    waiting = list(
        WaitlistEntry.objects.filter(
            clinic=clinic,
            status=WaitlistStatus.ACTIVE,
            last_day__gte=today,
            entered_in_error_at__isnull=True,
        ).select_related("appointment_type", "patient", "pending_patient", "replaces")
    )
    if not waiting:
        return []
    ids = [e.pk for e in waiting]
    open_now = set(
        WaitlistOffer.objects.filter(entry_id__in=ids, outcome=OfferOutcome.OPEN).values_list("entry_id", flat=True)
    )
    before = {
        (str(entry_id), str(clinician_id), start)
        for entry_id, clinician_id, start in WaitlistOffer.objects.filter(entry_id__in=ids).values_list(
            "entry_id", "appointment__clinician_id", "appointment__starts_at"
        )
    }
    by_type: dict[int, list[WaitlistEntry]] = {}
    for row in waiting:
        by_type.setdefault(row.appointment_type_id, []).append(row)
    by_id = {str(e.pk): e for e in waiting}
    made: list[WaitlistOffer] = []
    for rows in by_type.values():
        kind = rows[0].appointment_type
        if not kind.active or kind.is_entered_in_error:
            continue
        slots = {(str(s.clinician.pk), s.start): s for s in _openings(clinic, kind, rows, now)}
        openings = [domain.Opening(s.start, s.end, str(kind.pk), str(s.clinician.pk)) for s in slots.values()]
        given = domain.allocate(
            openings,
            [_wish(e) for e in rows],
            clinic.tz,
            waiting={str(i) for i in open_now},
            offered_before=before,
        )
        for opening, wish in given:
            slot = slots[(opening.clinician, opening.start)]
            offer = _offer(clinic, by_id[wish.key], kind, slot.clinician, slot.start, now)
            if offer is not None:
                made.append(offer)
    return made


class _Skip(Exception):
    """The entry is no longer waiting (another pass offered it something, or staff withdrew it)."""


def _offer(
    clinic: Any, entry: WaitlistEntry, kind: AppointmentType, clinician: User, start: datetime, now: datetime
) -> WaitlistOffer | None:
    """Hold the slot for the entry's patient and record the offer, or None when the slot or the person is no longer
    free (a booking, or another pass, came first)."""
    actor = Actor.system(clinic)
    hold_until = now + timedelta(minutes=clinic.config.waitlist_hold_minutes)
    try:
        with transaction.atomic():
            room_id = booking._locked_check(actor, kind, clinician, start)
            current = WaitlistEntry.objects.select_for_update(no_key=True).get(pk=entry.pk)
            if current.status != WaitlistStatus.ACTIVE:
                raise _Skip(f"entry {current.uuid} is {current.status}")
            if current.pending_patient is not None and current.pending_patient.status != PendingStatus.PENDING:
                raise _Skip(f"entry {current.uuid}: its online joiner is {current.pending_patient.status}")
            held = create_record(
                actor,
                Appointment(
                    clinic=clinic,
                    patient=current.patient,
                    pending_patient=current.pending_patient,
                    appointment_type=kind,
                    clinician=clinician,
                    room_id=room_id,
                    starts_at=start,
                    duration_minutes=kind.duration_minutes,
                    buffer_before_minutes=kind.buffer_before_minutes,
                    buffer_after_minutes=kind.buffer_after_minutes,
                    status=AppointmentStatus.HELD,
                    hold_expires_at=hold_until,
                    source=BookingSource.LINK,
                    note="Held for a waitlist offer.",
                ),
                "booking.appointment.held_for_waitlist",
                detail={"starts_at": start, "clinician": clinician.username, "type": kind.name, "until": hold_until},
            )
            offer = create_record(
                actor,
                WaitlistOffer(
                    clinic=clinic,
                    entry=current,
                    appointment=held,
                    # The token is made when the message is sent (issue_link); until then nobody holds one.
                    token_hash=token_hash(new_token()),
                    expires_at=hold_until,
                ),
                "booking.waitlist.offered",
                detail={"starts_at": start, "clinician": clinician.username, "until": hold_until},
            )
            update_record(actor, current, {"status": WaitlistStatus.OFFERED}, "booking.waitlist.offer_made",
                          expected_version=None)  # fmt: skip
            return offer
    except booking.SlotUnavailable:
        return None  # taken meanwhile: the next pass looks again
    except (_Skip, IntegrityError, ValidationError) as error:
        log.info("Waitlist offer skipped: %s", error)
        return None


def issue_link(offer: WaitlistOffer) -> str:
    """A fresh token for an open offer, made as its message is sent (the token exists only in the patient's copy);
    the path of the link. A message sent again (after a failure) carries a new token and the old one stops working."""
    token = new_token()
    with transaction.atomic():
        current = WaitlistOffer.objects.select_for_update(no_key=True, of=("self",)).get(pk=offer.pk)
        # Answered or withdrawn offers get no link. One whose hold has just run out still may (the scheduler closes
        # it on its next pass): its page then says it ran out, which is what the patient should read.
        if current.outcome != OfferOutcome.OPEN or current.revoked_at is not None:
            raise OfferClosed("This offer is closed.", offer_state(current))
        update_record(
            Actor.system(current.clinic),
            current,
            {"token_hash": token_hash(token)},
            "booking.waitlist.link_issued",
            expected_version=None,
        )
    return offer_path(token)


# --- The patient: accepting or declining ---------------------------------------------------------------------------


def patient_actor(offer: WaitlistOffer, client_address: str | None) -> Actor:
    return Actor(user=None, clinic=offer.clinic, role="", client_address=client_address, channel=CHANNEL_PATIENT_LINK)


def _locked_open(offer: WaitlistOffer, now: datetime) -> WaitlistOffer:
    """Under the clinician's lock: the offer row locked and read again; OfferClosed unless it is still open."""
    User.objects.select_for_update(no_key=True).filter(pk=offer.appointment.clinician_id).first()
    current = (
        WaitlistOffer.objects.select_for_update(no_key=True, of=("self",))
        .select_related("appointment", "entry", "clinic")
        .get(pk=offer.pk)
    )
    state = offer_state(current, now)
    held = current.appointment
    if state == LinkState.OPEN and (
        held.status != AppointmentStatus.HELD or held.hold_expires_at is None or held.hold_expires_at <= now
    ):
        state = LinkState.EXPIRED
    if state != LinkState.OPEN:
        raise OfferClosed(_CLOSED.get(state, _CLOSED[LinkState.EXPIRED]), state)
    return current


_CLOSED = {
    LinkState.USED: "This offer has already been answered.",
    LinkState.EXPIRED: "This offer has run out: the time was offered to the next person waiting.",
    LinkState.REVOKED: "The clinic withdrew this offer.",
}


def accept_offer(offer: WaitlistOffer, *, client_address: str | None = None) -> Appointment:
    """The held slot becomes the person's booked appointment and their entry is booked. Under the clinician's lock,
    so of two acceptances at once exactly one wins; the other gets OfferClosed."""
    now = timezone.now()
    with transaction.atomic():
        current = _locked_open(offer, now)
        actor = patient_actor(current, client_address)
        update_record(
            actor,
            current,
            {"outcome": OfferOutcome.ACCEPTED, "used_at": now, "answered_at": now},
            "booking.waitlist.offer_accepted",
            expected_version=None,
        )
        booked = update_record(
            actor,
            current.appointment,
            {"status": AppointmentStatus.BOOKED, "hold_expires_at": None, "note": "Booked from a waitlist offer."},
            "booking.appointment.booked_from_waitlist",
            expected_version=None,
        )
        entry = WaitlistEntry.objects.select_for_update(no_key=True).get(pk=current.entry_id)
        update_record(actor, entry, {"status": WaitlistStatus.BOOKED}, "booking.waitlist.booked", expected_version=None)
        _move_from(actor, entry, booked)
        if booked.patient_id is not None:  # an assessment's intake by email, where the clinic says so
            hooks.appointment_booked.send(booked.pk)
            # ... and the confirmation with a manage link (a pending person's comes with the front desk's confirmation)
            hooks.appointment_message(Actor.system(current.clinic), booked, "confirmation")
        return booked


def _move_from(actor: Actor, entry: WaitlistEntry, booked: Appointment) -> None:
    """An earlier time taken: the appointment it was asked for is cancelled (it stays on record, its manage links
    close), so the person holds one appointment, the earlier one. Not a late cancellation: the clinic gets the later
    time back and the person comes sooner."""
    if entry.replaces_id is None:
        return
    later = Appointment.objects.select_for_update(no_key=True, of=("self",)).get(pk=entry.replaces_id)
    if later.status != AppointmentStatus.BOOKED or later.starts_at <= booked.starts_at:
        return
    local = timezone.localtime(booked.starts_at, entry.clinic.tz)
    why = f"Moved to an earlier time ({local:%Y-%m-%d %H:%M %Z}) taken from a waitlist offer by the patient."
    update_record(
        actor,
        later,
        {"status": AppointmentStatus.CANCELLED, "status_reason": why},
        "booking.appointment.moved_earlier_from_waitlist",
        expected_version=None,
        reason=why,
    )
    booking.revoke_manage_links(actor, later, "The appointment moved to an earlier time from the waitlist.")
    hooks.appointment_changed(actor, later, "cancelled")  # its open intake cancelled (the earlier visit has its own)


def decline_offer(offer: WaitlistOffer, *, leave: bool = False, client_address: str | None = None) -> WaitlistEntry:
    """The person does not want this slot: it is released (the next pass offers it to the next in line). They stay
    on the waitlist for other slots unless `leave`."""
    now = timezone.now()
    with transaction.atomic():
        current = _locked_open(offer, now)
        actor = patient_actor(current, client_address)
        _close_offer(actor, current, OfferOutcome.DECLINED, "Declined by the patient (waitlist offer).", now)
        entry = WaitlistEntry.objects.select_for_update(no_key=True).get(pk=current.entry_id)
        changes: dict[str, Any] = {"status": WaitlistStatus.ACTIVE}
        if leave:
            changes = {"status": WaitlistStatus.WITHDRAWN, "status_reason": "The patient asked to leave the waitlist."}
        return update_record(actor, entry, changes, "booking.waitlist.declined", expected_version=None)


def release_unsent(offer: WaitlistOffer, why: str) -> None:
    """An offer whose message could not be sent: withdrawn at once (its held slot freed for the next pass) and the
    person waits again, rather than holding a slot nobody was told about."""
    now = timezone.now()
    actor = Actor.system(offer.clinic)
    with transaction.atomic():
        current = WaitlistOffer.objects.select_for_update(no_key=True, of=("self",)).get(pk=offer.pk)
        if current.outcome != OfferOutcome.OPEN:
            return
        _close_offer(actor, current, OfferOutcome.WITHDRAWN, why, now)
        entry = WaitlistEntry.objects.select_for_update(no_key=True).get(pk=current.entry_id)
        if entry.status == WaitlistStatus.OFFERED:
            update_record(
                actor, entry, {"status": WaitlistStatus.ACTIVE}, "booking.waitlist.waiting_again", expected_version=None
            )
