"""Intake pages: the patient's steps by link (no login), refusals next to the field with nothing saved, closed
links, and the staff's send and review pages."""

from typing import Any

import pytest

from prolotrack.clinics.testing import actor_of
from prolotrack.intake import queries, services
from prolotrack.intake.models import Intake, IntakeDecision
from prolotrack.patients.models import Medication

pytestmark = pytest.mark.django_db

STEPS = {
    "complaint": {
        "description": "Knee pain on stairs",
        "region": "knee",
        "side": "left",
        "duration": "chronic",
        "pain_now": "6",
        "treatments": ["physiotherapy"],
    },
    "medicines": {"take_apixaban": "on", "dose_apixaban": "5 mg twice a day"},
    "allergies": {"answer": "none"},
    "conditions": {
        "pregnancy": "no",
        "diabetes": "yes",
        "bleeding_disorder": "no",
        "prosthetic_joint": "no",
        "skin_infection": "no",
        "systemic_infection": "unsure",
    },
    "weight": {"weight_value": "72.5", "unit": "kg"},
}


def _link(appointment: Any, clinician: Any) -> tuple[str, Intake]:
    intake, path = services.request_intake(actor_of(clinician), appointment, delivery="shown")
    assert path is not None
    return path, intake


def test_the_patient_fills_every_step_and_sends(client, appointment, clinician):
    path, intake = _link(appointment, clinician)
    start = client.get(path)
    assert start.status_code == 200 and "no-store" in start["Cache-Control"]
    body = start.content.decode()
    assert "Step" not in body or "of" in body
    assert appointment.patient.family_name not in body  # the form shows nothing of the patient
    for key, data in STEPS.items():
        page = client.get(f"{path}{key}/")
        assert page.status_code == 200, key
        assert 'aria-current="step"' in page.content.decode()
        response = client.post(f"{path}{key}/", {**data, "action": "next"})
        assert response.status_code == 302, (key, response.content.decode()[:2000])
    nrs = client.get(f"{path}q-nrs_pain/")
    assert nrs.status_code == 200 and 'value="6" checked' in nrs.content.decode()  # pain now, not asked twice
    check = client.get(f"{path}check/")
    assert check.status_code == 200
    sent = client.post(f"{path}check/")
    assert sent.status_code == 200 and "Thank you" in sent.content.decode()
    intake.refresh_from_db()
    assert intake.status == "submitted"
    assert intake.answers["allergies"] == {"answer": "none", "items": []}
    assert intake.answers["medicines"]["named"]["apixaban"]["dose"] == "5 mg twice a day"
    closed = client.get(path)
    assert closed.status_code == 410


@pytest.mark.parametrize(
    ("step", "data", "field", "message"),
    [
        (
            "complaint",
            {"description": "", "region": "knee", "duration": "acute", "pain_now": "3"},
            "description",
            "few words",
        ),
        (
            "complaint",
            {"description": "x", "region": "knee", "duration": "acute", "pain_now": "11"},
            "pain_now",
            "0 (no pain)",
        ),
        ("complaint", {"description": "x", "duration": "acute", "pain_now": "3"}, "region", "where it hurts"),
        ("medicines", {}, "none", "take none"),
        ("medicines", {"none": "on", "take_warfarin": "on"}, "none", "You listed a medicine"),
        ("medicines", {"dose_ibuprofen": "400 mg"}, "take_ibuprofen", "Tick this medicine"),
        ("allergies", {}, "answer", "no known allergies"),
        ("allergies", {"answer": "some"}, "substance_1", "at least one allergy"),
        (
            "allergies",
            {"answer": "none", "substance_1": "Latex", "severity_1": "mild"},
            "answer",
            "You listed an allergy",
        ),
        ("allergies", {"answer": "some", "substance_1": "NKDA", "severity_1": "mild"}, "substance_1", "no allergies"),
        ("allergies", {"answer": "some", "substance_1": "Latex"}, "severity_1", "how bad"),
        ("conditions", {"pregnancy": "no"}, "diabetes", "yes, no or not sure"),
        ("weight", {"weight_value": "900", "unit": "lb"}, "weight_value", "between 4 and 882 lb"),
        ("weight", {"weight_value": "", "unit": "kg"}, "weight_value", "do not know"),
    ],
)
def test_a_refused_step_says_why_next_to_the_field_and_saves_nothing(
    client, appointment, clinician, step, data, field, message
):
    path, intake = _link(appointment, clinician)
    response = client.post(f"{path}{step}/", {**data, "action": "next"})
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert 'role="alert"' in html
    intake.refresh_from_db()
    assert step not in (intake.answers or {})


