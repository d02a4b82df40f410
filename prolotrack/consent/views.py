"""Consent pages: a course's consent (read, sign on screen), research consent, a signed consent, withdrawal, the PDF,
the chart and course cards, and the clinic's template.

Thin: parse, check the role's permission, look records up inside request.clinic (another clinic's record is a 404),
call the service, render. Reading needs document.view; preparing, signing and withdrawing need consent.manage; the
template needs handout.manage (docs/ROLES.md).
"""

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from prolotrack.audit.integrity import IntegrityMismatch, verified
from prolotrack.audit.services import ServiceError, record_read
from prolotrack.clinical.queries import clinic_today
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.consent import queries, services
from prolotrack.consent.forms import SignForm, TemplateForm, WithdrawForm
from prolotrack.consent.models import Consent, ConsentScope, ConsentStatus, ConsentTemplate
from prolotrack.core import filestore
from prolotrack.core.access import can, require
from prolotrack.core.forms import apply_errors
from prolotrack.core.language import patient_language
from prolotrack.core.signatures import data_url
from prolotrack.domain import consent as consent_domain
from prolotrack.patients.queries import patient_or_404
from prolotrack.treatment import queries as treatment_queries
from prolotrack.treatment.models import Course

log = logging.getLogger(__name__)


def _consent_or_404(request: ClinicRequest, consent_uuid: Any) -> Consent:
    try:
        return queries.get_consent(request.clinic, consent_uuid)
    except Consent.DoesNotExist:
        raise Http404("No such consent in this clinic.") from None


def _sign(request: HttpRequest, form: SignForm, patient: Any, scope: str, course: Course | None) -> Consent | None:
    """Run the signing service on a valid form; put its refusal on the form."""
    if not form.is_valid():
        return None
    data = form.cleaned_data
    try:
        return services.sign_consent(
            actor_for(request),
            patient,
            scope=scope,
            course=course,
            text_sha256=data["text_sha256"],
            patient_name=data["patient_name"],
            patient_signature=data["patient_signature"],
            witness_name=data["witness_name"],
            witness_role=data["witness_role"],
            witness_signature=data["witness_signature"],
            language=_asked_language(request, patient),
        )
    except (ValidationError, ServiceError) as error:
        apply_errors(form, error)
        return None


def _sign_initial(request: ClinicRequest, patient: Any, draft: queries.Draft) -> dict[str, Any]:
    user = request.user
    # The title printed under the witness's signature, pre-filled from the member's role name (they may change it):
    # a label on the form, not an access check.
    title = request.membership.get_role_display()
    return {
        "text_sha256": draft.sha256,
        "language": draft.language,
        "patient_name": f"{patient.given_name} {patient.family_name}",
        "witness_name": user.get_full_name() or user.get_username(),
        "witness_role": title if title in services.WITNESS_ROLES else "Witness",
    }


def _asked_language(request: HttpRequest, patient: Any) -> str:
    """The form's language: the one it was read in (a POST), else ?lang= (staff's choice), else the patient's."""
    return queries.form_language(request.POST.get("language") or request.GET.get("lang"), patient)


def _language_context(patient: Any, draft: queries.Draft) -> dict[str, Any]:
    preferred = patient_language(patient)
    names = dict(settings.LANGUAGES)
    return {
        "patient": patient,
        "draft": draft,
        "signing": True,
        "language_links": [(code, names.get(code, code)) for code in consent_domain.LANGUAGES],
        "language_name": names.get(draft.language, draft.language),
        "preferred": preferred,
        "preferred_name": names.get(preferred, preferred),
    }


@require(Permission.CONSENT_MANAGE)
@require_http_methods(["GET", "POST"])
def course_consent(request: ClinicRequest, course_uuid: Any) -> HttpResponse:
    """The course's consent: the current one, earlier ones, or the form to read and sign."""
    course = treatment_queries.course_or_404(request, course_uuid)
    patient = course.patient
    record_read(actor_for(request), "consent.course.viewed", record=course, patient_uuid=patient.uuid)
    consents = queries.course_consents(course)
    current = next((c for c in consents if c.is_current), None)
    draft = queries.treatment_draft(course, _asked_language(request, patient))
    form = None
    if current is None and course.status == "open" and not course.is_entered_in_error:
        form = SignForm(
            request.POST if request.method == "POST" else None, initial=_sign_initial(request, patient, draft)
        )
        if request.method == "POST":
            consent = _sign(request, form, patient, ConsentScope.TREATMENT, course)
            if consent is not None:
                messages.success(request, "Consent signed and stored as a PDF with its SHA-256.")
                return redirect("consent:detail", consent_uuid=consent.uuid)
    elif request.method == "POST":
        messages.error(request, "This course already has a current consent, or it is closed: nothing was signed.")
        return redirect("consent:course", course_uuid=course.uuid)
    return render(
        request,
        "consent/course.html",
        {"course": course, "consents": consents, "current": current, "form": form, **_language_context(patient, draft)},
        status=400 if form is not None and form.errors else 200,
    )


