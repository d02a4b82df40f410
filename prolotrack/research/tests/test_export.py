"""The research export: no identifier or free text, only consenting patients, k-anonymous, shuffled, new pseudonyms
per export (stable only within a longitudinal study under a data use agreement), typed Parquet."""

import csv
import io
import re
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.conf import settings
from django.utils import timezone

from prolotrack.audit.models import AuditEvent
from prolotrack.clinics.testing import actor_of
from prolotrack.consent.models import Consent
from prolotrack.consent.services import withdraw_consent
from prolotrack.consent.testing import sign_research
from prolotrack.core import filestore
from prolotrack.domain.deidentify import DateMode, date_shift_days, pseudonym
from prolotrack.research import export as export_module
from prolotrack.research import services
from prolotrack.research.dictionary import TABLES, TABLES_BY_NAME
from prolotrack.research.models import ExportJob, ExportStatus
from prolotrack.research.tests.conftest import AE_ONSET, BOOKED_AT, COURSE_START, OUTCOME_DAY, members
from prolotrack.treatment.models import AdverseEvent, Course, InjectionSite, PreparedSolution, TreatmentSession

KEY = bytes(range(32))
# A pseudonym's 16 hex digits (exactly 16: a record UUID's 32 or its dashed groups are still searched for).
PSEUDONYMS = re.compile(r"(?<![0-9a-f])[0-9a-f]{16}(?![0-9a-f])")
HEX_RUNS = re.compile(r"[0-9a-f]{6,}")
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


@pytest.fixture
def crowd(treated, clinician):
    """The distinctive patient and four look-alikes (same sex, birth date, course): a class of five, so k = 5 holds
    and the export releases them. One look-alike stopped the course early, so the class holds two outcomes (open and
    stopped) and l = 2 holds too. Returns the distinctive patient."""

    def make(consent="signed", **fields):
        like = {"date_of_birth": fields.get("date_of_birth", DISTINCTIVE["date_of_birth"]), "sex": "male"}
        for i in range(4):
            alike = treated(mrn=f"LOOK{i}{fields.get('mrn', '')}", given_name=f"Look{i}", family_name="Alike", **like)
            if i == 0:
                from prolotrack.treatment import services as treatment_services

                treatment_services.close_course(actor_of(clinician), alike.courses.get(), reason="patient_choice")
        return treated(consent=consent, **{**DISTINCTIVE, **fields})

    return make


@pytest.fixture
def agreement(admin_user):
    def make(longitudinal=False, study="Knee OA study"):
        return services.record_agreement(
            actor_of(admin_user),
            services.AgreementRequest(
                study=study,
                recipient="Dr R. Chen, State University",
                purpose="Outcomes of knee prolotherapy",
                signed_on=date(2026, 1, 5),
                expires_on=timezone.localdate() + timedelta(days=300),
                longitudinal=longitudinal,
            ),
        )

    return make


def _fixed_key(monkeypatch, key=KEY):
    monkeypatch.setattr(export_module, "new_export_key", lambda: key)


def _date_spellings(day: date) -> list[str]:
    return [
        day.isoformat(),
        day.strftime("%Y%m%d"),
        day.strftime("%m/%d/%Y"),
        day.strftime("%d/%m/%Y"),
        day.strftime("%d.%m.%Y"),
        f"{day.year}-{day.month}-{day.day}",
    ]


def _needles(patient, *, dates: bool = True) -> list[str]:
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
    return texts + ([s for d in days for s in _date_spellings(d)] if dates else [])


def _parquet_tables(files: dict[str, bytes]) -> dict[str, pa.Table]:
    return {
        Path(name).stem: pq.read_table(pa.BufferReader(data))
        for name, data in files.items()
        if name.endswith(".parquet")
    }


def _mine(tables, patient, key=KEY):
    """The rows of one patient (found through the test's fixed export key)."""
    pid = pseudonym(key, "patient", str(patient.uuid))
    return {name: [row for row in table.to_pylist() if row.get("patient_id") == pid] for name, table in tables.items()}


