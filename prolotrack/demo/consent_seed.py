"""Demo consents: every course that gets signed sessions has a signed treatment consent, one consent is withdrawn,
and about 60% of the demo patients gave research consent. Through the ordinary signing service.

Rendering a consent PDF takes about 0.1-0.4 s (docs/CONSENT.md); the first RENDERED of each kind are rendered at
seeding and the rest keep their signed text and signatures and render their PDF (and fix its SHA-256) on first
download, so the seed stays quick.
"""

import random
from datetime import date
from typing import Any

from prolotrack.audit.services import Actor
from prolotrack.clinics.roles import Role
from prolotrack.consent import services
from prolotrack.consent.models import Consent, ConsentScope, ConsentStatus
from prolotrack.consent.testing import sign_for_course, sign_research
from prolotrack.patients.models import Patient

RENDERED = 8
RESEARCH_SHARE = 0.6


def consent_for_course(actor: Actor, course: Any, index: int) -> Consent:
    """Sign the course's treatment consent before its first session (PDF rendered for the first few)."""
    return sign_for_course(actor, course, render=index < RENDERED, seed=1000 + index * 2)


def seed_consents(clinic: Any, *, today: date, seed: int = 7) -> dict[str, int]:
    """Research consents for about 60% of the clinic's patients and one recorded withdrawal."""
    rng = random.Random(seed)
    nurse = next(
        (m.user for m in clinic.memberships.filter(role=Role.NURSE).select_related("user").order_by("id")), None
    )
    if nurse is None:
        return {"research": 0, "withdrawn": 0}
    actor = Actor(user=nurse, clinic=clinic, role=Role.NURSE, channel="system")
    research = 0
    for patient in Patient.objects.filter(clinic=clinic, entered_in_error_at__isnull=True).order_by("mrn"):
        if rng.random() < RESEARCH_SHARE:
            sign_research(actor, patient, render=research < RENDERED, seed=5000 + research * 2)
            research += 1
    withdrawn = 0
    stopped = (
        Consent.objects.filter(
            clinic=clinic, scope=ConsentScope.TREATMENT, status=ConsentStatus.SIGNED, course__status="stopped"
        )
        .select_related("clinic", "course")
        .order_by("id")
        .first()
    )
    if stopped is not None:
        services.withdraw_consent(
            actor,
            stopped,
            reason="Told the nurse by phone that they want no further injections.",
            withdrawn_on=today,
        )
        withdrawn += 1
    return {"research": research, "withdrawn": withdrawn}
