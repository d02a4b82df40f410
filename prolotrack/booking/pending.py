"""People who booked online and are not patients yet (docs/BOOKING.md, "Pending patients"): the front desk's queue,
the duplicate check against the clinic's patients (the rule is prolotrack/domain/matching.py), and the three ways out:
confirm as a new patient, merge into an existing patient, reject with a reason.

Each action is one service call in one transaction: the pending person's new version and audit row, the patient
registered through patients.services (confirm) or the chart's explicitly added contact (merge), and every appointment
moved to the patient or cancelled (reject), each with its own version and audit row. Anything refused writes nothing.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone

from prolotrack.audit.services import Actor, ServiceError, update_record
from prolotrack.booking import hooks
from prolotrack.booking.models import (
    Appointment,
    AppointmentStatus,
    OfferOutcome,
    PendingPatient,
    PendingStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from prolotrack.booking.services import revoke_manage_links
from prolotrack.clinics.roles import Permission, require_permission
from prolotrack.core.access import require_same_clinic
from prolotrack.domain import matching
from prolotrack.domain.errors import DomainError
from prolotrack.domain.reasons import PENDING_REJECT_REASONS, reason_text
from prolotrack.domain.vocabulary import Sex
from prolotrack.patients import services as patient_services
from prolotrack.patients.models import Patient

# At most this many candidates are shown (the strongest first).
MAX_CANDIDATES = 10
# Appointments that still hold time when the person is rejected: they are cancelled; the others stay as they are.
OPEN = (AppointmentStatus.HELD, AppointmentStatus.BOOKED)


# --- Reads ---------------------------------------------------------------------------------------------------------


def _appointments() -> Prefetch:
    return Prefetch(
        "appointments",
        queryset=Appointment.objects.filter(entered_in_error_at__isnull=True)
        .select_related("appointment_type", "clinician")
        .order_by("starts_at", "id"),
        to_attr="booked",
    )


def _waitlist() -> Prefetch:
    return Prefetch(
        "waitlist_entries",
        queryset=WaitlistEntry.objects.filter(entered_in_error_at__isnull=True).select_related("appointment_type"),
        to_attr="waits",
    )


def waiting(clinic: Any) -> list[PendingPatient]:
    """Verified online bookers waiting for the front desk, oldest first, each with `.booked` (their appointments,
    each with `.messages`: the state of its confirmation and reminder, in words, from messaging through the
    `booking.pending_messages` hook) and `.waits` (their waitlist entries: a person may have joined the waitlist
    without booking)."""
    people = list(
        PendingPatient.objects.filter(clinic=clinic, status=PendingStatus.PENDING, entered_in_error_at__isnull=True)
        .prefetch_related(_appointments(), _waitlist())
        .order_by("created_at", "id")
    )
    visits: list[Any] = [a for p in people for a in getattr(p, "booked", [])]
    said = hooks.pending_messages([a.pk for a in visits]) if visits else {}
    for visit in visits:
        visit.messages = said.get(visit.pk, [])
    return people


def pending_patient(clinic: Any, uuid: Any) -> PendingPatient:
    """One online booker of the clinic (any status), with `.booked` and `.waits`; DoesNotExist for another clinic's."""
    return (
        PendingPatient.objects.filter(clinic=clinic, entered_in_error_at__isnull=True)
        .select_related("patient", "resolved_by")
        .prefetch_related(_appointments(), _waitlist())
        .get(uuid=uuid)
    )


def as_person(row: Any) -> matching.Person:
    return matching.Person(row.given_name, row.family_name, row.date_of_birth, row.email or "", row.phone or "")


@dataclass(frozen=True)
class Candidate:
    """A patient who may be the person who booked: how strongly and why (None when only found by a search)."""

    patient: Patient
    match: matching.Match | None

    @property
    def strong(self) -> bool:
        return self.match is not None and self.match.strength == matching.Strength.STRONG


def _swapped(day: date) -> date | None:
    try:
        return date(day.year, day.day, day.month) if day.day != day.month else None
    except ValueError:
        return None


