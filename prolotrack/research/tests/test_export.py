"""The research export carries no identifier, only consenting patients, stable pseudonyms, 90+ ages, typed Parquet."""

import csv
import io
import re
import secrets
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.utils import timezone

from prolotrack.audit.models import AuditEvent
from prolotrack.consent.models import Consent
from prolotrack.consent.services import withdraw_consent
from prolotrack.consent.testing import sign_research
from prolotrack.core.testing import actor_of
from prolotrack.domain.deidentify import AGE_90_PLUS, WITHHELD, DateMode, date_shift_days
from prolotrack.research import services
from prolotrack.research.dictionary import TABLES, TABLES_BY_NAME
from prolotrack.research.models import ExportJob, ExportStatus, ResearchKey
from prolotrack.research.tests.conftest import AE_ONSET, BOOKED_AT, COURSE_START, OUTCOME_DAY, members
from prolotrack.treatment.models import AdverseEvent, Course, InjectionSite, PreparedSolution, TreatmentSession

DISTINCTIVE = {
    "given_name": "Zebulon",
    "family_name": "Quixmorlet",
    "mrn": "QX7731904",
    "date_of_birth": date(1957, 8, 23),
    "sex": "male",
    "email": "zebulon.quixmorlet@example-mail.test",
    "phone": "+1 (312) 555-0187",
    "address_line": "4417 Wintergreen Hollow Lane",
    "city": "Marblehead Springs",
    "region": "Vermillion",
    "postal_code": "60614",
    "country": "Freedonia",
}


def _date_spellings(day: date) -> list[str]:
    return [
        day.isoformat(),
        day.strftime("%Y%m%d"),
        day.strftime("%m/%d/%Y"),
        day.strftime("%d/%m/%Y"),
        day.strftime("%d.%m.%Y"),
        f"{day.year}-{day.month}-{day.day}",
    ]


def _needles(patient) -> list[str]:
    texts = [v for k, v in DISTINCTIVE.items() if isinstance(v, str) and k != "sex"]
    texts += ["3125550187", "555-0187", "5550187", "Wintergreen", "Marblehead", "example-mail"]
    texts += ["LOT-7781-D", "LOT-5521-L", "NS-9981", "D50"]  # lots and stock names stay behind
    texts += ["Free-text course note", "Procedure note for", "Tender spot shown by", "called from", "My name is"]
    records = [
        patient,
        *Course.objects.filter(patient=patient),
        *TreatmentSession.objects.filter(patient=patient),
        *PreparedSolution.objects.filter(patient=patient),
        *InjectionSite.objects.filter(patient=patient),
        *AdverseEvent.objects.filter(patient=patient),
    ]
    texts += [str(r.uuid) for r in records] + [r.uuid.hex for r in records]
    days = [DISTINCTIVE["date_of_birth"], COURSE_START, AE_ONSET, OUTCOME_DAY, BOOKED_AT.date()]
    return texts + [s for d in days for s in _date_spellings(d)]


def _parquet_tables(files: dict[str, bytes]) -> dict[str, pa.Table]:
    return {
        Path(name).stem: pq.read_table(pa.BufferReader(data))
        for name, data in files.items()
        if name.endswith(".parquet")
    }