@require(Permission.CONSENT_MANAGE)
@require_http_methods(["GET", "POST"])
def research_consent(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    """Read and sign the research-use consent from the chart."""
    patient = patient_or_404(request, patient_uuid)
    record_read(actor_for(request), "consent.research.viewed", record=patient, patient_uuid=patient.uuid)
    current = queries.current_research_consent(patient)
    draft = queries.research_draft(request.clinic, _asked_language(request, patient))
    form = None
    if current is None and not patient.is_entered_in_error:
        form = SignForm(
            request.POST if request.method == "POST" else None, initial=_sign_initial(request, patient, draft)
        )
        if request.method == "POST":
            consent = _sign(request, form, patient, ConsentScope.RESEARCH, None)
            if consent is not None:
                messages.success(request, "Research consent signed and stored as a PDF with its SHA-256.")
                return redirect("consent:detail", consent_uuid=consent.uuid)
    elif request.method == "POST":
        messages.error(request, "A research consent is already current: nothing was signed.")
        return redirect("consent:research", patient_uuid=patient.uuid)
    return render(
        request,
        "consent/research.html",
        {"current": current, "form": form, **_language_context(patient, draft)},
        status=400 if form is not None and form.errors else 200,
    )


def _detail(request: HttpRequest, consent: Consent, *, status: int = 200):
    title, sections = queries.sections_of(consent)
    can_withdraw = consent.status == ConsentStatus.SIGNED and can(request, Permission.CONSENT_MANAGE)
    versions = queries.versions("consent.consent", consent.uuid)
    return render(
        request,
        "consent/detail.html",
        {
            "consent": consent,
            "patient": consent.patient,
            "course": consent.course,
            "title": title,
            "sections": sections,
            "patient_signature": data_url(consent.patient_signature),
            "witness_signature": data_url(consent.witness_signature),
            "can_withdraw": can_withdraw,
            "versions": versions,
        },
        status=status,
    )


@require(Permission.DOCUMENT_VIEW)
def consent_detail(request: ClinicRequest, consent_uuid: Any) -> HttpResponse:
    consent = _consent_or_404(request, consent_uuid)
    record_read(actor_for(request), "consent.viewed", record=consent)
    return _detail(request, consent)


def _withdrawal_changes(consent: Consent) -> list[str]:
    """What a withdrawal changes: the consent's status and, for a course, the sessions and reminders it holds up."""
    changes = [f"The {consent.get_scope_display().lower()} consent is recorded as withdrawn, with the date and reason."]
    if consent.course_id is not None:
        upcoming = services.upcoming_sessions(consent)
        reminders = treatment_queries.open_reminders(upcoming)
        changes += [
            f"No session of this course can be signed until a new consent is signed: {len(upcoming)} "
            f"session{'s' if len(upcoming) != 1 else ''} not yet done stay planned or booked (cancel them or close "
            "the course if treatment stops).",
            f"{reminders} reminder{'s' if reminders != 1 else ''} still to be sent about them will be cancelled.",
        ]
    return changes


@require(Permission.CONSENT_MANAGE)
@require_http_methods(["GET", "POST"])
def consent_withdraw(request: ClinicRequest, consent_uuid: Any) -> HttpResponse:
    """The confirmation step of a withdrawal: what changes, a reason from the list, the date, confirm."""
    consent = _consent_or_404(request, consent_uuid)
    form = WithdrawForm(
        request.POST if request.method == "POST" else None,
        initial={"version": consent.version, "withdrawn_on": clinic_today(consent.clinic)},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.withdraw_consent(
                actor_for(request), consent, reason=data["reason"], details=data["details"],
                withdrawn_on=data["withdrawn_on"], expected_version=data["version"],
            )  # fmt: skip
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Withdrawal recorded. The signed consent and its PDF are kept unchanged.")
            return redirect("consent:detail", consent_uuid=consent.uuid)
    detail = reverse("consent:detail", args=[consent.uuid])
    context = {
        "title": "Record a withdrawal",
        "patient": consent.patient,
        "crumbs": [(detail, "Consent")],
        "record": str(consent),
        "changes": _withdrawal_changes(consent),
        "keeps": ["The signed consent and its PDF are kept unchanged."],
        "form": form,
        "button": "Record the withdrawal",
        "back_url": detail,
        "already": "" if consent.status == ConsentStatus.SIGNED else "Only a signed consent can be withdrawn.",
    }
    return render(request, "core/confirm.html", context, status=400 if form.errors else 200)


@require(Permission.DOCUMENT_VIEW)
def consent_pdf(request: ClinicRequest, consent_uuid: Any) -> HttpResponse:
    """The signed PDF, byte for byte as stored, with its SHA-256 in a header."""
    consent = _consent_or_404(request, consent_uuid)
    if consent.status == ConsentStatus.DRAFT or not consent.has_pdf:
        raise Http404("This consent has no stored PDF.")
    data = stored_pdf(consent)
    try:
        verified(data, consent.pdf_sha256, actor=actor_for(request), record=consent, what="consent PDF")
    except IntegrityMismatch as error:
        context = {"message": str(error), "record": consent, "title": "Document not served"}
        return render(request, "documents/not_ready.html", context, status=409)
    record_read(actor_for(request), "consent.pdf.downloaded", record=consent)
    return pdf_response(consent, data)


def stored_pdf(consent: Consent) -> bytes:
    """The signed PDF's bytes from the file store (or the row, for consents signed before it); 404 when missing."""
    try:
        data = consent.pdf_content
    except (OSError, filestore.StoreError):
        log.error("The stored PDF of consent %s is missing or unreadable", consent.uuid)
        raise Http404("The stored PDF cannot be found; tell the clinic administrator.") from None
    if data is None:  # the callers answer 404 first
        raise Http404("This consent has no stored PDF.")
    return data


def pdf_response(consent: Consent, data: bytes) -> HttpResponse:
    """The PDF's bytes, already checked against their hash by the caller."""
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="consent-{consent.scope}-{consent.uuid}.pdf"'
    response["X-Content-SHA256"] = consent.pdf_sha256
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require(Permission.DOCUMENT_VIEW)
def patient_consents(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    """The chart's Consent card (HTMX), or the same list as a page."""
    patient = patient_or_404(request, patient_uuid)
    record_read(actor_for(request), "consent.list.viewed", record=patient, patient_uuid=patient.uuid)
    consents = queries.patient_consents(patient)
    context = {
        "patient": patient,
        "consents": consents,
        "research": next((c for c in consents if c.scope == ConsentScope.RESEARCH and c.is_current), None),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "consent/_chart_card.html", context)
    return render(request, "consent/patient.html", context)


@require(Permission.DOCUMENT_VIEW)
def course_card(request: ClinicRequest, course_uuid: Any) -> HttpResponse:
    """The course page's Consent card (HTMX)."""
    course = treatment_queries.course_or_404(request, course_uuid)
    record_read(actor_for(request), "consent.course.viewed", record=course, patient_uuid=course.patient.uuid)
    consents = queries.course_consents(course)
    return render(
        request,
        "consent/_course_card.html",
        {"course": course, "consents": consents, "current": next((c for c in consents if c.is_current), None)},
    )


@require(Permission.HANDOUT_MANAGE)
@require_http_methods(["GET", "POST"])
def template_edit(request: ClinicRequest) -> HttpResponse:
    """The clinic's consent paragraphs in one language (?lang=); each save is a new version of that language's
    template, the product default is version 0."""
    language = request.POST.get("language") or request.GET.get("lang") or "en"
    if language not in consent_domain.LANGUAGES:
        raise Http404("The consent form is not written in this language.")
    current = queries.clinic_template(request.clinic, language)
    initial = {name: getattr(current.texts, name) for name in ConsentTemplate.TEXT_FIELDS}
    form = TemplateForm(
        request.POST if request.method == "POST" else None,
        initial={**initial, "version": current.version, "language": language},
    )
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in ConsentTemplate.TEXT_FIELDS}
        try:
            services.save_template(
                actor_for(request),
                data,
                expected_version=form.cleaned_data["version"],
                reason=form.cleaned_data["reason"],
                language=language,
            )
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
        else:
            messages.success(
                request, "Consent template saved as a new version. Consents already signed keep their text."
            )
            return redirect(f"{reverse('consent:template')}?lang={language}")
    return render(
        request,
        "consent/template.html",
        {"form": form, **_template_context(current, language)},
        status=400 if form.errors else 200,
    )


def _template_context(current: queries.ClinicTemplate, language: str) -> dict[str, Any]:
    versions = []
    if current.record is not None:
        versions = queries.versions("consent.consenttemplate", current.record.uuid, newest_first=True)
    names = dict(settings.LANGUAGES)
    return {
        "current": current,
        "versions": versions,
        "language": language,
        "language_name": names.get(language, language),
        "language_links": [(code, names.get(code, code)) for code in consent_domain.LANGUAGES],
    }
