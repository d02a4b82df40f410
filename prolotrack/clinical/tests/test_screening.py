"""Screening from the registry: stored with its facts, audited, overridable only as the domain allows."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.audit.services import AccessDenied, Actor, StaleEditError
from prolotrack.clinical import services
from prolotrack.clinical.models import ScreeningRecord
from prolotrack.clinical.tests.conftest import PROCEDURE_DATE, knee_procedure
from prolotrack.clinics.services import update_clinic_settings
from prolotrack.clinics.testing import actor_of
from prolotrack.domain.errors import OverrideError, ScreeningError
from prolotrack.patients import services as patient_services

EVALUATE = "/api/screening/evaluate"
PROCEDURE = {
    "date": "2025-03-10",
    "region": "knee",
    "side": "left",
    "site": "medial knee",
    "agents": ["dextrose", "lidocaine"],
}


def codes(body_or_record):
    findings = body_or_record["findings"] if isinstance(body_or_record, dict) else body_or_record.findings
    return [f["code"] for f in findings]


# --- Facts read from the registry ----------------------------------------------------------------------------


def test_a_patient_with_an_anticoagulant_is_eligible_with_a_caution(call, clinician, patient, add):
    add(patient, "medication", name="Apixaban", drug_class="anticoagulant", status="active")
    response = call(clinician, EVALUATE, {"patient_id": str(patient.uuid), "procedure": PROCEDURE})
    assert response.status_code == 201
    body = response.json()
    assert body["decision"] == "eligible_with_cautions"
    assert "caution.anticoagulant" in codes(body)
    assert "Apixaban" in next(f for f in body["findings"] if f["code"] == "caution.anticoagulant")["reason"]
    stored = ScreeningRecord.objects.get(uuid=body["id"])
    assert stored.patient == patient
    assert stored.decision == "eligible_with_cautions"
    assert stored.facts["medications"][0]["name"] == "Apixaban"
    assert stored.settings_used["nsaid_stop_days"] == 3


def test_an_allergy_to_lidocaine_is_a_contraindication_when_lidocaine_is_planned(make_screening, patient, add):
    add(patient, "allergy", substance="Lidocaine", reaction="hives", severity="severe")
    screening = make_screening(patient)
    assert screening.decision == "not_eligible"
    assert codes(screening)[0] == "contraindication.allergy.local_anaesthetic"
    assert "Lidocaine (hives, severe)" in screening.findings[0]["reason"]


def test_the_same_allergy_is_only_an_instruction_when_no_anaesthetic_is_planned(make_screening, patient, add):
    add(patient, "allergy", substance="Lidocaine", reaction="hives", severity="severe")
    screening = make_screening(patient, agents=["dextrose"])
    assert "contraindication.allergy.local_anaesthetic" not in codes(screening)
    assert "instruction.allergy_keep_out" in codes(screening)


def test_an_allergy_entered_in_error_is_not_read(make_screening, patient, add, clinician):
    allergy = add(patient, "allergy", substance="Lidocaine", severity="mild")
    with transaction.atomic():
        patient_services.retire_child(actor_of(clinician), allergy, "allergy", reason="wrong patient")
    assert "contraindication.allergy.local_anaesthetic" not in codes(make_screening(patient))


def test_an_nsaid_last_taken_inside_the_stop_window_is_a_caution_with_the_stop_date(make_screening, patient, add):
    add(
        patient,
        "medication",
        name="Ibuprofen",
        drug_class="nsaid",
        status="active",
        last_dose_date=PROCEDURE_DATE - timedelta(days=2),
    )
    screening = make_screening(patient)
    assert "caution.nsaid_within_window" in codes(screening)
    stop = next(f for f in screening.findings if f["code"] == "instruction.nsaid_stop")
    assert "Stop Ibuprofen from 2025-03-07" in stop["reason"]
    assert screening.nsaid_stop_date == date(2025, 3, 7)


def test_an_nsaid_stopped_for_good_before_the_window_raises_nothing(make_screening, patient, add):
    # Before: a stopped NSAID last taken within the 14-day look-back still got "Stop Naproxen from ...".
    add(
        patient,
        "medication",
        name="Naproxen",
        drug_class="nsaid",
        status="stopped",
        last_dose_date=PROCEDURE_DATE - timedelta(days=4),
    )
    screening = make_screening(patient)
    assert not [code for code in codes(screening) if "nsaid" in code]
    assert screening.nsaid_stop_date is None


def test_an_nsaid_taken_as_needed_gets_the_stop_instruction_only_saying_why(make_screening, patient, add):
    add(
        patient,
        "medication",
        name="Ibuprofen",
        drug_class="nsaid",
        status="as_needed",
        last_dose_date=PROCEDURE_DATE - timedelta(days=1),
    )
    screening = make_screening(patient)
    assert [code for code in codes(screening) if "nsaid" in code] == ["instruction.nsaid_stop"]
    stop = next(f for f in screening.findings if f["code"] == "instruction.nsaid_stop")
    assert "Ibuprofen (taken as needed)" in stop["reason"] and "not a reason to postpone" in stop["reason"]


def test_the_nsaid_window_is_the_clinic_setting(make_screening, patient, add, admin_user, clinic):
    with transaction.atomic():
        update_clinic_settings(Actor(admin_user, clinic, "admin"), clinic, {"nsaid_stop_days": 7})
    patient.clinic.refresh_from_db()
    add(patient, "medication", name="Ibuprofen", drug_class="nsaid", last_dose_date=PROCEDURE_DATE - timedelta(days=6))
    screening = make_screening(patient)
    assert "caution.nsaid_within_window" in codes(screening)
    assert screening.settings_used["nsaid_stop_days"] == 7
    assert screening.nsaid_stop_date == date(2025, 3, 3)


def test_a_drug_marked_taking_with_an_old_last_dose_still_counts_as_current(make_screening, patient, add):
    add(
        patient,
        "medication",
        name="Warfarin",
        drug_class="anticoagulant",
        status="active",
        last_dose_date=PROCEDURE_DATE - timedelta(days=60),
    )
    assert "caution.anticoagulant" in codes(make_screening(patient))


def test_a_drug_stopped_long_ago_adds_nothing(make_screening, patient, add):
    add(
        patient,
        "medication",
        name="Clopidogrel",
        drug_class="antiplatelet",
        status="stopped",
        last_dose_date=PROCEDURE_DATE - timedelta(days=60),
    )
    add(patient, "medication", name="Aspirin", drug_class="antiplatelet", status="stopped")
    screening = make_screening(patient)
    assert "caution.antiplatelet" not in codes(screening)
    assert [m["name"] for m in screening.facts["medications"]] == ["Clopidogrel"]


@pytest.mark.parametrize(
    ("flag", "code"),
    [
        ("diabetes", "caution.diabetes"),
        ("bleeding_disorder", "caution.bleeding_disorder"),
        ("immunosuppression", "caution.immunosuppression"),
        ("prosthetic_joint", "caution.prosthetic_joint_or_valve"),
        ("prosthetic_valve", "caution.prosthetic_joint_or_valve"),
        ("pregnancy", "caution.pregnancy"),
    ],
)
def test_flagged_conditions_on_the_chart_become_cautions(make_screening, patient, add, flag, code):
    add(patient, "condition", category="comorbidity", description=f"Known {flag}", screening_flag=flag)
    screening = make_screening(patient)
    assert code in codes(screening)


def test_a_resolved_condition_is_not_read(make_screening, patient, add):
    add(patient, "condition", description="Gestational diabetes", screening_flag="diabetes", clinical_status="resolved")
    assert "caution.diabetes" not in codes(make_screening(patient))


def test_gout_on_the_chart_is_not_a_flare_today(make_screening, patient, add):
    add(patient, "condition", description="Gout", screening_flag="gout")
    assert "contraindication.acute_gout_flare" not in codes(make_screening(patient))
    assert "contraindication.acute_gout_flare" in codes(make_screening(patient, day_of_flags=("acute_gout_flare",)))


def test_a_pregnancy_on_the_chart_wins_over_not_pregnant_asked_on_the_day(make_screening, patient, add):
    add(patient, "condition", description="Pregnant, 20 weeks", screening_flag="pregnancy")
    screening = make_screening(patient)
    assert screening.pregnancy == "pregnant"
    assert screening.facts["pregnancy_source"] == "condition on the chart"


def test_a_corn_allergy_is_detected_from_the_allergy_list(make_screening, patient, add):
    add(patient, "allergy", substance="Corn", severity="mild")
    assert "caution.corn_allergy" in codes(make_screening(patient))


def test_day_of_infection_is_a_hard_stop(make_screening, patient):
    screening = make_screening(patient, day_of_flags=("infection_at_site",))
    assert screening.decision == "not_eligible"
    finding = screening.findings[0]
    assert (finding["code"], finding["overridable"]) == ("contraindication.infection_at_site", False)
    assert screening.day_of_flags == ["infection_at_site"]
    assert screening.facts["flag_sources"] == {"infection_at_site": ["found today"]}


def test_a_stored_screening_is_audited_as_a_read_and_a_creation(call, clinician, patient):
    body = call(clinician, EVALUATE, {"patient_id": str(patient.uuid), "procedure": PROCEDURE}).json()
    read = AuditEvent.objects.get(action="patient.screening_facts.read")
    created = AuditEvent.objects.get(action="screening.created")
    assert read.patient_uuid == created.patient_uuid == patient.uuid
    assert str(created.record_uuid) == body["id"]
    assert created.channel == "api"
    assert created.detail["decision"] == body["decision"]
    assert RecordVersion.objects.filter(record_uuid=body["id"], version=1).exists()


def test_stored_screenings_can_be_read_back_and_the_read_is_audited(call, clinician, make_screening, patient):
    screening = make_screening(patient)
    response = call(clinician, f"/api/screenings/{screening.uuid}", method="get")
    assert response.status_code == 200
    assert response.json()["id"] == str(screening.uuid)
    assert AuditEvent.objects.filter(action="screening.viewed", record_uuid=screening.uuid).count() == 1


# --- Ad hoc --------------------------------------------------------------------------------------------------


def test_ad_hoc_facts_are_screened_and_nothing_is_stored(call, clinician):
    payload = {
        "patient": {
            "date_of_birth": "1971-02-03",
            "sex": "male",
            "medications": [{"name": "Ibuprofen", "drug_class": "nsaid", "last_dose": "2025-03-09"}],
            "allergies": [{"substance": "Xylocaine", "reaction": "rash", "severity": "moderate"}],
            "flags": ["diabetes"],
        },
        "procedure": PROCEDURE,
        "day_of_flags": ["acute_fracture"],
    }
    before = AuditEvent.objects.count()
    response = call(clinician, EVALUATE, payload)
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["stored"]) == (None, False)
    assert body["decision"] == "not_eligible"
    assert codes(body)[:2] == ["contraindication.acute_fracture", "contraindication.allergy.local_anaesthetic"]
    assert {"caution.diabetes", "caution.nsaid_within_window"} <= set(codes(body))
    assert body["nsaid_stop_date"] == "2025-03-07"
    assert not ScreeningRecord.objects.exists()
    assert AuditEvent.objects.count() - before == 1  # only the token creation


# --- Bad input -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ({"procedure": PROCEDURE}, 422, "Give either patient_id"),
        ({"patient": {"date_of_birth": "1970-01-01"}, "procedure": {**PROCEDURE, "region": "nose"}}, 422, "nose"),
        ({"patient": {"date_of_birth": "1970-01-01"}, "procedure": {**PROCEDURE, "side": "up"}}, 422, "Unknown side"),
        (
            {"patient": {"date_of_birth": "1970-01-01"}, "procedure": {**PROCEDURE, "agents": ["ketchup"]}},
            422,
            "Unknown agent 'ketchup'",
        ),
        ({"patient": {"date_of_birth": "1970-01-01"}, "procedure": {**PROCEDURE, "agents": []}}, 422, ""),
        (
            {"patient": {"date_of_birth": "2030-01-01"}, "procedure": PROCEDURE},
            422,
            "is after the procedure date",
        ),
        (
            {"patient": {"date_of_birth": "1970-01-01"}, "procedure": {**PROCEDURE, "date": "9999-12-31"}},
            422,
            "check the year",
        ),
        (
            {"patient": {"date_of_birth": "1970-01-01", "flags": ["vampire"]}, "procedure": PROCEDURE},
            422,
            "Unknown risk flag 'vampire'",
        ),
        (
            {
                "patient": {"date_of_birth": "1970-01-01", "medications": [{"name": "X", "drug_class": "magic"}]},
                "procedure": PROCEDURE,
            },
            422,
            "Unknown class for X 'magic'",
        ),
        (
            {"patient": {"date_of_birth": "1970-01-01"}, "procedure": PROCEDURE, "day_of_flags": ["diabetes"]},
            422,
            "read from the patient's chart",
        ),
        ({"patient": {"date_of_birth": "yesterday"}, "procedure": PROCEDURE}, 422, ""),
        ({"patient": {"date_of_birth": "1970-01-01"}}, 422, ""),
    ],
    ids=[
        "neither patient nor facts",
        "unknown region",
        "unknown side",
        "unknown agent",
        "no agents",
        "born after the procedure",
        "year 9999",
        "unknown flag",
        "unknown drug class",
        "chart flag ticked on the day",
        "date of birth not a date",
        "no procedure",
    ],
)
def test_bad_screening_input_gets_422_and_writes_nothing(call, clinician, payload, status, message):
    response = call(clinician, EVALUATE, payload)
    assert response.status_code == status
    body = response.json()
    assert body["code"] in {"screening", "anatomy", "invalid"}
    assert message in str(body["detail"])
    assert not ScreeningRecord.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="screening").exists()


def test_bad_input_with_a_patient_writes_nothing(call, clinician, patient):
    payload = {"patient_id": str(patient.uuid), "procedure": PROCEDURE, "day_of_flags": ["werewolf"]}
    response = call(clinician, EVALUATE, payload)
    assert response.status_code == 422
    assert "Unknown day-of flag 'werewolf'" in response.json()["detail"]
    assert not ScreeningRecord.objects.exists()
    assert not AuditEvent.objects.filter(action="patient.screening_facts.read").exists()


def test_a_patient_entered_in_error_cannot_be_screened(clinician, patient):
    with transaction.atomic():
        patient_services.retire_patient(actor_of(clinician), patient, reason="duplicate record")
    patient.refresh_from_db()
    with pytest.raises(Exception, match="entered in error"):
        services.screen_patient(actor_of(clinician), patient, knee_procedure())
    assert not ScreeningRecord.objects.exists()


@pytest.mark.parametrize("persona", ["frontdesk", "admin", "researcher"])
def test_the_service_refuses_roles_without_screening(personas, patient, persona):
    with pytest.raises(AccessDenied):
        services.screen_patient(actor_of(personas[persona]), patient, knee_procedure())


def test_the_service_refuses_a_patient_of_another_clinic(outsider, patient):
    with pytest.raises(AccessDenied):
        services.screen_patient(actor_of(outsider), patient, knee_procedure())


# --- Overrides -----------------------------------------------------------------------------------------------


@pytest.fixture
def allergic_screening(make_screening, patient, add):
    add(patient, "allergy", substance="Lidocaine", reaction="rash", severity="mild")
    add(patient, "medication", name="Warfarin", drug_class="anticoagulant")
    return make_screening(patient, day_of_flags=("acute_fracture",))


def test_an_override_needs_a_reason_and_keeps_who_and_when(clinician, allergic_screening):
    screening = services.override_finding(
        actor_of(clinician),
        allergic_screening,
        "contraindication.allergy.local_anaesthetic",
        "Allergist   patch test 2024\nnegative for lidocaine.",
        expected_version=1,
    )
    finding = next(f for f in screening.findings if f["code"] == "contraindication.allergy.local_anaesthetic")
    assert finding["override_reason"] == "Allergist patch test 2024 negative for lidocaine."
    assert finding["overridden_by"]["user"] == str(clinician.uuid)
    assert finding["overridden_by"]["role"] == "clinician"
    assert finding["overridden_by"]["at"]
    assert screening.version == 2
    # The fracture still stands.
    assert screening.decision == "not_eligible"
    version = RecordVersion.objects.get(record_uuid=screening.uuid, version=2)
    assert version.action == "screening.finding.overridden"
    assert version.reason.startswith("contraindication.allergy.local_anaesthetic: Allergist patch test")
    assert set(version.changes) == {"findings"}
    event = AuditEvent.objects.get(action="screening.finding.overridden")
    assert (event.user, event.patient_uuid) == (clinician, screening.patient.uuid)


def test_overriding_every_contraindication_makes_it_eligible_with_cautions(clinician, allergic_screening):
    actor = actor_of(clinician)
    screening = services.override_finding(
        actor,
        allergic_screening,
        "contraindication.acute_fracture",
        "Old wrist fracture, not near the knee.",
        expected_version=1,
    )
    screening = services.override_finding(
        actor,
        screening,
        "contraindication.allergy.local_anaesthetic",
        "Allergist patch test 2024 negative for lidocaine.",
        expected_version=2,
    )
    assert screening.decision == "eligible_with_cautions"
    overridden = [f["code"] for f in screening.findings if f["override_reason"]]
    assert overridden == ["contraindication.acute_fracture", "contraindication.allergy.local_anaesthetic"]
    # The first override keeps its author after the second one is added.
    assert all(f["overridden_by"] for f in screening.findings if f["override_reason"])


@pytest.mark.parametrize(
    ("code", "reason", "message"),
    [
        ("caution.anticoagulant", "", "a reason is required"),
        ("caution.anticoagulant", "   ", "a reason is required"),
        ("caution.anticoagulant", "ok fine", "too short"),
        ("instruction.light_meal", "Patient fasting for a blood test.", "is an instruction"),
        ("caution.nonsense", "Patient fasting for a blood test.", "No finding 'caution.nonsense'"),
    ],
)
def test_overrides_without_a_real_reason_or_target_are_refused(clinician, allergic_screening, code, reason, message):
    with pytest.raises(OverrideError, match=message):
        services.override_finding(actor_of(clinician), allergic_screening, code, reason, expected_version=1)
    allergic_screening.refresh_from_db()
    assert allergic_screening.version == 1
    assert not any(f["override_reason"] for f in allergic_screening.findings)


def test_a_hard_stop_cannot_be_overridden(clinician, make_screening, patient):
    screening = make_screening(patient, day_of_flags=("septic_joint",))
    with pytest.raises(OverrideError, match="hard stop"):
        services.override_finding(
            actor_of(clinician),
            screening,
            "contraindication.septic_joint",
            "Aspirate was clear, I am sure.",
            expected_version=1,
        )
    screening.refresh_from_db()
    assert screening.version == 1


def test_a_finding_cannot_be_overridden_twice(clinician, allergic_screening):
    actor = actor_of(clinician)
    screening = services.override_finding(
        actor, allergic_screening, "caution.anticoagulant", "INR 2.1 yesterday, small needles.", expected_version=1
    )
    with pytest.raises(OverrideError, match="already overridden"):
        services.override_finding(actor, screening, "caution.anticoagulant", "Another reason here.", expected_version=2)


@pytest.mark.parametrize("persona", ["colleague", "frontdesk", "admin", "researcher"])
def test_only_clinicians_may_override(personas, allergic_screening, persona):
    with pytest.raises(AccessDenied):
        services.override_finding(
            actor_of(personas[persona]),
            allergic_screening,
            "caution.anticoagulant",
            "INR 2.1 yesterday, small needles.",
            expected_version=1,
        )


def test_a_stale_override_is_refused(clinician, make_member, clinic, allergic_screening):
    other = make_member("doctor2", "clinician", clinic)
    services.override_finding(
        actor_of(other),
        allergic_screening,
        "caution.anticoagulant",
        "INR 2.1 yesterday, small needles.",
        expected_version=1,
    )
    with pytest.raises(StaleEditError):
        services.override_finding(
            actor_of(clinician),
            allergic_screening,
            "contraindication.acute_fracture",
            "Old wrist fracture, not near the knee.",
            expected_version=1,
        )


def test_overriding_through_the_api(call, clinician, colleague, allergic_screening):
    path = f"/api/screenings/{allergic_screening.uuid}/overrides"
    payload = {"code": "caution.anticoagulant", "reason": "INR 2.1 yesterday, small needles.", "version": 1}
    assert call(colleague, path, payload).status_code == 403
    response = call(clinician, path, payload)
    assert response.status_code == 200
    finding = next(f for f in response.json()["findings"] if f["code"] == "caution.anticoagulant")
    assert finding["overridden"] is True
    assert finding["overridden_by"]["name"] == str(clinician)
    assert response.json()["version"] == 2
    again = call(clinician, path, {**payload, "code": "contraindication.acute_fracture"})
    assert again.status_code == 409
    assert again.json()["code"] == "stale"
    short = call(clinician, path, {"code": "contraindication.acute_fracture", "reason": "fine", "version": 2})
    assert short.status_code == 422
    assert short.json()["code"] == "override_refused"
    assert "too short" in short.json()["detail"]


def test_a_pregnancy_status_that_is_not_a_choice_is_refused(clinician, patient):
    with pytest.raises(ValidationError, match="Unknown pregnancy status"):
        services.screen_patient(actor_of(clinician), patient, knee_procedure(), pregnancy="maybe")


def test_unknown_day_of_flags_are_refused_by_the_service(clinician, patient):
    with pytest.raises(ScreeningError, match="Unknown day-of flag"):
        services.screen_patient(actor_of(clinician), patient, knee_procedure(), day_of_flags=["vampire"])


def test_control_characters_are_refused_before_anything_is_written(call, clinician, patient, allergic_screening):
    # PostgreSQL refuses NUL in text; every database gets the same clear answer instead.
    site = call(clinician, EVALUATE, {"patient_id": str(patient.uuid), "procedure": {**PROCEDURE, "site": "knee\x00"}})
    assert site.status_code == 422
    assert "invisible control character" in site.json()["detail"]
    override = call(
        clinician,
        f"/api/screenings/{allergic_screening.uuid}/overrides",
        {"code": "caution.anticoagulant", "reason": "INR fine\x00 yesterday, small needles.", "version": 1},
    )
    assert override.status_code == 422
    assert "invisible control character" in override.json()["detail"]
    assert ScreeningRecord.objects.count() == 1
    allergic_screening.refresh_from_db()
    assert allergic_screening.version == 1
