"""Writes of the intake app (docs/INTAKE.md). Each function is one transaction with its audit rows.

- `request_intake(actor, appointment)`: open (or reuse) the intake of an appointment and send its link: by email
  through the messaging outbox (the link itself is made when the message is sent, `issue_link`), or shown once to
  the caller (a staff member copying it, the public booking page sending the booker on to it).
- The patient's pages (no login): `open_link`, `save_step`, `submit`, written with an Actor of channel
  `patient_link` and no user, as the questionnaire links are.
- `decide(actor, intake, key, decision, values=None)`: a clinician accepts, edits or rejects one item; an accepted or
  edited item is written through the patients services (`add_child`, `confirm_no_known_allergies`) or, for a
  questionnaire, outcomes' `record_response`, so screening reads it like any chart entry.
"""

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from prolotrack.audit.services import Actor, ServiceError, create_record, record_event, update_record
from prolotrack.booking.models import Appointment, AppointmentStatus
from prolotrack.clinics.queries import clinic_today
from prolotrack.clinics.roles import Permission, require_permission
from prolotrack.core.access import require_same_clinic
from prolotrack.core.links import CHANNEL_PATIENT_LINK, LinkState, new_token, token_hash
from prolotrack.domain import intake as domain
from prolotrack.domain.errors import DomainError
from prolotrack.domain.vocabulary import ReviewDecision
from prolotrack.intake import hooks, queries
from prolotrack.intake.models import Intake, IntakeDecision, IntakeDelivery, IntakeLink, IntakeStatus
from prolotrack.outcomes import services as outcomes_services
from prolotrack.outcomes.models import ResponseSource
from prolotrack.patients import services as patient_services
from prolotrack.patients.models import Patient

LINK_PATH = "/intake/{token}/"
# The scheduler (sending the email) and the patient's own pages act without a staff member's permission.
_TRUSTED_CHANNELS = frozenset({"system", CHANNEL_PATIENT_LINK})
OPEN_STATUSES = (IntakeStatus.REQUESTED, IntakeStatus.IN_PROGRESS)
# The steps whose answers the form saves (domain/intake.py reads them), and the questionnaires' own key.
ANSWER_STEPS = frozenset({"complaint", "medicines", "allergies", "conditions", "weight"})


class IntakeClosedError(ServiceError):
    """The link is expired, used or revoked: the page says so and shows nothing of the patient."""

    code = "link_closed"

    def __init__(self, state: str) -> None:
        self.state = state
        super().__init__(f"This intake link cannot be used ({state}).")


def link_path(token: str) -> str:
    return LINK_PATH.format(token=token)


def patient_actor(link: IntakeLink, client_address: str | None = None) -> Actor:
    """The Actor of a person filling the form by link: no user, the link's clinic, channel patient_link."""
    return Actor(user=None, clinic=link.clinic, role="", client_address=client_address, channel=CHANNEL_PATIENT_LINK)


def _may_send(actor: Actor) -> None:
    if actor.channel not in _TRUSTED_CHANNELS:
        require_permission(actor, Permission.OUTCOMES_COLLECT)


def _open_intake(appointment: Appointment) -> Intake | None:
    return (
        Intake.objects.filter(appointment=appointment, status__in=OPEN_STATUSES, entered_in_error_at__isnull=True)
        .order_by("-created_at")
        .first()
    )


def _check_appointment(appointment: Appointment, now: datetime) -> None:
    if appointment.status not in (AppointmentStatus.BOOKED, AppointmentStatus.HELD):
        raise ServiceError(
            f"This appointment is {appointment.get_status_display().lower()}: an intake is sent for a booked visit."
        )
    if appointment.starts_at <= now:
        raise ServiceError("This appointment has started or passed: the intake form is for before the visit.")


