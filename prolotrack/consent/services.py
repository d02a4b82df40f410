"""Writes of consent: the clinic's template, signing (PDF + SHA-256), withdrawal. Each is one audited transaction.

A signed consent never changes: `Consent.clean` refuses any change but the withdrawal fields (and the PDF, once,
when the demo left it to be rendered on first download). Withdrawal is recorded as an amendment with its reason;
nothing is deleted.
"""

import hashlib
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from prolotrack.audit.services import Actor, ServiceError, create_record, only_fields, update_record
from prolotrack.clinical.queries import clinic_today
from prolotrack.clinics.roles import Permission, require_permission
from prolotrack.consent import queries
from prolotrack.consent.models import Consent, ConsentScope, ConsentStatus, ConsentTemplate
from prolotrack.core import filestore
from prolotrack.core.access import require_same_clinic
from prolotrack.core.pdf import render_pdf
from prolotrack.core.signatures import check_png, data_url
from prolotrack.domain import claims
from prolotrack.domain import consent as domain
from prolotrack.domain.errors import DomainError
from prolotrack.domain.reasons import CONSENT_WITHDRAW_REASONS, find, reason_text
from prolotrack.patients.models import Patient
from prolotrack.treatment import hooks as treatment_hooks
from prolotrack.treatment.models import Course

WITNESS_ROLES = ("Clinician", "Nurse", "Witness")


# --- The clinic's template ---------------------------------------------------------------------------------------


def save_template(
    actor: Actor, data: Mapping[str, Any], *, expected_version: int | None, reason: str = "", language: str = "en"
) -> ConsentTemplate:
    """Save the clinic's consent paragraphs in a language as a new version of that language's template (the first
    save starts from the product's paragraphs in that language: any not given are kept as they are)."""
    require_permission(actor, Permission.HANDOUT_MANAGE)
    if language not in domain.LANGUAGES:
        raise ValidationError({"language": f"The consent form is written in {', '.join(domain.LANGUAGES)} only."})
    values = {k: (v or "").strip() for k, v in only_fields(data, ConsentTemplate.TEXT_FIELDS).items()}
    record = queries.template_record(actor.clinic, language)
    current = queries.clinic_template(actor.clinic, language)
    merged = {name: getattr(current.texts, name) for name in ConsentTemplate.TEXT_FIELDS} | values
    try:
        domain.TemplateTexts(**merged)
    except DomainError:
        empty = [name for name, text in merged.items() if not text]
        raise ValidationError(dict.fromkeys(empty, "Write this paragraph: the consent form needs it.")) from None
    # The one overclaim check for clinic-editable patient text (docs/clinical/patient-text.md), on every paragraph
    # this save would keep, so a template saved before the check cannot carry an overclaim into a new version.
    overclaims = {}
    for name, text in merged.items():
        try:
            claims.check_patient_text(text, "The consent form")
        except claims.OverclaimError as error:
            overclaims[name] = str(error)
    if overclaims:
        raise ValidationError(overclaims)
    with transaction.atomic():
        if record is None:
            if expected_version not in (None, 0):
                raise ServiceError("Someone else saved the template first: reload it and edit again.")
            try:
                with transaction.atomic():
                    return create_record(
                        actor,
                        ConsentTemplate(clinic=actor.clinic, language=language, **merged),
                        "consent.template.created",
                        reason=reason,
                    )
            except IntegrityError:
                raise ServiceError("Someone else saved the template first: reload it and edit again.") from None
        return update_record(
            actor, record, values, "consent.template.updated", expected_version=expected_version, reason=reason
        )


# --- Signing -----------------------------------------------------------------------------------------------------


def render_consent_pdf(consent: Consent) -> bytes:
    """The consent as signed, with both signatures embedded (data: URIs; render_pdf fetches nothing)."""
    title, sections = queries.sections_of(consent)
    clinic = consent.clinic
    # Dates in the clinic's time zone and the labels in the form's language, whoever renders.
    with timezone.override(clinic.tz), translation.override(consent.language or "en"):
        return _render(consent, clinic, title, sections)