def candidates(clinic: Any, pending: PendingPatient) -> list[Candidate]:
    """The clinic's patients the duplicate check finds for the person, strongest first. The database narrows them to
    those who share the date of birth (or it with day and month swapped), the email or the phone's last four digits;
    the domain's rule decides."""
    days = [pending.date_of_birth, *filter(None, [_swapped(pending.date_of_birth)])]
    where = Q(date_of_birth__in=days)
    if pending.email.strip():
        where |= Q(email__iexact=pending.email.strip())
    phone = matching.digits(pending.phone)
    if len(phone) >= matching.MIN_PHONE_DIGITS:
        where |= Q(phone__endswith=phone[-4:])
    typed = as_person(pending)
    found = []
    for patient in Patient.objects.filter(where, clinic=clinic, entered_in_error_at__isnull=True):
        result = matching.match(typed, as_person(patient))
        if result is not None:
            found.append(Candidate(patient, result))
    order = {matching.Strength.STRONG: 0, matching.Strength.POSSIBLE: 1}
    found.sort(key=lambda c: (order[c.match.strength] if c.match else 2, c.patient.family_name, c.patient.pk))
    return found[:MAX_CANDIDATES]


def searched(clinic: Any, pending: PendingPatient, text: str, shown: list[Candidate]) -> list[Candidate]:
    """Patients the front desk looked up by name, record number or date of birth (someone the check missed), with the
    check's verdict on each; those already shown are left out."""
    from prolotrack.patients.queries import search_patients

    if not text.strip():
        return []
    seen = {c.patient.pk for c in shown}
    typed = as_person(pending)
    return [
        Candidate(p, matching.match(typed, as_person(p)))
        for p in search_patients(clinic, text)[:MAX_CANDIDATES]
        if p.pk not in seen
    ]


# What the confirm-or-merge screen puts side by side: (label, field).
COMPARED = (
    ("Given name", "given_name"),
    ("Family name", "family_name"),
    ("Date of birth", "date_of_birth"),
    ("Email", "email"),
    ("Phone", "phone"),
    ("Language", "preferred_language"),
)


def differences(pending: PendingPatient, patient: Patient) -> list[str]:
    """What the person typed that differs from the chart, in words (the chart is not changed by a merge)."""
    out = []
    for label, name in COMPARED:
        typed, held = getattr(pending, name), getattr(patient, name)
        if typed and held and str(typed).strip().casefold() != str(held).strip().casefold():
            out.append(f"{label} differs: the chart has {held}, the booking {typed} (the chart's stays).")
    return out


@dataclass(frozen=True)
class Cell:
    """A chart's value beside what was typed, and how they agree (domain/matching.py `Agreement`)."""

    value: str
    agreement: str


@dataclass(frozen=True)
class CompareRow:
    label: str
    typed: str
    cells: list[Cell]


def _shown(row: Any, name: str) -> str:
    if name == "date_of_birth":
        return row.date_of_birth.isoformat() if row.date_of_birth else ""
    if name == "preferred_language":
        return str(row.get_preferred_language_display())
    return str(getattr(row, name) or "")


def compared(pending: PendingPatient, shown: list[Candidate]) -> list[CompareRow]:
    """The side-by-side rows: each field as typed, and each candidate's value marked same, close, different or
    missing by the duplicate check's own folding (the language: the same code or not)."""
    typed = as_person(pending)
    agreements = [matching.agreement(typed, as_person(c.patient)) for c in shown]
    rows = []
    for label, name in COMPARED:
        cells = []
        for candidate, agree in zip(shown, agreements, strict=True):
            if name == "preferred_language":
                same = pending.preferred_language == candidate.patient.preferred_language
                verdict = matching.Agreement.SAME if same else matching.Agreement.DIFFERENT
            else:
                verdict = agree[name]
            cells.append(Cell(_shown(candidate.patient, name), verdict.value))
        rows.append(CompareRow(label, _shown(pending, name), cells))
    return rows


