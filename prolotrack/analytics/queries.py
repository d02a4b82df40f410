# ruff: noqa: S608 -- the SQL text interpolates only table names from model metadata and fixed fragments; every
# value (clinic, dates, indication, thresholds) is a query parameter.
"""The clinic dashboard's figures, computed by aggregate SQL (GROUP BY) over one clinic's courses.

No patient names or identifiers leave these queries: every row is a group with counts. The per-course facts (baseline
and latest pain score, latest PGIC, sessions done, the first solution's dextrose concentration) are built once in a
common table expression with window functions, then grouped by each dimension in one statement. The responder test
in SQL is generated from the domain's definition (`domain.analytics.responder_criteria`), and the tests check every
figure against a recount through the domain functions. Definitions: docs/DASHBOARD.md.
"""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.cache import cache
from django.db import connection

from prolotrack.analytics.models import KIND_COLUMNS, CourseEventFacts, CourseFacts, TimepointFacts
from prolotrack.clinics.models import User
from prolotrack.domain import analytics
from prolotrack.domain.scoring import DEFAULT_RESPONDER_RULE, ResponderRule
from prolotrack.domain.scoring import instrument as scoring_instrument
from prolotrack.outcomes.models import QuestionnaireResponse
from prolotrack.outcomes.trajectory import PGIC, PRIMARY
from prolotrack.treatment.models import (
    AdverseEvent,
    AdverseEventType,
    Course,
    CourseTimepoint,
    PreparedSolution,
    TimepointKind,
    TreatmentSession,
)

DIMENSIONS = (
    ("indication", "Indication"),
    ("protocol", "Protocol"),
    ("solution", "Solution (dextrose)"),
    ("clinician", "Clinician"),
    ("sessions", "Sessions done"),
)
NO_PROTOCOL = "No protocol template"
NOT_RECORDED = "Not recorded"


@dataclass(frozen=True)
class Filters:
    """Which courses the dashboard counts: started within a date range, of one indication."""

    start: date | None = None
    end: date | None = None
    indication: str = ""

    def as_query(self) -> dict[str, str]:
        out = {}
        if self.start:
            out["start"] = self.start.isoformat()
        if self.end:
            out["end"] = self.end.isoformat()
        if self.indication:
            out["indication"] = self.indication
        return out


class FilterError(ValueError):
    """A dashboard filter cannot be read; the message says what to fix."""


def parse_filters(params: Mapping[str, Any]) -> Filters:
    """Read the filters from a query string, refusing a bad date or a reversed range with a clear message."""
    values: dict[str, Any] = {}
    for name, label in (("start", "From"), ("end", "To")):
        text = (params.get(name) or "").strip()
        if text:
            try:
                values[name] = date.fromisoformat(text)
            except ValueError:
                raise FilterError(f"{label} date '{text}' is not a date: use YYYY-MM-DD, e.g. 2026-01-31.") from None
    if values.get("start") and values.get("end") and values["start"] > values["end"]:
        raise FilterError("The 'from' date is after the 'to' date: swap them.")
    indication = (params.get("indication") or "").strip()
    if len(indication) > 200:
        raise FilterError("The indication is too long (200 characters at most).")
    return Filters(values.get("start"), values.get("end"), indication)


# --- SQL ---------------------------------------------------------------------------------------------------------


