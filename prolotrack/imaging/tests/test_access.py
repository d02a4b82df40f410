"""Every imaging page and endpoint, for every persona: who may use it, and the outsider gets a 404 for our records."""

import pytest

from prolotrack.audit.models import AuditEvent
from prolotrack.imaging.models import ImagingFile, ImagingStudy
from prolotrack.imaging.tests.factories import png_bytes

ALL = ("clinician", "colleague", "frontdesk", "admin", "researcher", "outsider")

VIEW = {"clinician": 200, "colleague": 200, "frontdesk": 403, "admin": 403, "researcher": 403, "outsider": 404}
EDIT_FORM = VIEW
# An empty POST is answered with what to fill in (400); other roles never get that far.
EMPTY_POST = {**VIEW, "clinician": 400, "colleague": 400}
DECIDE_EMPTY = {**VIEW, "clinician": 400, "colleague": 403}
MARK_ERROR = VIEW

# path template, method, {persona: status}
PAGES = [
    ("/patients/{p}/imaging/new/", "get", EDIT_FORM),
    ("/patients/{p}/imaging/new/", "post", EMPTY_POST),
    ("/patients/{p}/imaging/{s}/", "get", VIEW),
    ("/patients/{p}/imaging/{s}/edit/", "get", EDIT_FORM),
    ("/patients/{p}/imaging/{s}/files/", "post", EMPTY_POST),
    ("/patients/{p}/imaging/{s}/feasibility/", "post", DECIDE_EMPTY),
    ("/patients/{p}/imaging/{s}/entered-in-error/", "get", MARK_ERROR),
    ("/patients/{p}/imaging/{s}/files/{f}/entered-in-error/", "get", MARK_ERROR),
    ("/imaging/files/{f}/", "get", VIEW),
    ("/imaging/files/{d}/original/", "get", VIEW),
]


def _ids(patient, study, png_file, dicom_file):
    return {"p": patient.uuid, "s": study.uuid, "f": png_file.uuid, "d": dicom_file.uuid}


@pytest.mark.parametrize(("template", "method", "expected"), PAGES, ids=[f"{m} {t}" for t, m, _ in PAGES])
@pytest.mark.parametrize("persona", ALL)
def test_every_page_by_role_and_clinic(
    client, login, personas, patient, study, png_file, dicom_file, template, method, expected, persona
):
    login(personas[persona])
    before = (ImagingStudy.objects.count(), ImagingFile.objects.count())
    response = getattr(client, method)(template.format(**_ids(patient, study, png_file, dicom_file)))
    assert response.status_code == expected[persona]
    if response.status_code in (403, 404):
        body = response.content.decode(errors="replace")
        assert patient.family_name not in body
        assert study.report not in body
    assert (ImagingStudy.objects.count(), ImagingFile.objects.count()) == before


@pytest.mark.parametrize(("template", "method", "expected"), PAGES, ids=[f"{m} {t}" for t, m, _ in PAGES])
def test_anonymous_visitors_are_sent_to_log_in(
    client, patient, study, png_file, dicom_file, template, method, expected
):
    response = getattr(client, method)(template.format(**_ids(patient, study, png_file, dicom_file)))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_study_of_another_patient_is_not_found_under_this_patient(client, login, clinician, make_patient, study):
    other = make_patient(given_name="Grace", family_name="Hopper", mrn="X-2")
    login(clinician)
    assert client.get(f"/patients/{other.uuid}/imaging/{study.uuid}/").status_code == 404


# --- API -----------------------------------------------------------------------------------------------------

CREATE = {"clinician": 201, "colleague": 201, "frontdesk": 403, "admin": 403, "researcher": 403, "outsider": 404}
DECIDE = {"clinician": 200, "colleague": 403, "frontdesk": 403, "admin": 403, "researcher": 403, "outsider": 404}
CATALOGUE = {**VIEW, "outsider": 200}  # no patient data: any clinical role of any clinic

STUDY_BODY = {"modality": "mri", "study_date": "2025-02-01", "body_region": "knee", "findings": ["knee.meniscal_tear"]}
DECISION_BODY = {"version": 1, "feasibility": "feasible", "reason": "No tear; enthesopathy at the MCL origin."}

# name, method, path template, body, {persona: status}
ENDPOINTS = [
    ("list", "get", "/api/patients/{p}/imaging", None, VIEW),
    ("create", "post", "/api/patients/{p}/imaging", STUDY_BODY, CREATE),
    ("read", "get", "/api/imaging/{s}", None, VIEW),
    ("decide", "post", "/api/imaging/{s}/feasibility", DECISION_BODY, DECIDE),
    ("content", "get", "/api/imaging/files/{f}/content", None, VIEW),
    ("original", "get", "/api/imaging/files/{d}/content?original=true", None, VIEW),
    ("catalogue", "get", "/api/imaging/findings", None, CATALOGUE),
]


