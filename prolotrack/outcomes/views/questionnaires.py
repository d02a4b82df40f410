"""The staff's questionnaire pages of a patient: timepoints and answers, links (QR, email, tablet), paper entry."""

from datetime import date
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from prolotrack.audit.services import ServiceError, record_read
from prolotrack.clinical.queries import clinic_today
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import can, require
from prolotrack.core.site import site_url
from prolotrack.domain import instruments as domain
from prolotrack.outcomes import present, queries, services
from prolotrack.outcomes.models import (
    LinkDelivery,
    ResponseSource,
)
from prolotrack.patients.queries import patient_or_404
from prolotrack.treatment.models import CourseTimepoint

# --- staff pages --------------------------------------------------------------------------------------------------


def _timepoint(request: ClinicRequest, patient: Any, value: str) -> CourseTimepoint | None:
    if not value:
        return None
    try:
        timepoint = queries.get_timepoint(request.clinic, value)
    except (CourseTimepoint.DoesNotExist, ValidationError, ValueError):
        raise Http404("No such timepoint in this clinic.") from None
    if timepoint.patient_id != patient.pk:
        raise Http404("No such timepoint for this patient.")
    return timepoint


@require(Permission.OUTCOMES_COLLECT)
def patient_questionnaires(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    record_read(actor_for(request), "questionnaire.list.viewed", record=patient)
    show_scores = can(request, Permission.OUTCOMES_VIEW)
    responses = list(queries.patient_responses(patient)[:50]) if show_scores else []
    for response in responses:
        found = domain.DEFINITIONS.get(response.instrument)
        response.title = found.title if found else response.instrument
    return render(
        request,
        "outcomes/patient_questionnaires.html",
        {
            "patient": patient,
            "rows": queries.patient_timepoints(patient),
            "links": list(queries.patient_links(patient)[:20]),
            "responses": responses,
            "show_scores": show_scores,
            "deliveries": LinkDelivery.choices,
            "now": timezone.now(),
        },
    )


def _qr_svg(url: str) -> str:
    svg = segno.make(url, error="m").svg_inline(scale=5, dark="#1d2733", title="Questionnaire link")
    return svg


@require(Permission.OUTCOMES_COLLECT)
@require_POST
def link_create(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    timepoint = _timepoint(request, patient, request.POST.get("timepoint", ""))
    delivery = request.POST.get("delivery", LinkDelivery.QR)
    instruments = request.POST.getlist("instruments") or None
    try:
        link, path = services.create_link(
            actor_for(request), patient, timepoint=timepoint, instruments=instruments, delivery=delivery
        )
    except (ValidationError, ServiceError) as error:
        text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        messages.error(request, f"No link was created: {text}")
        return redirect("outcomes:patient-questionnaires", patient_uuid=patient.uuid)
    if delivery == LinkDelivery.TABLET:
        # The tablet is handed to the patient: sign the staff member out first so nothing of the app is reachable.
        logout(request)
        return redirect(path)
    url = site_url(path)
    subject = body = ""
    if delivery == LinkDelivery.EMAIL:
        subject, body = services.email_message(link, url)
    response = render(
        request,
        "outcomes/link_created.html",
        {
            "patient": patient,
            "link": link,
            "url": url,
            "qr": _qr_svg(url) if delivery in (LinkDelivery.QR, LinkDelivery.COPIED) else "",
            "titles": [domain.definition(c).title for c in link.instruments],
            "email_subject": subject,
            "email_body": body,
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@require(Permission.OUTCOMES_COLLECT)
@require_POST
def link_revoke(request: ClinicRequest, link_uuid: Any) -> HttpResponse:
    link = queries.link_or_404(request, link_uuid)
    try:
        services.revoke_link(actor_for(request), link)
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Link cancelled. It can no longer be opened.")
    return redirect("outcomes:patient-questionnaires", patient_uuid=link.patient.uuid)


def _parse_date(value: str, today: date) -> tuple[date | None, str]:
    try:
        day = date.fromisoformat((value or "").strip())
    except ValueError:
        return None, "Enter the date the answers were given (YYYY-MM-DD)."
    if day > today:
        return None, "The date answered cannot be in the future."
    return day, ""


def _available(texts: dict[str, Any]) -> list[tuple[str, str]]:
    """The instruments staff may enter: a licensed one only with the clinic's imported texts."""
    return [(c, d.title) for c, d in domain.DEFINITIONS.items() if not d.licensed or c in texts]


def _record_paper(
    request: HttpRequest, patient: Any, code: str, timepoint: Any, authored_text: str, today: date
) -> tuple[Any, dict[str, str], str]:
    """Record the answers from paper: (the response or None, the answers' errors, the date's error)."""
    answers, errors = present.parse(code, request.POST, prefix="a_")
    authored_on, date_error = _parse_date(authored_text, today)
    if errors or date_error or authored_on is None:
        return None, errors, date_error
    try:
        response = services.record_response(
            actor_for(request), patient, code, answers, authored_on=authored_on, timepoint=timepoint,
            source=ResponseSource.STAFF_PAPER,
        )  # fmt: skip
    except ValidationError as error:
        return None, {"": " ".join(error.messages)}, ""
    except ServiceError as error:
        return None, {"": str(error)}, ""
    return response, {}, ""


@require(Permission.OUTCOMES_COLLECT)
@require_http_methods(["GET", "POST"])
def staff_entry(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    clinic = request.clinic
    texts = {code: row.texts for code, row in queries.clinic_texts(clinic).items()}
    source = request.POST if request.method == "POST" else request.GET
    code = source.get("instrument", "") or "nrs_pain"
    if code not in domain.DEFINITIONS:
        raise Http404("No such questionnaire.")
    timepoint = _timepoint(request, patient, source.get("timepoint", ""))
    today = clinic_today(clinic)
    errors: dict[str, str] = {}
    date_error = ""
    authored_text = source.get("authored_on", today.isoformat())
    available = _available(texts)
    if code not in dict(available):
        raise Http404("This questionnaire's texts are not imported in this clinic.")
    values: dict[str, Any] = {}
    if request.method == "POST" and request.POST.get("action") == "save":
        response, errors, date_error = _record_paper(request, patient, code, timepoint, authored_text, today)
        if response is not None:
            state = "saved as completed" if response.status == "completed" else "kept as in progress"
            messages.success(request, f"{domain.definition(code).title} {state}.")
            return redirect("outcomes:patient-questionnaires", patient_uuid=patient.uuid)
        values = {k[2:]: v for k, v in request.POST.items() if k.startswith("a_")}
    form = present.build(code, values, texts=texts.get(code), errors=errors, prefix="a_")
    form.errors = [errors[""]] if "" in errors else []
    timepoints = [row.timepoint for row in queries.patient_timepoints(patient)]
    context = {
        "patient": patient, "form": form, "code": code, "available": available, "timepoint": timepoint,
        "timepoints": timepoints, "authored_on": authored_text, "date_error": date_error, "today": today,
    }  # fmt: skip
    return render(request, "outcomes/staff_entry.html", context, status=400 if (errors or date_error) else 200)