def test_unknown_and_revoked_links(client, appointment, clinician):
    assert client.get("/intake/not-a-token/").status_code == 404
    first, _ = _link(appointment, clinician)
    _link(appointment, clinician)  # a new link closes the first
    assert client.get(first).status_code == 410


def test_staff_send_page_shows_the_link_once_and_refusals(client, login, appointment, clinician):
    login(clinician)
    page = client.get(f"/appointments/{appointment.uuid}/intake/")
    assert page.status_code == 200 and "Email the link" in page.content.decode()
    shown = client.post(f"/appointments/{appointment.uuid}/intake/", {"delivery": "shown"})
    assert shown.status_code == 200 and "/intake/" in shown.content.decode()
    emailed = client.post(f"/appointments/{appointment.uuid}/intake/", {"delivery": "email"})
    assert emailed.status_code == 302
    refused = client.post(f"/appointments/{appointment.uuid}/intake/", {"delivery": "fax"})
    assert refused.status_code == 400 and "Choose how the link goes" in refused.content.decode()


def test_the_review_page_shows_the_chart_beside_the_answers_and_decides_each_item(
    client, login, appointment, clinician
):
    path, intake = _link(appointment, clinician)
    for key, data in STEPS.items():
        client.post(f"{path}{key}/", {**data, "action": "next"})
    client.post(f"{path}check/")
    patient = appointment.patient
    login(clinician)
    chart = client.get(f"/patients/{patient.uuid}/intake/")
    assert chart.status_code == 200 and "Review" in chart.content.decode()
    page = client.get(f"/patients/{patient.uuid}/intake/{intake.uuid}/")
    html = page.content.decode()
    assert page.status_code == 200 and "On the chart now" in html and "Takes Apixaban" in html
    screening = client.get(f"/patients/{patient.uuid}/screening/new/")
    assert "Reported by the patient, not yet reviewed" in screening.content.decode()
    url = f"/patients/{patient.uuid}/intake/{intake.uuid}/items/medication:apixaban/"
    bad = client.post(
        url, {"decision": "edited", "edit-name": "", "edit-drug_class": "anticoagulant", "edit-status": "active"}
    )
    assert bad.status_code == 400 and not Medication.objects.filter(patient=patient).exists()
    assert client.post(url, {"decision": "accepted"}).status_code == 302
    assert Medication.objects.get(patient=patient).drug_class == "anticoagulant"
    rejected = client.post(f"/patients/{patient.uuid}/intake/{intake.uuid}/items/weight/", {"decision": "rejected"})
    assert rejected.status_code == 400 and "Say why" in rejected.content.decode()
    assert IntakeDecision.objects.count() == 1
    assert "medication:apixaban" not in {r["key"] for r in queries.unreviewed_items(patient)}


def test_front_desk_may_send_but_not_review(client, login, appointment, make_member, clinic, clinician):
    from prolotrack.clinics.models import Role

    desk = make_member("desk", Role.FRONT_DESK, clinic)
    login(desk)
    assert client.get(f"/appointments/{appointment.uuid}/intake/").status_code == 200
    assert client.get(f"/patients/{appointment.patient.uuid}/intake/").status_code == 403


def test_the_pain_slider_speaks_the_patients_language(client, appointment, clinician):
    """The complaint step's 0-10 slider is drawn by questionnaire.js from the scale's data attributes: without them a
    Spanish page said "Not answered yet: move the slider or use − and +" (found on a phone walk in session 10)."""
    path, _ = _link(appointment, clinician)
    spanish = client.get(f"{path}complaint/?lang=es").content.decode()
    assert 'data-unset="Sin contestar: mueva el control deslizante o use − y +"' in spanish
    assert 'data-unset-value="sin contestar"' in spanish
    assert 'data-lower="Menos"' in spanish and 'data-higher="Más"' in spanish
    english = client.get(f"{path}complaint/?lang=en").content.decode()
    assert 'data-unset="Not answered yet: move the slider or use − and +"' in english
