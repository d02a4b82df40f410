"""Demo consents: every course that gets signed sessions has a signed treatment consent, one consent is withdrawn,
and about 60% of the demo patients gave research consent. Through the ordinary signing service.

Every consent gets its PDF and SHA-256 at signing, as in real use: a treatment consent renders in about 0.1 s and a
research consent in about 0.05 s on this machine, about 15 s for the whole demo (docs/CONSENT.md).
"""

import random
from datetime import date
from typing import Any

from prolotrack.audit.services import Actor
from prolotrack.clinics.queries import members_with
from prolotrack.clinics.roles import Permission, Role
from prolotrack.consent import services
from prolotrack.consent.models import Consent, ConsentScope, ConsentStatus
from prolotrack.consent.testing import sign_for_course, sign_research
from prolotrack.patients.models import Patient

RESEARCH_SHARE = 0.6


def consent_for_course(actor: Actor, course: Any, index: int) -> Consent:
    """Sign the course's treatment consent before its first session."""
    return sign_for_course(actor, course, seed=1000 + index * 2)


def seed_consents(clinic: Any, *, today: date, seed: int = 7) -> dict[str, int]:
    """Research consents for about 60% of the clinic's patients and one recorded withdrawal."""
    rng = random.Random(seed)
    nurse = next(
        (
            m.user
            for m in members_with(clinic, Permission.SESSION_RECORD, lacking=Permission.SESSION_SIGN)
            .select_related("user")
            .order_by("id")
        ),
        None,
    )
    if nurse is None:
        return {"research": 0, "withdrawn": 0}
    actor = Actor(user=nurse, clinic=clinic, role=Role.NURSE, channel="system")
    research = 0
    for patient in Patient.objects.filter(clinic=clinic, entered_in_error_at__isnull=True).order_by("mrn"):
        if rng.random() < RESEARCH_SHARE:
            sign_research(actor, patient, seed=5000 + research * 2)
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
            # The clinic's today (the service's default): the seed's `today` may be another day in UTC, or a past
            # day in tests, while the consent was signed just now.
            withdrawn_on=None,
        )
        withdrawn += 1
    return {"research": research, "withdrawn": withdrawn}
