# ruff: noqa: S608 -- as in analytics/queries.py: only table names and fixed fragments are interpolated.
"""The dashboard's statements as they were before the rewrite for PostgreSQL at network size (commit da3b55e), kept
verbatim as the reference the new ones must equal (test_same_facts.py). Not used by the app."""

from datetime import date
from typing import Any

from prolotrack.analytics.queries import (
    ANSWERED,
    ANSWERED_R,
    NO_PROTOCOL,
    NOT_RECORDED,
    Filters,
    _course_where,
    _fetch,
    _json_text,
    _t,
    responder_sql,
)
from prolotrack.outcomes.models import QuestionnaireResponse
from prolotrack.outcomes.trajectory import PGIC, PRIMARY
from prolotrack.treatment.models import Course, CourseTimepoint, PreparedSolution, TreatmentSession


def _answer_ctes(clinic: Any) -> tuple[str, list[Any]]:
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


def _session_ctes(clinic: Any) -> tuple[str, list[Any]]:
    """done, solution: each course's sessions done, and the dextrose strength of its first solution."""
    sessions, solutions = _t(TreatmentSession), _t(PreparedSolution)
    dextrose = (
        f"COALESCE(CASE WHEN {_json_text('s.components', 0, 'agent')} = 'dextrose' "
        f"THEN {_json_text('s.components', 0, 'target_pct')} END, "
        f"CASE WHEN {_json_text('s.components', 1, 'agent')} = 'dextrose' "
        f"THEN {_json_text('s.components', 1, 'target_pct')} END)"
    )
    sql = f"""done AS (
        SELECT course_id, COUNT(*) AS done FROM {sessions}
        WHERE clinic_id = %s AND status = 'done' AND entered_in_error_at IS NULL GROUP BY course_id
    ),
    solution AS (
        -- Grouped (one row per course) so the join below gets an index instead of scanning every solution.
        -- The JSON is read only for each course's first solution, after ranking.
        SELECT ranked.course_id, MAX({dextrose}) AS dextrose FROM (
            SELECT t.course_id, s.id,
                   ROW_NUMBER() OVER (PARTITION BY t.course_id ORDER BY t.number, s.label, s.id) AS rank
            FROM {solutions} s JOIN {sessions} t ON t.id = s.session_id
            WHERE s.clinic_id = %s AND s.entered_in_error_at IS NULL AND t.entered_in_error_at IS NULL
        ) ranked JOIN {solutions} s ON s.id = ranked.id WHERE ranked.rank = 1 GROUP BY ranked.course_id
    )"""
    return sql, [clinic.pk, clinic.pk]


def _course_facts(clinic: Any, filters: Filters) -> tuple[str, list[Any]]:
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


def _reached_ctes(clinic: Any, filters: Filters) -> tuple[str, list[Any]]:
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


def _facts_cte(clinic: Any, filters: Filters) -> tuple[str, list[Any]]:
    """WITH ... facts, reached, counted: one row per course in the filter with its responder verdict (1, 0 or NULL)
    and groupings; the sessions done before the first answer at the MCID, per course that reached it."""
    parts = [
        _answer_ctes(clinic),
        _session_ctes(clinic),
        _course_facts(clinic, filters),
        _reached_ctes(clinic, filters),
    ]
    sql = "\n    WITH " + ",\n    ".join(part for part, _ in parts) + "\n    "
    return sql, [value for _, params in parts for value in params]


OLD_GROUP_KEYS = {
    "all": "'all'",
    "indication": "indication",
    "protocol": "protocol",
    "solution": "solution",
    "clinician": "CAST(COALESCE(clinician_id, 0) AS VARCHAR(20))",
    "sessions": "CAST(done AS VARCHAR(20))",
}


def old_grouped(clinic: Any, filters: Filters) -> tuple[dict[str, dict[str, tuple[int, int, int]]], dict[int, int]]:
    """In one statement: {dimension: {key: (responders, evaluable, courses)}} and {sessions to MCID: courses}."""
    cte, params = _facts_cte(clinic, filters)
    # 'all' is one row over every course (PostgreSQL refuses GROUP BY a constant).
    parts = [
        f"SELECT '{dim}' AS dim, {expr} AS k, COALESCE(SUM(responder), 0), COUNT(responder), COUNT(*) FROM facts"
        + ("" if dim == "all" else f" GROUP BY {expr}")
        for dim, expr in OLD_GROUP_KEYS.items()
    ]
    parts.append("SELECT 'mcid', CAST(sessions AS VARCHAR(20)), 0, 0, COUNT(*) FROM counted GROUP BY sessions")
    groups: dict[str, dict[str, tuple[int, int, int]]] = {dim: {} for dim in OLD_GROUP_KEYS}
    mcid: dict[int, int] = {}
    for dim, key, responders, evaluable, total in _fetch(cte + " UNION ALL ".join(parts), params):
        if dim == "mcid":
            mcid[int(key)] = int(total)
        else:
            groups[dim][str(key)] = (int(responders), int(evaluable), int(total))
    return groups, mcid


def old_funnel_counts(clinic: Any, filters: Filters) -> dict[str, int]:
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


def old_completion_counts(clinic: Any, filters: Filters, today: date) -> dict[str, tuple[int, int]]:
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