@pytest.mark.parametrize("mode", ["year", "shift"])
def test_no_identifier_or_exact_date_in_any_byte_of_any_file(mode, researcher, treated, run_export):
    patient = treated(**DISTINCTIVE)
    if mode == "shift":
        # A key whose shift moves this patient's dates well before all their true dates, so no shifted date can
        # coincide with another record's true date by chance (that would be a coincidence, not a leak).
        secret = next(
            k for k in iter(lambda: secrets.token_bytes(32), None) if date_shift_days(k, str(patient.uuid)) < -200
        )
        ResearchKey.objects.create(clinic=patient.clinic, secret=secret)
    job = run_export(researcher, date_mode=mode)
    assert job.status == ExportStatus.READY and job.patient_count == 1
    files = members(job)
    assert set(files) == {
        "README.md",
        "data_dictionary.csv",
        *(f"csv/{t.name}.csv" for t in TABLES),
        *(f"parquet/{t.name}.parquet" for t in TABLES),
    }
    needles = _needles(patient)
    # Every file, byte for byte (zip members are read decompressed) ...
    for name, data in files.items():
        text = data.decode("utf-8", errors="replace").lower()
        for needle in needles:
            assert needle.lower() not in text, f"{needle!r} found in {name}"
    # ... and every Parquet value and schema text, read back with pyarrow (Parquet pages are compressed).
    for name, table in _parquet_tables(files).items():
        text = (str(table.to_pylist()) + str(table.schema)).lower()
        for needle in needles:
            assert needle.lower() not in text, f"{needle!r} found in parquet/{name}"
        for column in table.column_names:
            assert not column.endswith("_date") or mode == "shift"
    # No exported date is the true date of its record: years, or shifted dates.
    tables = _parquet_tables(files)
    if mode == "year":
        assert tables["courses"].column("started_year").to_pylist() == [COURSE_START.year]
        assert tables["adverse_events"].column("onset_year").to_pylist() == [AE_ONSET.year]
    else:
        (started,) = tables["courses"].column("started_date").to_pylist()
        (onset,) = tables["adverse_events"].column("onset_date").to_pylist()
        (answered,) = tables["outcomes"].column("answered_date").to_pylist()
        shift = started - COURSE_START
        assert timedelta(days=1) <= abs(shift) <= timedelta(days=365)
        # One shift per patient: intervals are kept.
        assert onset - started == AE_ONSET - COURSE_START
        assert answered - started == OUTCOME_DAY - COURSE_START


def test_the_tables_carry_the_clinical_content(researcher, treated, run_export):
    treated(**DISTINCTIVE)
    tables = _parquet_tables(members(run_export(researcher)))
    (patient,) = tables["patients"].to_pylist()
    assert patient["patient_id"].startswith("P-") and patient["sex"] == "male" and patient["birth_year"] == 1957
    (course,) = tables["courses"].to_pylist()
    assert course["indication"] == "Knee osteoarthritis" and course["region"] == "knee" and course["side"] == "left"
    assert course["protocol_id"] == "knee_oa_rabago" and course["age_at_start"] == "66"
    assert course["patient_id"] == patient["patient_id"]
    session = next(s for s in tables["sessions"].to_pylist() if s["number"] == 1)
    assert session["vasovagal"] is True and str(session["weight_kg"]) == "81.0" and session["injections"] == 2
    assert str(session["total_volume_ml"]) == "2.00"
    (solution,) = tables["solutions"].to_pylist()
    assert str(solution["dextrose_pct"]) == "15.000" and str(solution["lidocaine_pct"]) == "0.500"
    assert str(solution["final_volume_ml"]) == "10.00" and solution["glycerin_pct"] is None
    sites = tables["injection_sites"].to_pylist()
    assert [(s["landmark"], s["landmark_label"]) for s in sites] == [
        ("knee.intra_articular", "Knee joint (intra-articular)"),
        (None, None),  # a free point: its typed label is not exported
    ]
    (event,) = tables["adverse_events"].to_pylist()
    assert (event["event_type"], event["severity"], event["causality"], event["outcome"]) == (
        "pain_flare",
        "mild",
        "probable",
        "resolved",
    )
    assert event["site_id"] == sites[0]["site_id"] and event["session_id"] == session["session_id"]
    (outcome,) = tables["outcomes"].to_pylist()
    assert outcome["instrument"] == "womac" and str(outcome["score"]) == "42.50" and outcome["timepoint_code"]


def test_only_patients_with_a_current_research_consent_of_this_clinic_are_exported(
    researcher, outsider, treated, run_export
):
    included = treated(given_name="Consented", mrn="C1")
    treated(given_name="Unconsented", mrn="C2", consent=None)
    treated(given_name="Withdrawn", mrn="C3", consent="withdrawn")
    treated(by=outsider, given_name="Otherclinic", mrn="C4")
    job = run_export(researcher)
    assert job.patient_count == 1
    assert job.patient_uuids == [str(included.uuid)]
    assert len(_parquet_tables(members(job))["courses"]) == 1


