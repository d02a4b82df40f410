"""Fixtures for the treatment workflow: a knee OA course with a session ready to record."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction

from prolotrack.clinics.testing import actor_of
from prolotrack.patients import services as patient_services
from prolotrack.treatment import services
from prolotrack.treatment.testing import knee_course

START = date(2026, 11, 2)


@pytest.fixture
def weighed_patient(clinician, patient):
    with transaction.atomic():
        patient_services.add_child(
            actor_of(clinician),
            patient,
            "weight",
            {"measured_on": START - timedelta(days=10), "weight_kg": Decimal("70")},
        )
    return patient


@pytest.fixture
def course(clinician, weighed_patient):
    return knee_course(clinician, weighed_patient, START)


@pytest.fixture
def session(course):
    return course.sessions.get(number=1)


@pytest.fixture
def solution(clinician, session):
    """DOMAIN.md §2: 10 mL of 15% dextrose with 0.5% lidocaine from D50 and 2% lidocaine."""
    return services.add_solution(
        actor_of(clinician),
        session,
        label="A",
        final_volume_ml=Decimal("10"),
        components=[
            {
                "agent": "dextrose",
                "target_pct": "15",
                "stock_pct": "50",
                "lot": "D50-2231",
                "expiry": date(2027, 6, 30),
            },
            {"agent": "lidocaine", "target_pct": "0.5", "stock_pct": "2", "lot": "LID-88", "expiry": date(2027, 1, 31)},
        ],
        diluent_lot="NS-5",
    )


@pytest.fixture
def ready_session(clinician, session, solution, signed_consent):
    """Consent signed, checklist ticked, screened for the day, eight sites placed: ready to sign."""
    actor = actor_of(clinician)
    for item, answer in (
        ("meal", "yes"),
        ("consent", "yes"),
        ("skin_prep", "yes"),
        ("numbing", "na"),
        ("time_out", "yes"),
    ):
        services.tick(actor, session, item, answer)
    services.rescreen_for_the_day(actor, session)
    for _ in range(8):
        services.add_site(
            actor,
            session.__class__.objects.get(pk=session.pk),
            solution=solution,
            body_map="knee_front",
            x=Decimal("100"),
            y=Decimal("100"),
            side="right",
            volume_ml=Decimal("0.5"),
            label="Tender point",
        )
    return session.__class__.objects.get(pk=session.pk)


@pytest.fixture
def signed_session(clinician, ready_session):
    """The ready session, signed: it happened, so an adverse event can follow it."""
    return services.sign_session(actor_of(clinician), ready_session.__class__.objects.get(pk=ready_session.pk))