def request_intake(
    actor: Actor, appointment: Appointment, *, delivery: str = IntakeDelivery.EMAIL, now: datetime | None = None
) -> tuple[Intake, str | None]:
    """Open the appointment's intake (or reuse the one still open) and send it. Returns the intake and, for a link
    shown to the caller, its path (the only copy of the token); an emailed link is made when the email is sent.

    Refused, with nothing written: a cancelled, attended or past appointment; an intake already sent back for it;
    email to a person who is not a patient yet (the outbox writes to patients) or has no email address."""
    _may_send(actor)
    require_same_clinic(actor, appointment)
    now = now or timezone.now()
    _check_appointment(appointment, now)
    if delivery not in IntakeDelivery.values:
        raise ValidationError({"delivery": f"Choose how the link goes: {', '.join(IntakeDelivery.values)}."})
    done = Intake.objects.filter(
        appointment=appointment,
        status__in=(IntakeStatus.SUBMITTED, IntakeStatus.REVIEWED),
        entered_in_error_at__isnull=True,
    )
    if done.exists():
        raise ServiceError("The patient already sent the intake for this appointment: review it on the chart.")
    patient = appointment.patient
    if delivery == IntakeDelivery.EMAIL:
        if patient is None:
            raise ValidationError(
                {
                    "delivery": "This person booked online and is not confirmed as a patient yet: the outbox writes to "
                    "patients only. Show the link to copy it to them, or confirm them at the front desk first."
                }
            )
        if not patient.email:
            raise ValidationError(
                {"delivery": f"{patient.full_name} has no email address on record: add it, or show the link instead."}
            )
    path: str | None = None
    with transaction.atomic():
        intake = _open_intake(appointment)
        if intake is None:
            intake = create_record(
                actor,
                Intake(
                    clinic=appointment.clinic,
                    appointment=appointment,
                    patient=patient,
                    pending_patient=appointment.pending_patient if patient is None else None,
                    delivery=delivery,
                ),
                "intake.requested",
                detail={"delivery": delivery, "appointment": str(appointment.uuid)},
            )
        else:
            record_event(actor, "intake.requested_again", record=intake, detail={"delivery": delivery})
        if delivery == IntakeDelivery.EMAIL:
            if intake.delivery != delivery:
                intake = update_record(
                    actor, intake, {"delivery": delivery}, "intake.delivery_changed", expected_version=None
                )
            hooks.intake_email_requested.send(intake.pk)
        else:
            _link, path = issue_link(actor, intake, now=now)
    return intake, path


def link_expiry(intake: Intake, now: datetime) -> datetime:
    """When a link made now stops working: after the clinic's `intake_link_days`, and never after the visit starts."""
    return min(now + timedelta(days=intake.clinic.config.intake_link_days), intake.appointment.starts_at)


def issue_link(actor: Actor, intake: Intake, *, now: datetime | None = None) -> tuple[IntakeLink, str]:
    """Make a fresh link to the intake's form (the earlier open ones are revoked: one link works at a time) and return
    it with its path, the only copy of the token. Called when the email is sent, or when the link is shown."""
    _may_send(actor)
    require_same_clinic(actor, intake)
    now = now or timezone.now()
    if intake.status not in OPEN_STATUSES:
        raise ServiceError(f"This intake is {intake.get_status_display().lower()}: no new link is made for it.")
    _check_appointment(intake.appointment, now)
    token = new_token()
    with transaction.atomic():
        for old in IntakeLink.objects.select_for_update(no_key=True).filter(
            intake=intake, revoked_at__isnull=True, used_at__isnull=True, expires_at__gt=now
        ):
            old.revoked_at, old.revoked_reason = now, "A new link was sent."
            old.save(update_fields=["revoked_at", "revoked_reason"])
        link = IntakeLink.objects.create(
            clinic=intake.clinic, intake=intake, token_hash=token_hash(token), expires_at=link_expiry(intake, now)
        )
        record_event(
            actor,
            "intake.link_issued",
            record=intake,
            detail={"link": link.pk, "expires_at": link.expires_at.isoformat(), "delivery": intake.delivery},
        )
    return link, link_path(token)


def cancel_intake(actor: Actor, intake: Intake, *, reason: str = "") -> Intake:
    """Cancel an intake not sent back yet (the visit changed): its links stop working; its answers stay."""
    _may_send(actor)
    require_same_clinic(actor, intake)
    if intake.status not in OPEN_STATUSES:
        raise ServiceError(f"This intake is {intake.get_status_display().lower()}: it cannot be cancelled.")
    with transaction.atomic():
        return _cancel(actor, intake, reason or "Cancelled by the clinic.", expected_version=intake.version)


