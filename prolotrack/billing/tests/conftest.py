"""Billing fixtures: the fee schedule, and a signed knee session to charge (built through treatment's services)."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from prolotrack.billing.testing import fee_schedule
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of
from prolotrack.patients import services as patient_services
from prolotrack.treatment import services as treatment
from prolotrack.treatment.testing import knee_course

START = date(2026, 11, 2)


@pytest.fixture
def fees(admin_user: User) -> dict[str, Any]:
    return fee_schedule(actor_of(admin_user), START - timedelta(days=30))


@pytest.fixture
def course(clinician: User, patient: Any) -> Any:
    with transaction.atomic():
        patient_services.add_child(
            actor_of(clinician),
            patient,
            "weight",
            {"measured_on": START - timedelta(days=10), "weight_kg": Decimal(70)},
        )
    return knee_course(clinician, patient, START)


@pytest.fixture
def signed_session(clinician: User, recorded_session: Any) -> Any:
    """Session 1, recorded and signed: six sites on the right knee and two on the left. Signed without running the
    after-commit listeners (the test's transaction never commits): no automatic draft, no visit summary."""
    return treatment.sign_session(actor_of(clinician), recorded_session)


@pytest.fixture
def recorded_session(clinician: User, course: Any, signed_consent: Any) -> Any:
    """Session 1 recorded and ready to sign: six sites on the right knee and two on the left."""
    actor = actor_of(clinician)
    session = course.sessions.get(number=1)
    solution = treatment.add_solution(
        actor,
        session,
        label="A",
        final_volume_ml=Decimal(10),
        components=[
            {"agent": "dextrose", "target_pct": "15", "stock_pct": "50", "lot": "D50-1", "expiry": date(2027, 6, 30)},
            {"agent": "lidocaine", "target_pct": "0.5", "stock_pct": "2", "lot": "L-1", "expiry": date(2027, 1, 31)},
        ],
        diluent_lot="NS-5",
    )
    for item, answer in (
        ("meal", "yes"),
        ("consent", "yes"),
        ("skin_prep", "yes"),
        ("numbing", "na"),
        ("time_out", "yes"),
    ):
        treatment.tick(actor, session, item, answer)
    treatment.rescreen_for_the_day(actor, session)
    for side in ["right"] * 6 + ["left"] * 2:
        treatment.add_site(
            actor,
            type(session).objects.get(pk=session.pk),
            solution=solution,
            body_map="knee_front",
            x=Decimal(100),
            y=Decimal(100),
            side=side,
            volume_ml=Decimal("0.5"),
            label="Tender point",
        )
    return type(session).objects.get(pk=session.pk)
