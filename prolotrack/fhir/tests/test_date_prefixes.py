"""FHIR date search prefixes over ranges (daterange.py): a table of prefix x target range, and hypothesis properties
that the comparisons the database runs (`conditions`, `on_point`) agree with the reference (`matches`, the spec's
words over intervals), for periods, dates and instants."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prolotrack.fhir.daterange import (
    PREFIXES,
    Span,
    conditions,
    evaluate,
    evaluate_point,
    matches,
    on_point,
    span_of,
)

TZ = ZoneInfo("America/Chicago")
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def d(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# The search value 2025-03 (the whole of March 2025, UTC) against target periods.
MARCH = Span(d("2025-03-01"), d("2025-04-01"))
TARGETS = {
    "inside": Span(d("2025-03-10"), d("2025-03-12")),
    "same": Span(d("2025-03-01"), d("2025-04-01")),
    "before": Span(d("2025-01-01"), d("2025-02-01")),
    "ends at start": Span(d("2025-02-01"), d("2025-03-01")),
    "after": Span(d("2025-05-01"), d("2025-06-01")),
    "starts at end": Span(d("2025-04-01"), d("2025-04-02")),
    "overlaps start": Span(d("2025-02-20"), d("2025-03-05")),
    "overlaps end": Span(d("2025-03-25"), d("2025-04-05")),
    "covers": Span(d("2025-02-01"), d("2025-05-01")),
    "open start, before": Span(None, d("2025-02-01")),
    "open start, into": Span(None, d("2025-03-15")),
    "open end, after": Span(d("2025-04-10"), None),
    "open end, from inside": Span(d("2025-03-15"), None),
    "unbounded": Span(None, None),
}
# Expected per prefix: the targets that match (FHIR R4 search, "prefix").
EXPECTED = {
    "eq": {"inside", "same"},
    "ne": set(TARGETS) - {"inside", "same"},
    "gt": {"after", "starts at end", "overlaps end", "covers", "open end, after", "open end, from inside", "unbounded"},
    "lt": {"before", "ends at start", "overlaps start", "covers", "open start, before", "open start, into",
           "unbounded"},
    "ge": {"inside", "same", "after", "starts at end", "overlaps end", "covers", "open end, after",
           "open end, from inside", "unbounded"},
    "le": {"inside", "same", "before", "ends at start", "overlaps start", "covers", "open start, before",
           "open start, into", "unbounded"},
    "sa": {"after", "starts at end", "open end, after"},
    "eb": {"before", "ends at start", "open start, before"},
    # March 2025 ends 20 months before NOW: widened by about two months each side (10% of the gap), so every target
    # here overlaps it (test_ap_widens_by_a_tenth_of_the_gap_to_now has the near misses).
    "ap": set(TARGETS),
}  # fmt: skip


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("name", sorted(TARGETS))
def test_prefix_over_a_period_table(prefix: str, name: str) -> None:
    want = name in EXPECTED[prefix]
    assert matches(prefix, MARCH, TARGETS[name], NOW) is want
    assert evaluate(conditions(prefix, MARCH, NOW), TARGETS[name]) is want


def test_ap_widens_by_a_tenth_of_the_gap_to_now() -> None:
    search = span_of("2016-12-07", UTC)  # ten years before NOW: widened by about a year each side
    assert matches("ap", search, span_of("2016-03-01", UTC), NOW)
    assert not matches("ap", search, span_of("2015-06-01", UTC), NOW)
    assert matches("ap", span_of("2026-12-07", UTC), span_of("2026-12-07T18:00:00Z", UTC), NOW)
    assert not matches("ap", span_of("2026-12-07", UTC), span_of("2026-12-08", UTC), NOW)


def test_a_value_stands_for_its_precision() -> None:
    assert span_of("2025", UTC) == Span(d("2025-01-01"), d("2026-01-01"))
    assert span_of("2025-12", UTC) == Span(d("2025-12-01"), d("2026-01-01"))
    assert span_of("2025-03-04T10:15:00Z", UTC) == Span(d("2025-03-04T10:15:00"), d("2025-03-04T10:15:01"))
    local = span_of("2025-03-04", TZ)
    assert local.start == datetime(2025, 3, 4, tzinfo=TZ) and local.end == datetime(2025, 3, 5, tzinfo=TZ)
    with pytest.raises(ValueError):
        span_of("2025-02-30", UTC)
    with pytest.raises(ValueError):
        span_of("March 2025", UTC)


# ---------------------------------------------------------------- properties against the reference

BASE = datetime(2024, 1, 1, tzinfo=UTC)
instants = st.integers(min_value=0, max_value=3 * 24 * 60).map(lambda m: BASE + timedelta(minutes=m * 17))
bounds = st.one_of(st.none(), instants)


@st.composite
def periods(draw: st.DrawFn) -> Span:
    start, end = draw(bounds), draw(bounds)
    if start is not None and end is not None and end <= start:
        start, end = end, start + timedelta(minutes=1)
    return Span(start, end)


@st.composite
def searches(draw: st.DrawFn) -> Span:
    start = draw(instants)
    return Span(start, start + draw(st.sampled_from([timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)])))


@given(prefix=st.sampled_from(PREFIXES), search=searches(), target=periods())
@settings(max_examples=1500, deadline=None)
def test_the_database_comparisons_over_periods_agree_with_the_reference(
    prefix: str, search: Span, target: Span
) -> None:
    assert evaluate(conditions(prefix, search, NOW), target) is matches(prefix, search, target, NOW)


@given(prefix=st.sampled_from(PREFIXES), search=searches(), value=instants)
@settings(max_examples=1500, deadline=None)
def test_the_comparisons_on_a_stored_instant_agree_with_the_reference(
    prefix: str, search: Span, value: datetime
) -> None:
    # A stored datetime t stands for [t, t + ε): ε smaller than any difference in the data.
    target = Span(value, value + timedelta(microseconds=1))
    clauses = on_point(conditions(prefix, search, NOW), "datetime", TZ)
    assert evaluate_point(clauses, value) is matches(prefix, search, target, NOW)


@given(
    prefix=st.sampled_from(PREFIXES),
    search=searches(),
    day=st.dates(min_value=date(2023, 12, 28), max_value=date(2024, 1, 6)),
)
@settings(max_examples=1500, deadline=None)
def test_the_comparisons_on_a_stored_date_agree_with_the_reference(prefix: str, search: Span, day: date) -> None:
    # A stored date is its whole local day.
    target = Span(datetime.combine(day, time(0), tzinfo=TZ), datetime.combine(day + timedelta(days=1), time(0), TZ))
    clauses = on_point(conditions(prefix, search, NOW), "date", TZ)
    assert evaluate_point(clauses, day) is matches(prefix, search, target, NOW)


# ---------------------------------------------------------------- the database filters themselves


@pytest.fixture
def stored_periods(clinician: Any, patient: Any) -> dict[int, Span]:
    """Kept Observations whose effective periods cover the shapes the reference knows (bounded, open, instants)."""
    from django.db import transaction

    from prolotrack.clinics.testing import actor_of
    from prolotrack.patients import services as patient_services

    spans = [Span(None, None)]
    for start_minutes in range(0, 3 * 24 * 60, 7 * 60 + 13):
        start = BASE + timedelta(minutes=start_minutes)
        spans += [Span(start, start + timedelta(minutes=37)), Span(start, None), Span(None, start)]
        spans.append(Span(start, start + timedelta(seconds=1)))
    rows = [
        (patient, {"status": "final", "code_text": "x", "resource": {"resourceType": "Observation"},
                   "has_effective": True, "effective_start": span.start, "effective_end": span.end})
        for span in spans
    ]  # fmt: skip
    with transaction.atomic():
        records = patient_services.add_observations(actor_of(clinician), rows)
    return {r.pk: span for r, span in zip(records, spans, strict=True)}


@given(prefix=st.sampled_from(PREFIXES), search=searches())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_sql_filter_over_stored_periods_agrees_with_the_reference(
    stored_periods: dict[int, Span], prefix: str, search: Span
) -> None:
    from prolotrack.fhir.resources import TYPES
    from prolotrack.fhir.search import DateRange
    from prolotrack.patients.models import Observation

    assert search.start is not None and search.end is not None
    param = TYPES["Observation"].sources[-1].dates["date"]
    q = DateRange(prefix, search.start, search.end, now=NOW).q(param, TZ)
    found = set(Observation.objects.filter(q).values_list("pk", flat=True))
    expected = {pk for pk, span in stored_periods.items() if matches(prefix, search, span, NOW)}
    assert found == expected