@pytest.mark.parametrize("mode", ["year", "shift"])
def test_no_identifier_free_text_or_exact_date_in_any_byte_of_any_file(
    mode, researcher, crowd, run_export, agreement, monkeypatch
):
    patient = crowd()
    # A key whose shift moves this patient's dates well before all their true dates, so no shifted date can
    # coincide with another record's true date by chance (that would be a coincidence, not a leak).
    key = next(bytes([i]) * 32 for i in range(256) if date_shift_days(bytes([i]) * 32, str(patient.uuid)) < -200)
    _fixed_key(monkeypatch, key)
    extra = {"agreement": str(agreement().uuid)} if mode == "shift" else {}
    job = run_export(researcher, date_mode=mode, **extra)
    assert job.status == ExportStatus.READY and job.patient_count == 5
    files = members(job)
    assert set(files) == {
        "README.md",
        "manifest.json",
        "data_dictionary.csv",
        *(f"csv/{t.name}.csv" for t in TABLES),
        *(f"parquet/{t.name}.parquet" for t in TABLES),
    }
    # Shifted dates of the look-alikes may equal a true date of this patient by chance: in shift mode the true dates
    # are looked for in this patient's own rows (below) rather than in every byte.
    needles = _needles(patient, dates=mode == "year")
    # Every file, byte for byte (zip members are read decompressed) ...
    for name, data in files.items():
        # Random hex may hold "D50": pseudonyms are removed first. Parquet's bytes also hold pieces of them (cut by
        # page headers and statistics: "f2c7fad50" failed CI once), so there every hex run of 6 or more goes; the
        # values themselves are read back with pyarrow below.
        hex_runs = HEX_RUNS if name.endswith(".parquet") else PSEUDONYMS
        text = hex_runs.sub("", data.decode("utf-8", errors="replace")).lower()
        for needle in needles:
            assert needle.lower() not in text, f"{needle!r} found in {name}"
    # ... and every Parquet value and schema text, read back with pyarrow (Parquet pages are compressed).
    for name, table in _parquet_tables(files).items():
        text = PSEUDONYMS.sub("", str(table.to_pylist()) + str(table.schema)).lower()
        for needle in needles:
            assert needle.lower() not in text, f"{needle!r} found in parquet/{name}"
        for column in table.column_names:
            assert not column.endswith("_date") or mode == "shift"
    mine = _mine(_parquet_tables(files), patient, key)
    if mode == "year":
        assert [c["started_year"] for c in mine["courses"]] == [COURSE_START.year]
        assert [e["onset_year"] for e in mine["adverse_events"]] == [AE_ONSET.year]
        assert "LIMITED DATA SET" not in files["README.md"].decode()
    else:
        (started,) = [c["started_date"] for c in mine["courses"]]
        (onset,) = [e["onset_date"] for e in mine["adverse_events"]]
        (answered,) = [o["answered_date"] for o in mine["outcomes"]]
        shift = started - COURSE_START
        assert timedelta(days=1) <= abs(shift) <= timedelta(days=365)
        # One shift per patient: intervals are kept.
        assert onset - started == AE_ONSET - COURSE_START
        assert answered - started == OUTCOME_DAY - COURSE_START
        true_days = {COURSE_START, AE_ONSET, OUTCOME_DAY, BOOKED_AT.date(), DISTINCTIVE["date_of_birth"]}
        own_dates = {v for rows in mine.values() for row in rows for v in row.values() if isinstance(v, date)}
        assert own_dates and not own_dates & true_days
        readme = files["README.md"].decode()
        assert "LIMITED DATA SET" in readme and "de-identified by" not in readme.lower()


