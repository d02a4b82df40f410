# ruff: noqa: S608 -- the SQL text interpolates only table names from model metadata and fixed fragments; every
# value (clinic, course ids, instruments, thresholds) is a query parameter.
"""The dashboard's per-course facts (`CourseFacts`, `CourseEventFacts`), kept up to date by the services that write
their sources, rebuilt for a clinic in one set-based statement, and checked against a fresh recompute.

One statement computes the facts of a set of courses from their source rows (the course, its sessions, timepoints,
prepared solutions, adverse events and questionnaire answers), with the same definitions as the dashboard's earlier
statements (analytics/queries.py, the window plan). The same statement serves the three uses:

- `refresh_courses(clinic_id, course_ids)`: in the transaction of a write (called through the `treatment.course_changed`
  hook by the treatment and outcomes services), the courses' rows are deleted and recomputed, never incremented, so
  they cannot drift from their sources;
- `rebuild(clinic)`: every row of a clinic at once (`manage.py course_facts --rebuild`, bench/dataset.py);
- `check(clinic)`: recompute and compare with what is kept (`manage.py course_facts --check`, the tests).

Concurrency: each of them first holds the clinic's audit chain (`audit.services.hold_clinic_chain`), which every
audited write of the clinic holds from its first audit event to its commit. So a refresh runs after every other write
of the clinic has committed or before it starts, and its statement (a new snapshot under READ COMMITTED) sees them.
Docs: docs/DASHBOARD.md, "How the figures are kept".
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection

from prolotrack.analytics.models import KIND_COLUMNS, CourseEventFacts, CourseFacts, TimepointFacts
from prolotrack.analytics.queries import ANSWERED_R, _json_text, _t, responder_sql
from prolotrack.audit.services import hold_clinic_chain
from prolotrack.outcomes.models import QuestionnaireResponse
from prolotrack.outcomes.trajectory import PGIC, PRIMARY
from prolotrack.treatment.models import (
    AdverseEvent,
    Course,
    CourseTimepoint,
    PreparedSolution,
    TreatmentSession,
)

COLUMNS = (
    "course_id", "clinic_id", "started_on", "indication", "status", "clinician_id", "protocol_name", "dextrose",
    "sessions_done", "no_shows", "pain_answers", "pain_first", "pain_last", "pgic_last", "mcid_reached_on",
    "sessions_to_mcid", "responder",
    *(column for pair in KIND_COLUMNS.values() for column in pair),
)  # fmt: skip
EVENT_COLUMNS = ("course_id", "clinic_id", "event_type", "sessions")
TIMEPOINT_COLUMNS = ("timepoint_id", "course_id", "clinic_id", "kind", "due_on", "answered")


@dataclass(frozen=True)
class Scope:
    """Which courses a statement computes: a whole clinic, or some courses (by id)."""

    clinic_id: int | None = None
    course_ids: tuple[int, ...] = ()

    def where(self, alias: str, course_column: str = "course_id") -> tuple[str, list[Any]]:
        if self.clinic_id is not None:
            return f"{alias}.clinic_id = %s", [self.clinic_id]
        marks = ", ".join(["%s"] * len(self.course_ids))
        return f"{alias}.{course_column} IN ({marks})", list(self.course_ids)

    def answers_where(self) -> tuple[str, list[Any]]:
        """The answers of the scope's timepoints (a whole clinic: by the answer's clinic, as the dashboard did)."""
        if self.clinic_id is not None:
            return "r.clinic_id = %s", [self.clinic_id]
        marks = ", ".join(["%s"] * len(self.course_ids))
        inner = f"SELECT x.id FROM {_t(CourseTimepoint)} x WHERE x.course_id IN ({marks})"
        return f"r.timepoint_id IN ({inner})", list(self.course_ids)


def _answer_ctes(scope: Scope) -> tuple[str, list[Any]]:
    """ranked, ends: per course and instrument (NRS pain, PGIC), in (authored_on, id) order, the count, the first and
    latest score, and the first day a later NRS answer reached the MCID from the first (queries' window plan)."""
    where, params = scope.where("r")
    reached_test, reached_params = responder_sql("base", "score")
    sql = f"""ranked AS (
        SELECT r.course_id, r.instrument, r.score, r.authored_on,
               ROW_NUMBER() OVER w AS up,
               COUNT(*) OVER whole AS n,
               FIRST_VALUE(r.score) OVER w AS base,
               LAST_VALUE(r.score) OVER whole AS last
        FROM {_t(QuestionnaireResponse)} r
        WHERE {where} AND r.instrument IN (%s, %s) AND {ANSWERED_R} AND r.course_id IS NOT NULL
        WINDOW w AS (PARTITION BY r.course_id, r.instrument ORDER BY r.authored_on, r.id),
               whole AS (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
    ),
    ends AS (
        SELECT course_id, instrument, MAX(n) AS n, MAX(base) AS base, MAX(last) AS last,
               MIN(CASE WHEN instrument = %s AND up > 1 AND {reached_test} THEN authored_on END) AS reached_day
        FROM ranked GROUP BY course_id, instrument
    )"""
    return sql, [*params, PRIMARY, PGIC, PRIMARY, *reached_params]


def _session_ctes(scope: Scope) -> tuple[str, list[Any]]:
    """done, solution: sessions done (and before the MCID day) and no-shows per course; the dextrose target % of the
    course's first prepared solution (first session with a solution, first label)."""
    where, params = scope.where("t")
    solutions_where, solutions_params = scope.where("s") if scope.clinic_id is not None else scope.where("t")
    dextrose = (
        f"COALESCE(CASE WHEN {_json_text('s.components', 0, 'agent')} = 'dextrose' "
        f"THEN {_json_text('s.components', 0, 'target_pct')} END, "
        f"CASE WHEN {_json_text('s.components', 1, 'agent')} = 'dextrose' "
        f"THEN {_json_text('s.components', 1, 'target_pct')} END)"
    )
    sessions, solutions = _t(TreatmentSession), _t(PreparedSolution)
    sql = f"""done AS (
        SELECT t.course_id,
               SUM(CASE WHEN t.status = 'done' THEN 1 ELSE 0 END) AS done,
               SUM(CASE WHEN t.status = 'done' AND t.planned_on < p.reached_day THEN 1 ELSE 0 END) AS before_mcid,
               SUM(CASE WHEN t.status = 'no_show' THEN 1 ELSE 0 END) AS no_shows
        FROM {sessions} t LEFT JOIN ends p ON p.course_id = t.course_id AND p.instrument = %s
        WHERE {where} AND t.status IN ('done', 'no_show') AND t.entered_in_error_at IS NULL GROUP BY t.course_id
    ),
    solution AS (
        SELECT ranked.course_id, MAX({dextrose}) AS dextrose FROM (
            SELECT t.course_id, s.id,
                   ROW_NUMBER() OVER (PARTITION BY t.course_id ORDER BY t.number, s.label, s.id) AS rank
            FROM {solutions} s JOIN {sessions} t ON t.id = s.session_id
            WHERE {solutions_where} AND s.entered_in_error_at IS NULL AND t.entered_in_error_at IS NULL
        ) ranked JOIN {solutions} s ON s.id = ranked.id WHERE ranked.rank = 1 GROUP BY ranked.course_id
    )"""
    return sql, [PRIMARY, *params, *solutions_params]


def _answered_cte(scope: Scope) -> tuple[str, list[Any]]:
    """answered: the scope's timepoints with a completed answer (not entered in error)."""
    answers_where, answers_params = scope.answers_where()
    sql = f"""answered AS (
        SELECT r.timepoint_id FROM {_t(QuestionnaireResponse)} r
        WHERE {answers_where} AND r.timepoint_id IS NOT NULL AND r.status = 'completed'
          AND r.entered_in_error_at IS NULL
        GROUP BY r.timepoint_id
    )"""
    return sql, answers_params


def _timepoint_ctes(scope: Scope) -> tuple[str, list[Any]]:
    """answered, points: per course and kind, the required timepoints (not entered in error) and those with a
    completed answer."""
    where, params = scope.where("tp")
    answered_sql, answers_params = _answered_cte(scope)
    sums = []
    kinds: list[Any] = []
    for kind, (due, answered) in KIND_COLUMNS.items():
        sums.append(f"SUM(CASE WHEN tp.kind = %s THEN 1 ELSE 0 END) AS {due}")
        sums.append(f"SUM(CASE WHEN tp.kind = %s AND a.timepoint_id IS NOT NULL THEN 1 ELSE 0 END) AS {answered}")
        kinds += [kind, kind]
    sql = f"""{answered_sql},
    points AS (
        SELECT tp.course_id, {", ".join(sums)}
        FROM {_t(CourseTimepoint)} tp LEFT JOIN answered a ON a.timepoint_id = tp.id
        WHERE {where} AND tp.optional = %s AND tp.entered_in_error_at IS NULL GROUP BY tp.course_id
    )"""
    return sql, [*answers_params, *kinds, *params, False]


def facts_sql(scope: Scope) -> tuple[str, list[Any]]:
    """SELECT the CourseFacts rows (in COLUMNS order) of the scope's courses not entered in error."""
    parts = [_answer_ctes(scope), _session_ctes(scope), _timepoint_ctes(scope)]
    test, test_params = responder_sql("p.base", "p.last")
    where, params = scope.where("c", "id")
    counts = ", ".join(f"COALESCE(pt.{column}, 0)" for pair in KIND_COLUMNS.values() for column in pair)
    sql = (
        "WITH "
        + ",\n    ".join(part for part, _ in parts)
        + f"""
    SELECT c.id, c.clinic_id, c.started_on, c.indication, c.status, c.clinician_id, c.protocol_name,
           CAST(sol.dextrose AS VARCHAR(20)), COALESCE(d.done, 0), COALESCE(d.no_shows, 0),
           COALESCE(p.n, 0), p.base, p.last, g.last, p.reached_day,
           CASE WHEN p.reached_day IS NOT NULL THEN COALESCE(d.before_mcid, 0) END,
           CASE WHEN p.n >= 2 THEN (CASE WHEN {test} THEN 1 ELSE 0 END)
                WHEN g.last IS NOT NULL THEN (CASE WHEN g.last IN (1, 2) THEN 1 ELSE 0 END)
           END,
           {counts}
    FROM {_t(Course)} c
    LEFT JOIN ends p ON p.course_id = c.id AND p.instrument = %s
    LEFT JOIN ends g ON g.course_id = c.id AND g.instrument = %s
    LEFT JOIN done d ON d.course_id = c.id
    LEFT JOIN solution sol ON sol.course_id = c.id
    LEFT JOIN points pt ON pt.course_id = c.id
    WHERE {where} AND c.entered_in_error_at IS NULL"""
    )
    return sql, [*(value for _, values in parts for value in values), *test_params, PRIMARY, PGIC, *params]


def events_sql(scope: Scope) -> tuple[str, list[Any]]:
    """SELECT the CourseEventFacts rows (in EVENT_COLUMNS order): per course and event type, the sessions done with
    at least one such event (events, sessions and courses not entered in error)."""
    where, params = scope.where("t")
    sql = f"""
    SELECT t.course_id, t.clinic_id, e.event_type, COUNT(DISTINCT e.session_id)
    FROM {_t(AdverseEvent)} e JOIN {_t(TreatmentSession)} t ON t.id = e.session_id
    JOIN {_t(Course)} c ON c.id = t.course_id
    WHERE {where} AND t.status = 'done' AND t.entered_in_error_at IS NULL AND e.entered_in_error_at IS NULL
      AND c.entered_in_error_at IS NULL
    GROUP BY t.course_id, t.clinic_id, e.event_type"""
    return sql, params


def timepoints_sql(scope: Scope) -> tuple[str, list[Any]]:
    """SELECT the TimepointFacts rows (in TIMEPOINT_COLUMNS order): the required timepoints (not entered in error) of
    the scope's courses not entered in error, and whether each has a completed answer."""
    answered_sql, answers_params = _answered_cte(scope)
    where, params = scope.where("tp")
    sql = f"""WITH {answered_sql}
    SELECT tp.id, tp.course_id, tp.clinic_id, tp.kind, tp.due_on, a.timepoint_id IS NOT NULL
    FROM {_t(CourseTimepoint)} tp JOIN {_t(Course)} c ON c.id = tp.course_id
    LEFT JOIN answered a ON a.timepoint_id = tp.id
    WHERE {where} AND tp.optional = %s AND tp.entered_in_error_at IS NULL AND c.entered_in_error_at IS NULL"""
    return sql, [*answers_params, *params, False]


# The tables the facts are computed from (analysed before a rebuild on PostgreSQL).
SOURCES = (Course, TreatmentSession, CourseTimepoint, PreparedSolution, AdverseEvent, QuestionnaireResponse)

# (model, its columns, the statement that computes its rows, how many leading columns name a row)
TABLES = (
    (CourseFacts, COLUMNS, facts_sql, 1),
    (CourseEventFacts, EVENT_COLUMNS, events_sql, 3),
    (TimepointFacts, TIMEPOINT_COLUMNS, timepoints_sql, 1),
)


def _write(scope: Scope) -> None:
    with connection.cursor() as cursor:
        for model, columns, compute, _key in TABLES:
            table = _t(model)
            where, params = scope.where(table)
            cursor.execute(f"DELETE FROM {table} WHERE {where}", params)
            sql, params = compute(scope)
            cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) {sql}", params)


