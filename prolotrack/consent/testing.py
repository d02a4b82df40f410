"""Test and demo helper: a signed treatment consent for a course, through the ordinary signing service."""

from typing import Any

from prolotrack.audit.services import Actor
from prolotrack.consent import queries, services
from prolotrack.consent.models import Consent, ConsentScope
from prolotrack.core.signatures import scribble_png


def sign_for_course(actor: Actor, course: Any, *, witness: str = "", render: bool = True, seed: int = 1) -> Consent:
    """Have the course's patient sign the consent form as generated now (synthetic signatures)."""
    patient = course.patient
    draft = queries.treatment_draft(course)
    return services.sign_consent(
        actor,
        patient,
        scope=ConsentScope.TREATMENT,
        course=course,
        text_sha256=draft.sha256,
        patient_name=f"{patient.given_name} {patient.family_name}",
        patient_signature=scribble_png(seed),
        witness_name=witness or (actor.user.get_full_name() or actor.user.get_username()),
        witness_role="Clinician",
        witness_signature=scribble_png(seed + 1),
        render=render,
    )


def sign_research(actor: Actor, patient: Any, *, render: bool = True, seed: int = 3) -> Consent:
    """Have a patient sign the research-use consent (synthetic signatures)."""
    draft = queries.research_draft(patient.clinic)
    return services.sign_consent(
        actor,
        patient,
        scope=ConsentScope.RESEARCH,
        text_sha256=draft.sha256,
        patient_name=f"{patient.given_name} {patient.family_name}",
        patient_signature=scribble_png(seed),
        witness_name=(actor.user.get_full_name() or actor.user.get_username()) if actor.user else "Clinic staff",
        witness_role="Witness",
        witness_signature=scribble_png(seed + 1),
        render=render,
    )
