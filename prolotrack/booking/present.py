"""Shaping booking rows for pages of other apps: the staff calendar's appointments (the treatment hook)."""

from datetime import date
from typing import Any

from django.urls import reverse
from django.utils.http import urlencode

from prolotrack.booking import queries
from prolotrack.treatment.hooks import CalendarVisit


def calendar_visits(clinic: Any, first: date, days: int, clinician: Any = None) -> tuple[list[CalendarVisit], str]:
    """The appointments in the calendar's days, and the booking page's address for the first day (and clinician)."""
    visits = [
        CalendarVisit(
            uuid=a.uuid,
            start=a.starts_at,
            minutes=a.duration_minutes,
            patient=a.patient or a.pending_patient,
            clinician=a.clinician,
            title=a.appointment_type.name,
            status=a.get_status_display().lower() if a.status != "booked" else "booked",
            url=reverse("booking:appointment", kwargs={"appointment_uuid": a.uuid}),
            pending=a.patient_id is None,
            drop_url=reverse("booking:drop", kwargs={"appointment_uuid": a.uuid}) if a.status == "booked" else "",
            version=a.version,
        )
        for a in queries.calendar_appointments(clinic, first, days, clinician)
    ]
    asked = {"date": first.isoformat()}
    if clinician is not None:
        asked["clinician"] = str(clinician.uuid)
    return visits, f"{reverse('booking:book')}?{urlencode(asked)}"