def refresh_courses(clinic_id: int, course_ids: Iterable[int | None]) -> None:
    """Recompute the facts of these courses of the clinic from their source rows, in the caller's transaction (after
    its writes). Provides the `treatment.course_changed` hook."""
    ids = tuple(sorted({pk for pk in course_ids if pk is not None}))
    if not ids:
        return
    hold_clinic_chain(clinic_id)
    _write(Scope(course_ids=ids))


def rebuild(clinic: Any) -> int:
    """Every fact row of the clinic recomputed at once (set-based); returns the number of courses with facts. Holds
    the clinic's audit chain, so the clinic's writes wait until the caller's transaction commits."""
    hold_clinic_chain(clinic.pk)
    if connection.vendor == "postgresql":
        # Fresh statistics of the sources first: after a bulk load (bench/dataset.py's COPY, an import) the planner
        # took the tables for empty and the rebuild of 7,840 courses ran past 11 minutes instead of 36 s.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(_t(model) for model in SOURCES)}")
    _write(Scope(clinic_id=clinic.pk))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(_t(model) for model, *_ in TABLES)}")
    return CourseFacts.objects.filter(clinic=clinic).count()


@dataclass(frozen=True)
class Difference:
    """A course whose kept facts differ from a fresh recompute: the columns that differ, as (kept, fresh)."""

    course_id: int
    table: str
    columns: dict[str, tuple[Any, Any]]


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _plain(value: Any) -> Any:
    """One form for both sides: SQLite hands a stored date column back as a date and a computed one as text, and a
    number as int, float or Decimal."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return Decimal(str(value)).normalize()
    return value


def _compare(table: str, names: tuple[str, ...], kept: list[tuple], fresh: list[tuple], key: int) -> list[Difference]:
    """The rows (named by their first `key` columns) that differ; `course_id` is the first or second column."""
    at = names.index("course_id")
    by_kept = {row[:key]: tuple(map(_plain, row)) for row in kept}
    by_fresh = {row[:key]: tuple(map(_plain, row)) for row in fresh}
    out = []
    for ident in sorted(set(by_kept) | set(by_fresh)):
        a, b = by_kept.get(ident), by_fresh.get(ident)
        columns = {
            name: (None if a is None else a[i], None if b is None else b[i])
            for i, name in enumerate(names)
            if a is None or b is None or a[i] != b[i]
        }
        row = a if a is not None else b
        if columns and row is not None:
            out.append(Difference(int(row[at]), table, columns))
    return out


def check(clinic: Any) -> tuple[int, list[Difference]]:
    """(courses checked, differences): the clinic's kept facts against a fresh recompute from the sources."""
    scope = Scope(clinic_id=clinic.pk)
    differences: list[Difference] = []
    courses = 0
    for model, columns, compute, key in TABLES:
        fresh = _rows(*compute(scope))
        kept = _rows(f"SELECT {', '.join(columns)} FROM {_t(model)} WHERE clinic_id = %s", [clinic.pk])
        differences += _compare(model.__name__, columns, kept, fresh, key)
        courses = courses or len(fresh)
    return courses, differences
