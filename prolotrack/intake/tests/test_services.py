"""Intake services: sending, the patient's link, submitting, and the review that writes through the chart's services."""

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from prolotrack.audit.models import AuditEvent
from prolotrack.audit.services import ServiceError
from prolotrack.clinical import queries as clinical_queries
from prolotrack.clinics.testing import actor_of
from prolotrack.intake import queries, services
from prolotrack.intake.models import Intake, IntakeDecision, IntakeLink, IntakeStatus
from prolotrack.outcomes.models import QuestionnaireResponse
from prolotrack.patients import services as patient_services
from prolotrack.patients.models import Allergy, Condition, Medication, WeightMeasurement

pytestmark = pytest.mark.django_db


def _shown(appointment: Any, by: Any) -> tuple[Intake, IntakeLink]:
    intake, path = services.request_intake(actor_of(by), appointment, delivery="shown")
    assert path is not None and path.startswith("/intake/")
    link = queries.link_by_token(path.split("/")[2])
    assert link is not None
    return intake, link


def _submitted(appointment: Any, by: Any, answers: dict[str, Any]) -> Intake:
    _intake, link = _shown(appointment, by)
    for step, values in answers.items():
        services.save_step(link, step, values)
    return services.submit(link)


def _facts(patient: Any) -> dict[str, Any]:
    today = timezone.localdate(timezone=patient.clinic.tz)
    return clinical_queries.registry_facts(patient, frozenset(), None, procedure_date=today, lookback_days=14).snapshot


def test_a_new_link_closes_the_earlier_one_and_expiry_never_passes_the_visit(appointment, clinician):
    _intake, first = _shown(appointment, clinician)
    _intake, second = _shown(appointment, clinician)
    first.refresh_from_db()
    assert first.state() == "revoked" and second.state() == "open"
    assert second.expires_at <= appointment.starts_at


@pytest.mark.parametrize("delivery", ["email", "fax"])
def test_refusals_write_nothing(appointment, clinician, make_patient, delivery):
    appointment.patient.email = ""
    with transaction.atomic():
        patient_services.update_patient(
            actor_of(clinician), appointment.patient, {"email": ""}, expected_version=appointment.patient.version
        )
    appointment.refresh_from_db()
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        services.request_intake(actor_of(clinician), appointment, delivery=delivery)
    assert not Intake.objects.exists() and AuditEvent.objects.count() == before


def test_a_role_without_the_permission_is_refused(appointment, make_member, clinic):
    from prolotrack.clinics.models import Role

    researcher = make_member("res", Role.RESEARCHER, clinic)
    with pytest.raises(ServiceError):
        services.request_intake(actor_of(researcher), appointment, delivery="shown")
    assert not Intake.objects.exists()


def test_submit_is_refused_while_a_part_is_unanswered_and_the_link_closes_once_sent(
    appointment, clinician, full_answers
):
    intake, link = _shown(appointment, clinician)
    services.save_step(link, "complaint", full_answers["complaint"])
    with pytest.raises(ValidationError) as refused:
        services.submit(link)
    assert set(refused.value.message_dict) == {"medicines", "allergies", "conditions", "weight"}
    intake.refresh_from_db()
    assert intake.status == IntakeStatus.IN_PROGRESS
    for step, values in full_answers.items():
        services.save_step(link, step, values)
    services.submit(link)
    link.refresh_from_db()
    assert queries.link_state(link) == "used"
    with pytest.raises(services.IntakeClosedError):
        services.save_step(link, "weight", {"unknown": True})


def test_unreviewed_answers_show_in_screening_but_are_not_chart_facts(appointment, clinician, full_answers):
    _submitted(appointment, clinician, full_answers)
    patient = appointment.patient
    facts = _facts(patient)
    assert facts["medications"] == [] and facts["allergies"] == [] and facts["flags"] == []
    assert facts["allergies_asked"] is False
    reported = {r["key"]: r for r in facts["patient_reported"]}
    assert reported["medication:apixaban"]["concept"] == "anticoagulant"
    assert reported["allergy:1"]["concept"] == "local_anaesthetic"
    assert reported["condition:diabetes"]["concept"] == "diabetes"
    assert not Medication.objects.filter(patient=patient).exists()


def test_accept_edit_reject_write_through_the_chart_services_with_audit_rows(appointment, clinician, full_answers):
    intake = _submitted(appointment, clinician, full_answers)
    patient = appointment.patient
    actor = actor_of(clinician)
    services.decide(actor, intake, "medication:apixaban", "accepted")
    services.decide(actor, intake, "allergy:1", "accepted")
    services.decide(actor, intake, "condition:diabetes", "accepted")
    services.decide(actor, intake, "medication:ibuprofen", "edited", values={"dose": "200 mg as needed"})
    services.decide(actor, intake, "weight", "rejected", reason="Weighed at the visit instead")
    med = Medication.objects.get(patient=patient, name="Apixaban")
    assert med.drug_class == "anticoagulant"
    assert Medication.objects.get(patient=patient, name="Ibuprofen").dose == "200 mg as needed"
    assert Allergy.objects.get(patient=patient).substance == "Lidocaine"
    assert Condition.objects.get(patient=patient, screening_flag="diabetes").category == "comorbidity"
    assert not WeightMeasurement.objects.filter(patient=patient).exists()
    decision = IntakeDecision.objects.get(intake=intake, item_key="medication:apixaban")
    assert decision.decided_by == clinician and decision.record_uuid == med.uuid
    actions = set(AuditEvent.objects.filter(action__startswith="intake.item.").values_list("action", flat=True))
    assert actions == {"intake.item.accepted", "intake.item.edited", "intake.item.rejected"}
    assert AuditEvent.objects.filter(action="patient.medication.added").count() == 2
    # Screening now reads the accepted entries as chart facts, and no longer lists them as unreviewed.
    facts = _facts(patient)
    assert {m["name"] for m in facts["medications"]} == {"Apixaban", "Ibuprofen"}
    assert "medication:apixaban" not in {r["key"] for r in facts["patient_reported"]}
    assert "complaint" in {r["key"] for r in facts["patient_reported"]}
    with pytest.raises(ServiceError):
        services.decide(actor, intake, "medication:apixaban", "accepted")


