"""Document pages: the chart's documents card (HTMX, polls while something is generating), downloads, progress report
requests, patient handouts (page and PDF), and the clinic's handout editor with versions and revert.

Thin: parse, check the permission, look records up inside request.clinic (another clinic's answers 404), call the
service or query, render. Reads of patient documents are audited; so is every download.
"""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from prolotrack.audit.integrity import verified
from prolotrack.audit.services import ServiceError, StaleEditError, record_read
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.consent.models import Consent
from prolotrack.core.access import require
from prolotrack.core.pdf import pdf_response
from prolotrack.documents import content, handouts, queries, services
from prolotrack.documents.models import Document, DocumentKind
from prolotrack.patients.queries import patient_or_404
from prolotrack.treatment import queries as treatment_queries


def _card_context(request: HttpRequest, patient: Any) -> dict[str, Any]:
    rows = queries.patient_documents(patient)
    courses = list(treatment_queries.courses_on_record(patient))
    return {"patient": patient, "rows": rows, "counts": queries.counts(rows), "courses": courses}


@require(Permission.DOCUMENT_VIEW)
@require_GET
def chart_card(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    """The chart's documents card; while a document is queued or generating it asks again every two seconds."""
    patient = patient_or_404(request, patient_uuid)
    record_read(actor_for(request), "document.list.viewed", record=patient, patient_uuid=patient.uuid)
    context = _card_context(request, patient)
    if request.htmx and not request.htmx.boosted:
        return render(request, "documents/_card.html", context)
    return render(request, "documents/patient_documents.html", context)


@require(Permission.DOCUMENT_VIEW)
@require_POST
def request_report(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    """Queue a progress report (for the patient or the referring doctor) for one course."""
    patient = patient_or_404(request, patient_uuid)
    kind = request.POST.get("kind", "")
    course = None
    if request.POST.get("course"):
        course = treatment_queries.patient_course(patient, request.POST["course"])
        if course is None:
            raise Http404("No such course for this patient.")
    error = ""
    if kind not in (DocumentKind.PROGRESS_PATIENT, DocumentKind.PROGRESS_REFERRER):
        error = "Choose a progress report for the patient or for the referring doctor."
    else:
        try:
            services.request_document(actor_for(request), patient, kind, course=course)
        except (ValidationError, ServiceError) as exc:
            error = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    if request.htmx:
        context = _card_context(request, patient)
        context["error"] = error
        return render(request, "documents/_card.html", context, status=422 if error else 200)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, "The progress report is being generated; it appears in Documents when ready.")
    return redirect(reverse("patients:chart", args=[patient.uuid]) + "#documents")


@require(Permission.DOCUMENT_VIEW)
@require_POST
def regenerate(request: ClinicRequest, document_uuid: Any) -> HttpResponse:
    """Make a new document from the current record (the old one stays as it was)."""
    found = queries.find(request.clinic, document_uuid)
    if not isinstance(found, Document):
        raise Http404("Consent forms are signed, not generated.")
    try:
        services.regenerate(actor_for(request), found)
        messages.success(request, "A new version is being generated; the earlier one is kept.")
    except (ValidationError, ServiceError) as exc:
        messages.error(request, " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
    return redirect(reverse("patients:chart", args=[found.patient.uuid]) + "#documents")


@require(Permission.DOCUMENT_VIEW)
@require_GET
def download(request: ClinicRequest, document_uuid: Any) -> HttpResponse:
    """The PDF of a document or signed consent (rendered now if the background worker has not yet done it)."""
    found = queries.find(request.clinic, document_uuid)
    try:
        data, record = pdf_of(found, actor_for(request))
    except ServiceError as exc:
        return render(request, "documents/not_ready.html", {"message": str(exc), "record": found}, status=409)
    record_read(actor_for(request), "document.downloaded", record=record, patient_uuid=record.patient.uuid)
    return pdf_response(data, queries.filename(record), inline=request.GET.get("inline") == "1")


def pdf_of(found: Document | Consent, actor: Any) -> tuple[bytes, Document | Consent]:
    """The bytes of a document (rendering it if needed) or of a signed consent (stored when it was signed)."""
    if isinstance(found, Consent):
        from prolotrack.consent import services as consent_services

        consent = consent_services.ensure_pdf(actor, queries.consent_with_patient(found))
        data = consent.pdf_content
        if data is None:
            raise ServiceError("This consent has no stored PDF.")
        return verified(data, consent.pdf_sha256, actor=actor, record=consent, what="consent PDF"), consent
    document = services.ensure_ready(found)
    if document.status != "ready":
        raise ServiceError(f"The document could not be generated: {document.error or 'unknown error'}.")
    document = queries.document_to_render(document)
    return services.pdf_bytes(document, actor), document


# --- Patient handouts -------------------------------------------------------------------------------------------


@require(Permission.DOCUMENT_VIEW)
@require_GET
def patient_handout(request: ClinicRequest, patient_uuid: Any, handout: str) -> HttpResponse:
    """A handout for this patient (the next or given session's date, the course's region) in the patient's preferred
    language or ?lang= (staff's choice); ?format=pdf for the PDF."""
    if handout not in handouts.HANDOUTS:
        raise Http404("No such handout.")
    patient = patient_or_404(request, patient_uuid)
    session = None
    if request.GET.get("session"):
        session = queries.patient_session(patient, request.GET["session"])
        if session is None:
            raise Http404("No such session for this patient.")
    context = content.handout_context(patient, handout, session, language=request.GET.get("lang"))
    record_read(
        actor_for(request),
        f"document.handout.{handout}.viewed",
        record=patient,
        patient_uuid=patient.uuid,
        detail={"language": context["language"]},
    )
    if request.GET.get("format") == "pdf":
        name = f"handout-{handout}-{context['language']}-{patient.mrn or 'patient'}.pdf"
        return pdf_response(content.handout_pdf(context), name, inline=request.GET.get("inline") == "1")
    context.update(content.language_choice(patient), handout_links=handouts.HANDOUTS)
    return render(request, "documents/handout_page.html", context)


# --- The clinic's handout texts ---------------------------------------------------------------------------------


@require(Permission.HANDOUT_MANAGE)
@require_GET
def handout_list(request: ClinicRequest) -> HttpResponse:
    by_language = {code: content.clinic_texts(request.clinic, code) for code, _ in settings.LANGUAGES}
    groups = [
        (
            code,
            title,
            [(s, [(lang, name, by_language[lang][s.code]) for lang, name in settings.LANGUAGES]) for s in sections],
        )
        for code, title in handouts.HANDOUTS.items()
        for sections in [[s for s in handouts.ALL_SECTIONS if s.handout == code]]
    ]
    return render(request, "documents/handout_list.html", {"groups": groups})


def _section_or_404(code: str) -> handouts.Section:
    try:
        return handouts.section(code)
    except KeyError:
        raise Http404("No such handout section.") from None


def _edit_language(request: ClinicRequest) -> str:
    """The language whose text is edited (?lang= or the form's `lang`), English by default; unknown: 404."""
    asked = request.POST.get("lang") or request.GET.get("lang") or "en"
    if asked not in dict(settings.LANGUAGES):
        raise Http404("No such language.")
    return asked


@require(Permission.HANDOUT_MANAGE)
@require_http_methods(["GET", "POST"])
def handout_edit(request: ClinicRequest, code: str) -> HttpResponse:
    """Edit the clinic's text of one section in one language: each save is a new version of that language; earlier
    ones can be restored."""
    spec, language = _section_or_404(code), _edit_language(request)
    current = content.clinic_texts(request.clinic, language)[code]
    number = current.number if current.language == language else 0
    errors: dict[str, str] = {}
    body, reason, status = current.body, "", 200
    if request.method == "POST":
        body, reason = request.POST.get("body", ""), request.POST.get("reason", "")
        try:
            expected = int(request.POST.get("expected_number", ""))
        except ValueError:
            expected = None
        try:
            row = services.save_handout(
                actor_for(request), code, body, expected_number=expected, reason=reason, language=language
            )
            messages.success(request, f"Saved as version {row.number} ({content.language_name(language)}).")
            return redirect(f"{reverse('documents:handout-edit', kwargs={'code': code})}?lang={language}")
        except ValidationError as exc:
            errors, status = {k: " ".join(v) for k, v in exc.message_dict.items()}, 422
        except StaleEditError as exc:
            errors, status = {"body": str(exc)}, 409
    context = _editor_context(request.clinic, spec, language, current, number, body, errors)
    return render(request, "documents/handout_edit.html", {**context, "reason": reason}, status=status)


def _editor_context(
    clinic: Any, spec: handouts.Section, language: str, current: Any, number: int, body: str, errors: dict[str, str]
) -> dict[str, Any]:
    with translation.override(language):
        preview = handouts.to_html(handouts.fill(body, _sample_values(clinic))) if not errors else None
    return {
        "spec": spec,
        "current": current,
        "number": number,
        "body": body,
        "errors": errors,
        "versions": queries.handout_versions(clinic, spec.code, language),
        "placeholders": handouts.PLACEHOLDERS,
        "preview": preview,
        "language": language,
        "language_name": content.language_name(language),
        "language_links": list(settings.LANGUAGES),
        "shipped": handouts.shipped(spec.code, language) is not None,
    }


def _sample_values(clinic: Any) -> dict[str, str]:
    from datetime import timedelta

    from prolotrack.clinical.queries import clinic_today

    day = clinic_today(clinic) + timedelta(days=10)
    stop = handouts.nsaid_stop_date(day, clinic.config.nsaid_stop_days)
    return {
        "patient_name": "(patient's name)",
        "clinic_name": clinic.name,
        "session_date": content.long_date(day),
        "session_time": "09:30",
        "nsaid_stop_date": content.long_date(stop) if stop else "(no NSAID stop)",
        "nsaid_stop_days": str(clinic.config.nsaid_stop_days),
    }


@require(Permission.HANDOUT_MANAGE)
@require_POST
def handout_revert(request: ClinicRequest, code: str) -> HttpResponse:
    _section_or_404(code)
    language = _edit_language(request)
    back = f"{reverse('documents:handout-edit', kwargs={'code': code})}?lang={language}"
    try:
        number = int(request.POST.get("number", ""))
        expected = int(request.POST.get("expected_number", ""))
    except ValueError:
        messages.error(request, "Choose a version to restore.")
        return redirect(back)
    try:
        row = services.revert_handout(actor_for(request), code, number, expected_number=expected, language=language)
        messages.success(request, f"Version {number} restored as version {row.number}.")
    except (ValidationError, ServiceError) as exc:
        messages.error(request, " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
    return redirect(back)
