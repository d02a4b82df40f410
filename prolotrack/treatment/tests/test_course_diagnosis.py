"""The course's ICD-10-CM codes for the superbill (treatment.queries.course_diagnosis over domain/icd10cm.py): the
chart's coded condition first (typed codes or FHIR codings), else the indication's code for the course's side."""

import dataclasses

import pytest
from django.db import transaction

from prolotrack.clinics.testing import actor_of
from prolotrack.domain.icd10cm import ICD10CM_SYSTEM, Source
from prolotrack.patients import services as patient_services
from prolotrack.treatment import queries
from prolotrack.treatment.testing import knee_course
from prolotrack.treatment.tests.conftest import START


def _condition(user, patient, *, channel="web", **values):
    actor = dataclasses.replace(actor_of(user), channel=channel)
    data = {"category": "complaint", "description": "Knee pain", **values}
    with transaction.atomic():
        return patient_services.add_child(actor, patient, "condition", data)


@pytest.mark.parametrize(("side", "code"), [("right", "M17.11"), ("left", "M17.12"), ("bilateral", "M17.0")])
def test_without_a_coded_condition_the_indication_gives_the_code_for_the_side(clinician, patient, side, code):
    course = knee_course(clinician, patient, START, side=side)
    result = queries.course_diagnosis(course)
    assert ([c.code for c in result.codes], result.source) == ([code], Source.INDICATION)


def test_a_code_typed_on_the_chart_wins(clinician, patient, django_assert_num_queries):
    course = knee_course(clinician, patient, START)
    _condition(clinician, patient, body_region="knee", laterality="right", codes=[f"{ICD10CM_SYSTEM}|M1731"])
    _condition(clinician, patient, description="Hypertension", codes=[f"{ICD10CM_SYSTEM}|I10"])
    with django_assert_num_queries(1):
        result = queries.course_diagnosis(course)
    assert ([c.code for c in result.codes], result.source) == (["M17.31"], Source.CHART)


def test_a_coding_received_over_fhir_wins_with_its_display(clinician, patient):
    course = knee_course(clinician, patient, START, side="left")
    coding = {"system": ICD10CM_SYSTEM, "code": "M17.12", "display": "Unilateral primary osteoarthritis, left knee"}
    _condition(clinician, patient, channel="fhir", laterality="left", codings=[coding])
    result = queries.course_diagnosis(course)
    assert [(c.code, c.display) for c in result.codes] == [("M17.12", coding["display"])]
    assert result.source is Source.CHART


def test_a_resolved_condition_or_one_of_the_other_side_is_not_used(clinician, patient):
    course = knee_course(clinician, patient, START)
    _condition(clinician, patient, clinical_status="resolved", codes=[f"{ICD10CM_SYSTEM}|M17.31"])
    _condition(clinician, patient, laterality="left", codes=[f"{ICD10CM_SYSTEM}|M17.12"])
    result = queries.course_diagnosis(course)
    assert ([c.code for c in result.codes], result.source) == (["M17.11"], Source.INDICATION)