def test_the_tables_carry_the_clinical_content(researcher, crowd, run_export, monkeypatch):
    patient = crowd()
    _fixed_key(monkeypatch)
    mine = _mine(_parquet_tables(members(run_export(researcher))), patient)
    (row,) = mine["patients"]
    assert row["patient_id"].startswith("P-") and row["sex"] in ("male", "*") and set(row) == {"patient_id", "sex"}
    (course,) = mine["courses"]
    assert course["indication_code"] == "knee_osteoarthritis" and course["indication"] == "Knee osteoarthritis"
    assert course["region"] == "knee" and course["side"] == "left" and course["protocol"] == "knee_oa_rabago"
    assert course["age_band"] in ("65-69", "60-69", "60-79", "*") and course["weight_band"] in (
        "80-84",
        "80-89",
        "80-99",
        "unknown",
        "*",
    )
    session = next(s for s in mine["sessions"] if s["number"] == 1)
    assert session["vasovagal"] is True and session["injections"] == 2 and "weight_kg" not in session
    assert str(session["total_volume_ml"]) == "2.00"
    (solution,) = mine["solutions"]
    assert str(solution["dextrose_pct"]) == "15.000" and str(solution["lidocaine_pct"]) == "0.500"
    assert str(solution["final_volume_ml"]) == "10.00" and solution["glycerin_pct"] is None
    assert solution["syringe"] == 1
    sites = sorted(mine["injection_sites"], key=lambda s: s["number"])
    assert [(s["landmark"], s["landmark_label"]) for s in sites] == [
        ("knee.intra_articular", "Knee joint (intra-articular)"),
        (None, None),  # a free point: its typed label is not exported
    ]
    (event,) = mine["adverse_events"]
    assert (event["event_type"], event["severity"], event["causality"], event["outcome"]) == (
        "pain_flare",
        "mild",
        "probable",
        "resolved",
    )
    assert event["site_id"] == sites[0]["site_id"] and event["session_id"] == session["session_id"]
    (outcome,) = mine["outcomes"]
    assert outcome["instrument"] == "womac" and str(outcome["score"]) == "42.50" and outcome["timepoint_code"]


def test_a_patient_who_would_stand_out_is_suppressed_and_k_is_recorded(
    clinician, researcher, crowd, make_patient, run_export
):
    from prolotrack.treatment import services as treatment_services

    crowd()
    odd = make_patient(mrn="ODD", given_name="Odd", date_of_birth=date(1990, 1, 1), sex="female")
    treatment_services.create_course(
        actor_of(clinician),
        odd, protocol_id="tmj_refai", indication="TMJ", region="tmj", side="right", start_on=date(2024, 5, 1),
    )  # fmt: skip
    sign_research(actor_of(clinician), odd, render=False)
    job = run_export(researcher)
    # The only TMJ course: the patient stays (as a patient without courses, in a class of their sex or of all), the
    # course does not.
    assert job.privacy["suppressed_courses"] == 1
    assert job.privacy["k"] >= 5 and job.privacy["required_k"] == 5
    assert job.privacy["kind"] == "safe_harbor"
    manifest = members(job)["manifest.json"].decode()
    for word in ('"k"', '"l_diversity"', '"generalisations"', '"suppressed_patients"', '"quasi_identifiers"'):
        assert word in manifest
    # The odd one's course is not in the file (its class would have one patient).
    assert job.row_counts["courses"] == 5


def test_a_clinic_that_asks_for_a_larger_k_gets_it_and_cannot_ask_for_less(researcher, crowd, run_export):
    from prolotrack.clinics.config import ClinicConfig, ClinicConfigError

    crowd()
    clinic = researcher.memberships.get().clinic
    clinic.settings = {**(clinic.settings or {}), "research_min_k": 10}
    clinic.save(update_fields=["settings"])
    job = run_export(researcher)
    # The crowd is a class of five: released at the default k = 5, held back whole at k = 10.
    assert job.privacy["required_k"] == 10
    assert job.row_counts["patients"] == 0 and job.privacy["suppressed_patients"] == 5
    with pytest.raises(ClinicConfigError, match="between 5 and 50"):
        ClinicConfig.validated({"research_min_k": 4})


