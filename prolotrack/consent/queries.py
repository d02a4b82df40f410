"""Reads of consent: the clinic's template, the text generated for a course, current consents, within one clinic."""

import hashlib
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db.models import QuerySet

from prolotrack.audit.models import RecordVersion
from prolotrack.consent.models import Consent, ConsentScope, ConsentStatus, ConsentTemplate
from prolotrack.core.language import patient_language
from prolotrack.domain import consent as domain
from prolotrack.domain import document_language
from prolotrack.domain.errors import DomainError
from prolotrack.domain.session import ConsentState
from prolotrack.patients.models import Condition, Patient, ScreeningFlag


@dataclass(frozen=True)
class ClinicTemplate:
    """The texts in force for a clinic in a language: its own template (version >= 1) or the product's default
    (version 0) in that language; `edited_elsewhere` names the other languages the clinic wrote while this is the
    product's (staff are told to check they say the same)."""

    texts: domain.TemplateTexts
    version: int
    record: ConsentTemplate | None
    language: str = "en"
    edited_elsewhere: tuple[str, ...] = ()


def template_record(clinic: Any, language: str) -> ConsentTemplate | None:
    """The clinic's own template in exactly this language, if it wrote one."""
    return ConsentTemplate.objects.filter(clinic=clinic, language=language, entered_in_error_at__isnull=True).first()


def clinic_template(clinic: Any, language: str = "en") -> ClinicTemplate:
    """The paragraphs in `language`: the clinic's own, else the product's in it, else English (the clinic's, else
    the product's): domain.document_language.part_text over the whole template."""
    rows = {r.language: r for r in ConsentTemplate.objects.filter(clinic=clinic, entered_in_error_at__isnull=True)}
    pick = document_language.part_text(language, set(rows), set(domain.LANGUAGES))
    record = rows.get(pick.language) if pick.origin == document_language.CLINIC else None
    if record is None:
        others = tuple(sorted(set(rows) - {pick.language}))
        return ClinicTemplate(domain.default_texts(pick.language), 0, None, pick.language, others)
    texts = domain.TemplateTexts(**{name: getattr(record, name) for name in ConsentTemplate.TEXT_FIELDS})
    return ClinicTemplate(texts, record.version, record, pick.language)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def course_plan(course: Any) -> domain.CoursePlan:
    """The plan the consent describes: the course's sessions that are not cancelled, missed or in error."""
    sessions = [
        s for s in course.sessions.all() if not s.is_entered_in_error and s.status not in ("cancelled", "no_show")
    ]
    diabetes = Condition.objects.filter(
        patient_id=course.patient_id,
        screening_flag=ScreeningFlag.DIABETES,
        clinical_status="active",
        entered_in_error_at__isnull=True,
    ).exists()
    side = course.get_side_display() if course.side not in ("na", "midline") else ""
    return domain.CoursePlan(
        side=course.side if side else "",
        indication=course.indication,
        region=course.region,
        region_label=course.get_region_display(),
        side_label=side,
        protocol_name=course.protocol_name,
        session_dates=tuple(s.planned_on for s in sessions if not s.optional),
        optional_dates=tuple(s.planned_on for s in sessions if s.optional),
        diabetes=diabetes,
    )


@dataclass(frozen=True)
class Draft:
    """The form to be read and signed: its text, the hash the signing form carries back, the template version."""

    title: str
    text: str
    sections: tuple[domain.Section, ...]
    sha256: str
    template_version: int
    error: str = ""
    language: str = "en"
    edited_elsewhere: tuple[str, ...] = ()


def form_language(asked: str | None, patient: Any) -> str:
    """The language of a consent form: staff's choice, else the patient's preferred language, else English, among
    the languages the product writes the form in (domain.consent.LANGUAGES)."""
    return domain.language_of(document_language.document_language(asked, patient_language(patient), domain.LANGUAGES))