def _cancel(actor: Actor, intake: Intake, reason: str, *, expected_version: int | None) -> Intake:
    now = timezone.now()
    for link in IntakeLink.objects.filter(intake=intake, revoked_at__isnull=True, used_at__isnull=True):
        link.revoked_at, link.revoked_reason = now, "The intake was cancelled."
        link.save(update_fields=["revoked_at", "revoked_reason"])
    return update_record(
        actor, intake, {"status": IntakeStatus.CANCELLED}, "intake.cancelled", expected_version=expected_version,
        reason=reason,
    )  # fmt: skip


# --- Following the booking (docs/INTAKE.md, "Sent when a visit is booked") -----------------------------------------


def open_for_online_booking(appointment: Appointment) -> str | None:
    """A booking made on the public page and verified by its code: open the intake of a visit that needs one (an
    assessment) for the pending person, as the system, and return its link's path, the only copy of the token (the
    booked page shows it and the confirmation carries it). None for a visit that needs no intake."""
    if not queries.needs_intake(appointment):
        return None
    _intake, path = request_intake(Actor.system(appointment.clinic), appointment, delivery=IntakeDelivery.SHOWN)
    return path


def auto_send(appointment_pk: int) -> bool:
    """The `booking.appointment_booked` listener, once the booking is committed: with the clinic's `intake_auto_send`
    on, a visit that needs an intake (an assessment) booked for a patient with an email address gets its link by
    email through the outbox (`request_intake`, delivery email). Nothing when the setting is off, the person has no
    email address or is not a patient yet (an online booker gets the link on the booked page and in the message sent
    at verification), the visit is no longer ahead and booked, or an intake was already opened for it. True when
    one was requested."""
    appointment = Appointment.objects.select_related("clinic", "patient", "appointment_type").get(pk=appointment_pk)
    patient = appointment.patient
    if not appointment.clinic.config.intake_auto_send or not queries.needs_intake(appointment):
        return False
    if patient is None or not patient.email or patient.is_entered_in_error or appointment.is_entered_in_error:
        return False
    if appointment.status != AppointmentStatus.BOOKED or appointment.starts_at <= timezone.now():
        return False
    if queries.appointment_intakes(appointment).exclude(status=IntakeStatus.CANCELLED).exists():
        return False
    request_intake(Actor.system(appointment.clinic), appointment, delivery=IntakeDelivery.EMAIL)
    return True


def follow_appointment(actor: Actor, appointment: Appointment, change: str) -> int:
    """The `booking.appointment_changed` hook, inside the booking's transaction (the booking service checked the
    actor's permission). "moved": the visit keeps its intake, and each open link's expiry follows the new start
    (the clinic's `intake_link_days` from when it was made, never after the start). "cancelled": the visit's open
    intake is cancelled and its links revoked (the answers given so far stay). Returns how many intakes changed."""
    if change not in ("moved", "cancelled"):
        raise ValueError(f"Unknown change of an appointment: {change!r}.")
    intakes = list(
        Intake.objects.select_for_update(no_key=True).filter(
            appointment=appointment, status__in=OPEN_STATUSES, entered_in_error_at__isnull=True
        )
    )
    for intake in intakes:
        if change == "cancelled":
            _cancel(actor, intake, "The appointment was cancelled.", expected_version=None)
            continue
        days = timedelta(days=appointment.clinic.config.intake_link_days)
        for link in IntakeLink.objects.filter(intake=intake, revoked_at__isnull=True, used_at__isnull=True):
            link.expires_at = min(link.created_at + days, appointment.starts_at)
            link.save(update_fields=["expires_at"])
        record_event(
            actor, "intake.appointment_moved", record=intake, detail={"starts_at": appointment.starts_at.isoformat()}
        )
    return len(intakes)


# --- The patient's pages ------------------------------------------------------------------------------------------


def _check_open(link: IntakeLink) -> Intake:
    """The link's intake, read again under a row lock; refused unless the link is open."""
    intake = (
        Intake.objects.select_for_update(no_key=True).select_related("clinic", "appointment").get(pk=link.intake_id)
    )
    link.intake = intake
    state = queries.link_state(link)
    if state != LinkState.OPEN:
        raise IntakeClosedError(state)
    return intake