def test_a_class_whose_patients_share_one_outcome_is_not_released_with_it(researcher, treated, crowd, run_export):
    import json

    crowd()  # another class with two outcomes (open, stopped): the clinic has more than one outcome
    for i in range(5):  # five look-alikes, every course open: k = 5 holds, but the class tells each one's outcome
        treated(
            mrn=f"SAME{i}", given_name=f"Same{i}", family_name="Alike", date_of_birth=date(1948, 4, 2), sex="female"
        )
    job = run_export(researcher)
    assert job.status == ExportStatus.READY
    # l-diversity (distinct, required 2): no generalisation joins them to another outcome, so their courses (and all
    # that hangs on them) are withheld; the five stay as patients without courses (k = 5, no outcome to tell).
    manifest = json.loads(members(job)["manifest.json"])
    assert manifest["required_l"] == manifest["effective_l"] == 2 and manifest["l_diversity_variant"] == "distinct"
    assert manifest["l_diversity"] == 2 and job.row_counts["patients"] == 10
    # Either way the homogeneous class does not stand alone: its courses are withheld, or the bands are widened until
    # it shares a class with the crowd (the lattice prefers widening when that suppresses less).
    if job.row_counts["courses"] == 5:
        assert manifest["suppressed_courses_for_l"] == 5
    else:
        assert job.row_counts["courses"] == 10 and manifest["suppressed_courses"] == 0
        assert manifest["generalisations"] != {**manifest["generalisations"], "age": "5-year bands, 90+ pooled",
                                               "sex": "as recorded"}  # fmt: skip
    readme = members(job)["README.md"].decode()
    assert "l-diversity (distinct)" in readme
    assert f"{manifest['suppressed_courses_for_l']} courses withheld for it" in readme


def test_a_clinic_that_asks_for_a_larger_l_gets_it_and_cannot_ask_for_less(researcher, crowd, run_export):
    from prolotrack.clinics.config import ClinicConfig, ClinicConfigError

    crowd()
    released = run_export(researcher)
    assert released.privacy["l_diversity"] == 2 and released.row_counts["courses"] == 5
    clinic = researcher.memberships.get().clinic
    clinic.settings = {**(clinic.settings or {}), "research_min_l": 3}
    clinic.save(update_fields=["settings"])
    job = run_export(researcher)
    # The clinic's courses have two outcomes (open, stopped), so no class can hold three: l = 3 is lowered to 2
    # (effective_l, recorded), which the crowd's class meets.
    assert job.privacy["required_l"] == 3 and job.privacy["effective_l"] == 2
    assert job.row_counts["courses"] == 5 and job.privacy["suppressed_courses_for_l"] == 0
    with pytest.raises(ClinicConfigError, match="between 2 and 3"):
        ClinicConfig.validated({"research_min_l": 1})


def test_too_few_patients_release_nothing_identifying(researcher, treated, run_export):
    treated(mrn="ALONE")
    job = run_export(researcher)
    assert job.status == ExportStatus.READY
    assert job.row_counts["courses"] == 0 and job.row_counts["patients"] == 0
    assert job.privacy["suppressed_patients"] == 1


def test_rows_are_shuffled_and_pseudonyms_are_new_in_every_export(researcher, crowd, run_export):
    crowd()
    first = _parquet_tables(members(run_export(researcher)))
    second = _parquet_tables(members(run_export(researcher)))
    for table, column in (("patients", "patient_id"), ("courses", "course_id"), ("injection_sites", "site_id")):
        assert not set(first[table].column(column).to_pylist()) & set(second[table].column(column).to_pylist())