def treatment_draft(course: Any, language: str = "en") -> Draft:
    """The consent form for a course as it would be signed now (or the reason it cannot be prepared)."""
    template = clinic_template(course.clinic, domain.language_of(language))
    lang = template.language
    title = domain.treatment_title(course.indication, lang)
    try:
        sections = domain.treatment_sections(course_plan(course), template.texts, lang)
    except DomainError as error:
        return Draft(title, "", (), "", template.version, str(error), lang)
    text = domain.as_text(title, sections)
    return Draft(title, text, sections, text_hash(text), template.version, "", lang, template.edited_elsewhere)


def research_draft(clinic: Any, language: str = "en") -> Draft:
    template = clinic_template(clinic, domain.language_of(language))
    lang = template.language
    title = domain.research_title(lang)
    sections = domain.research_sections(template.texts, lang)
    text = domain.as_text(title, sections)
    return Draft(title, text, sections, text_hash(text), template.version, "", lang, template.edited_elsewhere)


def sections_of(consent: Consent) -> tuple[str, tuple[domain.Section, ...]]:
    return domain.parse_text(consent.text)


def patient_consents(patient: Patient) -> list[Consent]:
    return list(
        Consent.objects.filter(patient=patient)
        .select_related("course", "withdrawn_by", "created_by", "updated_by")
        .defer("pdf", "patient_signature", "witness_signature")
        .order_by("-created_at", "-id")
    )


def course_consents(course: Any) -> list[Consent]:
    return list(
        Consent.objects.filter(course=course, scope=ConsentScope.TREATMENT)
        .select_related("withdrawn_by", "created_by")
        .defer("pdf")
        .order_by("-created_at", "-id")
    )


def current_treatment_consent(course_id: int) -> Consent | None:
    return (
        Consent.objects.filter(
            course_id=course_id,
            scope=ConsentScope.TREATMENT,
            status=ConsentStatus.SIGNED,
            entered_in_error_at__isnull=True,
        )
        .defer("pdf", "patient_signature", "witness_signature")
        .order_by("-signed_at")
        .first()
    )


def current_research_consent(patient: Patient) -> Consent | None:
    return (
        Consent.objects.filter(
            patient=patient, scope=ConsentScope.RESEARCH, status=ConsentStatus.SIGNED, entered_in_error_at__isnull=True
        )
        .defer("pdf", "patient_signature", "witness_signature")
        .first()
    )


def consent_state(course_id: int) -> ConsentState:
    """What the signing gate needs: a current treatment consent, none, or one withdrawn (the latest decides)."""
    statuses = list(
        Consent.objects.filter(
            course_id=course_id, scope=ConsentScope.TREATMENT, entered_in_error_at__isnull=True
        ).values_list("status", flat=True)
    )
    if ConsentStatus.SIGNED in statuses:
        return ConsentState.CURRENT
    if ConsentStatus.WITHDRAWN in statuses:
        return ConsentState.WITHDRAWN
    return ConsentState.MISSING


def research_consenting_patients(clinic: Any) -> QuerySet[Patient]:
    """Patients of the clinic with a current research consent (for the de-identified research export)."""
    return Patient.objects.filter(
        clinic=clinic,
        consents__scope=ConsentScope.RESEARCH,
        consents__status=ConsentStatus.SIGNED,
        consents__entered_in_error_at__isnull=True,
    ).distinct()


def get_consent(clinic: Any, consent_uuid: UUID | str) -> Consent:
    return Consent.objects.select_related("patient", "course", "withdrawn_by", "created_by", "clinic").get(
        clinic=clinic, uuid=consent_uuid
    )


def versions(record_type: str, record_uuid: Any, *, newest_first: bool = False) -> list[RecordVersion]:
    """Every saved version of a consent or consent template, with who saved it."""
    return list(
        RecordVersion.objects.filter(record_type=record_type, record_uuid=record_uuid)
        .select_related("user")
        .order_by("-version" if newest_first else "version")
    )
