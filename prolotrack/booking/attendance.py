"""An appointment's outcome and a patient's appointments (docs/BOOKING.md, "Attended and no-show", "Appointments on the
chart"): marking a booked appointment attended or a no-show once its start has come (the rule is
prolotrack/domain/attendance.py), and the reads of the chart's Appointments card."""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from prolotrack.audit.services import Actor, ServiceError, update_record
from prolotrack.booking.models import Appointment, AppointmentStatus
from prolotrack.clinics.roles import Permission, require_permission
from prolotrack.core.access import require_same_clinic
from prolotrack.domain.attendance import MARKS, attendance_refusal


def set_attendance(actor: Actor, appointment: Any, status: str, *, expected_version: int | None) -> Appointment:
    """Mark the appointment attended or a no-show (or correct an earlier mark), once its start time has come; one
    audited version. The time it held stays held (a no-show's slot is in the past)."""
    require_permission(actor, Permission.SCHEDULE_MANAGE)
    if not isinstance(appointment, Appointment):
        raise ValidationError({"appointment": "Choose an appointment."})
    require_same_clinic(actor, appointment)
    if status not in MARKS:
        raise ValidationError({"status": "Mark the appointment attended or a no-show."})
    refusal = attendance_refusal(
        appointment.status,
        status,
        appointment.starts_at,
        timezone.now(),
        actor.clinic.tz,
        for_patient=appointment.patient_id is not None,
    )
    if refusal:
        raise ServiceError(refusal)
    with transaction.atomic():
        return update_record(
            actor,
            appointment,
            {"status": status, "status_reason": ""},
            f"booking.appointment.{status}",
            expected_version=expected_version,
        )


def marks_offered(appointment: Appointment, clinic: Any) -> list[tuple[str, str]]:
    """The marks the appointment may take now, as (status, button label): none before its start."""
    now = timezone.now()
    labels = {"attended": "Mark attended", "no_show": "Mark no-show"}
    return [
        (status, labels[status])
        for status in MARKS
        if attendance_refusal(
            appointment.status,
            status,
            appointment.starts_at,
            now,
            clinic.tz,
            for_patient=appointment.patient_id is not None,
        )
        is None
    ]


@dataclass
class PatientAppointments:
    upcoming: list[Appointment]
    past: list[Appointment]


def patient_appointments(clinic: Any, patient: Any, *, past_shown: int = 20) -> PatientAppointments:
    """The patient's appointments: those still to come (soonest first, cancelled ones included with their reason) and
    the latest `past_shown` of those whose start has passed (latest first). Online holds that ran out are left out."""
    now = timezone.now()
    rows = (
        Appointment.objects.filter(clinic=clinic, patient=patient, entered_in_error_at__isnull=True)
        .exclude(status=AppointmentStatus.HELD, hold_expires_at__lte=now)
        .exclude(status=AppointmentStatus.HELD, hold_expires_at__isnull=True)
        .select_related("appointment_type", "clinician")
    )
    upcoming = list(rows.filter(starts_at__gte=now).order_by("starts_at", "id"))
    past = list(rows.filter(starts_at__lt=now).order_by("-starts_at", "-id")[:past_shown])
    return PatientAppointments(upcoming, past)
