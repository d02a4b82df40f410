"""The patient list and search read a fixed number of queries however many patients match (one page of 25 and a
count), and on PostgreSQL the search's name and record-number matches can use the trigram indexes of migration 0010
(docs/PERFORMANCE.md, "Page server time at clinic and network size")."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from prolotrack.patients.models import Patient
from prolotrack.patients.queries import search_patients

pytestmark = pytest.mark.django_db

SEARCHES = ["", "Lovelace", "Ada Love", "PT-0000", "1960-05-17"]


def _counts(client) -> list[int]:
    counts = []
    for text in SEARCHES:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/patients/", {"q": text}).status_code == 200
        counts.append(len(ctx.captured_queries))
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


def test_the_postgresql_search_can_use_the_trigram_indexes(make_patient):
    if connection.vendor != "postgresql":
        pytest.skip("trigram indexes are made on PostgreSQL only; SQLite scans the clinic's patients")
    patient = make_patient()
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'patients_patient'")
        names = {row[0] for row in cursor.fetchall()}
    assert {"patient_family_name_trgm", "patient_given_name_trgm", "patient_mrn_trgm"} <= names
    for text, index in (("ovela", "patient_family_name_trgm"), ("PT-00", "patient_mrn_trgm")):
        sql, params = search_patients(patient.clinic, text).query.sql_with_params()
        with connection.cursor() as cursor:
            # A table this small is read whole; with sequential scans off the planner shows whether the index fits
            # the query's expression (UPPER(col::text) LIKE ...) at all.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert index in plan, plan
    assert list(search_patients(patient.clinic, "ovela")) == [patient]
    assert Patient.objects.count() == 1