def open_link(link: IntakeLink, client_address: str | None = None) -> Intake:
    """The person opened the form: audited; the intake is started on the first open."""
    actor = patient_actor(link, client_address)
    with transaction.atomic():
        intake = _check_open(link)
        if intake.status == IntakeStatus.REQUESTED:
            intake = update_record(
                actor,
                intake,
                {"status": IntakeStatus.IN_PROGRESS, "started_at": timezone.now()},
                "intake.started",
                expected_version=None,
            )
        else:
            record_event(actor, "intake.opened", record=intake)
    return intake


def save_step(link: IntakeLink, step: str, values: Mapping[str, Any], client_address: str | None = None) -> Intake:
    """Keep one step's answers (checked by the step's form): the person can leave and come back to the same link."""
    if step not in ANSWER_STEPS and not step.startswith("questionnaire:"):
        raise ValidationError({"step": "No such step of the intake form."})
    actor = patient_actor(link, client_address)
    with transaction.atomic():
        intake = _check_open(link)
        answers = dict(intake.answers or {})
        if step.startswith("questionnaire:"):
            code = step.removeprefix("questionnaire:")
            if code not in queries.baseline_instruments(intake):
                raise ValidationError({"step": "This questionnaire is not part of this intake."})
            answers["questionnaires"] = {**(answers.get("questionnaires") or {}), code: dict(values)}
        else:
            answers[step] = dict(values)
        changes: dict[str, Any] = {"answers": answers}
        if intake.status == IntakeStatus.REQUESTED:
            changes.update(status=IntakeStatus.IN_PROGRESS, started_at=timezone.now())
        return update_record(actor, intake, changes, "intake.saved", expected_version=None)


STEP_MESSAGES = {
    "complaint": "Tell us what brings you in, where it hurts and how much it hurts now.",
    "medicines": "Tick the medicines you take, list any others, or tick that you take none.",
    "allergies": 'Answer whether you have allergies: list them, or choose "I have no known allergies".',
    "conditions": "Answer each health question (yes, no or not sure).",
    "weight": "Give your weight, or tick that you do not know it.",
}


def submit(link: IntakeLink, client_address: str | None = None) -> Intake:
    """Send the answers to the clinic: refused (nothing written) while a required part is unanswered; the link is then
    used (single use) and the intake waits for a clinician's review."""
    actor = patient_actor(link, client_address)
    now = timezone.now()
    with transaction.atomic():
        intake = _check_open(link)
        missing = domain.missing(intake.answers or {})
        if missing:
            raise ValidationError({step: STEP_MESSAGES[step] for step in missing})
        link.used_at = now
        link.save(update_fields=["used_at"])
        return update_record(
            actor,
            intake,
            {"status": IntakeStatus.SUBMITTED, "submitted_at": now, "submitted_on": clinic_today(intake.clinic)},
            "intake.submitted",
            expected_version=None,
        )


# --- Review -------------------------------------------------------------------------------------------------------


def review_patient(intake: Intake) -> Patient | None:
    """The patient an intake is reviewed on: its own, or the one its online booker was confirmed or merged into."""
    if intake.patient is not None:
        return intake.patient
    pending = intake.pending_patient
    return pending.patient if pending is not None else None