def _t(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _json_text(column: str, index: int, key: str) -> str:
    if connection.vendor == "postgresql":
        return f"({column} -> {index} ->> '{key}')"
    return f"json_extract({column}, '$[{index}].{key}')"


def responder_sql(base: str, score: str, rule: ResponderRule = DEFAULT_RESPONDER_RULE) -> tuple[str, list[float]]:
    """The SQL test 'score has reached the MCID from base' for the primary instrument, and its parameters."""
    criteria = analytics.responder_criteria(scoring_instrument(PRIMARY), rule)
    improvement = f"({base} - {score})" if criteria.higher_is_worse else f"({score} - {base})"
    terms: list[str] = []
    params: list[float] = []
    if criteria.absolute is not None:
        terms.append(f"{improvement} >= %s")
        params.append(float(criteria.absolute))
    if criteria.percent is not None:
        # Percent of a baseline of 0 is not computable: left out of 'either'/'both', never met under 'percent'.
        if criteria.absolute is not None and criteria.need_all:
            terms.append(f"({base} = 0 OR {improvement} * 100 >= %s * {base})")
        else:
            terms.append(f"({base} <> 0 AND {improvement} * 100 >= %s * {base})")
        params.append(float(criteria.percent))
    if not terms:
        return "1 = 0", []
    return "(" + (" AND " if criteria.need_all else " OR ").join(terms) + ")", params


def _course_where(clinic: Any, filters: Filters, alias: str = "c", *, kept: bool = False) -> tuple[str, list[Any]]:
    """The dashboard's filters on courses (alias `c`), or with `kept` on their CourseFacts rows (a course entered in
    error has none, so no test for it)."""
    where = [f"{alias}.clinic_id = %s"] + ([] if kept else [f"{alias}.entered_in_error_at IS NULL"])
    params: list[Any] = [clinic.pk]
    if filters.start:
        where.append(f"{alias}.started_on >= %s")
        params.append(filters.start)
    if filters.end:
        where.append(f"{alias}.started_on <= %s")
        params.append(filters.end)
    if filters.indication:
        where.append(f"{alias}.indication = %s")
        params.append(filters.indication)
    return " AND ".join(where), params


# A completed, scored answer not entered in error (and the same of the answers aliased `r`).
ANSWERED = "status = 'completed' AND entered_in_error_at IS NULL AND score IS NOT NULL"
ANSWERED_R = "r." + ANSWERED.replace(" AND ", " AND r.")


def _window_answer_ctes(clinic: Any) -> tuple[str, list[Any]]:
    """ranked, ends: each course's first and latest primary answer, its latest PGIC, and the day its primary score
    first reached the MCID from the first.

    One pass over the clinic's answers of the two instruments, in (authored_on, id) order within each course and
    instrument (one sort, or an index walk): the first score, the latest, the count, and every later answer tested
    against the first. Then one row per course and instrument. (An earlier version grouped the answers, then joined
    them back by id twice and once more for the MCID day: PostgreSQL misjudged the grouped rows and took 10 s at
    25,000 patients; docs/PERFORMANCE.md.)"""
    responses = _t(QuestionnaireResponse)
    reached_test, reached_params = responder_sql("base", "score")
    sql = f"""ranked AS (
        SELECT course_id, instrument, score, authored_on,
               ROW_NUMBER() OVER w AS up,
               COUNT(*) OVER whole AS n,
               FIRST_VALUE(score) OVER w AS base,
               LAST_VALUE(score) OVER whole AS last
        FROM {responses}
        WHERE clinic_id = %s AND instrument IN (%s, %s) AND {ANSWERED} AND course_id IS NOT NULL
        WINDOW w AS (PARTITION BY course_id, instrument ORDER BY authored_on, id),
               whole AS (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
    ),
    ends AS (
        SELECT course_id, instrument, MAX(n) AS n, MAX(base) AS base, MAX(last) AS last,
               MIN(CASE WHEN instrument = %s AND up > 1 AND {reached_test} THEN authored_on END) AS reached_day
        FROM ranked GROUP BY course_id, instrument
    )"""
    return sql, [clinic.pk, PRIMARY, PGIC, PRIMARY, *reached_params]


def _solution_cte() -> str:
    """The `solution` CTE of both forms of the facts (one parameter: the clinic): each course's dextrose strength of
    its first solution. Grouped (one row per course) so the join after it gets an index instead of scanning every
    solution; the JSON is read only for each course's first solution, after ranking."""
    sessions, solutions = _t(TreatmentSession), _t(PreparedSolution)
    dextrose = (
        f"COALESCE(CASE WHEN {_json_text('s.components', 0, 'agent')} = 'dextrose' "
        f"THEN {_json_text('s.components', 0, 'target_pct')} END, "
        f"CASE WHEN {_json_text('s.components', 1, 'agent')} = 'dextrose' "
        f"THEN {_json_text('s.components', 1, 'target_pct')} END)"
    )
    return f"""solution AS (
        SELECT ranked.course_id, MAX({dextrose}) AS dextrose FROM (
            SELECT t.course_id, s.id,
                   ROW_NUMBER() OVER (PARTITION BY t.course_id ORDER BY t.number, s.label, s.id) AS rank
            FROM {solutions} s JOIN {sessions} t ON t.id = s.session_id
            WHERE s.clinic_id = %s AND s.entered_in_error_at IS NULL AND t.entered_in_error_at IS NULL
        ) ranked JOIN {solutions} s ON s.id = ranked.id WHERE ranked.rank = 1 GROUP BY ranked.course_id
    )"""


def _window_session_ctes(clinic: Any) -> tuple[str, list[Any]]:
    """done, solution: each course's sessions done (and of those, the ones before the day it reached the MCID), and
    the dextrose strength of its first solution."""
    sessions = _t(TreatmentSession)
    sql = f"""done AS (
        SELECT t.course_id, COUNT(*) AS done,
               SUM(CASE WHEN t.planned_on < p.reached_day THEN 1 ELSE 0 END) AS before_mcid
        FROM {sessions} t LEFT JOIN ends p ON p.course_id = t.course_id AND p.instrument = %s
        WHERE t.clinic_id = %s AND t.status = 'done' AND t.entered_in_error_at IS NULL GROUP BY t.course_id
    ),
    {_solution_cte()}"""
    return sql, [PRIMARY, clinic.pk, clinic.pk]


def _window_course_facts(clinic: Any, filters: Filters) -> tuple[str, list[Any]]:
    """facts: one row per course in the filter with its groupings, responder verdict (1, 0 or NULL) and, when it
    reached the MCID, the sessions done before that day (`to_mcid`)."""
    test, test_params = responder_sql("p.base", "p.last")
    course_where, course_params = _course_where(clinic, filters)
    sql = f"""facts AS (
        SELECT c.id, c.indication, c.status, c.clinician_id,
               COALESCE(NULLIF(c.protocol_name, ''), %s) AS protocol,
               COALESCE(CAST(sol.dextrose AS VARCHAR(20)), %s) AS solution,
               COALESCE(d.done, 0) AS done,
               CASE WHEN p.n >= 2 THEN (CASE WHEN {test} THEN 1 ELSE 0 END)
                    WHEN g.last IS NOT NULL THEN (CASE WHEN g.last IN (1, 2) THEN 1 ELSE 0 END)
               END AS responder,
               CASE WHEN p.reached_day IS NOT NULL THEN COALESCE(d.before_mcid, 0) END AS to_mcid
        FROM {_t(Course)} c
        LEFT JOIN ends p ON p.course_id = c.id AND p.instrument = %s
        LEFT JOIN ends g ON g.course_id = c.id AND g.instrument = %s
        LEFT JOIN done d ON d.course_id = c.id
        LEFT JOIN solution sol ON sol.course_id = c.id
        WHERE {course_where}
    )"""
    return sql, [NO_PROTOCOL, NOT_RECORDED, *test_params, PRIMARY, PGIC, *course_params]


def _window_facts_cte(clinic: Any, filters: Filters) -> tuple[str, list[Any]]:
    """WITH ... facts: one row per course in the filter with its responder verdict (1, 0 or NULL), groupings and the
    sessions done before its first answer at the MCID (NULL when it never reached it)."""
    parts = [_window_answer_ctes(clinic), _window_session_ctes(clinic), _window_course_facts(clinic, filters)]
    sql = "\n    WITH " + ",\n    ".join(part for part, _ in parts) + "\n    "
    return sql, [value for _, params in parts for value in params]


# The same facts for SQLite: grouped answers joined back by id (SQLite walks each course's few answers through the
# course_id index faster than it sorts them for window functions: 0.53-0.69 s of CPU for the whole dashboard at
# 10,000 patients against 0.77-0.90 s with the window pass; docs/PERFORMANCE.md). Both give the same figures
# (analytics/tests/test_same_facts.py runs both plans on both databases).


def _joined_answer_ctes(clinic: Any) -> tuple[str, list[Any]]:
    """days, ends, pair, pgic: each course's first and latest primary answer, and its latest PGIC.

    First and latest in (authored_on, id) order, by grouping rather than window functions: a GROUP BY over the
    clinic's answers, then each course's few answers through the course_id index."""
    responses = _t(QuestionnaireResponse)
    sql = f"""days AS (
        SELECT course_id, instrument, MIN(authored_on) AS first_day, MAX(authored_on) AS last_day, COUNT(*) AS n
        FROM {responses}
        WHERE clinic_id = %s AND instrument IN (%s, %s) AND {ANSWERED} AND course_id IS NOT NULL
        GROUP BY course_id, instrument
    ),
    ends AS (
        SELECT d.course_id, d.instrument, d.n,
               MIN(CASE WHEN r.authored_on = d.first_day THEN r.id END) AS first_id,
               MAX(CASE WHEN r.authored_on = d.last_day THEN r.id END) AS last_id
        FROM days d JOIN {responses} r ON r.course_id = d.course_id AND r.instrument = d.instrument
        WHERE {ANSWERED_R}
        GROUP BY d.course_id, d.instrument, d.n
    ),
    pair AS (
        -- Grouped although one row per course already: a grouped result gets an index for the joins below.
        SELECT e.course_id, MAX(e.n) AS n, MAX(e.first_id) AS first_id, MAX(f.score) AS base, MAX(l.score) AS last
        FROM ends e JOIN {responses} f ON f.id = e.first_id JOIN {responses} l ON l.id = e.last_id
        WHERE e.instrument = %s GROUP BY e.course_id
    ),
    pgic AS (
        SELECT e.course_id, MAX(l.score) AS score FROM ends e JOIN {responses} l ON l.id = e.last_id
        WHERE e.instrument = %s GROUP BY e.course_id
    )"""
    return sql, [clinic.pk, PRIMARY, PGIC, PRIMARY, PGIC]


def _joined_session_ctes(clinic: Any) -> tuple[str, list[Any]]:
    """done, solution: each course's sessions done, and the dextrose strength of its first solution."""
    sessions = _t(TreatmentSession)
    sql = f"""done AS (
        SELECT course_id, COUNT(*) AS done FROM {sessions}
        WHERE clinic_id = %s AND status = 'done' AND entered_in_error_at IS NULL GROUP BY course_id
    ),
    {_solution_cte()}"""
    return sql, [clinic.pk, clinic.pk]


def _joined_course_facts(clinic: Any, filters: Filters) -> tuple[str, list[Any]]:
    """facts: one row per course in the filter with its groupings and responder verdict (1, 0 or NULL)."""
    test, test_params = responder_sql("p.base", "p.last")
    course_where, course_params = _course_where(clinic, filters)
    sql = f"""facts AS (
        SELECT c.id, c.indication, c.status, c.clinician_id,
               COALESCE(NULLIF(c.protocol_name, ''), %s) AS protocol,
               COALESCE(CAST(sol.dextrose AS VARCHAR(20)), %s) AS solution,
               COALESCE(d.done, 0) AS done,
               CASE WHEN p.n >= 2 THEN (CASE WHEN {test} THEN 1 ELSE 0 END)
                    WHEN g.score IS NOT NULL THEN (CASE WHEN g.score IN (1, 2) THEN 1 ELSE 0 END)
               END AS responder
        FROM {_t(Course)} c
        LEFT JOIN pair p ON p.course_id = c.id
        LEFT JOIN pgic g ON g.course_id = c.id
        LEFT JOIN done d ON d.course_id = c.id
        LEFT JOIN solution sol ON sol.course_id = c.id
        WHERE {course_where}
    )"""
    return sql, [NO_PROTOCOL, NOT_RECORDED, *test_params, *course_params]


def _joined_reached_ctes(clinic: Any, filters: Filters) -> tuple[str, list[Any]]:
    """reached, counted: the day each course first reached the MCID, and the sessions done before it."""
    reached_test, reached_params = responder_sql("p.base", "r.score")
    course_where, course_params = _course_where(clinic, filters)
    sql = f"""reached AS (
        SELECT p.course_id, MIN(r.authored_on) AS day
        FROM pair p JOIN {_t(Course)} c ON c.id = p.course_id
        JOIN {_t(QuestionnaireResponse)} r ON r.course_id = p.course_id AND r.instrument = %s AND r.id <> p.first_id
        WHERE {course_where} AND {ANSWERED_R} AND {reached_test}
        GROUP BY p.course_id
    ),
    counted AS (
        SELECT r.course_id, COUNT(t.id) AS sessions
        FROM reached r LEFT JOIN {_t(TreatmentSession)} t
          ON t.course_id = r.course_id AND t.status = 'done' AND t.entered_in_error_at IS NULL AND t.planned_on < r.day
        GROUP BY r.course_id
    )"""
    return sql, [PRIMARY, *course_params, *reached_params]


def _joined_facts_cte(clinic: Any, filters: Filters) -> tuple[str, list[Any]]:
    """WITH ... facts, reached, counted: one row per course in the filter with its responder verdict (1, 0 or NULL)
    and groupings; the sessions done before the first answer at the MCID, per course that reached it."""
    parts = [
        _joined_answer_ctes(clinic),
        _joined_session_ctes(clinic),
        _joined_course_facts(clinic, filters),
        _joined_reached_ctes(clinic, filters),
    ]
    sql = "\n    WITH " + ",\n    ".join(part for part, _ in parts) + "\n    "
    return sql, [value for _, params in parts for value in params]


# The kept facts (analytics/facts.py): one row per course, written by the services with every change to its sources.


def _stored_facts_cte(clinic: Any, filters: Filters) -> tuple[str, list[Any]]:
    """WITH facts: the courses' kept facts in the shape of the other two plans' `facts` (with `to_mcid`)."""
    where, params = _course_where(clinic, filters, "f", kept=True)
    sql = f"""
    WITH facts AS (
        SELECT f.course_id AS id, f.indication, f.status, f.clinician_id,
               COALESCE(NULLIF(f.protocol_name, ''), %s) AS protocol,
               COALESCE(f.dextrose, %s) AS solution,
               f.sessions_done AS done, f.responder, f.sessions_to_mcid AS to_mcid
        FROM {_t(CourseFacts)} f WHERE {where}
    )
    """
    return sql, [NO_PROTOCOL, NOT_RECORDED, *params]


STORED, WINDOW, JOINED = "stored", "window", "joined"
FACTS_CTE = {STORED: _stored_facts_cte, WINDOW: _window_facts_cte, JOINED: _joined_facts_cte}


def _facts_cte(clinic: Any, filters: Filters, how: str | None = None) -> tuple[str, list[Any]]:
    """WITH ... facts (id, indication, status, clinician_id, protocol, solution, done, responder, ...): the kept facts,
    or one of the two plans that compute them from the sources (the researchers' figures read it too,
    analytics/research.py)."""
    return FACTS_CTE[how or plan()](clinic, filters)


def _fetch(sql: str, params: list[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


GROUP_KEYS = {
    "all": "'all'",
    "indication": "indication",
    "protocol": "protocol",
    "solution": "solution",
    "clinician": "CAST(COALESCE(clinician_id, 0) AS VARCHAR(20))",
    "sessions": "CAST(done AS VARCHAR(20))",
}


def plan() -> str:
    """The kept facts, on both databases. The two plans that compute the figures from the sources stay as the
    reference the tests compare with (analytics/tests/test_same_facts.py) and for bench/dashboard_explain.py --plan:
    one window pass (written for PostgreSQL), grouped joins (SQLite's before the kept facts)."""
    return STORED


def grouped(
    clinic: Any, filters: Filters, how: str | None = None
) -> tuple[dict[str, dict[str, tuple[int, int, int]]], dict[int, int]]:
    """In one statement: {dimension: {key: (responders, evaluable, courses)}} and {sessions to MCID: courses}."""
    how = how or plan()
    cte, params = _facts_cte(clinic, filters, how)
    # 'all' is one row over every course (PostgreSQL refuses GROUP BY a constant).
    parts = [
        f"SELECT '{dim}' AS dim, {expr} AS k, COALESCE(SUM(responder), 0), COUNT(responder), COUNT(*) FROM facts"
        + ("" if dim == "all" else f" GROUP BY {expr}")
        for dim, expr in GROUP_KEYS.items()
    ]
    if how in (WINDOW, STORED):
        parts.append(
            "SELECT 'mcid', CAST(to_mcid AS VARCHAR(20)), 0, 0, COUNT(*) FROM facts WHERE to_mcid IS NOT NULL "
            "GROUP BY to_mcid"
        )
    else:
        parts.append("SELECT 'mcid', CAST(sessions AS VARCHAR(20)), 0, 0, COUNT(*) FROM counted GROUP BY sessions")
    groups: dict[str, dict[str, tuple[int, int, int]]] = {dim: {} for dim in GROUP_KEYS}
    mcid: dict[int, int] = {}
    for dim, key, responders, evaluable, total in _fetch(cte + " UNION ALL ".join(parts), params):
        if dim == "mcid":
            mcid[int(key)] = int(total)
        else:
            groups[dim][str(key)] = (int(responders), int(evaluable), int(total))
    return groups, mcid


def responder_groups(clinic: Any, filters: Filters) -> dict[str, dict[str, tuple[int, int, int]]]:
    """{dimension: {key: (responders, evaluable, courses)}}."""
    return grouped(clinic, filters)[0]


def sessions_to_mcid_counts(clinic: Any, filters: Filters) -> dict[int, int]:
    """{sessions done before the first follow-up pain score at the MCID: number of courses}."""
    return grouped(clinic, filters)[1]


def funnel_counts(clinic: Any, filters: Filters, how: str | None = None) -> dict[str, int]:
    """Courses planned, started (a session done), completed, stopped, with a no-show. On PostgreSQL the sessions are
    counted per course in one grouped pass and joined, not probed course by course (a subquery per course: 88,000
    probes at 44,000 courses); SQLite probes its index faster than it groups."""
    how = how or plan()
    if how == JOINED:
        return _probed_funnel_counts(clinic, filters)
    if how == STORED:
        return _stored_funnel_counts(clinic, filters)
    where, params = _course_where(clinic, filters)
    sql = f"""
    SELECT COUNT(*),
           SUM(CASE WHEN s.done > 0 THEN 1 ELSE 0 END),
           SUM(CASE WHEN c.status = 'completed' THEN 1 ELSE 0 END),
           SUM(CASE WHEN c.status = 'stopped' THEN 1 ELSE 0 END),
           SUM(CASE WHEN s.no_show > 0 THEN 1 ELSE 0 END)
    FROM {_t(Course)} c LEFT JOIN (
        SELECT course_id, SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END) AS done,
               SUM(CASE WHEN status = 'no_show' THEN 1 ELSE 0 END) AS no_show
        FROM {_t(TreatmentSession)}
        WHERE clinic_id = %s AND status IN ('done', 'no_show') AND entered_in_error_at IS NULL GROUP BY course_id
    ) s ON s.course_id = c.id
    WHERE {where}
    """
    row = _fetch(sql, [clinic.pk, *params])[0]
    return dict(zip(("planned", "started", "completed", "stopped", "no_show"), (int(v or 0) for v in row), strict=True))


def completion_counts(clinic: Any, filters: Filters, today: date, how: str | None = None) -> dict[str, tuple[int, int]]:
    """{timepoint kind: (answered, due)}: required timepoints due by today in courses not stopped. On PostgreSQL the
    answered timepoints are one grouped pass over the clinic's completed answers, joined (not one probe per timepoint);
    SQLite probes."""
    how = how or plan()
    if how == JOINED:
        return _probed_completion_counts(clinic, filters, today)
    if how == STORED:
        return _stored_completion_counts(clinic, filters, today)
    where, params = _course_where(clinic, filters)
    sql = f"""
    SELECT tp.kind, COUNT(*), COUNT(a.timepoint_id)
    FROM {_t(CourseTimepoint)} tp JOIN {_t(Course)} c ON c.id = tp.course_id
    LEFT JOIN (
        SELECT timepoint_id FROM {_t(QuestionnaireResponse)}
        WHERE clinic_id = %s AND timepoint_id IS NOT NULL AND status = 'completed' AND entered_in_error_at IS NULL
        GROUP BY timepoint_id
    ) a ON a.timepoint_id = tp.id
    WHERE {where} AND c.status <> 'stopped' AND tp.optional = %s AND tp.entered_in_error_at IS NULL
      AND tp.due_on <= %s
    GROUP BY tp.kind
    """
    rows = _fetch(sql, [clinic.pk, *params, False, today])
    return {kind: (int(answered or 0), int(due)) for kind, due, answered in rows}


def _probed_funnel_counts(clinic: Any, filters: Filters) -> dict[str, int]:
    where, params = _course_where(clinic, filters)
    sessions = _t(TreatmentSession)
    sql = f"""
    SELECT COUNT(*),
           SUM(CASE WHEN EXISTS (SELECT 1 FROM {sessions} t WHERE t.course_id = c.id AND t.status = 'done'
                                 AND t.entered_in_error_at IS NULL) THEN 1 ELSE 0 END),
           SUM(CASE WHEN c.status = 'completed' THEN 1 ELSE 0 END),
           SUM(CASE WHEN c.status = 'stopped' THEN 1 ELSE 0 END),
           SUM(CASE WHEN EXISTS (SELECT 1 FROM {sessions} t WHERE t.course_id = c.id AND t.status = 'no_show'
                                 AND t.entered_in_error_at IS NULL) THEN 1 ELSE 0 END)
    FROM {_t(Course)} c WHERE {where}
    """
    row = _fetch(sql, params)[0]
    return dict(zip(("planned", "started", "completed", "stopped", "no_show"), (int(v or 0) for v in row), strict=True))


def _probed_completion_counts(clinic: Any, filters: Filters, today: date) -> dict[str, tuple[int, int]]:
    """{timepoint kind: (answered, due)}: required timepoints due by today in courses not stopped."""
    where, params = _course_where(clinic, filters)
    sql = f"""
    SELECT tp.kind, COUNT(*),
           SUM(CASE WHEN EXISTS (SELECT 1 FROM {_t(QuestionnaireResponse)} r WHERE r.timepoint_id = tp.id
                                 AND r.status = 'completed' AND r.entered_in_error_at IS NULL) THEN 1 ELSE 0 END)
    FROM {_t(CourseTimepoint)} tp JOIN {_t(Course)} c ON c.id = tp.course_id
    WHERE {where} AND c.status <> 'stopped' AND tp.optional = %s AND tp.entered_in_error_at IS NULL
      AND tp.due_on <= %s
    GROUP BY tp.kind
    """
    return {kind: (int(answered or 0), int(due)) for kind, due, answered in _fetch(sql, [*params, False, today])}


def _stored_funnel_counts(clinic: Any, filters: Filters) -> dict[str, int]:
    where, params = _course_where(clinic, filters, "f", kept=True)
    sql = f"""
    SELECT COUNT(*),
           SUM(CASE WHEN f.sessions_done > 0 THEN 1 ELSE 0 END),
           SUM(CASE WHEN f.status = 'completed' THEN 1 ELSE 0 END),
           SUM(CASE WHEN f.status = 'stopped' THEN 1 ELSE 0 END),
           SUM(CASE WHEN f.no_shows > 0 THEN 1 ELSE 0 END)
    FROM {_t(CourseFacts)} f WHERE {where}
    """
    row = _fetch(sql, params)[0]
    return dict(zip(("planned", "started", "completed", "stopped", "no_show"), (int(v or 0) for v in row), strict=True))


def _stored_completion_counts(clinic: Any, filters: Filters, today: date) -> dict[str, tuple[int, int]]:
    """Every required timepoint of the courses (their kept counts by kind), less those due after `today` (read by
    date through the TimepointFacts index, so only the timepoints still to come are read)."""
    where, params = _course_where(clinic, filters, "f", kept=True)
    sums = ", ".join(f"SUM(f.{due}), SUM(f.{answered})" for due, answered in KIND_COLUMNS.values())
    whole_sql = f"SELECT {sums} FROM {_t(CourseFacts)} f WHERE {where} AND f.status <> 'stopped'"
    later_sql = f"""
    SELECT t.kind, COUNT(*), SUM(CASE WHEN t.answered THEN 1 ELSE 0 END)
    FROM {_t(TimepointFacts)} t JOIN {_t(CourseFacts)} f ON f.course_id = t.course_id
    WHERE t.clinic_id = %s AND t.due_on > %s AND {where} AND f.status <> 'stopped'
    GROUP BY t.kind
    """
    whole = _fetch(whole_sql, params)[0]
    counts = {kind: [int(whole[2 * i + 1] or 0), int(whole[2 * i] or 0)] for i, kind in enumerate(KIND_COLUMNS)}
    for kind, later, answered in _fetch(later_sql, [clinic.pk, today, *params]):
        counts[kind][0] -= int(answered or 0)
        counts[kind][1] -= int(later)
    return {kind: (answered, due) for kind, (answered, due) in counts.items() if due}


def adverse_event_counts(clinic: Any, filters: Filters, how: str | None = None) -> tuple[int, dict[str, int]]:
    """(sessions done, {event type: sessions with at least one event of that type})."""
    if (how or plan()) == STORED:
        where, params = _course_where(clinic, filters, "f", kept=True)
        done_sql = f"SELECT SUM(f.sessions_done) FROM {_t(CourseFacts)} f WHERE {where}"
        by_type_sql = f"""
        SELECT e.event_type, SUM(e.sessions) FROM {_t(CourseEventFacts)} e
        JOIN {_t(CourseFacts)} f ON f.course_id = e.course_id WHERE {where} GROUP BY e.event_type
        """
        done = int(_fetch(done_sql, params)[0][0] or 0)
        return done, {kind: int(n) for kind, n in _fetch(by_type_sql, params)}
    where, params = _course_where(clinic, filters)
    sessions = _t(TreatmentSession)
    done_sql = f"""
    SELECT COUNT(*) FROM {sessions} t JOIN {_t(Course)} c ON c.id = t.course_id
    WHERE {where} AND t.status = 'done' AND t.entered_in_error_at IS NULL
    """
    by_type_sql = f"""
    SELECT e.event_type, COUNT(DISTINCT e.session_id)
    FROM {_t(AdverseEvent)} e JOIN {sessions} t ON t.id = e.session_id JOIN {_t(Course)} c ON c.id = t.course_id
    WHERE {where} AND t.status = 'done' AND t.entered_in_error_at IS NULL AND e.entered_in_error_at IS NULL
    GROUP BY e.event_type
    """
    done = int(_fetch(done_sql, params)[0][0])
    return done, {kind: int(n) for kind, n in _fetch(by_type_sql, params)}


def indications(clinic: Any) -> list[str]:
    """The indications of the clinic's courses (not entered in error: those with kept facts)."""
    return list(
        CourseFacts.objects.filter(clinic=clinic).values_list("indication", flat=True).distinct().order_by("indication")
    )


# --- The dashboard -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    rate: analytics.Proportion
    courses: int


@dataclass
class Dashboard:
    filters: Filters
    today: date
    overall: analytics.Proportion
    courses: int
    groups: dict[str, list[Row]]
    median_sessions_to_mcid: Any
    mcid_distribution: dict[int, int]
    reached_mcid: int
    completion: dict[str, analytics.Proportion]
    sessions_done: int
    adverse_events: dict[str, analytics.Proportion]
    funnel: tuple[analytics.FunnelStage, ...]
    min_cell: int = analytics.MIN_CELL
    hidden: dict[str, int] = field(default_factory=dict)


KIND_LABELS = dict(TimepointKind.choices)
EVENT_LABELS = dict(AdverseEventType.choices)


def _labels(dim: str, keys: list[str]) -> dict[str, str]:
    if dim == "clinician":
        ids = [int(k) for k in keys if k.isdigit() and k != "0"]
        names = {str(u.pk): (u.get_full_name() or u.username) for u in User.objects.filter(pk__in=ids).order_by("pk")}
        return {k: names.get(k, "No clinician recorded") for k in keys}
    if dim == "solution":
        return {k: k if k == NOT_RECORDED else f"{k}% dextrose" for k in keys}
    if dim == "sessions":
        return {k: f"{k} session{'s' if k != '1' else ''}" for k in keys}
    return {k: k for k in keys}


def _sort_key(dim: str, key: str) -> Any:
    if dim in ("sessions", "solution"):
        try:
            return (0, float(key), key)
        except ValueError:
            return (1, 0.0, key)
    return (0, 0.0, key.lower())


def dashboard(clinic: Any, filters: Filters, today: date) -> Dashboard:
    """Every figure of the dashboard for one clinic and filter."""
    groups_raw, mcid = grouped(clinic, filters)
    everything = groups_raw.pop("all").get("all", (0, 0, 0))
    groups: dict[str, list[Row]] = {}
    hidden: dict[str, int] = {}
    for dim, _label in DIMENSIONS:
        cells = groups_raw.get(dim, {})
        labels = _labels(dim, list(cells))
        rows = [
            Row(key, labels[key], analytics.proportion(responders, evaluable), total)
            for key, (responders, evaluable, total) in sorted(cells.items(), key=lambda i: _sort_key(dim, i[0]))
        ]
        groups[dim] = rows
        hidden[dim] = sum(1 for r in rows if r.rate.suppressed)
    due = completion_counts(clinic, filters, today)
    done, events = adverse_event_counts(clinic, filters)
    kinds = [k for k, _ in TimepointKind.choices if k in due]
    completion = {k: analytics.proportion(*due[k]) for k in kinds}
    answered_all = sum(a for a, _ in due.values())
    due_all = sum(d for _, d in due.values())
    completion["all"] = analytics.proportion(answered_all, due_all)
    adverse = {kind: analytics.proportion(n, done) for kind, n in sorted(events.items(), key=lambda i: (-i[1], i[0]))}
    return Dashboard(
        filters=filters,
        today=today,
        overall=analytics.proportion(everything[0], everything[1]),
        courses=everything[2],
        groups=groups,
        median_sessions_to_mcid=analytics.median_from_counts(mcid)
        if sum(mcid.values()) >= analytics.MIN_CELL
        else None,
        mcid_distribution=mcid,
        reached_mcid=sum(mcid.values()),
        completion=completion,
        sessions_done=done,
        adverse_events=adverse,
        funnel=analytics.funnel(funnel_counts(clinic, filters)),
        hidden=hidden,
    )


# The page's nine chart images and its downloads each need the same figures: computed once, kept this long.
CACHE_SECONDS = 60


def cached_dashboard(clinic: Any, filters: Filters, today: date) -> Dashboard:
    """The dashboard's figures, reused for CACHE_SECONDS by the page's charts and downloads."""
    parts = repr((clinic.pk, filters.start, filters.end, filters.indication, today)).encode()
    key = "analytics.dashboard:" + hashlib.sha256(parts).hexdigest()
    board = cache.get(key)
    if board is None:
        board = dashboard(clinic, filters, today)
        cache.set(key, board, CACHE_SECONDS)
    return board


def as_json(board: Dashboard) -> dict[str, Any]:
    """The dashboard's figures as plain JSON values (suppressed cells carry no numbers)."""
    return {
        "filters": {
            "start": board.filters.start,
            "end": board.filters.end,
            "indication": board.filters.indication or None,
        },
        "min_cell": board.min_cell,
        "confidence": analytics.CONFIDENCE,
        "ci_method": "wilson",
        "courses": board.courses,
        "responders": board.overall.as_dict(),
        "responders_by": {
            dim: [{"key": r.key, "label": r.label, **r.rate.as_dict()} for r in rows]
            for dim, rows in board.groups.items()
        },
        "sessions_to_mcid": {
            "median": None if board.median_sessions_to_mcid is None else float(board.median_sessions_to_mcid),
            "courses": board.reached_mcid if board.reached_mcid >= board.min_cell else None,
            "distribution": [
                {"sessions": k, "courses": v if v >= board.min_cell else None, "suppressed": v < board.min_cell}
                for k, v in sorted(board.mcid_distribution.items())
            ],
        },
        "completion": [{"kind": k, **p.as_dict()} for k, p in board.completion.items()],
        "sessions_done": board.sessions_done,
        "adverse_events": [
            {"event_type": k, "label": EVENT_LABELS.get(k, k), **p.as_dict()} for k, p in board.adverse_events.items()
        ],
        "funnel": [s.as_dict() for s in board.funnel],
    }