def test_pseudonyms_are_stable_across_exports_and_differ_between_clinics(
    researcher, outsider, make_member, other_clinic, treated, run_export
):
    treated(mrn="S1")
    treated(mrn="S2", given_name="Second")
    first = _parquet_tables(members(run_export(researcher)))
    second = _parquet_tables(members(run_export(researcher, date_mode="shift")))
    for table, column in (("patients", "patient_id"), ("courses", "course_id"), ("injection_sites", "site_id")):
        assert sorted(first[table].column(column).to_pylist()) == sorted(second[table].column(column).to_pylist())
    # The same shift for a patient in every shift export.
    third = _parquet_tables(members(run_export(researcher, date_mode="shift")))
    assert second["courses"].column("started_date").to_pylist() == third["courses"].column("started_date").to_pylist()
    # Another clinic has its own key.
    treated(by=outsider, mrn="S1")
    beta_researcher = make_member("beta_researcher", "researcher", other_clinic)
    beta = _parquet_tables(members(run_export(beta_researcher)))
    assert not set(beta["patients"].column("patient_id").to_pylist()) & set(
        first["patients"].column("patient_id").to_pylist()
    )


def test_ages_over_89_are_90_plus_without_a_birth_year(researcher, treated, run_export):
    # 88 when the course started in 2024, over 89 now: every age of the patient is 90+.
    treated(mrn="OLD", date_of_birth=date(1935, 6, 1))
    tables = _parquet_tables(members(run_export(researcher)))
    (patient,) = tables["patients"].to_pylist()
    assert patient["birth_year"] is None and patient["age_at_export"] == AGE_90_PLUS
    assert tables["courses"].column("age_at_start").to_pylist() == [AGE_90_PLUS]
    text = "".join(d.decode() for n, d in members(run_export(researcher)).items() if n.endswith(".csv"))
    assert "1935" not in text and ",88," not in text


def test_an_indication_with_identifiers_is_withheld_and_never_matches_a_filter(researcher, treated, run_export):
    treated(mrn="F1", family_name="Hobbleworth", indication="Knee pain after Hobbleworth farm accident")
    treated(mrn="F2", indication="Chronic low back pain")
    tables = _parquet_tables(members(run_export(researcher)))
    assert sorted(tables["courses"].column("indication").to_pylist()) == ["Chronic low back pain", WITHHELD]
    assert run_export(researcher, indication="hobbleworth").patient_count == 0
    assert run_export(researcher, indication="  LOW back ").patient_count == 1


def test_filters_by_course_start_year(researcher, treated, run_export):
    treated(mrn="Y1")
    assert run_export(researcher, year_from=2024, year_to=2024).patient_count == 1
    assert run_export(researcher, year_from=2025).patient_count == 0
    job = run_export(researcher, year_to=2023)
    assert job.patient_count == 0 and job.row_counts["patients"] == 0


@pytest.mark.parametrize(
    ("request_", "field", "message"),
    [
        ({"year_from": 2025, "year_to": 2024}, "year_to", "before the first"),
        ({"year_from": 1800}, "year_from", "between 1900"),
        ({"date_mode": "month"}, "date_mode", "'year'"),
        ({"indication": "x" * 201}, "indication", "under 200"),
    ],
)
def test_bad_filters_are_refused_and_nothing_is_queued(researcher, run_export, request_, field, message):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        run_export(researcher, **request_)
    assert message in " ".join(error.value.message_dict[field])
    assert not ExportJob.objects.exists()


