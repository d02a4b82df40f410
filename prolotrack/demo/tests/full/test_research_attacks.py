"""The attack suite of issue 18 on the demo clinic (the demo seed: 220 patients, 139 with research consent).

Every attack of the issue is run as a researcher would and must fail to single anyone out: linkage on
quasi-identifiers against the clinic's own table, row-order linkage, repeated-export birthday narrowing, date-shift
narrowing, free-text probing (here), and dashboard differencing (prolotrack/analytics/tests/test_attacks.py). The same
attacks run on the 10,000-patient bench clinic from bench/research_attacks.py (docs/RESEARCH.md gives the results).
The demo is the folder's shared full demo (conftest.py), seeded once and rolled back at the end.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from prolotrack.accounts.testing import mark_verified
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of
from prolotrack.domain.deidentify import pseudonym
from prolotrack.research import export as export_module
from prolotrack.research import queries, services
from prolotrack.research.tests import attacks
from prolotrack.research.vocabulary import INDICATIONS
from prolotrack.treatment import services as treatment_services
from prolotrack.treatment.models import TreatmentSession

KEY = bytes(range(32))
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("full_demo")]


@pytest.fixture
def researcher(demo):
    return User.objects.get(username="researcher")


@pytest.fixture
def admin(demo):
    return User.objects.get(username="admin")


@pytest.fixture
def export(researcher, monkeypatch):
    """Run an export as the demo researcher; with `key`, its one-off key is fixed so the test knows the truth."""

    def run(key: bytes | None = None, **request):
        if key is not None:
            monkeypatch.setattr(export_module, "new_export_key", lambda: key)
        job = services.start_export(actor_of(researcher), services.ExportRequest(**request))
        job.refresh_from_db()
        assert job.status == "ready", job.error
        return job

    return run


def _agreement(admin, *, longitudinal: bool, study: str = "Knee OA follow-up"):
    return services.record_agreement(
        actor_of(admin),
        services.AgreementRequest(
            study=study,
            recipient="Dr R. Chen, State University",
            purpose="Outcomes of dextrose prolotherapy for knee osteoarthritis",
            signed_on=date(2026, 1, 5),
            expires_on=date.today() + timedelta(days=365),
            longitudinal=longitudinal,
        ),
    )


def test_linkage_on_quasi_identifiers_against_the_clinic_table_singles_out_nobody(demo, export):
    job = export()
    assert job.privacy["k"] >= 5 and job.privacy["required_k"] == 5
    result = attacks.linkage(job)
    assert result.released == job.patient_count > 0
    assert result.singled_out == 0, result
    assert result.smallest_candidates >= 5, result
    # The old export's weights to 0.1 kg, birth years and ages at export are gone.
    assert attacks.exact_weights(job) == []
    assert attacks.birthday_columns(job) == []


def test_row_order_does_not_follow_record_numbers(demo, export):
    job = export(key=KEY)
    hits = attacks.row_order_hits(job, KEY)
    # A random order puts about one row in its record-number place (P(6 or more) < 0.001); the old export put all.
    assert hits <= 5, hits
    assert job.patient_count > 100


def test_repeated_exports_share_no_pseudonym_so_birthdays_cannot_be_narrowed(demo, export):
    first, second = export(), export()
    assert attacks.shared_pseudonyms(first, second) == 0
    assert attacks.birthday_columns(first) == attacks.birthday_columns(second) == []


def test_date_shift_narrowing_fails(demo, researcher, admin, export):
    # No agreement: no shifted dates at all.
    with pytest.raises(ValidationError, match="limited data set"):
        services.start_export(actor_of(researcher), services.ExportRequest(date_mode="shift"))
    once = _agreement(admin, longitudinal=False)
    year = export()
    shifted = export(date_mode="shift", agreement=str(once.uuid))
    # A year export and a shifted one cannot be lined up: no shared pseudonym.
    assert attacks.shared_pseudonyms(year, shifted) == 0
    # Under an agreement the export is a limited data set and years-only is refused (no year + shift pair).
    with pytest.raises(ValidationError, match="shift"):
        services.start_export(actor_of(researcher), services.ExportRequest(agreement=str(once.uuid)))
    readme = attacks.all_bytes(shifted).decode(errors="replace")
    assert "LIMITED DATA SET" in readme and "De-identified by" not in readme
    assert shifted.privacy["kind"] == "limited_data_set"
    # No session after the export day is exported, so sessions do not split around the export day.
    truth = export(date_mode="shift", agreement=str(once.uuid), key=KEY)
    exported = {row["session_id"] for row in attacks.tables(truth)["sessions"]}
    builder = export_module.ExportBuilder(truth)
    sessions = TreatmentSession.objects.filter(clinic=demo, patient__uuid__in=truth.patient_uuids)
    future = {pseudonym(KEY, "session", str(s.uuid)) for s in sessions if builder._session_day(s) > builder.today}
    assert future and not exported & future
    assert exported
    # A longitudinal study: the same pseudonyms and shifted dates in each of its exports (nothing new to combine),
    # none shared with another study.
    study = _agreement(admin, longitudinal=True)
    other = _agreement(admin, longitudinal=True, study="Another study")
    a = export(date_mode="shift", agreement=str(study.uuid))
    b = export(date_mode="shift", agreement=str(study.uuid))
    c = export(date_mode="shift", agreement=str(other.uuid))
    starts = lambda job: {(r["patient_id"], r["started_date"]) for r in attacks.tables(job)["courses"]}  # noqa: E731
    assert starts(a) == starts(b)
    assert attacks.shared_pseudonyms(a, c) == 0


def test_free_text_never_leaves_and_cannot_be_probed(demo, researcher, export, clinician_of_demo):
    patient = queries.consenting_patients(demo).order_by("pk").first()
    treatment_services.create_course(
        actor_of(clinician_of_demo),
        patient,
        protocol_id="knee_oa_rabago",
        indication="Knee osteoarthritis, interpreter is daughter Maria Kowalski",
        region="knee",
        side="left",
        start_on=date(2025, 2, 3),
        note="Thompson family history",
    )
    job = export()
    content = attacks.all_bytes(job)
    assert b"Kowalski" not in content and b"Thompson" not in content.replace(b"thompson", b"")
    assert attacks.free_text_values(job, set(INDICATIONS.values())) == set()
    # The filter takes codes only: the "thompson" probe is refused, page, service and API alike.
    with pytest.raises(ValidationError, match="indication code"):
        services.start_export(actor_of(researcher), services.ExportRequest(indication="thompson"))
    client = Client()
    client.force_login(researcher, backend="django.contrib.auth.backends.ModelBackend")
    mark_verified(client, researcher)
    page = client.post("/research/exports/", {"date_mode": "year", "indication": "thompson"})
    assert page.status_code == 400
    assert b"Select a valid choice" in page.content


@pytest.fixture
def clinician_of_demo(demo):
    return User.objects.get(username="clinician")


def test_the_release_check_measures_on_the_demo(demo, export):
    job = export()
    privacy = job.privacy
    assert privacy["k"] >= privacy["required_k"] == 5
    assert privacy["l_diversity"] >= 1
    assert set(privacy["generalisations"]) == {"age", "weight", "sex", "region", "side", "indication", "year"}
    assert isinstance(privacy["suppressed_courses"], int)
    assert Decimal(job.row_counts["courses"]) >= 0


# --- Dashboard differencing (the researcher's aggregates) ----------------------------------------------------------


def _derivable_ok(cells: list[int | None], total: int | None) -> list[int]:
    """What subtraction gives from one answer: the shown cells, and the total minus the shown cells (the hidden ones'
    union). Returns the derived counts that would single out 1 to 4 courses."""
    shown = [c for c in cells if c is not None]
    derived = list(shown)
    if total is not None:
        derived.append(total - sum(shown))
    return [d for d in derived if 0 < d < 5]


def test_dashboard_differencing_singles_out_nobody(demo, researcher, clinician_of_demo, api_token):
    from prolotrack.analytics import research
    from prolotrack.clinical.queries import clinic_today

    headers = api_token(researcher)
    client = Client()
    # The attack of issue 18: day-level ranges, one day apart, subtracted. Refused outright, as is a text filter.
    for query in ("start=2025-01-01&end=2025-03-14", "start=2025-01-01&end=2025-03-13", "indication=thompson"):
        response = client.get(f"/api/dashboard?{query}", headers=headers)
        assert response.status_code == 422, query
    browser = Client()
    browser.force_login(researcher, backend="django.contrib.auth.backends.ModelBackend")
    mark_verified(browser, researcher)
    assert browser.get("/dashboard/?start=2025-01-01&end=2025-03-14").status_code == 400
    assert browser.get("/dashboard/data/funnel.csv").status_code == 403
    # Everything a researcher can ask: each ended quarter. Every figure derivable by subtraction within an answer
    # counts 0 or at least 5 courses (quarters are disjoint, so answers share no course).
    today = clinic_today(demo)
    answers = {}
    for period in research.periods(demo, today):
        answer = client.get(f"/api/dashboard?period={period}", headers=headers).json()
        answers[period] = answer
        rows = answer["by_indication"]
        assert _derivable_ok([r["courses"] for r in rows], answer["courses"]) == [], (period, answer)
        assert _derivable_ok([r["responders"]["of"] for r in rows], answer["responders"]["of"]) == [], (period, answer)
        assert answer["privacy"]["min_courses"] == 5
        # No free text: every label is from the coded list.
        assert {r["label"] for r in rows} <= set(INDICATIONS.values())
    assert len(answers) >= 2 and any(a["courses"] for a in answers.values())
    # Frozen: a course added to a released quarter later does not change its answer (no difference over time).
    period = next(p for p, a in answers.items() if a["courses"])
    start, _ = research.quarter_bounds(int(period[:4]), int(period[-1]))
    patient = queries.consenting_patients(demo).order_by("pk").first()
    treatment_services.create_course(
        actor_of(clinician_of_demo), patient, protocol_id="knee_oa_rabago", indication="Knee osteoarthritis",
        region="knee", side="left", start_on=start,
    )  # fmt: skip
    again = client.get(f"/api/dashboard?period={period}", headers=headers).json()
    assert again == answers[period]
    # Clinicians keep exact, day-level figures for their own clinic.
    exact = client.get(
        f"/api/dashboard?start={start.isoformat()}&end={start.isoformat()}", headers=api_token(clinician_of_demo)
    )
    assert exact.status_code == 200 and exact.json()["courses"] >= 1


def test_dp_breakdowns_cannot_be_differenced(demo, researcher, clinician_of_demo, api_token):
    """The protocol, clinician, funnel, adverse-event and completion breakdowns (differential privacy, OpenDP):
    differencing across releases gives nothing new (each quarter's noise is drawn once), and differencing across
    breakdowns is bounded by epsilon on the demo's own courses."""
    import math

    from prolotrack.analytics import research
    from prolotrack.clinical.queries import clinic_today
    from prolotrack.domain import dpcounts

    headers = api_token(researcher)
    client = Client()
    today = clinic_today(demo)
    busiest = max(
        research.periods(demo, today),
        key=lambda p: len(research.course_facts(demo, *research.parse_period(p, today)[1:], today, set())),
    )
    first = client.get(f"/api/dashboard?period={busiest}", headers=headers).json()
    assert first["dp"]["epsilon"] <= 1.0 and all(b["epsilon"] > 0 for b in first["dp"]["breakdowns"])
    # Across releases: the same question, the same noise; a course added later changes nothing.
    _, start, end = research.parse_period(busiest, today)
    patient = queries.consenting_patients(demo).order_by("pk").first()
    treatment_services.create_course(
        actor_of(clinician_of_demo), patient, protocol_id="knee_oa_rabago", indication="Knee osteoarthritis",
        region="knee", side="left", start_on=start,
    )  # fmt: skip
    assert client.get(f"/api/dashboard?period={busiest}", headers=headers).json()["dp"] == first["dp"]
    # Across breakdowns, on the quarter's real courses: the attacker knows everyone but the target exactly.
    parts = research._categories(demo)
    clinicians = {key.split("|")[0] for key, _ in parts[1].categories}
    facts = research.course_facts(demo, start, end, today, clinicians)
    target = facts[0]
    others = [f for f in facts if f.patient != target.patient]
    assert attacks.dp_differencing(others, target, parts, attacks.exact_breakdowns(parts), 10) == 1.0
    accuracy = attacks.dp_differencing(
        others, target, parts, lambda courses: dpcounts.release(courses, parts, 1.0), 400
    )
    assert accuracy <= math.e / (1 + math.e) + 4 * math.sqrt(0.25 / 400), accuracy