def _render(consent: Consent, clinic: Any, title: str, sections: Any) -> bytes:
    return render_pdf(
        "consent/pdf.html",
        {
            "clinic": clinic,
            "title": title,
            "sections": sections,
            "consent": consent,
            "patient": consent.patient,
            "course": consent.course,
            "patient_signature": data_url(consent.patient_signature),
            "witness_signature": data_url(consent.witness_signature),
            "generated_at": timezone.localtime(timezone.now(), clinic.tz),
            "language": consent.language or "en",
            "language_name": dict(settings.LANGUAGES).get(consent.language or "en", consent.language),
        },
    )


def _name(value: str, field: str, who: str) -> str:
    value = " ".join((value or "").split())
    if len(value) < 2:
        raise ValidationError({field: f"Type {who}'s full name as signed."})
    if len(value) > 200:
        raise ValidationError({field: "A name of at most 200 characters."})
    return value


def sign_consent(
    actor: Actor,
    patient: Patient,
    *,
    scope: str,
    text_sha256: str,
    patient_name: str,
    patient_signature: bytes,
    witness_name: str,
    witness_role: str,
    witness_signature: bytes,
    course: Course | None = None,
    render: bool = True,
    language: str = "en",
) -> Consent:
    """Record a consent signed on screen by the patient and a witness or clinician: text, signatures, PDF, hash.

    `text_sha256` is the hash of the text the patient was shown; if the plan or the template changed since, the
    signature is refused, so what is stored is what was read. `render=False` is for tests only: it stores no PDF
    (the PDF endpoints then answer 404), saving the ~0.1-0.4 s of rendering in fixtures that do not need it.
    """
    require_permission(actor, Permission.CONSENT_MANAGE)
    require_same_clinic(actor, patient)
    if patient.is_entered_in_error:
        raise ServiceError("This patient record was marked entered in error: take consent on the correct record.")
    if scope == ConsentScope.TREATMENT:
        if course is None:
            raise ValidationError("A treatment consent is for one course: choose the course.")
        require_same_clinic(actor, course)
        if course.patient_id != patient.pk:
            raise ServiceError("That course belongs to another patient.")
        if course.is_entered_in_error:
            raise ServiceError("This course was marked entered in error: take consent for the correct course.")
        if course.status != "open":
            raise ServiceError(
                f"This course is {course.get_status_display().lower()}: consent is taken for an open course."
            )
        draft = queries.treatment_draft(course, language)
    elif scope == ConsentScope.RESEARCH:
        if course is not None:
            raise ValidationError("A research consent is not tied to a course.")
        draft = queries.research_draft(patient.clinic, language)
    else:
        raise ValidationError({"scope": "Choose a treatment or a research consent."})
    if draft.error:
        raise ServiceError(draft.error)
    if text_sha256 != draft.sha256:
        raise ServiceError(
            "The consent text changed since this page was opened (the plan or the clinic's template was edited): "
            "nothing was signed. Reload the page, read the new text with the patient, and sign again."
        )
    patient_name = _name(patient_name, "patient_name", "the patient")
    witness_name = _name(witness_name, "witness_name", "the witness or clinician")
    if witness_role not in WITNESS_ROLES:
        raise ValidationError({"witness_role": f"Choose the witness's role: {', '.join(WITNESS_ROLES)}."})
    check_png(patient_signature, "patient_signature", "The patient")
    check_png(witness_signature, "witness_signature", "The witness")
    with transaction.atomic():
        existing = (
            queries.current_treatment_consent(course.pk)
            if course is not None
            else queries.current_research_consent(patient)
        )
        if existing is not None:
            raise ServiceError(
                f"A signed {existing.get_scope_display().lower()} consent is already current "
                f"(signed {timezone.localtime(existing.signed_at, patient.clinic.tz):%Y-%m-%d}): "
                "record its withdrawal before taking a new one."
            )
        consent = Consent(
            clinic=patient.clinic,
            patient=patient,
            course=course,
            scope=scope,
            status=ConsentStatus.DRAFT,
            text=draft.text,
            text_sha256=draft.sha256,
            template_version=draft.template_version,
            language=draft.language,
            patient_signer_name=patient_name,
            witness_name=witness_name,
            witness_role=witness_role,
            patient_signature=patient_signature,
            witness_signature=witness_signature,
            signed_at=timezone.now(),
        )
        pdf = render_consent_pdf(consent) if render else None
        if pdf is not None:
            consent.pdf_name = filestore.put(pdf, "pdf")  # stored once, before the row that names it
            consent.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
        consent = create_record(
            actor,
            consent,
            "consent.prepared",
            detail={"scope": scope, "template_version": draft.template_version, "language": draft.language},
        )
        return update_record(
            actor, consent, {"status": ConsentStatus.SIGNED}, "consent.signed", expected_version=consent.version
        )


