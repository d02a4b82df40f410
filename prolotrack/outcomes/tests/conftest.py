"""Fixtures for questionnaires: a knee course with its timepoints, and a link to answer."""

from datetime import date

import pytest

from prolotrack.treatment.testing import knee_course

START = date(2026, 11, 2)


@pytest.fixture
def course(clinician, patient):
    return knee_course(clinician, patient, START)


@pytest.fixture
def baseline(course):
    return course.timepoints.get(code="baseline")


@pytest.fixture
def follow_up(course):
    return course.timepoints.filter(kind="follow_up").order_by("due_on").first()