def test_parquet_schemas_are_explicit_and_match_the_csv_and_the_dictionary(researcher, treated, run_export):
    treated(mrn="P1")
    for mode in DateMode:
        files = members(run_export(researcher, date_mode=mode.value))
        dictionary = list(csv.DictReader(io.StringIO(files["data_dictionary.csv"].decode())))
        for name, table in _parquet_tables(files).items():
            expected = TABLES_BY_NAME[name].schema(mode)
            assert table.schema.equals(expected, check_metadata=False), name
            assert table.schema.field(0).metadata[b"meaning"]
            header = next(csv.reader(io.StringIO(files[f"csv/{name}.csv"].decode())))
            assert header == table.column_names
            assert [r["column"] for r in dictionary if r["table"] == name] == table.column_names
            assert all(r["meaning"] and r["deidentification"] and r["type"] for r in dictionary if r["table"] == name)


def test_a_withdrawal_after_the_export_retires_its_file(clinician, researcher, treated, run_export, login):
    patient = treated(mrn="W1")
    job = run_export(researcher)
    withdraw_consent(actor_of(clinician), Consent.objects.get(patient=patient), reason="Changed their mind")
    response = login(researcher).get(f"/research/exports/{job.uuid}/download/")
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ExportStatus.EXPIRED and "withdrew research consent" in job.error
    assert not services.file_path(job).exists()
    assert run_export(researcher).patient_count == 0


def test_files_are_deleted_after_the_keep_time(researcher, treated, run_export):
    treated(mrn="E1")
    job = run_export(researcher)
    assert services.purge_expired(now=timezone.now() + timedelta(hours=services.KEEP_HOURS - 1)) == 0
    assert services.purge_expired(now=timezone.now() + timedelta(hours=services.KEEP_HOURS, seconds=1)) == 1
    job.refresh_from_db()
    assert job.status == ExportStatus.EXPIRED and not services.file_path(job).exists()


def test_every_step_is_audited_with_who_what_and_how_many(researcher, treated, run_export, login):
    patient = treated(mrn="A1")
    job = run_export(researcher, indication="knee")
    login(researcher).get(f"/research/exports/{job.uuid}/download/")
    events = AuditEvent.objects.filter(record_uuid=job.uuid)
    actions = list(events.order_by("seq").values_list("action", flat=True))
    assert actions == [
        "research.export.requested",
        "research.export.completed",
        "research.export.patient_included",
        "research.export.downloaded",
    ]
    requested = events.get(action="research.export.requested")
    assert requested.user == researcher and requested.detail["indication"] == "knee"
    assert events.get(action="research.export.completed").detail["patients"] == 1
    assert events.get(action="research.export.patient_included").patient_uuid == patient.uuid


def test_a_failed_build_is_recorded_on_the_job(researcher, treated, run_export, monkeypatch):
    from prolotrack.research import export

    treated(mrn="B1")

    def broken(self, batch, result):
        raise RuntimeError("disk full")

    monkeypatch.setattr(export.ExportBuilder, "_batch", broken)
    job = run_export(researcher)
    assert job.status == ExportStatus.FAILED and "could not be built" in job.error
    assert not services.file_path(job).exists()
    assert list(services.export_dir().iterdir()) == []  # no partial zip, no temporary folder left behind


def test_docs_describe_every_column_and_all_eighteen_identifiers():
    text = (Path(__file__).resolve().parents[3] / "docs" / "RESEARCH.md").read_text()
    for table in TABLES:
        for column in table.columns:
            assert re.search(rf"`{re.escape(column.name)}`", text), f"{table.name}.{column.name} not in RESEARCH.md"
    for letter in "ABCDEFGHIJKLMNOPQR":
        assert f"| ({letter}) " in text


def test_a_course_dated_before_the_birth_date_does_not_stop_the_export(clinician, researcher, run_export, make_patient):
    from prolotrack.treatment import services as treatment_services

    patient = make_patient(mrn="ERR1", date_of_birth=date(2024, 5, 1))
    treatment_services.create_course(
        actor_of(clinician),
        patient, protocol_id="", indication="Knee pain", region="knee", side="left", start_on=date(2024, 3, 1),
    )  # fmt: skip
    sign_research(actor_of(clinician), patient, render=False)
    job = run_export(researcher)
    assert job.status == ExportStatus.READY
    assert _parquet_tables(members(job))["courses"].column("age_at_start").to_pylist() == [None]