def _json(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        out[key] = str(value) if isinstance(value, Decimal | date) else value
    return out


def _write(actor: Actor, patient: Patient, intake: Intake, item: domain.ReviewItem, values: Mapping[str, Any]) -> Any:
    """Write one accepted item to the chart through the owning app's service; return the record written."""
    if item.kind is domain.ItemKind.NO_KNOWN_ALLERGIES:
        return patient_services.confirm_no_known_allergies(
            actor, patient, source="pre-visit intake: the patient's explicit answer, reviewed"
        )
    if item.kind is domain.ItemKind.QUESTIONNAIRE:
        return outcomes_services.record_response(
            actor,
            patient,
            str(values["instrument"]),
            values["answers"],
            authored_on=intake.submitted_on or clinic_today(intake.clinic),
            source=ResponseSource.PATIENT_LINK,
        )
    return patient_services.add_child(actor, patient, item.kind.value, values)


def decide(
    actor: Actor,
    intake: Intake,
    key: str,
    decision: str,
    *,
    values: Mapping[str, Any] | None = None,
    reason: str = "",
) -> IntakeDecision:
    """Accept, edit (accept with the clinician's changes) or reject one item of a submitted intake.

    One transaction: the chart entry (through the patients or outcomes services, with their own audit rows) and the
    decision with who and when. Refused, with nothing written: an intake not sent back yet or already reviewed, an
    item already decided or unknown, an online booker not confirmed yet, and whatever the chart's services refuse
    (a bad value, "no known allergies" while allergies are recorded)."""
    require_permission(actor, Permission.PATIENT_EDIT_CLINICAL)
    require_same_clinic(actor, intake)
    try:
        chosen = ReviewDecision(decision)
    except ValueError:
        raise ValidationError({"decision": "Choose accept, edit or reject."}) from None
    if intake.status != IntakeStatus.SUBMITTED:
        raise ServiceError(f"This intake is {intake.get_status_display().lower()}: there is nothing to review.")
    patient = review_patient(intake)
    if patient is None:
        raise ServiceError(
            "This person booked online and is not confirmed yet: the front desk confirms them as a new patient or "
            "merges them into a record first; the intake is then reviewed on that chart."
        )
    if patient.is_entered_in_error:
        raise ServiceError("This patient record was marked entered in error; review the intake on the correct record.")
    try:
        item = next(i for i in queries.items(intake) if i.key == key)
    except (StopIteration, DomainError):
        raise ValidationError({"item": "No such item in this intake."}) from None
    if IntakeDecision.objects.filter(intake=intake, item_key=key, entered_in_error_at__isnull=True).exists():
        raise ServiceError("This item was already reviewed.")
    if chosen is ReviewDecision.EDITED:
        if not values:
            raise ValidationError({"item": "Give the values to write, or accept the item as reported."})
        if item.kind in (domain.ItemKind.NO_KNOWN_ALLERGIES, domain.ItemKind.QUESTIONNAIRE):
            raise ValidationError({"item": "This item is accepted or rejected as the patient gave it."})
    if chosen is ReviewDecision.REJECTED and len(reason.strip()) < 3:
        raise ValidationError({"reason": "Say why this item is not taken into the chart (e.g. not current)."})
    written_values: Mapping[str, Any] = {}
    if chosen is not ReviewDecision.REJECTED:
        written_values = {**item.values, **(values or {})} if chosen is ReviewDecision.EDITED else item.values
    now = timezone.now()
    with transaction.atomic():
        if intake.patient_id is None:
            intake = update_record(
                actor, intake, {"patient": patient}, "intake.patient_attached", expected_version=None,
                reason="The online booker was confirmed or merged by the front desk.",
            )  # fmt: skip
        record = None if chosen is ReviewDecision.REJECTED else _write(actor, patient, intake, item, written_values)
        row = create_record(
            actor,
            IntakeDecision(
                clinic=intake.clinic,
                intake=intake,
                patient=patient,
                item_key=key,
                kind=item.kind.value,
                decision=chosen.value,
                reported={"summary": item.summary, "values": _json(item.values)},
                written=_json(written_values),
                record_uuid=getattr(record, "uuid", None) if record is not None else None,
                reason=reason.strip()[:300],
                decided_by=actor.user if actor.user is not None and actor.user.pk else None,
                decided_at=now,
            ),
            f"intake.item.{chosen.value}",
            detail={"item": key, "kind": item.kind.value, "intake": str(intake.uuid)},
        )
        decided = set(IntakeDecision.objects.filter(intake=intake).values_list("item_key", flat=True))
        if all(i.key in decided for i in queries.items(intake)):
            update_record(
                actor,
                intake,
                {"status": IntakeStatus.REVIEWED, "reviewed_at": now},
                "intake.reviewed",
                expected_version=None,
            )
    return row


def still_to_send(intake: Intake, now: datetime) -> str:
    """Why an intake's email must not go out now ("" when it may): checked just before sending."""
    if intake.status not in OPEN_STATUSES:
        return f"The intake is {intake.get_status_display().lower()}."
    appointment = intake.appointment
    if appointment.status not in (AppointmentStatus.BOOKED, AppointmentStatus.HELD):
        return "The appointment is no longer booked."
    if appointment.starts_at <= now:
        return "The appointment started before the link could be sent."
    return ""
