"""The patient list and search read a fixed number of queries however many patients match (one page of 25 and a
count), and on PostgreSQL the search's name and record-number matches can use the trigram indexes of migration 0011
(docs/PERFORMANCE.md, "Page server time at clinic and network size")."""

from datetime import date

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from prolotrack.core.records import service_write
from prolotrack.patients import queries
from prolotrack.patients.models import Patient
from prolotrack.patients.queries import SearchPaginator, search_patients

pytestmark = pytest.mark.django_db

SEARCHES = ["", "Lovelace", "Ada Love", "PT-0000", "1960-05-17"]


def _counts(client) -> list[int]:
    """Queries of each search; the lower of two requests, since the idle log-off stamps the session (three queries
    more) whenever 30 s have passed (clinics/middleware.py), which a loaded machine reaches inside this test."""
    counts = []
    for text in SEARCHES:
        seen = []
        for _ in range(2):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get("/patients/", {"q": text}).status_code == 200
            seen.append(len(ctx.captured_queries))
        counts.append(min(seen))
    return counts


def test_the_list_and_search_read_the_same_queries_for_2_or_40_patients(client, login, clinician, make_patient):
    login(clinician)
    for n in range(2):
        make_patient(given_name=f"Ada{n}")
    few = _counts(client)
    for n in range(2, 40):  # more than a page (25) of matches for every search
        make_patient(given_name=f"Ada{n}")
    many = _counts(client)
    assert few == many
    assert "Page 1 of 2" in client.get("/patients/", {"q": "Lovelace"}).content.decode()


def test_the_search_counts_at_most_the_cap(client, login, clinician, make_patient, monkeypatch):
    """A common name never counts all its matches: COUNT(*) over the first cap + 1, and the page says to type more."""
    login(clinician)
    for n in range(5):
        make_patient(given_name=f"Ada{n}")
    found = search_patients(clinician.memberships.get().clinic, "Lovelace")
    capped, exact = SearchPaginator(found, 2, cap=3), SearchPaginator(found, 2, cap=5)
    assert (capped.count, capped.capped, capped.num_pages, len(capped.page(2).object_list)) == (3, True, 2, 1)
    assert (exact.count, exact.capped, exact.num_pages) == (5, False, 3)
    monkeypatch.setattr(queries, "SEARCH_COUNT_CAP", 3)
    with CaptureQueriesContext(connection) as ctx:
        html = client.get("/patients/", {"q": "Lovelace"}).content.decode()
    assert "More than 3 patients match “Lovelace”: type more of the name" in html
    assert html.count("Ada") == 3 and "Page 1 of" not in html
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1 and "LIMIT 4" in counts[0] and "ORDER BY" not in counts[0], counts


def test_the_postgresql_search_uses_the_trigram_indexes(make_patient):
    if connection.vendor != "postgresql":
        pytest.skip("trigram indexes are made on PostgreSQL only; SQLite scans the clinic's patients")
    patient = make_patient()
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'patients_patient'")
        names = {row[0] for row in cursor.fetchall()}
    assert {"patient_family_name_trgm", "patient_given_name_trgm", "patient_mrn_trgm"} <= names
    with connection.cursor() as cursor:  # no pending list that every search would read (migration 0012)
        cursor.execute("SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname LIKE 'patient_%_trgm'")
        assert [row[0] for row in cursor.fetchall()] == ["fastupdate=off"] * 3
    # 3,000 other patients of the same clinic (bench data: no versions or audit rows), so that the planner has a
    # table worth an index; their family names sort on both sides of the one searched for.
    with service_write():
        Patient.objects.bulk_create(
            Patient(clinic=patient.clinic, mrn=f"X{n:06d}", given_name="Someone", family_name=f"{'AZ'[n % 2]}name{n}",
                    date_of_birth=date(1970, 1, 1), sex="female")
            for n in range(3000)
        )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE patients_patient")
    # Each match the search makes, alone, with the two other ways to read the table off: the planner can then only
    # use a trigram index, and does so only if the index's expression is the one Django writes (else it falls back
    # to the sequential scan, switched off or not). The whole search's plan depends on the table's size (at 25,000
    # patients it reads the trigram indexes: docs/PERFORMANCE.md, EXPLAIN ANALYZE).
    for match, index in (
        (Q(family_name__icontains="ovela"), "patient_family_name_trgm"),
        (Q(given_name__icontains="ada"), "patient_given_name_trgm"),
        (Q(mrn__istartswith="PT-00"), "patient_mrn_trgm"),
    ):
        sql, params = Patient.objects.filter(match).values("id").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_indexscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute("RESET enable_seqscan")
            cursor.execute("RESET enable_indexscan")
        assert index in plan, plan
    assert list(search_patients(patient.clinic, "ovela")) == [patient]
    assert list(search_patients(patient.clinic, "Ada Lovelace")) == [patient]
    # The order through CONCAT(x, '') is the order by the columns themselves; two-letter words (no trigram) take the
    # plain path and find the same patients in the same order.
    by_columns = list(
        Patient.objects.filter(clinic=patient.clinic, family_name__icontains="name").order_by(
            "family_name", "given_name", "id"
        )
    )
    assert list(search_patients(patient.clinic, "name")) == by_columns
    assert list(search_patients(patient.clinic, "na")) == by_columns
