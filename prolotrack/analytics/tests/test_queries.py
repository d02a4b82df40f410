"""Dashboard figures from aggregate SQL, checked against a recount course by course through the domain functions."""

import random
from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from prolotrack.analytics import queries
from prolotrack.analytics.queries import FilterError, Filters, parse_filters
from prolotrack.audit.services import update_record
from prolotrack.clinics.testing import actor_of
from prolotrack.domain import analytics
from prolotrack.domain.scoring import instrument
from prolotrack.outcomes.testing import add_dextrose, answer, make_course, session_day, set_session
from prolotrack.outcomes.trajectory import patient_trajectory
from prolotrack.treatment import services as treatment_services
from prolotrack.treatment.models import Course, SessionStatus, TreatmentSession

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 20)
NRS = instrument("nrs_pain")

KINDS = [
    # indication, protocol, region, sessions done, nrs scores at sessions/follow-up, pgic, dextrose
    ("Knee osteoarthritis", "knee_oa_rabago", "knee", 3, [8, 6, 5, 4], None, "15"),
    ("Knee osteoarthritis", "knee_oa_rabago", "knee", 3, [7, 7, 6, 6], 4, "25"),
    ("Knee osteoarthritis", "knee_oa_rabago", "knee", 2, [6, 5], None, "15"),
    ("Knee osteoarthritis", "knee_oa_rabago", "knee", 1, [9], 2, "15"),  # PGIC decides
    ("Knee osteoarthritis", "knee_oa_rabago", "knee", 0, [], None, None),
    ("Chronic low back pain", "low_back_yelland", "lumbopelvic", 3, [5, 4, 3, 3], None, "20"),  # 40%
    ("Chronic low back pain", "low_back_yelland", "lumbopelvic", 3, [3, 3, 2, 3], None, "20"),
    ("Chronic low back pain", "low_back_yelland", "lumbopelvic", 2, [0, 0], None, "20"),  # baseline 0: no
]


@pytest.fixture
def clinic_data(clinician, make_patient, make_member, clinic, other_clinic, outsider):
    """Twenty-four courses of two indications and two clinicians, answers at random, and noise in another clinic."""
    rng = random.Random(5)
    second = make_member("second", "clinician", clinic)
    courses = []
    for index in range(24):
        indication, protocol, region, done, scores, pgic, dextrose = KINDS[index % len(KINDS)]
        patient = make_patient(given_name=f"P{index}")
        who = clinician if index % 3 else second
        course = make_course(
            clinician, patient, protocol_id=protocol, indication=indication, region=region, clinician=who,
            start=date(2026, 1, 5) + timedelta(days=7 * index),
        )  # fmt: skip
        for n in range(1, done + 1):
            set_session(clinician, course, n)
        if dextrose:
            add_dextrose(clinician, course, 1, dextrose)
        sessions = list(course.sessions.filter(optional=False).order_by("number"))
        if index % 5 == 0 and len(sessions) > done:
            set_session(clinician, course, sessions[done].number, SessionStatus.NO_SHOW)
        for k, score in enumerate(scores):
            day = session_day(course, k + 1) if k < len(sessions) else sessions[-1].planned_on + timedelta(days=42)
            code = "baseline" if k == 0 else (f"session_{k + 1}" if k < len(sessions) else "follow_up_6w")
            if rng.random() < 0.1 and k > 0:
                continue  # a missed questionnaire
            answer(clinician, patient, "nrs_pain", score, day, course=course, timepoint_code=code)
        if pgic is not None:
            answer(
                clinician, patient, "pgic", pgic, session_day(course, max(done, 1)) + timedelta(days=7), course=course
            )
        if index % 7 == 0:
            treatment_services.close_course(actor_of(clinician), Course.objects.get(pk=course.pk), reason="resolved")
        courses.append(course)
    # Another clinic's course must never count.
    stranger = make_patient(by=outsider, given_name="Other")
    other = make_course(outsider, stranger)
    set_session(outsider, other, 1)
    answer(outsider, stranger, "nrs_pain", 9, session_day(other, 1), course=other, timepoint_code="baseline")
    answer(outsider, stranger, "nrs_pain", 1, session_day(other, 1) + timedelta(days=60), course=other)
    return courses


def _recount(courses, key):
    """Brute force: each course's verdict through patient_trajectory (domain.course_verdict), grouped in Python."""
    counts = defaultdict(lambda: [0, 0, 0])
    for course in courses:
        verdict = patient_trajectory(course.patient, course).verdict
        cell = counts[key(course)]
        cell[2] += 1
        if verdict.responder is not None:
            cell[1] += 1
            cell[0] += int(verdict.responder)
    return {k: tuple(v) for k, v in counts.items()}