def merge_target(clinic: Any, uuid: Any) -> Patient:
    return Patient.objects.get(clinic=clinic, uuid=uuid, entered_in_error_at__isnull=True)


# --- Writes --------------------------------------------------------------------------------------------------------


def _open(actor: Actor, pending: Any) -> PendingPatient:
    require_permission(actor, Permission.BOOKING_PENDING)
    if not isinstance(pending, PendingPatient):
        raise ValidationError({"pending": "Choose a person who booked online."})
    require_same_clinic(actor, pending)
    if pending.status != PendingStatus.PENDING or pending.is_entered_in_error:
        raise ServiceError(
            f"{pending.full_name} is no longer waiting for the front desk ({pending.get_status_display().lower()})."
        )
    return pending


def _move_waitlist(actor: Actor, pending: PendingPatient, patient: Patient | None, why: str = "") -> None:
    """The person's waitlist entries follow them to the chart (offers then go through the outbox); on a rejection
    the waiting ones are withdrawn with the reason (they stay on record)."""
    for entry in WaitlistEntry.objects.filter(pending_patient=pending, entered_in_error_at__isnull=True):
        if patient is not None:
            update_record(
                actor, entry, {"patient": patient, "pending_patient": None}, "booking.waitlist.person_confirmed",
                expected_version=None,
            )  # fmt: skip
        elif entry.status in (WaitlistStatus.UNVERIFIED, WaitlistStatus.ACTIVE, WaitlistStatus.OFFERED):
            for offer in WaitlistOffer.objects.filter(entry=entry, outcome=OfferOutcome.OPEN):
                update_record(
                    actor, offer, {"outcome": OfferOutcome.WITHDRAWN, "revoked_at": timezone.now(),
                                   "revoked_reason": why[:200]}, "booking.waitlist.offer_withdrawn",
                    expected_version=None, reason=why,
                )  # fmt: skip
            update_record(
                actor, entry, {"status": WaitlistStatus.WITHDRAWN, "status_reason": why[:300]},
                "booking.waitlist.withdrawn", expected_version=None, reason=why,
            )  # fmt: skip


def _move_appointments(actor: Actor, pending: PendingPatient, patient: Patient) -> int:
    _move_waitlist(actor, pending, patient)
    moved = 0
    for appointment in Appointment.objects.filter(pending_patient=pending, entered_in_error_at__isnull=True):
        update_record(
            actor,
            appointment,
            {"patient": patient, "pending_patient": None},
            "booking.appointment.person_confirmed",
            expected_version=appointment.version,
        )
        moved += 1
    return moved


def _resolved(
    actor: Actor, pending: PendingPatient, status: str, action: str, *, expected_version: int | None, **values: Any
) -> PendingPatient:
    return update_record(
        actor,
        pending,
        {"status": status, "resolved_at": timezone.now(), "resolved_by": actor.user, **values},
        action,
        expected_version=expected_version,
        reason=values.get("resolution_note", ""),
    )


def confirm_pending(
    actor: Actor, pending: Any, *, sex: Any, not_a_duplicate: bool = False, expected_version: int | None
) -> Patient:
    """Register the person as a new patient with what they typed (names, date of birth, email, phone, language) and
    the sex the front desk records, with the registry's next record number; their appointments move to the new
    patient. Refused while the duplicate check finds a strong candidate, unless the front desk says it is not them."""
    pending = _open(actor, pending)
    require_permission(actor, Permission.PATIENT_EDIT_DEMOGRAPHICS)
    if sex not in Sex.values:
        raise ValidationError({"sex": "Choose the sex to record on the new chart."})
    strong = [c for c in candidates(actor.clinic, pending) if c.strong]
    if strong and not_a_duplicate is not True:
        names = "; ".join(f"{c.patient} ({c.patient.mrn})" for c in strong)
        raise ValidationError(
            {
                "not_a_duplicate": f"The check finds {names}: merge into that record, or tick that this is "
                "another person."
            }
        )
    with transaction.atomic():
        patient = patient_services.create_patient(
            actor,
            {
                "given_name": pending.given_name,
                "family_name": pending.family_name,
                "date_of_birth": pending.date_of_birth,
                "sex": sex,
                "email": pending.email,
                "phone": pending.phone,
                "preferred_language": pending.preferred_language,
            },
        )
        moved = _move_appointments(actor, pending, patient)
        note = f"Registered as {patient.mrn}; {moved} appointment(s) moved to the chart."
        if strong:
            note += f" Not the same person as {len(strong)} strong candidate(s), said the front desk."
        _resolved(
            actor,
            pending,
            PendingStatus.CONFIRMED,
            "booking.pending.confirmed",
            expected_version=expected_version,
            patient=patient,
            resolution_note=note,
        )
        return patient