def test_a_longitudinal_study_keeps_its_pseudonyms_and_shifts_and_no_other_export_shares_them(
    researcher, crowd, run_export, agreement
):
    crowd()
    study, other = agreement(longitudinal=True), agreement(longitudinal=True, study="Other")
    a = _parquet_tables(members(run_export(researcher, date_mode="shift", agreement=str(study.uuid))))
    b = _parquet_tables(members(run_export(researcher, date_mode="shift", agreement=str(study.uuid))))
    c = _parquet_tables(members(run_export(researcher, date_mode="shift", agreement=str(other.uuid))))
    plain = _parquet_tables(members(run_export(researcher)))

    def starts(t):
        return sorted(
            zip(
                t["courses"].column("patient_id").to_pylist(),
                t["courses"].column("started_date").to_pylist(),
                strict=True,
            )
        )

    assert starts(a) == starts(b)
    ids = lambda t: set(t["patients"].column("patient_id").to_pylist())  # noqa: E731
    assert not ids(a) & ids(c) and not ids(a) & ids(plain)


def test_only_patients_with_a_current_research_consent_of_this_clinic_are_exported(
    researcher, outsider, crowd, treated, run_export
):
    included = crowd()
    treated(given_name="Unconsented", mrn="C2", consent=None)
    treated(given_name="Withdrawn", mrn="C3", consent="withdrawn")
    treated(by=outsider, given_name="Otherclinic", mrn="C4")
    job = run_export(researcher)
    assert job.patient_count == 5
    assert str(included.uuid) in job.patient_uuids
    assert len(_parquet_tables(members(job))["courses"]) == 5


def test_shifted_dates_need_a_current_data_use_agreement(researcher, run_export, agreement, admin_user):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="data use agreement"):
        run_export(researcher, date_mode="shift")
    ended = services.end_agreement(actor_of(admin_user), agreement())
    with pytest.raises(ValidationError, match="expired or was ended"):
        run_export(researcher, date_mode="shift", agreement=str(ended.uuid))
    assert not ExportJob.objects.exists()


def test_an_administrator_records_an_agreement_with_an_audit_row(admin_user, researcher, agreement):
    from django.core.exceptions import ValidationError

    from prolotrack.audit.services import ServiceError

    made = agreement(longitudinal=True)
    event = AuditEvent.objects.get(record_uuid=made.uuid)
    assert event.action == "research.agreement.recorded" and event.detail["recipient"].startswith("Dr R. Chen")
    with pytest.raises(ValidationError) as error:
        services.record_agreement(actor_of(admin_user), services.AgreementRequest(study="x"))
    assert {"recipient", "purpose", "signed_on", "expires_on"} <= set(error.value.message_dict)
    with pytest.raises(ServiceError):
        services.record_agreement(
            actor_of(researcher),
            services.AgreementRequest("s", "r", "p", date(2026, 1, 1), date(2099, 1, 1)),
        )


def test_the_indication_comes_from_the_code_list_and_the_filter_takes_codes_only(
    researcher, crowd, treated, run_export
):
    from django.core.exceptions import ValidationError

    crowd(indication="Knee pain after Hobbleworth farm accident")
    job = run_export(researcher)
    text = b"".join(members(job).values()).lower()
    assert b"hobbleworth" not in text
    assert set(_parquet_tables(members(job))["courses"].column("indication").to_pylist()) == {"Knee osteoarthritis"}
    assert run_export(researcher, indication="knee_osteoarthritis").patient_count == 5
    assert run_export(researcher, indication="other").patient_count == 0
    with pytest.raises(ValidationError, match="indication code"):
        run_export(researcher, indication="hobbleworth")


def test_filters_by_course_start_year(researcher, crowd, run_export):
    crowd()
    assert run_export(researcher, year_from=2024, year_to=2024).patient_count == 5
    assert run_export(researcher, year_from=2025).patient_count == 0
    job = run_export(researcher, year_to=2023)
    assert job.patient_count == 0 and job.row_counts["patients"] == 0


@pytest.mark.parametrize(
    ("request_", "field", "message"),
    [
        ({"year_from": 2025, "year_to": 2024}, "year_to", "before the first"),
        ({"year_from": 1800}, "year_from", "between 1900"),
        ({"date_mode": "month"}, "date_mode", "'year'"),
        ({"indication": "knee"}, "indication", "indication code"),
        ({"date_mode": "shift"}, "date_mode", "data use agreement"),
        ({"agreement": "not-a-uuid"}, "agreement", "No such"),
    ],
)
def test_bad_filters_are_refused_and_nothing_is_queued(researcher, run_export, request_, field, message):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        run_export(researcher, **request_)
    assert message in " ".join(error.value.message_dict[field])
    assert not ExportJob.objects.exists()