def test_bad_edit_and_missing_reason_write_nothing(appointment, clinician, full_answers):
    intake = _submitted(appointment, clinician, full_answers)
    actor = actor_of(clinician)
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        services.decide(actor, intake, "weight", "edited", values={"weight_kg": "4000"})
    with pytest.raises(ValidationError):
        services.decide(actor, intake, "weight", "rejected", reason="")
    with pytest.raises(ValidationError):
        services.decide(actor, intake, "nothing:here", "accepted")
    assert AuditEvent.objects.count() == before
    assert not IntakeDecision.objects.exists() and not WeightMeasurement.objects.exists()


def test_no_known_allergies_only_from_the_explicit_answer_and_only_on_acceptance(appointment, clinician, full_answers):
    answers = {**full_answers, "allergies": {"answer": "none", "items": []}}
    intake = _submitted(appointment, clinician, answers)
    patient = appointment.patient
    patient.refresh_from_db()
    assert patient.no_known_allergies is False  # reported, not yet reviewed
    assert "no_known_allergies" in {r["key"] for r in _facts(patient)["patient_reported"]}
    services.decide(actor_of(clinician), intake, "no_known_allergies", "accepted")
    patient.refresh_from_db()
    assert patient.no_known_allergies is True
    assert "intake" in patient.no_known_allergies_source


def test_an_empty_allergy_list_never_becomes_no_known_allergies(appointment, clinician, full_answers):
    intake, link = _shown(appointment, clinician)
    for step, values in full_answers.items():
        services.save_step(link, step, values)
    services.save_step(link, "allergies", {"answer": "", "items": []})
    with pytest.raises(ValidationError) as refused:
        services.submit(link)
    assert "allergies" in refused.value.message_dict
    assert "no_known_allergies" not in {i.key for i in queries.items(Intake.objects.get(pk=intake.pk))}


def test_accepting_no_known_allergies_with_an_allergy_recorded_is_refused_and_writes_nothing(
    appointment, clinician, full_answers
):
    answers = {**full_answers, "allergies": {"answer": "none", "items": []}}
    intake = _submitted(appointment, clinician, answers)
    patient = appointment.patient
    with transaction.atomic():
        patient_services.add_child(actor_of(clinician), patient, "allergy", {"substance": "Latex", "severity": "mild"})
    with pytest.raises(ServiceError):
        services.decide(actor_of(clinician), intake, "no_known_allergies", "accepted")
    assert not IntakeDecision.objects.exists()


def test_questionnaire_answers_become_a_baseline_response_on_acceptance(appointment, clinician, full_answers):
    intake, link = _shown(appointment, clinician)
    for step, values in full_answers.items():
        services.save_step(link, step, values)
    services.save_step(link, "questionnaire:nrs_pain", {"now": 6, "average_week": 5, "worst_week": 8})
    intake = services.submit(link)
    services.decide(actor_of(clinician), intake, "questionnaire:nrs_pain", "accepted")
    response = QuestionnaireResponse.objects.get(patient=appointment.patient)
    assert response.instrument == "nrs_pain" and response.source == "patient_link"


def test_a_pending_booker_is_reviewed_only_once_confirmed(appointment, clinician, full_answers, clinic):
    from prolotrack.booking.models import PendingPatient

    patient = appointment.patient
    intake = _submitted(appointment, clinician, full_answers)
    # Make the intake an online booker's: no patient, a pending person not confirmed yet.
    with transaction.atomic():
        from prolotrack.audit.services import create_record, update_record

        pending = create_record(
            actor_of(clinician),
            PendingPatient(
                clinic=clinic, given_name="Ada", family_name="Lovelace", date_of_birth=patient.date_of_birth
            ),
            "test.pending",
        )
        intake = update_record(
            actor_of(clinician), intake, {"patient": None, "pending_patient": pending}, "test.x", expected_version=None
        )
    with pytest.raises(ServiceError, match="not confirmed yet"):
        services.decide(actor_of(clinician), intake, "condition:diabetes", "accepted")
    assert queries.unreviewed_items(patient) == []
    with transaction.atomic():
        update_record(
            actor_of(clinician), pending, {"patient": patient, "status": "confirmed"}, "test.y", expected_version=None
        )
    intake = Intake.objects.get(pk=intake.pk)
    assert {r["key"] for r in queries.unreviewed_items(patient)} >= {"condition:diabetes"}
    services.decide(actor_of(clinician), intake, "condition:diabetes", "accepted")
    intake.refresh_from_db()
    assert intake.patient == patient


def test_an_intake_for_a_past_or_cancelled_visit_is_refused(appointment, clinician):
    with pytest.raises(ServiceError):
        services.request_intake(
            actor_of(clinician), appointment, delivery="shown", now=appointment.starts_at + timedelta(minutes=1)
        )
    assert not Intake.objects.exists()