def merge_pending(
    actor: Actor,
    pending: Any,
    patient: Any,
    *,
    add_email: bool = False,
    add_phone: bool = False,
    expected_version: int | None,
    patient_version: int | None,
) -> Patient:
    """The person is this existing patient: their appointments move to the chart. The chart keeps its own details;
    an email or phone the chart lacks is added only when asked (`add_email`, `add_phone`), never one that differs."""
    pending = _open(actor, pending)
    if not isinstance(patient, Patient):
        raise ValidationError({"patient": "Choose the patient to merge into."})
    require_same_clinic(actor, patient)
    if patient.is_entered_in_error:
        raise ServiceError("That patient record was marked entered in error: choose the record in use.")
    additions: dict[str, str] = {}
    for wanted, name in ((add_email, "email"), (add_phone, "phone")):
        if not wanted:
            continue
        typed, held = getattr(pending, name).strip(), getattr(patient, name).strip()
        if not typed:
            raise ValidationError({f"add_{name}": f"The booking gave no {name} to add."})
        if held:
            raise ValidationError(
                {f"add_{name}": f"The chart already has a {name} ({held}); change it on the chart if it is wrong."}
            )
        additions[name] = typed
    with transaction.atomic():
        if additions:
            patient = patient_services.update_patient(
                actor,
                patient,
                additions,
                expected_version=patient_version,
                reason="Added from the patient's online booking, checked by the front desk.",
            )
        moved = _move_appointments(actor, pending, patient)
        added = f"; added {' and '.join(sorted(additions))}" if additions else ""
        _resolved(
            actor,
            pending,
            PendingStatus.MERGED,
            "booking.pending.merged",
            expected_version=expected_version,
            patient=patient,
            resolution_note=f"Merged into {patient.mrn}; {moved} appointment(s) moved to the chart{added}.",
        )
        return patient


def reject_pending(
    actor: Actor, pending: Any, *, reason: str, details: str = "", expected_version: int | None
) -> PendingPatient:
    """Not a booking the clinic takes: the person is rejected with a reason from the list and their held or booked
    appointments are cancelled with it (they stay on record). No chart is made or touched."""
    pending = _open(actor, pending)
    try:
        text = reason_text(PENDING_REJECT_REASONS, reason, details)
    except DomainError as error:
        raise ValidationError({"reason": str(error)}) from None
    with transaction.atomic():
        for appointment in Appointment.objects.filter(
            pending_patient=pending, status__in=OPEN, entered_in_error_at__isnull=True
        ):
            cancelled = update_record(
                actor,
                appointment,
                {"status": AppointmentStatus.CANCELLED, "status_reason": f"Online booking rejected: {text}"[:300]},
                "booking.appointment.cancelled",
                expected_version=appointment.version,
                reason=text,
            )
            revoke_manage_links(actor, cancelled, "The online booking was rejected.")
            hooks.appointment_changed(actor, cancelled, "cancelled")  # its open intake cancelled, the link revoked
        _move_waitlist(actor, pending, None, f"Online booking rejected: {text}")
        return _resolved(
            actor,
            pending,
            PendingStatus.REJECTED,
            "booking.pending.rejected",
            expected_version=expected_version,
            resolution_note=text[:300],
        )
