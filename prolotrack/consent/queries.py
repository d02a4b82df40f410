"""Reads of consent: the clinic's template, the text generated for a course, current consents, within one clinic."""

import hashlib
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db.models import QuerySet

from prolotrack.audit.models import RecordVersion
from prolotrack.consent.models import Consent, ConsentScope, ConsentStatus, ConsentTemplate
from prolotrack.domain import consent as domain
from prolotrack.domain.errors import DomainError
from prolotrack.domain.session import ConsentState
from prolotrack.patients.models import Condition, Patient, ScreeningFlag


@dataclass(frozen=True)
class ClinicTemplate:
    """The texts in force for a clinic: its own template (version >= 1) or the product's default (version 0)."""

    texts: domain.TemplateTexts
    version: int
    record: ConsentTemplate | None


def clinic_template(clinic: Any) -> ClinicTemplate:
    record = ConsentTemplate.objects.filter(clinic=clinic, entered_in_error_at__isnull=True).first()
    if record is None:
        return ClinicTemplate(domain.DEFAULT_TEXTS, 0, None)
    texts = domain.TemplateTexts(**{name: getattr(record, name) for name in ConsentTemplate.TEXT_FIELDS})
    return ClinicTemplate(texts, record.version, record)


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


def treatment_draft(course: Any) -> Draft:
    """The consent form for a course as it would be signed now (or the reason it cannot be prepared)."""
    template = clinic_template(course.clinic)
    title = f"Consent to prolotherapy: {course.indication}"
    try:
        sections = domain.treatment_sections(course_plan(course), template.texts)
    except DomainError as error:
        return Draft(title, "", (), "", template.version, str(error))
    text = domain.as_text(title, sections)
    return Draft(title, text, sections, text_hash(text), template.version)


def research_draft(clinic: Any) -> Draft:
    template = clinic_template(clinic)
    title = "Consent to research use of de-identified data"
    sections = domain.research_sections(template.texts)
    text = domain.as_text(title, sections)
    return Draft(title, text, sections, text_hash(text), template.version)


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