@pytest.mark.parametrize(("name", "method", "path", "body", "expected"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
@pytest.mark.parametrize("persona", ALL)
def test_every_endpoint_by_role_and_clinic(
    client, api_token, personas, patient, study, png_file, dicom_file, name, method, path, body, expected, persona
):
    headers = api_token(personas[persona])
    url = path.format(**_ids(patient, study, png_file, dicom_file))
    before = ImagingStudy.objects.count()
    if method == "get":
        response = client.get(url, headers=headers)
    else:
        response = client.post(url, body, content_type="application/json", headers=headers)
    assert response.status_code == expected[persona], response.content
    if response.status_code >= 400:
        payload = response.json()
        assert payload["code"] and payload["detail"]
        assert patient.family_name not in response.content.decode()
        assert ImagingStudy.objects.count() == before
    study.refresh_from_db()
    assert study.feasibility == ("feasible" if name == "decide" and response.status_code == 200 else "")


UPLOAD = {"clinician": 201, "colleague": 201, "frontdesk": 403, "admin": 403, "researcher": 403, "outsider": 404}


@pytest.mark.parametrize("persona", ALL)
def test_uploading_through_the_api_by_role_and_clinic(client, api_token, personas, study, persona):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("knee.png", png_bytes((32, 32)), content_type="image/png")
    response = client.post(f"/api/imaging/{study.uuid}/files", {"file": upload}, headers=api_token(personas[persona]))
    assert response.status_code == UPLOAD[persona], response.content
    assert ImagingFile.objects.count() == (1 if UPLOAD[persona] == 201 else 0)


def test_the_api_wants_a_token(client, patient, study, png_file):
    for path in (
        f"/api/patients/{patient.uuid}/imaging",
        f"/api/imaging/{study.uuid}",
        f"/api/imaging/files/{png_file.uuid}/content",
    ):
        response = client.get(path)
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"


# --- Serving files -------------------------------------------------------------------------------------------


def test_a_png_is_served_inline_with_its_type_nosniff_and_audited(client, login, clinician, png_file):
    login(clinician)
    response = client.get(f"/imaging/files/{png_file.uuid}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'inline; filename="{png_file.uuid}.png"'
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == png_bytes()
    event = AuditEvent.objects.get(action="imaging.file.viewed")
    assert (event.user, event.record_uuid, event.patient_uuid) == (clinician, png_file.uuid, png_file.patient.uuid)


def test_a_dicom_is_shown_as_its_png_preview_and_downloads_as_dicom(client, login, colleague, dicom_file):
    login(colleague)
    shown = client.get(f"/imaging/files/{dicom_file.uuid}/")
    assert shown["Content-Type"] == "image/png"
    assert shown["Content-Disposition"].startswith("inline")
    assert b"".join(shown.streaming_content).startswith(b"\x89PNG")
    original = client.get(f"/imaging/files/{dicom_file.uuid}/original/")
    assert original["Content-Type"] == "application/dicom"
    assert original["Content-Disposition"] == f'attachment; filename="{dicom_file.uuid}.dcm"'
    assert original["X-Content-Type-Options"] == "nosniff"
    assert b"".join(original.streaming_content)[128:132] == b"DICM"
    assert AuditEvent.objects.filter(action="imaging.file.downloaded", user=colleague).count() == 1


def test_the_api_serves_content_with_the_same_headers_and_audit(client, api_token, clinician, png_file):
    response = client.get(f"/api/imaging/files/{png_file.uuid}/content", headers=api_token(clinician))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("inline")
    event = AuditEvent.objects.get(action="imaging.file.viewed")
    assert event.channel == "api"


def test_a_file_entered_in_error_is_still_served_for_review(client, login, clinician, png_file):
    from prolotrack.clinics.testing import actor_of
    from prolotrack.imaging import services

    services.retire_file(actor_of(clinician), png_file, reason="Image of another patient")
    login(clinician)
    response = client.get(f"/imaging/files/{png_file.uuid}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == png_bytes()


def test_a_missing_stored_file_answers_404_not_500(client, login, clinician, png_file):
    from pathlib import Path

    from django.conf import settings

    Path(settings.MEDIA_ROOT, png_file.stored_path).unlink()
    login(clinician)
    assert client.get(f"/imaging/files/{png_file.uuid}/").status_code == 404
