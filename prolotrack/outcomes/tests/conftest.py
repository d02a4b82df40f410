"""Fixtures for questionnaires: a knee course with its timepoints, and a link to answer."""

from datetime import date

import pytest

from prolotrack.core.testing import actor_of
from prolotrack.treatment import services as treatment_services

START = date(2026, 11, 2)


@pytest.fixture
def course(clinician, patient):
    return treatment_services.create_course(
        actor_of(clinician),
        patient,
        protocol_id="knee_oa_rabago",
        indication="Knee osteoarthritis",
        region="knee",
        side="right",
        start_on=START,
        clinician=clinician,
    )


@pytest.fixture
def baseline(course):
    return course.timepoints.get(code="baseline")


@pytest.fixture
def follow_up(course):
    return course.timepoints.filter(kind="follow_up").order_by("due_on").first()
