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
from prolotrack.domain import analytics
from prolotrack.domain.disclosure import MIN_COURSES, suppress
from prolotrack.research.vocabulary import INDICATIONS, indication_code
from prolotrack.treatment.models import Course

PERIOD = re.compile(r"^(\d{4})-Q([1-4])$")
EARLIEST_YEAR = 2000
PRIVACY = {
    "method": "exact counts with cell suppression and complementary suppression",
    "min_courses": MIN_COURSES,
    "periods": "whole calendar quarters that have ended; no day-level dates",
    "breakdowns": ["indication code (the product's list)"],
    "frozen": "each quarter is released once and never recomputed",
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


def release(actor: Actor, period_text: str, today: date) -> ResearchRelease:
    """The quarter's frozen figures; the first request computes and stores them (audited)."""
    period, start, end = parse_period(period_text, today)
    found = ResearchRelease.objects.filter(clinic=actor.clinic, period=period).first()
    if found is not None:
        return found
    figures = {"period": period, "from": start.isoformat(), "to": end.isoformat(), **compute(actor.clinic, start, end)}
    try:
        with transaction.atomic():
            made = ResearchRelease.objects.create(
                clinic=actor.clinic, period=period, figures=figures, released_at=timezone.now(), released_to=actor.user
            )
            record_event(actor, "analytics.research_release.created", record=None, detail={"period": period})
    except IntegrityError:  # released by a concurrent request first: serve that one
        return ResearchRelease.objects.get(clinic=actor.clinic, period=period)
    return made


def as_json(made: ResearchRelease) -> dict[str, Any]:
    return {**made.figures, "released_at": made.released_at, "privacy": PRIVACY}