def ensure_pdf(actor: Actor, consent: Consent) -> Consent:
    """The consent with its stored PDF. Every real and demo consent has one from signing; a consent stored without
    (test fixtures, `render=False`) is refused rather than rendered later: a PDF made after the signing would not be
    the document that was signed, and the audited write path cannot record bytes in a later change."""
    require_same_clinic(actor, consent)
    if consent.status == ConsentStatus.DRAFT or not consent.pdf_sha256:
        raise ServiceError("This consent has no stored PDF.")
    return consent


# --- Withdrawal --------------------------------------------------------------------------------------------------


def withdraw_consent(
    actor: Actor,
    consent: Consent,
    *,
    reason: str,
    details: str = "",
    withdrawn_on: date | None = None,
    expected_version: int | None = None,
) -> Consent:
    """Record that the patient withdrew this consent: when, why, who recorded it. The consent itself stays.

    `reason` is a code (or label) of domain.reasons.CONSENT_WITHDRAW_REASONS, with `details` ("other" needs them),
    or the patient's words as given (at least 5 characters). A treatment consent's withdrawal cancels the queued
    reminders of the course's sessions not yet done, in the same transaction."""
    require_permission(actor, Permission.CONSENT_MANAGE)
    require_same_clinic(actor, consent)
    if consent.status != ConsentStatus.SIGNED:
        raise ServiceError(
            "Only a signed consent can be withdrawn."
            if consent.status == ConsentStatus.DRAFT
            else "This consent was already withdrawn."
        )
    if find(CONSENT_WITHDRAW_REASONS, reason) is not None:
        try:
            reason = reason_text(CONSENT_WITHDRAW_REASONS, reason, details)
        except DomainError as error:
            raise ValidationError({"details": str(error)}) from None
    reason = " ".join((reason or "").split())
    if len(reason) < 5:
        raise ValidationError({"reason": "Say why or how the patient withdrew (at least 5 characters)."})
    clinic = consent.clinic
    today = clinic_today(clinic)
    withdrawn_on = withdrawn_on or today
    signed_on = timezone.localtime(consent.signed_at, clinic.tz).date() if consent.signed_at else today
    if withdrawn_on > today:
        raise ValidationError({"withdrawn_on": "A withdrawal cannot be dated in the future."})
    if withdrawn_on < signed_on:
        raise ValidationError(
            {"withdrawn_on": f"The consent was signed on {signed_on:%Y-%m-%d}: date the withdrawal on or after it."}
        )
    when: datetime = (
        timezone.now() if withdrawn_on == today else datetime.combine(withdrawn_on, time(12, 0), tzinfo=clinic.tz)
    )
    with transaction.atomic():
        if consent.course_id is not None:
            treatment_hooks.cancel_reminders(
                actor, upcoming_sessions(consent), f"The patient withdrew consent for this course: {reason}"[:300]
            )
        return update_record(
            actor,
            consent,
            {
                "status": ConsentStatus.WITHDRAWN,
                "withdrawn_at": when,
                "withdrawal_reason": reason,
                "withdrawn_by": actor.user if actor.user is not None and actor.user.pk else None,
            },
            "consent.withdrawn",
            expected_version=expected_version,
            reason=f"Withdrawal recorded: {reason}",
            amendment=True,
        )


def upcoming_sessions(consent: Consent) -> list[Any]:
    """The course's sessions not yet done (planned or booked), which a withdrawal stops from being signed."""
    course = consent.course
    if course is None:
        return []
    return list(
        course.sessions.filter(status__in=["planned", "booked"], entered_in_error_at__isnull=True).order_by("number")
    )
