"""The course page says, for each outcome timepoint, whether its questionnaires were answered."""

from datetime import date
from types import SimpleNamespace

import pytest

from prolotrack.clinics.testing import actor_of
from prolotrack.outcomes import services as outcome_services
from prolotrack.treatment.present import timepoint_answer_status

TODAY = date(2026, 12, 1)


@pytest.mark.parametrize(
    ("answered", "started", "due_on", "expected"),
    [
        (2, 0, date(2026, 11, 2), ("Answered (2 questionnaires)", "status-done")),
        (1, 1, date(2026, 11, 2), ("Answered (1 questionnaire)", "status-done")),
        (0, 1, date(2026, 11, 2), ("Started, not finished", "status-booked")),
        (0, 0, date(2026, 12, 2), ("Not due yet", "status-planned")),
        (0, 0, date(2026, 12, 1), ("Due now", "status-booked")),
        (0, 0, date(2026, 11, 24), ("Due now", "status-booked")),  # 7 days late: not yet overdue
        (0, 0, date(2026, 11, 23), ("Not answered (overdue)", "status-no_show")),  # 8 days late
    ],
)
def test_timepoint_answer_status(answered, started, due_on, expected):
    timepoint = SimpleNamespace(answered=answered, started=started, due_on=due_on)
    assert timepoint_answer_status(timepoint, TODAY, overdue_after_days=7) == expected


def test_the_course_page_shows_answered_timepoints(clinician, course, login):
    baseline = course.timepoints.get(code="baseline")
    actor = actor_of(clinician)
    outcome_services.record_response(
        actor,
        course.patient,
        "nrs_pain",
        {"now": 6, "average_week": 5, "worst_week": 8},
        authored_on=baseline.due_on,
        timepoint=baseline,
    )
    page = login(clinician).get(f"/courses/{course.uuid}/").content.decode()
    assert "Answered (1 questionnaire)" in page
    # The other timepoints have no answers: they say so, whatever today is.
    assert page.count('status-badge status-done">Answered') == 1
