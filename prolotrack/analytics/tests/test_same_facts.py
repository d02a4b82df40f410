"""The dashboard's three plans give the same figures: the kept per-course facts (analytics/facts.py, what the dashboard
reads), the window pass written for PostgreSQL at network size and the grouped joins it replaced (SQLite's until the
kept facts), each run on whichever database the suite uses, on a varied dataset: bench/dataset.py's network shape (several courses
a patient, the region's instrument at every timepoint, PGIC, no-shows, adverse events) roughened with the cases the
SQL must get right: answers tied on the same day, answers and sessions entered in error, baselines of 0, a PGIC
without pain scores, courses entered in error, stopped courses, another clinic's data. The data is edited past the services (as bench/dataset.py writes it), so the facts are
rebuilt (`facts.rebuild`, what `manage.py course_facts --rebuild` runs) before they are compared. Runs on SQLite and
PostgreSQL.
"""

import random
from datetime import date, timedelta

import pytest
from django.db import models, transaction
from django.utils import timezone

from bench.dataset import SHAPES, generate
from prolotrack.analytics import facts, queries
from prolotrack.analytics.queries import JOINED, STORED, WINDOW, Filters
from prolotrack.core.records import service_write
from prolotrack.outcomes.models import QuestionnaireResponse
from prolotrack.outcomes.trajectory import PGIC, PRIMARY
from prolotrack.treatment.models import Course, TreatmentSession

pytestmark = pytest.mark.django_db
TODAY = date(2026, 6, 1)


@pytest.fixture
def varied(clinic, clinician, other_clinic, make_member):
    make_member("other-clinician", "clinician", other_clinic)
    generate(clinic, patients=60, seed=11, today=TODAY, adverse_event_rate=0.2, shape=SHAPES["network"])
    generate(other_clinic, patients=8, seed=12, today=TODAY, shape=SHAPES["network"])
    rng = random.Random(17)
    answers = list(QuestionnaireResponse.objects.filter(clinic=clinic, course__isnull=False).order_by("pk"))
    primary = [a for a in answers if a.instrument == PRIMARY]
    now = timezone.now()
    with transaction.atomic(), service_write():
        # Ties: a later answer moved onto an earlier one's day (the id then decides first and latest).
        by_course: dict[int, list[QuestionnaireResponse]] = {}
        for a in primary:
            by_course.setdefault(a.course_id, []).append(a)
        for index, group in enumerate(by_course.values()):
            if len(group) >= 3 and index % 3 == 0:
                _update(QuestionnaireResponse.objects.filter(pk=group[1].pk), authored_on=group[0].authored_on)
            if len(group) >= 3 and index % 5 == 1:
                _update(QuestionnaireResponse.objects.filter(pk=group[-2].pk), authored_on=group[-1].authored_on)
        # Answers entered in error, not completed, or with a baseline of 0.
        picks = rng.sample(primary, k=len(primary) // 8)
        _update(QuestionnaireResponse.objects.filter(pk__in=[a.pk for a in picks[::2]]), entered_in_error_at=now)
        _update(QuestionnaireResponse.objects.filter(pk__in=[a.pk for a in picks[1::4]]), status="in-progress")
        firsts = [group[0].pk for group in list(by_course.values())[::6]]
        _update(QuestionnaireResponse.objects.filter(pk__in=firsts), score=0)
        # Courses whose only outcome is a PGIC: their pain scores entered in error.
        pgic_courses = set(
            QuestionnaireResponse.objects.filter(clinic=clinic, instrument=PGIC).values_list("course_id", flat=True)
        )
        for course_id in sorted(pgic_courses)[::4]:
            _update(
                QuestionnaireResponse.objects.filter(course_id=course_id, instrument=PRIMARY), entered_in_error_at=now
            )
        # Sessions entered in error or missed; a course entered in error; stopped courses.
        sessions = list(TreatmentSession.objects.filter(clinic=clinic, status="done").order_by("pk"))
        _update(TreatmentSession.objects.filter(pk__in=[s.pk for s in sessions[::9]]), entered_in_error_at=now)
        _update(TreatmentSession.objects.filter(pk__in=[s.pk for s in sessions[4::11]]), status="no_show")
        courses = list(Course.objects.filter(clinic=clinic).order_by("pk"))
        _update(Course.objects.filter(pk__in=[c.pk for c in courses[::10]]), entered_in_error_at=now)
        _update(Course.objects.filter(pk__in=[c.pk for c in courses[3::7]]), status="stopped")
    return courses


def _update(queryset, **values):
    """Benchmark-style data edits (as bench/dataset.py writes rows without versions): Django's plain update, past the
    records' refusal of bulk updates, for test data only."""
    return models.QuerySet.update(queryset, **values)


def _filters(courses):
    starts = sorted(c.started_on for c in courses)
    middle = starts[len(starts) // 2]
    indications = sorted({c.indication for c in courses})
    return [
        Filters(),
        Filters(start=middle),
        Filters(end=middle),
        Filters(start=starts[len(starts) // 4], end=starts[3 * len(starts) // 4], indication=indications[0]),
        Filters(indication=indications[-1]),
        Filters(start=date(1990, 1, 1), end=date(1990, 12, 31)),  # no course
    ]


def test_the_kept_facts_and_both_plans_give_the_same_figures(clinic, other_clinic, varied):
    live = Course.objects.filter(clinic=clinic, entered_in_error_at__isnull=True)
    with transaction.atomic():
        assert facts.rebuild(clinic) == live.count() > 0
        facts.rebuild(other_clinic)
    assert facts.check(clinic)[1] == []
    checked = 0
    for filters in _filters(varied):
        new_groups, new_mcid = queries.grouped(clinic, filters, WINDOW)
        old_groups, old_mcid = queries.grouped(clinic, filters, JOINED)
        assert new_groups == old_groups, filters
        assert new_mcid == old_mcid, filters
        assert queries.grouped(clinic, filters, STORED) == (new_groups, new_mcid), filters
        funnel = queries.funnel_counts(clinic, filters, WINDOW)
        assert (
            funnel == queries.funnel_counts(clinic, filters, JOINED) == queries.funnel_counts(clinic, filters, STORED)
        )
        events = queries.adverse_event_counts(clinic, filters, WINDOW)
        assert events == queries.adverse_event_counts(clinic, filters, STORED), filters
        for today in (TODAY, TODAY - timedelta(days=200), TODAY + timedelta(days=800)):
            new = queries.completion_counts(clinic, filters, today, WINDOW)
            assert new == queries.completion_counts(clinic, filters, today, JOINED), (filters, today)
            assert new == queries.completion_counts(clinic, filters, today, STORED), (filters, today)
        checked += new_groups["all"].get("all", (0, 0, 0))[2]
    assert queries.indications(clinic) == list(
        live.values_list("indication", flat=True).distinct().order_by("indication")
    )
    # The data is not trivially empty: responders and non-responders, courses that reached the MCID, timepoints due.
    (responders, evaluable, total) = queries.grouped(clinic, Filters())[0]["all"]["all"]
    assert 0 < responders < evaluable < total
    assert sum(queries.grouped(clinic, Filters())[1].values()) > 5
    assert len(queries.grouped(clinic, Filters())[1]) > 1
    assert checked > total
