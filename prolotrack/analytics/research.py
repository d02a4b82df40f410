"""The dashboard as researchers see it: whole calendar quarters, one breakdown (coded indication), exact figures with
suppression and complementary suppression, each quarter released once and then frozen (docs/DASHBOARD.md,
"Researchers").

Why this is safe against differencing: the only question a researcher can ask is "quarter Q" (no day-level dates, no
free-text filter, no other breakdown, no multi-quarter total), quarters are disjoint, and a quarter's answer never
changes after its first release. Within one answer there is one partition of the quarter's courses (by indication
code) with its total, for courses and for evaluable courses, suppressed by `domain.disclosure.suppress`, so every
figure derivable by adding and subtracting counts 0 or at least 5 courses. Clinicians and administrators keep the
exact dashboard (prolotrack.analytics.queries).
"""

import re
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from prolotrack.analytics import queries
from prolotrack.analytics.models import ResearchRelease
from prolotrack.audit.services import Actor, record_event
from prolotrack.clinics.queries import members_with
from prolotrack.clinics.roles import Permission
from prolotrack.domain import analytics, dpcounts
from prolotrack.domain.disclosure import MIN_COURSES, suppress
from prolotrack.domain.vocabulary import AdverseEventType
from prolotrack.research.vocabulary import CLINIC_TEMPLATE, INDICATIONS, PROTOCOL_LABELS, indication_code, protocol_code
from prolotrack.treatment.models import AdverseEvent, Course, CourseTimepoint, TreatmentSession

PERIOD = re.compile(r"^(\d{4})-Q([1-4])$")
EARLIEST_YEAR = 2000
PRIVACY = {
    "method": "exact counts with cell suppression and complementary suppression",
    "min_courses": MIN_COURSES,
    "periods": "whole calendar quarters that have ended; no day-level dates",
    "breakdowns": ["indication code (the product's list)"],
    "frozen": "each quarter is released once and never recomputed",
    "dp_breakdowns": "protocol, clinician, funnel, adverse events and questionnaire completion as differentially "
    "private noisy counts (OpenDP), with the epsilon of each breakdown (docs/RESEARCH.md)",
}


class PeriodError(ValueError):
    """A researcher's period cannot be read or is not released; the message says what to ask for."""


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return start, date.fromordinal(end.toordinal() - 1)


def parse_period(text: str, today: date) -> tuple[str, date, date]:
    match = PERIOD.match((text or "").strip())
    if not match:
        raise PeriodError("Researchers see whole quarters: ask for period=YYYY-Qn, e.g. 2025-Q1 (no day-level dates).")
    year, quarter = int(match[1]), int(match[2])
    start, end = quarter_bounds(year, quarter)
    if year < EARLIEST_YEAR or end >= today:
        raise PeriodError(f"Quarter {text} has not ended yet (or is before {EARLIEST_YEAR}): choose an ended quarter.")
    return f"{year}-Q{quarter}", start, end


def periods(clinic: Any, today: date) -> list[str]:
    """The ended quarters from the clinic's first course to the last ended quarter, newest first."""
    first = (
        Course.objects.filter(clinic=clinic, entered_in_error_at__isnull=True)
        .order_by("started_on")
        .values_list("started_on", flat=True)
        .first()
    )
    if first is None:
        return []
    out = []
    year, quarter = first.year, (first.month - 1) // 3 + 1
    while quarter_bounds(year, quarter)[1] < today:
        out.append(f"{year}-Q{quarter}")
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return out[::-1]


def _rate(responders: int, evaluable: int) -> dict[str, Any]:
    if evaluable == 0:
        return {"n": None, "of": None, "rate": None, "low": None, "high": None, "suppressed": True}
    low, high = analytics.wilson_interval(responders, evaluable)
    return {
        "n": responders,
        "of": evaluable,
        "rate": round(responders / evaluable, 4),
        "low": round(low, 4),
        "high": round(high, 4),
        "suppressed": False,
    }


