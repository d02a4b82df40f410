"""Reads of the intake app: a patient's intakes (also those sent to them while they were an online booker), the
open link of a token, the review items of an intake with their decisions, and what screening shows as not reviewed."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from prolotrack.booking.models import Appointment, AppointmentKind, AppointmentStatus
from prolotrack.core.links import LinkState
from prolotrack.domain import intake as domain
from prolotrack.intake.models import Intake, IntakeDecision, IntakeLink, IntakeStatus
from prolotrack.outcomes import queries as outcomes_queries
from prolotrack.patients.models import (
    Allergy,
    ClinicalStatus,
    Condition,
    Medication,
    MedicationStatus,
    WeightMeasurement,
)

TO_REVIEW = (IntakeStatus.SUBMITTED,)
# The visits whose patient is asked the intake form by itself (booked online, or by staff with the clinic's
# `intake_auto_send`): the new-patient assessment, the visit the form prepares (issue 16: "Before a new-patient
# assessment, the patient gets an intake link"). Staff may still send it for any other visit from its page.
INTAKE_KINDS = frozenset({AppointmentKind.ASSESSMENT})


def needs_intake(appointment: Any) -> bool:
    """Whether booking this visit opens its intake by itself (an assessment)."""
    return appointment.appointment_type.kind in INTAKE_KINDS


def for_patient_q(patient: Any) -> Q:
    """The intakes of a patient: sent to them, or to the online booker the front desk confirmed or merged into them."""
    return Q(patient=patient) | Q(patient__isnull=True, pending_patient__patient=patient)


def patient_intakes(patient: Any) -> QuerySet[Intake]:
    return (
        Intake.objects.filter(for_patient_q(patient), clinic=patient.clinic, entered_in_error_at__isnull=True)
        .select_related("appointment", "appointment__appointment_type", "pending_patient")
        .order_by("-created_at", "-id")
    )


def appointment_intakes(appointment: Any) -> QuerySet[Intake]:
    return Intake.objects.filter(appointment=appointment, entered_in_error_at__isnull=True).order_by("-created_at")


def get_intake(clinic: Any, intake_uuid: Any) -> Intake:
    return Intake.objects.select_related("appointment", "pending_patient", "patient").get(
        clinic=clinic, uuid=intake_uuid, entered_in_error_at__isnull=True
    )


def link_by_token(token: str) -> IntakeLink | None:
    return IntakeLink.by_token(
        token,
        IntakeLink.objects.select_related(
            "intake", "clinic", "intake__appointment", "intake__patient", "intake__pending_patient"
        ),
    )


def link_state(link: IntakeLink) -> str:
    """The link's state; a link of an intake already sent or cancelled is used or revoked whatever its own row says."""
    state = link.state()
    if state == LinkState.OPEN:
        if link.intake.status in (IntakeStatus.SUBMITTED, IntakeStatus.REVIEWED):
            return LinkState.USED
        if link.intake.status == IntakeStatus.CANCELLED:
            return LinkState.REVOKED
    return state


def baseline_instruments(intake: Intake) -> tuple[str, ...]:
    """The baseline questionnaires of the complaint's region (the clinic's region sets, no PGIC, licensed ones only
    with imported texts)."""
    clinic = intake.clinic
    region = str(((intake.answers or {}).get("complaint") or {}).get("region") or "other")
    return domain.baseline_instruments(
        region,
        licensed_available=outcomes_queries.licensed_available(clinic),
        overrides=clinic.config.outcome_instruments,
    )


def clinic_texts(clinic: Any) -> dict[str, Any]:
    return {code: row.texts for code, row in outcomes_queries.clinic_texts(clinic).items()}


def reported_on(intake: Intake) -> date:
    if intake.submitted_on is not None:
        return intake.submitted_on
    return timezone.localdate(timezone=intake.clinic.tz)


def items(intake: Intake) -> list[domain.ReviewItem]:
    return domain.review_items(intake.answers or {}, reported_on(intake))


def decisions(intake: Intake) -> dict[str, IntakeDecision]:
    rows = IntakeDecision.objects.filter(intake=intake, entered_in_error_at__isnull=True).select_related("decided_by")
    return {d.item_key: d for d in rows}


@dataclass
class ItemRow:
    item: domain.ReviewItem
    decision: IntakeDecision | None
    # Set by the review page: the refusal to show next to the item, and its edit form.
    errors: list[str] = field(default_factory=list)
    form: Any = None


def item_rows(intake: Intake) -> list[ItemRow]:
    decided = decisions(intake)
    return [ItemRow(item, decided.get(item.key)) for item in items(intake)]


def unreviewed_items(patient: Any) -> list[dict[str, str]]:
    """What the patient reported in submitted intakes that no clinician has decided yet (the screening hook)."""
    out: list[dict[str, str]] = []
    rows = Intake.objects.filter(
        for_patient_q(patient), clinic=patient.clinic, status__in=TO_REVIEW, entered_in_error_at__isnull=True
    ).order_by("submitted_at", "id")
    for intake in rows:
        decided = set(
            IntakeDecision.objects.filter(intake=intake, entered_in_error_at__isnull=True).values_list(
                "item_key", flat=True
            )
        )
        for item in items(intake):
            if item.key in decided or item.kind is domain.ItemKind.QUESTIONNAIRE:
                continue
            out.append(
                {
                    "intake": str(intake.uuid),
                    "key": item.key,
                    "kind": item.kind.value,
                    "summary": item.summary,
                    "concept": item.concept,
                    "unsure": "yes" if item.unsure else "",
                    "sent_on": reported_on(intake).isoformat(),
                }
            )
    return out


def to_review_count(clinic: Any) -> int:
    return Intake.objects.filter(clinic=clinic, status__in=TO_REVIEW, entered_in_error_at__isnull=True).count()


def emailed_open(clinic: Any) -> QuerySet[Intake]:
    """Intakes to email that are still open and belong to a patient (the outbox writes to patients)."""
    return Intake.objects.filter(
        clinic=clinic,
        delivery="email",
        status__in=(IntakeStatus.REQUESTED, IntakeStatus.IN_PROGRESS),
        patient__isnull=False,
        appointment__starts_at__gt=timezone.now(),
        entered_in_error_at__isnull=True,
    )


def appointment(clinic: Any, appointment_uuid: Any) -> Appointment:
    return Appointment.objects.select_related("patient", "pending_patient", "appointment_type").get(
        clinic=clinic, uuid=appointment_uuid
    )


def upcoming_appointments(patient: Any) -> list[Appointment]:
    """The patient's booked visits still ahead: where staff send an intake from the chart."""
    return list(
        Appointment.objects.filter(
            clinic=patient.clinic,
            patient=patient,
            status=AppointmentStatus.BOOKED,
            starts_at__gt=timezone.now(),
            entered_in_error_at__isnull=True,
        ).select_related("appointment_type")
    )


def chart_now(patient: Any) -> dict[str, Any]:
    """What the chart holds now, shown beside what the patient reported: active conditions, medications not stopped,
    allergies (or the confirmed "no known allergies"), the latest weight."""
    live = {"patient": patient, "clinic": patient.clinic, "entered_in_error_at__isnull": True}
    return {
        "conditions": list(Condition.objects.filter(**live, clinical_status=ClinicalStatus.ACTIVE)),
        "medications": list(Medication.objects.filter(**live).exclude(status=MedicationStatus.STOPPED)),
        "allergies": list(Allergy.objects.filter(**live)),
        "no_known_allergies": patient.no_known_allergies,
        "weight": WeightMeasurement.objects.filter(**live).order_by("-measured_on", "-created_at").first(),
    }
