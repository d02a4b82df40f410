"""Demo Medicare ABN: one patient of 65 or over whose coverage is Original Medicare, with an open course whose sessions
are still to come, and the ABN for that course signed on screen (option 2: wants the sessions, Medicare not billed),
so the session page's ABN gate can be seen passing. Run after the billing seed (the estimate needs the fee schedule).
Safe to run again: a clinic with a recorded coverage is left as it is."""

from datetime import date
from typing import Any

from prolotrack.billing.models import Coverage
from prolotrack.billing.testing import original_medicare, sign_abn_for
from prolotrack.clinics.roles import Permission
from prolotrack.demo.billing_seed import seed_actor
from prolotrack.treatment.models import Course, TreatmentSession

# The example of CMS's Medicare Beneficiary Identifier format document as recalled (not verified): made up either way.
DEMO_MBI = "1EG4-TE5-MK73"


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def medicare_course(clinic: Any, today: date) -> Course | None:
    """An open course of a patient aged 65 or over, none of whose sessions is signed yet (the ABN comes before the
    first session); else any open course with no signed session."""
    signed = TreatmentSession.objects.filter(signed_at__isnull=False).values("course_id")
    courses = (
        Course.objects.active()
        .filter(clinic=clinic, status="open")
        .exclude(pk__in=signed)
        .filter(sessions__status__in=("planned", "booked"))
        .select_related("patient")
        .distinct()
        .order_by("started_on", "id")
    )
    candidates = [c for c in courses if not c.patient.is_entered_in_error]
    older = [c for c in candidates if _age(c.patient.date_of_birth, today) >= 65]
    return (older or candidates or [None])[0]


def seed_abn(clinic: Any, *, today: date) -> dict[str, int]:
    if Coverage.objects.filter(clinic=clinic).exists():
        return {"coverage": 0, "abn": 0}
    course = medicare_course(clinic, today)
    if course is None:
        return {"coverage": 0, "abn": 0}
    # Whoever of the clinic may issue the notice (front desk, clinician or administrator: the roles table).
    desk = seed_actor(clinic, Permission.BILLING_ABN)
    original_medicare(desk, course.patient, member_id=DEMO_MBI)
    sign_abn_for(desk, course, option="2")
    return {"coverage": 1, "abn": 1}
