"""Every registry page, for every persona: who may see it, and the outsider gets a 404."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction

from prolotrack.clinics.testing import actor_of
from prolotrack.patients import services

ALL = ("clinician", "colleague", "frontdesk", "admin", "researcher", "outsider")

# path template, method, {persona: expected status}
PAGES = [
    (
        "/patients/",
        "get",
        {"clinician": 200, "colleague": 200, "frontdesk": 200, "admin": 200, "researcher": 403, "outsider": 200},
    ),
    (
        "/patients/new/",
        "get",
        {"clinician": 200, "colleague": 200, "frontdesk": 200, "admin": 200, "researcher": 403, "outsider": 200},
    ),
    (
        "/patients/{p}/",
        "get",
        {"clinician": 200, "colleague": 200, "frontdesk": 200, "admin": 200, "researcher": 403, "outsider": 404},
    ),
    (
        "/patients/{p}/edit/",
        "get",
        {"clinician": 200, "colleague": 200, "frontdesk": 200, "admin": 200, "researcher": 403, "outsider": 404},
    ),
    (
        "/patients/{p}/history/",
        "get",
        {"clinician": 200, "colleague": 200, "frontdesk": 403, "admin": 200, "researcher": 403, "outsider": 404},
    ),
    (
        "/patients/{p}/entered-in-error/",
        "get",
        {"clinician": 200, "colleague": 200, "frontdesk": 403, "admin": 403, "researcher": 403, "outsider": 404},
    ),
    (
        "/patients/{p}/weight/add/",
        "post",
        {"clinician": 400, "colleague": 400, "frontdesk": 403, "admin": 403, "researcher": 403, "outsider": 404},
    ),
    (
        "/patients/{p}/weight/{w}/edit/",
        "get",
        {"clinician": 200, "colleague": 200, "frontdesk": 403, "admin": 403, "researcher": 403, "outsider": 404},
    ),
    (
        "/patients/{p}/weight/{w}/entered-in-error/",
        "get",
        {"clinician": 200, "colleague": 200, "frontdesk": 403, "admin": 403, "researcher": 403, "outsider": 404},
    ),
    (
        "/patients/{p}/weight/add/",
        "get",
        {"clinician": 200, "colleague": 200, "frontdesk": 403, "admin": 403, "researcher": 403, "outsider": 404},
    ),
    (
        "/patients/{p}/no-known-allergies/",
        "post",
        {"clinician": 302, "colleague": 302, "frontdesk": 403, "admin": 403, "researcher": 403, "outsider": 404},
    ),
    (
        "/audit/",
        "get",
        {"clinician": 403, "colleague": 403, "frontdesk": 403, "admin": 200, "researcher": 403, "outsider": 403},
    ),
    (
        "/clinic/settings/",
        "get",
        {"clinician": 403, "colleague": 403, "frontdesk": 403, "admin": 200, "researcher": 403, "outsider": 403},
    ),
]


@pytest.fixture
def weight(clinician, patient):
    with transaction.atomic():
        return services.add_child(
            actor_of(clinician), patient, "weight", {"measured_on": date(2026, 1, 5), "weight_kg": Decimal("70")}
        )


@pytest.mark.parametrize(("template", "method", "expected"), PAGES, ids=[f"{m} {t}" for t, m, _ in PAGES])
@pytest.mark.parametrize("persona", ALL)
def test_page_access_by_role_and_clinic(client, login, personas, patient, weight, template, method, expected, persona):
    login(personas[persona])
    url = template.format(p=patient.uuid, w=weight.uuid)
    response = getattr(client, method)(url)
    assert response.status_code == expected[persona]
    if response.status_code in (403, 404):
        assert patient.family_name not in response.content.decode()


@pytest.mark.parametrize(("template", "method", "expected"), PAGES, ids=[f"{m} {t}" for t, m, _ in PAGES])
def test_anonymous_visitors_are_sent_to_log_in(client, patient, weight, template, method, expected):
    response = getattr(client, method)(template.format(p=patient.uuid, w=weight.uuid))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_outsiders_patient_list_shows_only_their_own_clinic(client, login, outsider, make_patient, patient):
    mine = make_patient(by=outsider, given_name="Beta", family_name="Zeta")
    login(outsider)
    body = client.get("/patients/").content.decode()
    assert mine.family_name in body
    assert patient.family_name not in body


def test_front_desk_chart_shows_demographics_but_no_clinical_sections(client, login, frontdesk, clinician, patient):
    with transaction.atomic():
        services.add_child(actor_of(clinician), patient, "allergy", {"substance": "Penicillin", "severity": "severe"})
    login(frontdesk)
    body = client.get(f"/patients/{patient.uuid}/").content.decode()
    assert patient.mrn in body
    assert "Penicillin" not in body
    assert "Your role sees demographics only" in body
