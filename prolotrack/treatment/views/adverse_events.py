"""Adverse events: recording one (linked to the session, site and syringe it followed) and following it up."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from prolotrack.audit.services import ServiceError
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import require
from prolotrack.core.forms import apply_errors
from prolotrack.patients.queries import patient_or_404
from prolotrack.treatment import queries, services
from prolotrack.treatment.forms import AdverseEventForm
from prolotrack.treatment.models import TreatmentSession
from prolotrack.treatment.views.common import posted, session_url, today


def _initial(request: ClinicRequest, sessions: list[TreatmentSession]) -> dict[str, Any]:
    """Onset today, and the session, site and syringe the page was opened from."""
    initial: dict[str, Any] = {"onset_on": today(request), "outcome": "ongoing"}
    for name in ("session", "site", "solution"):
        if request.GET.get(name):
            initial[name] = request.GET[name]
    started_from = next((s for s in sessions if str(s.uuid) == initial.get("session")), None)
    if started_from is not None and "solution" not in initial:
        # One syringe in the session: it is the one the event followed (its lot is then recorded too).
        site = next((x for x in started_from.site_rows if str(x.uuid) == initial.get("site")), None)
        if site is not None:
            initial["solution"] = str(site.solution.uuid)
        elif len(started_from.solution_rows) == 1:
            initial["solution"] = str(started_from.solution_rows[0].uuid)
    return initial


def _record(request: HttpRequest, patient: Any, form: AdverseEventForm, sessions: list[TreatmentSession]) -> Any:
    data = form.cleaned_data
    session = next((s for s in sessions if str(s.uuid) == data["session"]), None)
    site = next((x for s in sessions for x in s.site_rows if str(x.uuid) == data["site"]), None)
    solution = next((x for s in sessions for x in s.solution_rows if str(x.uuid) == data["solution"]), None)
    return services.record_adverse_event(
        actor_for(request), patient, form.changes(), session=session, site=site, solution=solution
    )


@require(Permission.ADVERSE_EVENT_RECORD)
@require_http_methods(["GET", "POST"])
def adverse_event_new(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    sessions = queries.linkable_sessions(patient)
    form = AdverseEventForm(posted(request), initial=_initial(request, sessions), sessions=sessions)
    if request.method == "POST" and form.is_valid():
        try:
            event = _record(request, patient, form, sessions)
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Adverse event recorded: {event.get_event_type_display()}.")
            if event.session is not None:
                return redirect(session_url(event.session, "adverse-events"))
            return redirect(reverse("patients:chart", args=[patient.uuid]) + "#adverse-events")
    from_session = next((s for s in sessions if str(s.uuid) == request.GET.get("session")), None)
    context = {"patient": patient, "form": form, "from_session": from_session, "title": "Record an adverse event"}
    return render(request, "treatment/adverse_event_form.html", context, status=400 if form.errors else 200)


@require(Permission.ADVERSE_EVENT_RECORD)
@require_http_methods(["GET", "POST"])
def adverse_event_edit(request: ClinicRequest, event_uuid: Any) -> HttpResponse:
    event = queries.adverse_event_or_404(request, event_uuid)
    initial = {**{name: getattr(event, name) for name in AdverseEventForm.FIELDS}, "version": event.version}
    form = AdverseEventForm(posted(request), initial=initial, sessions=[], editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_adverse_event(
                actor_for(request), event, form.changes(), expected_version=form.cleaned_data["version"],
                reason=form.cleaned_data.get("change_reason", ""),
            )  # fmt: skip
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Adverse event updated. The earlier version is kept.")
            return redirect(reverse("treatment:adverse-event-edit", args=[event.uuid]))
    context = {
        "patient": event.patient,
        "form": form,
        "event": event,
        "versions": queries.record_versions(event),
        "title": "Follow an adverse event",
    }
    return render(request, "treatment/adverse_event_form.html", context, status=400 if form.errors else 200)