HIDDEN_RATE = {"n": None, "of": None, "rate": None, "low": None, "high": None, "suppressed": True}


def compute(clinic: Any, start: date, end: date) -> dict[str, Any]:
    """The quarter's researcher figures (not yet released)."""
    cte, params = queries._facts_cte(clinic, queries.Filters(start, end))
    verdicts = dict(queries._fetch(cte + " SELECT id, responder FROM facts", params))  # noqa: S608 - fixed SQL
    codes = dict(Course.objects.filter(pk__in=list(verdicts)).values_list("pk", "protocol_id"))
    courses: dict[str, int] = dict.fromkeys(INDICATIONS, 0)
    evaluable: dict[str, int] = dict.fromkeys(INDICATIONS, 0)
    responders: dict[str, int] = dict.fromkeys(INDICATIONS, 0)
    for pk, verdict in verdicts.items():
        code = indication_code(codes.get(pk))
        courses[code] += 1
        if verdict is not None:
            evaluable[code] += 1
            responders[code] += int(verdict)
    course_cut = suppress(courses)
    rate_cut = suppress(evaluable, force=course_cut.hidden)
    total, total_evaluable = sum(courses.values()), sum(evaluable.values())
    rows = [
        {
            "code": code,
            "label": label,
            "courses": None if code in course_cut.hidden else courses[code],
            "responders": HIDDEN_RATE if code in rate_cut.hidden else _rate(responders[code], evaluable[code]),
        }
        for code, label in INDICATIONS.items()
    ]
    return {
        "courses": None if course_cut.total_hidden else total,
        "responders": HIDDEN_RATE if rate_cut.total_hidden else _rate(sum(responders.values()), total_evaluable),
        "by_indication": rows,
        "confidence": analytics.CONFIDENCE,
        "ci_method": "wilson",
    }


NO_CLINICIAN, OTHER_CLINICIAN = "none", "other"


def _categories(clinic: Any) -> list[dpcounts.Breakdown]:
    """Fixed, public category lists: the product's protocol codes, the clinic's clinicians, the event types."""
    protocols = [*PROTOCOL_LABELS.items(), (CLINIC_TEMPLATE, "Clinic's own template"), ("none", "No protocol")]
    members = (
        members_with(clinic, Permission.SESSION_TREAT)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user_id")
    )
    clinicians = [(str(m.user_id), m.user.get_full_name() or m.user.get_username()) for m in members]
    clinicians += [(OTHER_CLINICIAN, "Another member of staff"), (NO_CLINICIAN, "No clinician recorded")]
    events = [(value, str(label)) for value, label in AdverseEventType.choices]
    return dpcounts.breakdowns(protocols, clinicians, events)


def _completion(due: int, answered: int) -> str:
    if due == 0:
        return "none_due"
    return "all_answered" if answered >= due else "some_answered" if answered else "none_answered"