def test_parquet_schemas_are_explicit_and_match_the_csv_and_the_dictionary(researcher, crowd, run_export, agreement):
    crowd()
    dua = str(agreement().uuid)
    for mode in DateMode:
        extra = {"agreement": dua} if mode is DateMode.SHIFT else {}
        files = members(run_export(researcher, date_mode=mode.value, **extra))
        dictionary = list(csv.DictReader(io.StringIO(files["data_dictionary.csv"].decode())))
        for name, table in _parquet_tables(files).items():
            expected = TABLES_BY_NAME[name].schema(mode)
            assert table.schema.equals(expected, check_metadata=False), name
            assert table.schema.field(0).metadata[b"meaning"]
            header = next(csv.reader(io.StringIO(files[f"csv/{name}.csv"].decode())))
            assert header == table.column_names
            assert [r["column"] for r in dictionary if r["table"] == name] == table.column_names
            assert all(r["meaning"] and r["deidentification"] and r["type"] for r in dictionary if r["table"] == name)


def test_a_withdrawal_after_the_export_retires_its_file(clinician, researcher, crowd, run_export, login):
    patient = crowd()
    job = run_export(researcher)
    withdraw_consent(actor_of(clinician), Consent.objects.get(patient=patient), reason="Changed their mind")
    response = login(researcher).get(f"/research/exports/{job.uuid}/download/")
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ExportStatus.EXPIRED and "withdrew research consent" in job.error
    assert not services.file_exists(job)
    assert str(patient.uuid) not in run_export(researcher).patient_uuids


def test_files_are_deleted_after_the_keep_time(researcher, crowd, run_export):
    crowd()
    job = run_export(researcher)
    assert services.purge_expired(now=timezone.now() + timedelta(hours=services.KEEP_HOURS - 1)) == 0
    assert services.purge_expired(now=timezone.now() + timedelta(hours=services.KEEP_HOURS, seconds=1)) == 1
    job.refresh_from_db()
    assert job.status == ExportStatus.EXPIRED and not services.file_exists(job)


def test_every_step_is_audited_with_who_what_and_how_many(researcher, crowd, run_export, login):
    patient = crowd()
    job = run_export(researcher, indication="knee_osteoarthritis")
    login(researcher).get(f"/research/exports/{job.uuid}/download/")
    events = AuditEvent.objects.filter(record_uuid=job.uuid)
    actions = list(events.order_by("seq").values_list("action", flat=True))
    assert actions == [
        "research.export.requested",
        "research.export.completed",
        *["research.export.patient_included"] * 5,
        "research.export.downloaded",
    ]
    requested = events.get(action="research.export.requested")
    assert requested.user == researcher and requested.detail["indication"] == "knee_osteoarthritis"
    completed = events.get(action="research.export.completed").detail
    assert completed["patients"] == 5 and completed["k"] >= 5 and completed["kind"] == "safe_harbor"
    assert patient.uuid in set(
        events.filter(action="research.export.patient_included").values_list("patient_uuid", flat=True)
    )


def test_a_failed_build_is_recorded_on_the_job(researcher, crowd, run_export, monkeypatch):
    crowd()

    def broken(self, batch, result):
        raise RuntimeError("disk full")

    monkeypatch.setattr(export_module.ExportBuilder, "_batch", broken)
    job = run_export(researcher)
    assert job.status == ExportStatus.FAILED and "could not be built" in job.error
    assert not services.file_exists(job)
    assert list(filestore.stored_names()) == []  # nothing stored
    assert list((Path(settings.DATA_DIR) / "tmp").iterdir()) == []  # no partial zip, no temporary folder left behind


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
