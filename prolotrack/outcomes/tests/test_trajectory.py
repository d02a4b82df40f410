"""A patient's trajectory: series per instrument, change from baseline, responder status, non-responder alert, charts."""

from decimal import Decimal

import pytest

from prolotrack.domain.scoring import ResponseStatus
from prolotrack.outcomes.charts import trajectory_png, trajectory_svg
from prolotrack.outcomes.testing import answer, days_after, make_course, session_day, set_session
from prolotrack.outcomes.trajectory import patient_trajectory

pytestmark = pytest.mark.django_db


@pytest.fixture
def knee(clinician, patient):
    """Knee OA course (Rabago: weeks 1, 5, 9): three sessions done, NRS 8 -> 7 -> 6 -> 5 and PGIC 2 at 6 weeks."""
    course = make_course(clinician, patient)
    for n in (1, 2, 3):
        set_session(clinician, course, n)
    for n, score in ((1, 8), (2, 7), (3, 6)):
        code = "baseline" if n == 1 else f"session_{n}"
        answer(clinician, patient, "nrs_pain", score, session_day(course, n), course=course, timepoint_code=code)
    six_weeks = course.timepoints.get(code="follow_up_6w").due_on
    answer(clinician, patient, "nrs_pain", 5, six_weeks, course=course, timepoint_code="follow_up_6w")
    answer(clinician, patient, "pgic", 2, six_weeks, course=course, timepoint_code="follow_up_6w")
    return course


def test_series_change_and_responder(knee, patient):
    trajectory = patient_trajectory(patient)
    assert trajectory.course == knee
    assert [s.code for s in trajectory.series] == ["nrs_pain", "pgic"]
    nrs = trajectory.series_for("nrs_pain")
    assert [p.score for p in nrs.points] == [Decimal(8), Decimal(7), Decimal(6), Decimal(5)]
    # Sessions before each answer: the session-day questionnaire comes before that day's injections.
    assert [p.sessions_before for p in nrs.points] == [0, 1, 2, 3]
    assert nrs.change.improvement == Decimal(3)
    assert nrs.change.percent == Decimal("37.5")
    assert nrs.responder is True
    assert nrs.boundary == Decimal(6)
    assert trajectory.series_for("pgic").responder is True
    assert trajectory.verdict.responder is True
    assert trajectory.sessions_done == 3
    assert trajectory.check.status == ResponseStatus.RESPONDING
    assert trajectory.alert is False


def test_alert_when_not_responding_after_the_clinic_setting(clinician, patient):
    course = make_course(clinician, patient)
    for n in (1, 2, 3):
        set_session(clinician, course, n)
        code = "baseline" if n == 1 else f"session_{n}"
        answer(clinician, patient, "nrs_pain", 7, session_day(course, n), course=course, timepoint_code=code)
    answer(clinician, patient, "nrs_pain", 6, days_after(session_day(course, 3), 7), course=course)
    trajectory = patient_trajectory(patient)
    assert trajectory.check.status == ResponseStatus.NON_RESPONDER
    assert trajectory.alert is True
    assert "review the plan" in trajectory.check.reason
    assert trajectory.verdict.responder is False

    # The clinic judges later: no alert yet.
    patient.clinic.settings = {"non_responder_after_sessions": 4}
    patient.clinic.save()
    assert patient_trajectory(patient).alert is False


def test_no_answers_gives_an_empty_trajectory(clinician, patient):
    make_course(clinician, patient)
    trajectory = patient_trajectory(patient)
    assert trajectory.series == ()
    assert trajectory.verdict.responder is None
    assert trajectory.check is None


def test_answers_entered_in_error_or_unfinished_are_left_out(clinician, patient, knee):
    answer(clinician, patient, "nrs_pain", None, days_after(knee.started_on, 1), course=knee, status="in_progress")
    nrs = patient_trajectory(patient).series_for("nrs_pain")
    assert len(nrs.points) == 4


def test_charts_as_svg_and_png(knee, patient):
    svg = trajectory_svg(patient, "nrs_pain")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "MCID reached at 6" in svg  # text stays text
    assert "S3" in svg  # the third session is marked
    png = trajectory_png(patient, "nrs_pain")
    assert png.startswith(b"\x89PNG")
    assert "Responder zone" in trajectory_svg(patient, "pgic")


def test_chart_without_scores_says_so(clinician, patient):
    make_course(clinician, patient)
    assert "No scores recorded yet" in trajectory_svg(patient, "nrs_pain")