def course_facts(clinic: Any, start: date, end: date, today: date, clinicians: set[str]) -> list[dpcounts.CourseFacts]:
    """The quarter's courses (started in it, not entered in error), coded for the DP breakdowns."""
    cte, params = queries._facts_cte(clinic, queries.Filters(start, end))
    verdicts = dict(queries._fetch(cte + " SELECT id, responder FROM facts", params))  # noqa: S608 - fixed SQL
    courses = list(
        Course.objects.filter(pk__in=list(verdicts)).values_list(
            "pk", "patient_id", "started_on", "protocol_id", "clinician_id", "status"
        )
    )
    ids = [row[0] for row in courses]
    live = {"entered_in_error_at__isnull": True}
    started = set(
        TreatmentSession.objects.filter(course_id__in=ids, status="done", **live).values_list("course_id", flat=True)
    )
    types: dict[int, set[str]] = {}
    for course_id, kind in AdverseEvent.objects.filter(
        course_id__in=ids, session__status="done", session__entered_in_error_at__isnull=True, **live
    ).values_list("course_id", "event_type"):
        types.setdefault(course_id, set()).add(kind)
    due: dict[tuple[int, str], list[int]] = {}
    timepoints = CourseTimepoint.objects.filter(course_id__in=ids, optional=False, due_on__lte=today, **live)
    answered = set(
        timepoints.filter(responses__status="completed", responses__entered_in_error_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    for pk, course_id, kind in timepoints.values_list("pk", "course_id", "kind"):
        due.setdefault((course_id, kind), []).append(pk)
    out = []
    for pk, patient_id, started_on, protocol_id, clinician_id, status in courses:
        verdict = verdicts[pk]
        kinds = types.get(pk, set())
        completion = {}
        for kind in dpcounts.TIMEPOINT_KINDS:
            points = [] if status == "stopped" else due.get((pk, kind), [])
            completion[kind] = _completion(len(points), sum(1 for p in points if p in answered))
        clinician = str(clinician_id) if clinician_id else NO_CLINICIAN
        out.append(
            dpcounts.CourseFacts(
                patient=str(patient_id),
                started_on=started_on,
                ref=pk,
                protocol=protocol_code(protocol_id) or "none",
                clinician=clinician if clinician in clinicians or clinician == NO_CLINICIAN else OTHER_CLINICIAN,
                verdict="not_evaluable" if verdict is None else "responder" if verdict else "non_responder",
                started=pk in started,
                status=status,
                adverse=(
                    "no_session"
                    if pk not in started
                    else "none"
                    if not kinds
                    else next(iter(kinds))
                    if len(kinds) == 1
                    else "several"
                ),
                completion=completion,
            )
        )
    return out


def dp_release(clinic: Any, start: date, end: date, today: date) -> dict[str, Any]:
    """The quarter's differentially private breakdowns, drawn once (the caller stores them)."""
    from prolotrack.research.settings import research_dp_epsilon

    parts = _categories(clinic)
    clinicians = {key.split("|")[0] for key, _ in parts[1].categories}
    facts = course_facts(clinic, start, end, today, clinicians)
    return dpcounts.release(facts, parts, float(research_dp_epsilon(clinic)))


def release(actor: Actor, period_text: str, today: date) -> ResearchRelease:
    """The quarter's frozen figures; the first request computes and stores them (audited). A quarter released before
    the DP breakdowns existed gets them once, stored and audited the same way."""
    period, start, end = parse_period(period_text, today)
    found = ResearchRelease.objects.filter(clinic=actor.clinic, period=period).first()
    if found is not None:
        if "dp" not in found.figures:
            with transaction.atomic():
                found = ResearchRelease.objects.select_for_update().get(pk=found.pk)
                if "dp" not in found.figures:
                    found.figures = {**found.figures, "dp": dp_release(actor.clinic, start, end, today)}
                    found.save(update_fields=["figures"])
                    record_event(
                        actor, "analytics.research_release.dp_added", record=None,
                        detail={"period": period, "epsilon": found.figures["dp"]["epsilon"]},
                    )  # fmt: skip
        return found
    figures = {
        "period": period,
        "from": start.isoformat(),
        "to": end.isoformat(),
        **compute(actor.clinic, start, end),
        "dp": dp_release(actor.clinic, start, end, today),
    }
    try:
        with transaction.atomic():
            made = ResearchRelease.objects.create(
                clinic=actor.clinic, period=period, figures=figures, released_at=timezone.now(), released_to=actor.user
            )
            record_event(
                actor, "analytics.research_release.created", record=None,
                detail={"period": period, "epsilon": figures["dp"]["epsilon"]},
            )  # fmt: skip
    except IntegrityError:  # released by a concurrent request first: serve that one
        return ResearchRelease.objects.get(clinic=actor.clinic, period=period)
    return made


def as_json(made: ResearchRelease) -> dict[str, Any]:
    return {**made.figures, "released_at": made.released_at, "privacy": PRIVACY}