def test_responder_groups_match_a_recount_through_the_domain(clinic, clinic_data):
    got = queries.responder_groups(clinic, Filters())
    responders, evaluable, total = got["all"]["all"]
    assert 0 < responders < evaluable < total == 24  # a mix, so the comparison below means something
    assert got["all"] == {"all": _recount(clinic_data, lambda c: "all")["all"]}
    assert got["indication"] == _recount(clinic_data, lambda c: c.indication)
    assert got["protocol"] == _recount(clinic_data, lambda c: c.protocol_name)
    assert got["clinician"] == _recount(clinic_data, lambda c: str(c.clinician_id))

    def done(c):
        return str(TreatmentSession.objects.filter(course=c, status="done").count())

    assert got["sessions"] == _recount(clinic_data, done)

    def dextrose(c):
        first = c.sessions.order_by("number").first()
        sol = first.solutions.first() if first else None
        return sol.components[0]["target_pct"] if sol else queries.NOT_RECORDED

    assert got["solution"] == _recount(clinic_data, dextrose)


def test_filters_by_indication_and_date(clinic, clinic_data):
    knees = [c for c in clinic_data if c.indication == "Knee osteoarthritis"]
    got = queries.responder_groups(clinic, Filters(indication="Knee osteoarthritis"))
    assert got["all"]["all"] == _recount(knees, lambda c: "all")["all"]
    window = Filters(start=date(2026, 2, 1), end=date(2026, 3, 31))
    inside = [c for c in clinic_data if window.start <= c.started_on <= window.end]
    assert queries.responder_groups(clinic, window)["all"]["all"] == _recount(inside, lambda c: "all")["all"]


def test_sessions_to_mcid_match_a_recount(clinic, clinic_data):
    expected = Counter()
    for course in clinic_data:
        trajectory = patient_trajectory(course.patient, course)
        nrs = trajectory.series_for("nrs_pain")
        if nrs is None or len(nrs.points) < 2:
            continue
        done_days = [s.planned_on for s in TreatmentSession.objects.filter(course=course, status="done")]
        follow_ups = [(sum(d < p.day for d in done_days), p.score) for p in nrs.points[1:]]
        reached = analytics.sessions_to_mcid(NRS, nrs.points[0].score, follow_ups)
        if reached is not None:
            expected[reached] += 1
    assert queries.sessions_to_mcid_counts(clinic, Filters()) == dict(expected)


def test_funnel_completion_and_adverse_events_match_a_recount(clinic, clinician, clinic_data):
    session = TreatmentSession.objects.filter(course=clinic_data[0], status="done").first()
    with transaction.atomic():  # an adverse event follows a session done and signed
        session = update_record(
            actor_of(clinician), session, {"signed_at": timezone.now()}, "test.session.signed", expected_version=None
        )
    for kind in ("pain_flare", "pain_flare", "bruising"):
        treatment_services.record_adverse_event(
            actor_of(clinician),
            session.patient,
            {"event_type": kind, "onset_on": session.planned_on, "severity": "mild", "serious": False,
             "causality": "probable", "outcome": "resolved", "description": "Sore."},
            session=session,
        )  # fmt: skip
    funnel = queries.funnel_counts(clinic, Filters())
    assert funnel["planned"] == len(clinic_data)
    assert funnel["started"] == sum(1 for c in clinic_data if c.sessions.filter(status="done").exists())
    assert funnel["completed"] == Course.objects.filter(clinic=clinic, status="completed").count()
    assert funnel["no_show"] == sum(1 for c in clinic_data if c.sessions.filter(status="no_show").exists())

    done, events = queries.adverse_event_counts(clinic, Filters())
    assert done == TreatmentSession.objects.filter(clinic=clinic, status="done").count()
    assert events == {"pain_flare": 1, "bruising": 1}  # sessions with the event, not events

    due = queries.completion_counts(clinic, Filters(), TODAY)
    expected = defaultdict(lambda: [0, 0])
    for course in clinic_data:
        if Course.objects.get(pk=course.pk).status == "stopped":
            continue  # completion counts leave out courses stopped early
        for tp in course.timepoints.filter(optional=False, due_on__lte=TODAY):
            expected[tp.kind][1] += 1
            expected[tp.kind][0] += int(tp.responses.filter(status="completed").exists())
    assert due == {k: tuple(v) for k, v in expected.items()}


def test_dashboard_suppresses_small_cells_and_serialises(clinic, clinic_data):
    board = queries.dashboard(clinic, Filters(), TODAY)
    assert board.courses == 24
    by_sessions = {r.key: r for r in board.groups["sessions"]}
    assert all(r.rate.suppressed == (r.rate.denominator < analytics.MIN_CELL) for r in by_sessions.values())
    body = queries.as_json(board)
    assert body["ci_method"] == "wilson"
    assert body["responders"]["of"] == board.overall.denominator
    for rows in body["responders_by"].values():
        for row in rows:
            assert (row["rate"] is None) == row["suppressed"]
    labels = [r["label"] for r in body["responders_by"]["solution"]]
    assert "15% dextrose" in labels


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2026-13-01"}, "not a date"),
        ({"start": "2026-05-01", "end": "2026-04-01"}, "swap them"),
        ({"indication": "x" * 201}, "too long"),
    ],
)
def test_bad_filters_say_what_to_fix(params, message):
    with pytest.raises(FilterError, match=message):
        parse_filters(params)


def test_good_filters():
    assert parse_filters({"start": "2026-01-01", "indication": " Knee "}) == Filters(date(2026, 1, 1), None, "Knee")
