"""The dashboard's kept per-course facts follow every write through the services: after each step of one sequence of
writes (course opened, solution prepared, session signed, answers recorded and amended through a link, adverse event
recorded and retyped, no-show, timepoint moved, course edited and stopped), the kept rows equal a fresh recompute from
the records (`facts.check`), and the dashboard read from them equals the statements that compute from the records.

A course cannot move to another patient (no service changes a course's patient), so that step has no row here. A
write past the services (as bench/dataset.py writes) is caught by the check and mended by the rebuild.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection, models, transaction
from django.test.utils import CaptureQueriesContext

from prolotrack.analytics import facts, queries
from prolotrack.analytics.models import CourseEventFacts, CourseFacts
from prolotrack.analytics.queries import STORED, WINDOW, Filters
from prolotrack.clinics.testing import actor_of
from prolotrack.consent.testing import sign_for_course
from prolotrack.core.records import service_write
from prolotrack.outcomes import services as outcomes
from prolotrack.patients import services as patient_services
from prolotrack.treatment import services as treatment
from prolotrack.treatment.models import SessionStatus, TreatmentSession
from prolotrack.treatment.testing import knee_course

pytestmark = pytest.mark.django_db
START = date(2026, 11, 2)
NRS = {"now": 7, "average_week": 7, "worst_week": 8}


def _sign_first(actor, course):
    session = course.sessions.get(number=1)
    components = [
        {"agent": "dextrose", "target_pct": "15", "stock_pct": "50", "lot": "D50-1", "expiry": date(2030, 6, 30)},
        {"agent": "lidocaine", "target_pct": "0.5", "stock_pct": "2", "lot": "L-1", "expiry": date(2030, 1, 31)},
    ]
    solution = treatment.add_solution(actor, session, label="A", final_volume_ml=Decimal(10), components=components)
    yield "solution prepared"
    for item, answer in (("meal", "yes"), ("consent", "yes"), ("skin_prep", "yes"), ("numbing", "na")):
        treatment.tick(actor, session, item, answer)
    treatment.tick(actor, session, "time_out", "yes")
    treatment.rescreen_for_the_day(actor, session)
    for _ in range(2):
        fresh = TreatmentSession.objects.get(pk=session.pk)
        treatment.add_site(
            actor, fresh, solution=solution, body_map="knee_front", x=Decimal(100), y=Decimal(100), side="right",
            volume_ml=Decimal("0.5"), label="Tender point",
        )  # fmt: skip
    treatment.sign_session(actor, TreatmentSession.objects.get(pk=session.pk), early_reason="Done in the morning")
    yield "session signed"


def _steps(actor, course, patient):
    yield from _sign_first(actor, course)
    baseline = course.timepoints.get(kind="baseline")
    outcomes.record_response(actor, patient, "nrs_pain", NRS, authored_on=START, timepoint=baseline)
    yield "baseline answer recorded"
    after = course.timepoints.filter(kind="session").order_by("due_on")[1]
    link, _ = outcomes.create_link(actor, patient, timepoint=after)
    outcomes.save_link_answers(link, "nrs_pain", {"now": 2})
    yield "answer saved in progress by link"
    outcomes.save_link_answers(link, "nrs_pain", {"now": 2, "average_week": 2, "worst_week": 3})
    outcomes.save_link_answers(link, "pgic", {"pgic": 2})
    outcomes.submit_link(link)
    yield "answers amended and submitted by link (responder)"
    signed = course.sessions.get(number=1)
    data = {"event_type": "pain_flare", "onset_on": START + timedelta(days=1), "severity": "mild", "serious": False,
            "causality": "probable", "outcome": "recovering", "description": "Flare for 48 h"}  # fmt: skip
    event = treatment.record_adverse_event(actor, patient, data, session=signed)
    yield "adverse event recorded"
    treatment.update_adverse_event(actor, event, {"event_type": "bruising"}, expected_version=event.version)
    yield "adverse event retyped"
    treatment.set_attendance(actor, course.sessions.get(number=2), SessionStatus.NO_SHOW, reason="did_not_attend")
    yield "no-show"
    last = course.timepoints.order_by("-due_on").first()
    treatment.move_timepoint(actor, last, last.due_on + timedelta(days=30), expected_version=last.version)
    yield "timepoint moved"
    course.refresh_from_db()
    treatment.update_course(actor, course, {"indication": "Knee OA, medial"}, expected_version=course.version)
    yield "indication changed"
    course.refresh_from_db()
    treatment.close_course(actor, course, reason="other", details="Moved away")
    yield "course stopped"


def test_kept_facts_follow_every_write(clinician, patient, make_patient):
    actor = actor_of(clinician)
    with transaction.atomic():
        patient_services.add_child(actor, patient, "weight", {"measured_on": START, "weight_kg": Decimal("70")})
    course = knee_course(clinician, patient, START)
    other = knee_course(clinician, make_patient(given_name="Grace", family_name="Hopper"), START)  # never touched
    sign_for_course(actor, course, render=False)
    assert facts.check(course.clinic) == (2, [])
    done = []
    for step in _steps(actor, course, patient):
        checked, differences = facts.check(course.clinic)
        assert (checked, differences) == (2, []), step
        done.append(step)
    assert len(done) == 11
    kept = CourseFacts.objects.get(course=course)
    assert (kept.status, kept.indication, kept.dextrose, kept.sessions_done, kept.no_shows) == (
        "stopped", "Knee OA, medial", "15", 1, 1,
    )  # fmt: skip
    assert (kept.pain_answers, kept.pain_first, kept.pain_last, kept.pgic_last, kept.responder) == (2, 7, 2, 2, 1)
    assert list(CourseEventFacts.objects.values_list("course", "event_type", "sessions")) == [
        (course.pk, "bruising", 1)
    ]
    assert CourseFacts.objects.get(course=other).sessions_done == 0
    today = START + timedelta(days=400)
    assert queries.grouped(course.clinic, Filters(), STORED) == queries.grouped(course.clinic, Filters(), WINDOW)
    assert queries.adverse_event_counts(course.clinic, Filters()) == (1, {"bruising": 1})
    for when in (START + timedelta(days=20), today):
        stored = queries.completion_counts(course.clinic, Filters(), when, STORED)
        assert stored == queries.completion_counts(course.clinic, Filters(), when, WINDOW)


def test_a_write_past_the_services_is_found_and_rebuilt(clinician, patient):
    course = knee_course(clinician, patient, START)
    with transaction.atomic(), service_write():
        models.QuerySet.update(TreatmentSession.objects.filter(course=course, number=1), status=SessionStatus.NO_SHOW)
    checked, differences = facts.check(course.clinic)
    assert checked == 1 and [(d.course_id, d.columns) for d in differences] == [(course.pk, {"no_shows": (0, 1)})]
    with transaction.atomic():
        assert facts.rebuild(course.clinic) == 1
    assert facts.check(course.clinic) == (1, [])


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="ANALYZE before a rebuild is PostgreSQL's (SQLite plans without)"
)
def test_a_rebuild_on_postgresql_analyses_its_sources_before_computing(clinician, patient):
    """After a bulk load the planner took the source tables for empty and a clinic's rebuild ran for minutes: the
    rebuild analyses every source table before its statements."""
    course = knee_course(clinician, patient, START)
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        facts.rebuild(course.clinic)
    statements = [q["sql"] for q in captured.captured_queries]
    analysed = next(i for i, sql in enumerate(statements) if sql.startswith("ANALYZE"))
    first_insert = next(i for i, sql in enumerate(statements) if sql.startswith("INSERT"))
    assert analysed < first_insert
    for model in facts.SOURCES:
        assert model._meta.db_table in statements[analysed]
