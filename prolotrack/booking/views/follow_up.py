"""Staff: send a patient a "book your follow-up" link (docs/BOOKING.md, "Follow-up links"), or a course's "book your
next session" link ("Course links"). The address is shown once, to copy into a message to the patient (a course's link
can also go by the outbox); only its hash is stored."""

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render

from prolotrack.booking import course_links, patient_links, queries
from prolotrack.booking.models import AppointmentType, CourseLinkDelivery
from prolotrack.booking.views.common import REFUSALS, found
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import require
from prolotrack.core.site import site_url
from prolotrack.patients import queries as patient_queries
from prolotrack.treatment import queries as treatment_queries


def _choices(clinic: Any) -> tuple[list[AppointmentType], dict[str, list[Any]]]:
    kinds = [t for t in queries.bookable_types(clinic) if t.kind in patient_links.FOLLOW_UP_KINDS]
    return kinds, {str(t.uuid): queries.offering_clinicians(clinic, t) for t in kinds}


@require(Permission.SCHEDULE_MANAGE)
def create(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    patient = found(patient_queries.get_patient, request.clinic, patient_uuid)
    kinds, offering = _choices(request.clinic)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        kind = next((t for t in kinds if str(t.uuid) == request.POST.get("type")), None)
        who_text = request.POST.get("clinician", "")
        who = next((c for c in offering.get(request.POST.get("type", ""), []) if str(c.uuid) == who_text), None)
        try:
            _link, token = patient_links.create_follow_up_link(
                actor_for(request), patient, appointment_type=kind, clinician=who if who_text else None
            )
        except REFUSALS as refused:
            errors = getattr(refused, "message_dict", None) or {"": [str(refused)]}
        else:
            url = site_url(patient_links.follow_up_path(token))
            return render(request, "booking/follow_up_link.html", {"patient": patient, "url": url, "kind": kind})
    clinicians = sorted({c for group in offering.values() for c in group}, key=str)
    context = {"patient": patient, "kinds": kinds, "clinicians": clinicians, "errors": errors, "post": request.POST}
    return render(request, "booking/follow_up_link.html", context, status=400 if errors else 200)


@require(Permission.SCHEDULE_MANAGE)
def course_link(request: ClinicRequest, course_uuid: Any) -> HttpResponse:
    """Make a course's "book your next session" link: shown once to copy, or sent by message (docs/BOOKING.md,
    "Course links")."""
    course = treatment_queries.course_or_404(request, course_uuid)
    context: dict[str, Any] = {"course": course, "patient": course.patient, "errors": {}}
    if request.method == "POST":
        delivery = request.POST.get("delivery", "")
        try:
            _link, token = course_links.create_course_link(actor_for(request), course, delivery=delivery)
        except REFUSALS as refused:
            context["errors"] = getattr(refused, "message_dict", None) or {"": [str(refused)]}
        else:
            shown = delivery == CourseLinkDelivery.SHOWN
            context.update(url=site_url(course_links.course_link_path(token)) if shown else "", sent=not shown)
            return render(request, "booking/course_link.html", context)
    context.update(course_links.staff_view(course))
    return render(request, "booking/course_link.html", context, status=400 if context["errors"] else 200)
