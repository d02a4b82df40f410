"""Trajectory pages: the chart's "Outcomes" card (HTMX), the same as a page, and each chart as SVG or PNG.

Thin: find the patient inside request.clinic (another clinic's patient is a 404), audit the read, load the trajectory,
render. Permission outcomes.view.
"""

import uuid
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from prolotrack.audit.services import record_read
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import require
from prolotrack.outcomes.trajectory import Trajectory, patient_trajectory
from prolotrack.patients.queries import patient_or_404
from prolotrack.treatment import queries as treatment_queries


def _trajectory(request: HttpRequest, patient_uuid: Any) -> Trajectory:
    patient = patient_or_404(request, patient_uuid)
    course = None
    wanted = request.GET.get("course", "")
    if wanted:
        try:
            course_uuid = uuid.UUID(wanted)
        except ValueError:
            raise Http404("No such course for this patient.") from None
        course = treatment_queries.patient_course(patient, course_uuid)
        if course is None:
            raise Http404("No such course for this patient.")
    record_read(actor_for(request), "outcomes.trajectory.viewed", record=patient, patient_uuid=patient.uuid)
    return patient_trajectory(patient, course)


def _context(trajectory: Trajectory) -> dict[str, Any]:
    """The card's context. Its charts are images the browser loads from the chart download URL (each its own audited
    request), not drawn here: matplotlib takes 100-300 ms a chart, which made this card the slowest part of the
    chart page (docs/PERFORMANCE.md, "Page server time at clinic and network size")."""
    course = f"?course={trajectory.course.uuid}" if trajectory.course else ""
    charts_out = [
        {
            "series": series,
            "src": reverse("outcomes:trajectory-chart", args=[trajectory.patient.uuid, series.code, "svg"]) + course,
        }
        for series in trajectory.series
    ]
    return {"patient": trajectory.patient, "trajectory": trajectory, "charts": charts_out}


@require(Permission.OUTCOMES_VIEW)
def patient_outcomes(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    """The chart's "Outcomes" card (HTMX), or the same as a page."""
    trajectory = _trajectory(request, patient_uuid)
    context = _context(trajectory)
    if request.htmx and not request.htmx.boosted:
        return render(request, "outcomes/_trajectory_card.html", context)
    return render(request, "outcomes/trajectory.html", context)


@require(Permission.OUTCOMES_VIEW)
def trajectory_chart(request: ClinicRequest, patient_uuid: Any, instrument: str, fmt: str) -> HttpResponse:
    """One instrument's chart as a download (SVG or PNG)."""
    from prolotrack.outcomes import charts

    trajectory = _trajectory(request, patient_uuid)
    if trajectory.series_for(instrument) is None:
        raise Http404("No scores of that instrument for this patient.")
    figure = charts.chart_for(trajectory, instrument)
    name = f"outcomes-{instrument}-{trajectory.patient.uuid}.{fmt}"
    if fmt == "png":
        response = HttpResponse(charts.figure_png(figure), content_type="image/png")
    else:
        response = HttpResponse(charts.figure_svg(figure), content_type="image/svg+xml")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
