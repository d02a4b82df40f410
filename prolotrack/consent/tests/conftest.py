"""Consent fixtures: the treatment app's knee course and session, and a session ready to sign but for consent."""

from decimal import Decimal

import pytest

from prolotrack.clinics.testing import actor_of
from prolotrack.treatment import services as treatment_services
from prolotrack.treatment.tests.conftest import (  # noqa: F401 - fixtures shared with the treatment tests
    START,
    course,
    ready_session,
    session,
    solution,
    weighed_patient,
)


@pytest.fixture
def prepared_session(clinician, session, solution):  # noqa: F811 - the fixtures imported above
    """Checklist ticked, screened for the day, sites placed: everything but a consent."""
    actor = actor_of(clinician)
    for item, answer in (
        ("meal", "yes"),
        ("consent", "yes"),
        ("skin_prep", "yes"),
        ("numbing", "na"),
        ("time_out", "yes"),
    ):
        treatment_services.tick(actor, session, item, answer)
    treatment_services.rescreen_for_the_day(actor, session)
    for _ in range(6):
        treatment_services.add_site(
            actor, session.__class__.objects.get(pk=session.pk), solution=solution, body_map="knee_front",
            x=Decimal("100"), y=Decimal("100"), side="right", volume_ml=Decimal("0.5"), label="Tender point",
        )  # fmt: skip
    return session.__class__.objects.get(pk=session.pk)
