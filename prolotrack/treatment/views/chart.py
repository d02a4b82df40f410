"""The chart's treatment cards: the patient's courses and adverse events (HTMX cards, or the same lists as pages)."""

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render

from prolotrack.audit.services import record_read
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import require
from prolotrack.patients.queries import patient_or_404
from prolotrack.treatment import present, queries


@require(Permission.COURSE_VIEW)
def patient_courses(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    """The chart's "Treatment courses" card (HTMX), or the same list as a page."""
    patient = patient_or_404(request, patient_uuid)
    record_read(actor_for(request), "treatment.courses.viewed", record=patient, patient_uuid=patient.uuid)
    context = {"patient": patient, "rows": present.course_rows(queries.patient_courses(patient))}
    if request.htmx and not request.htmx.boosted:
        return render(request, "treatment/_courses_card.html", context)
    return render(request, "treatment/patient_courses.html", context)


@require(Permission.COURSE_VIEW)
def chart_cards(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    """Both chart cards in one request (the chart loads them with HTMX): courses, and adverse events out of band."""
    patient = patient_or_404(request, patient_uuid)
    actor = actor_for(request)
    record_read(actor, "treatment.courses.viewed", record=patient, patient_uuid=patient.uuid)
    record_read(actor, "treatment.adverse_events.viewed", record=patient, patient_uuid=patient.uuid)
    context = {
        "patient": patient,
        "rows": present.course_rows(queries.patient_courses(patient)),
        "events": queries.patient_adverse_events(patient),
        "oob": True,
    }
    return render(request, "treatment/_chart_cards.html", context)


@require(Permission.COURSE_VIEW)
def patient_adverse_events(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    """The chart's "Adverse events" card (HTMX), or the same list as a page."""
    patient = patient_or_404(request, patient_uuid)
    record_read(actor_for(request), "treatment.adverse_events.viewed", record=patient, patient_uuid=patient.uuid)
    context = {"patient": patient, "events": queries.patient_adverse_events(patient)}
    if request.htmx and not request.htmx.boosted:
        return render(request, "treatment/_adverse_events_card.html", context)
    return render(request, "treatment/patient_adverse_events.html", context)
