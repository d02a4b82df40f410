"""Imaging pages and API in use: the chart card, adding a study, uploads accepted and refused, the decision."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone

from prolotrack.audit.models import AuditEvent
from prolotrack.clinics.testing import actor_of
from prolotrack.imaging import services
from prolotrack.imaging.models import ImagingFile, ImagingStudy
from prolotrack.imaging.tests.factories import (
    DICOM_PATIENT_ID,
    DICOM_PATIENT_NAME,
    dicom_bytes,
    pdf_bytes,
    png_bytes,
    stored_files,
)

MB = 1024 * 1024


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


# --- Chart card ----------------------------------------------------------------------------------------------


def test_the_chart_lists_studies_with_their_feasibility(client, login, clinician, patient, study):
    services.record_feasibility(
        actor_of(clinician), study, "uncertain", "Needs an MRI for the meniscus.", expected_version=1
    )
    login(clinician)
    body = client.get(f"/patients/{patient.uuid}/").content.decode()
    card = body[body.index('id="imaging"') :]
    assert "2025-03-01" in card and "Ultrasound, knee, left" in card
    assert 'class="img-badge uncertain">Uncertain<' in card
    assert f'href="/patients/{patient.uuid}/imaging/new/"' in card


def test_the_chart_has_no_imaging_card_for_the_front_desk(client, login, frontdesk, patient, study):
    login(frontdesk)
    body = client.get(f"/patients/{patient.uuid}/").content.decode()
    assert 'id="imaging"' not in body
    assert study.report not in body


def test_the_chart_card_costs_one_query_whatever_the_number_of_studies(client, login, clinician, patient, make_study):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(clinician)
    make_study(patient)
    with CaptureQueriesContext(connection) as one:
        client.get(f"/patients/{patient.uuid}/")
    for _ in range(4):
        make_study(patient)
    with CaptureQueriesContext(connection) as five:
        client.get(f"/patients/{patient.uuid}/")
    assert len(five) == len(one)


# --- Adding a study ------------------------------------------------------------------------------------------


def test_a_nurse_adds_a_study_with_findings_from_the_page(client, login, colleague, patient):
    login(colleague)
    response = client.post(
        f"/patients/{patient.uuid}/imaging/new/",
        {
            "modality": "ultrasound",
            "study_date": "2025-03-01",
            "body_region": "knee",
            "laterality": "right",
            "findings": ["knee.effusion", "knee.kl_2"],
            "report": "Moderate effusion.",
        },
    )
    study = ImagingStudy.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/patients/{patient.uuid}/imaging/{study.uuid}/"
    assert study.findings == ["knee.kl_2", "knee.effusion"]
    assert study.created_by == colleague


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"findings": ["shoulder.calcific_tendinitis"]}, "These findings belong to another body region"),
        ({"findings": ["knee.kl_1", "knee.kl_4"]}, "Choose one Kellgren-Lawrence grade only"),
        ({"study_date": "2999-01-01"}, "The study date cannot be in the future"),
        ({"modality": ""}, "This field is required."),
    ],
    ids=["other region", "two grades", "future", "no modality"],
)
def test_a_bad_study_form_says_what_to_fix_and_saves_nothing(client, login, clinician, patient, changes, message):
    login(clinician)
    data = {"modality": "xray", "study_date": "2025-03-01", "body_region": "knee", "laterality": "left", **changes}
    response = client.post(f"/patients/{patient.uuid}/imaging/new/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImagingStudy.objects.exists()


def test_the_study_form_offers_every_regions_findings_grouped(client, login, clinician, patient):
    login(clinician)
    body = client.get(f"/patients/{patient.uuid}/imaging/new/").content.decode()
    assert 'data-region="knee"' in body and 'data-region="general"' in body and 'data-region="shoulder"' in body
    assert "Kellgren-Lawrence grade 3" in body
    today = timezone.localdate(timezone=patient.clinic.tz)
    assert f'max="{today.isoformat()}"' in body


def test_editing_a_study_from_the_page_makes_a_new_version(client, login, clinician, patient, study):
    login(clinician)
    url = f"/patients/{patient.uuid}/imaging/{study.uuid}/edit/"
    assert "knee.effusion" in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "version": 1,
            "modality": "ultrasound",
            "study_date": "2025-03-01",
            "body_region": "knee",
            "laterality": "left",
            "findings": ["knee.effusion", "knee.baker_cyst"],
            "report": study.report,
            "change_reason": "Baker's cyst seen on review",
        },
    )
    assert response.status_code == 302
    study.refresh_from_db()
    assert (study.version, study.findings) == (2, ["knee.effusion", "knee.baker_cyst"])


# --- Uploads on the page -------------------------------------------------------------------------------------


def test_uploading_a_png_and_a_dicom_from_the_study_page(client, login, clinician, patient, study):
    login(clinician)
    url = f"/patients/{patient.uuid}/imaging/{study.uuid}/files/"
    first = client.post(url, {"file": upload("knee.png", png_bytes(), "image/png")})
    second = client.post(url, {"file": upload("IM0001.dcm", dicom_bytes())})
    assert first.status_code == second.status_code == 302
    assert sorted(ImagingFile.objects.values_list("kind", flat=True)) == ["dicom", "png"]
    page = client.get(f"/patients/{patient.uuid}/imaging/{study.uuid}/").content.decode()
    for file in ImagingFile.objects.all():
        assert f'src="/imaging/files/{file.uuid}/"' in page
    assert "Download DICOM" in page
    assert "<dt>Modality</dt><dd>US</dd>" in page
    # The DICOM's own identifiers (from its source system) are never shown.
    assert DICOM_PATIENT_ID not in page and DICOM_PATIENT_NAME.split("^")[0] not in page


def test_a_png_named_dcm_is_accepted_and_the_page_says_what_it_is(client, login, clinician, patient, study):
    login(clinician)
    response = client.post(
        f"/patients/{patient.uuid}/imaging/{study.uuid}/files/",
        {"file": upload("IM0002.dcm", png_bytes())},
        follow=True,
    )
    assert "Its name says DICOM, but it is a PNG image" in response.content.decode()
    assert ImagingFile.objects.get().kind == "png"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("referral.pdf", pdf_bytes(), "This file is a PDF; attach PNG, JPEG or DICOM images."),
        ("empty.png", b"", "is empty (0 bytes)"),
        ("cut.png", png_bytes((300, 300))[:300], "starts like a PNG image but cannot be read"),
        ("huge.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (2 * MB), "The file is 2.1 MB; the limit is 1 MB."),
    ],
    ids=["pdf", "empty", "truncated", "too large"],
)
@override_settings(PROLOTRACK_MAX_UPLOAD_MB=1)
def test_a_refused_upload_shows_the_reason_and_writes_nothing(
    client, login, clinician, patient, study, name, data, message
):
    login(clinician)
    response = client.post(f"/patients/{patient.uuid}/imaging/{study.uuid}/files/", {"file": upload(name, data)})
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert 'class="error img-refused" role="alert"' in body
    assert "up to 1 MB" in body
    assert not ImagingFile.objects.exists()
    assert stored_files() == []


def test_an_upload_without_a_file_asks_for_one(client, login, clinician, patient, study):
    login(clinician)
    response = client.post(f"/patients/{patient.uuid}/imaging/{study.uuid}/files/", {})
    assert response.status_code == 400
    assert "Choose an image file to attach." in response.content.decode()


def test_viewing_the_study_page_is_audited(client, login, colleague, patient, study):
    login(colleague)
    client.get(f"/patients/{patient.uuid}/imaging/{study.uuid}/")
    event = AuditEvent.objects.get(action="imaging.study.viewed")
    assert (event.user, event.record_uuid, event.patient_uuid) == (colleague, study.uuid, patient.uuid)


def test_concern_findings_are_flagged_on_the_study_page(client, login, clinician, patient, make_study):
    study = make_study(patient, findings=["general.fracture", "knee.effusion"])
    login(clinician)
    body = client.get(f"/patients/{patient.uuid}/imaging/{study.uuid}/").content.decode()
    assert "This finding may argue against injecting at this site:" in body
    assert "Fracture" in body


def test_a_dicom_from_another_kind_of_study_is_pointed_out(client, login, clinician, patient, study, attach):
    attach(study, dicom_bytes(modality="MR", study_date="20250110"), "mr.dcm")
    login(clinician)
    body = client.get(f"/patients/{patient.uuid}/imaging/{study.uuid}/").content.decode()
    assert "The file says modality MR, the study is Ultrasound." in body
    assert "The file&#x27;s study date is 2025-01-10, the study&#x27;s is 2025-03-01." in body


# --- Feasibility on the page ---------------------------------------------------------------------------------


def test_only_the_clinician_sees_the_decision_form(client, login, clinician, colleague, patient, study):
    url = f"/patients/{patient.uuid}/imaging/{study.uuid}/"
    login(clinician)
    assert f'action="/patients/{patient.uuid}/imaging/{study.uuid}/feasibility/"' in client.get(url).content.decode()
    login(colleague)
    body = client.get(url).content.decode()
    assert "/feasibility/" not in body
    assert "Only a clinician records this decision." in body


def test_the_clinician_records_a_decision_from_the_page(client, login, clinician, patient, study):
    login(clinician)
    response = client.post(
        f"/patients/{patient.uuid}/imaging/{study.uuid}/feasibility/",
        {"version": 1, "feasibility": "not_feasible", "feasibility_reason": "Full-thickness tear: refer to surgeon."},
        follow=True,
    )
    body = response.content.decode()
    assert "Feasibility decision recorded with your reason." in body
    assert "Full-thickness tear: refer to surgeon." in body
    assert 'class="img-badge not_feasible">Not feasible<' in body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"feasibility": "feasible", "feasibility_reason": ""}, "Say why (at least 10 characters)"),
        ({"feasibility": "feasible", "feasibility_reason": "ok"}, "Say why (at least 10 characters)"),
        ({"feasibility_reason": "Looks fine on ultrasound."}, "Choose feasible, not feasible or uncertain."),
    ],
    ids=["no reason", "short reason", "no choice"],
)
def test_a_decision_without_a_reason_or_choice_is_refused(client, login, clinician, patient, study, data, message):
    login(clinician)
    response = client.post(f"/patients/{patient.uuid}/imaging/{study.uuid}/feasibility/", {"version": 1, **data})
    assert response.status_code == 400
    assert message in response.content.decode()
    study.refresh_from_db()
    assert study.feasibility == ""


def test_marking_a_file_entered_in_error_from_the_page_keeps_it_listed(
    client, login, clinician, patient, study, png_file
):
    login(clinician)
    response = client.post(
        f"/patients/{patient.uuid}/imaging/{study.uuid}/files/{png_file.uuid}/entered-in-error/",
        {"version": 1, "reason": "other", "details": "Image of the other knee"},
        follow=True,
    )
    body = response.content.decode()
    assert "Entered in error (1)" in body and "Image of the other knee" in body
    assert stored_files()


def test_marking_a_study_entered_in_error_strikes_it_on_the_chart(client, login, clinician, patient, study):
    login(clinician)
    response = client.post(
        f"/patients/{patient.uuid}/imaging/{study.uuid}/entered-in-error/",
        {"version": 1, "reason": "wrong_patient", "details": "Scan belongs to another patient"},
        follow=True,
    )
    body = response.content.decode()
    card = body[body.index('id="imaging"') :]
    assert '<tr class="retired">' in card and "entered in error" in card


# --- API in use ----------------------------------------------------------------------------------------------


def test_the_api_lists_studies_with_findings_and_file_urls(client, api_token, clinician, patient, study, dicom_file):
    response = client.get(f"/api/patients/{patient.uuid}/imaging", headers=api_token(clinician))
    assert response.status_code == 200
    [item] = response.json()
    assert item["id"] == str(study.uuid)
    assert item["findings"][0] == {"code": "knee.effusion", "label": "Joint effusion", "concern": False}
    [file] = item["files"]
    assert file["kind"] == "dicom" and file["sha256"] == dicom_file.sha256
    assert file["content_url"] == f"/api/imaging/files/{dicom_file.uuid}/content"
    assert file["dicom_tags"]["modality"] == "US"
    assert DICOM_PATIENT_ID not in response.content.decode()
    assert AuditEvent.objects.filter(action="imaging.studies.viewed", channel="api").count() == 1


def test_the_api_creates_a_study(client, api_token, colleague, patient):
    response = client.post(
        f"/api/patients/{patient.uuid}/imaging",
        {
            "modality": "xray",
            "study_date": "2025-01-20",
            "body_region": "knee",
            "laterality": "left",
            "findings": ["knee.kl_3"],
        },
        content_type="application/json",
        headers=api_token(colleague),
    )
    assert response.status_code == 201
    body = response.json()
    assert body["findings"][0]["label"].startswith("Osteoarthritis, Kellgren-Lawrence grade 3")
    assert body["files"] == [] and body["feasibility"] == ""


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"modality": "pet"}, "modality"),
        ({"study_date": "tomorrow"}, "study_date"),
        ({"findings": ["shoulder.calcific_tendinitis"]}, "findings"),
        ({"findings": "knee.kl_3"}, "findings"),
        ({"extra": 1}, None),
    ],
    ids=["modality", "date text", "finding of another region", "findings not a list", "unknown field ignored"],
)
def test_bad_api_studies_get_422_and_write_nothing(client, api_token, clinician, patient, changes, where):
    body = {"modality": "xray", "study_date": "2025-01-20", "body_region": "knee", **changes}
    response = client.post(
        f"/api/patients/{patient.uuid}/imaging", body, content_type="application/json", headers=api_token(clinician)
    )
    if where is None:
        assert response.status_code == 201
        return
    assert response.status_code == 422, response.content
    assert where in response.content.decode()
    assert not ImagingStudy.objects.exists()


def test_a_future_study_date_gets_422(client, api_token, clinician, patient):
    tomorrow = timezone.localdate(timezone=patient.clinic.tz) + timedelta(days=1)
    response = client.post(
        f"/api/patients/{patient.uuid}/imaging",
        {"modality": "xray", "study_date": tomorrow.isoformat(), "body_region": "knee"},
        content_type="application/json",
        headers=api_token(clinician),
    )
    assert response.status_code == 422
    assert "cannot be in the future" in response.json()["detail"]["study_date"][0]


@pytest.mark.parametrize(
    ("name", "data", "status", "code", "message"),
    [
        ("referral.pdf", pdf_bytes(), 422, "file_refused", "This file is a PDF; attach PNG, JPEG or DICOM images."),
        ("empty.png", b"", 422, "file_refused", "is empty (0 bytes)"),
        ("cut.png", png_bytes((300, 300))[:300], 422, "file_refused", "cannot be read"),
        (
            "big.png",
            b"\x89PNG\r\n\x1a\n" + b"\0" * (2 * MB),
            413,
            "file_too_large",
            "The file is 2.1 MB; the limit is 1 MB.",
        ),
    ],
    ids=["pdf", "empty", "truncated", "too large"],
)
@override_settings(PROLOTRACK_MAX_UPLOAD_MB=1)
def test_refused_api_uploads_get_4xx_with_the_reason(
    client, api_token, clinician, study, name, data, status, code, message
):
    response = client.post(
        f"/api/imaging/{study.uuid}/files", {"file": upload(name, data)}, headers=api_token(clinician)
    )
    assert response.status_code == status
    assert response.json()["code"] == code
    assert message in response.json()["detail"]
    assert not ImagingFile.objects.exists()
    assert stored_files() == []


def test_an_api_upload_without_a_file_gets_422(client, api_token, clinician, study):
    response = client.post(f"/api/imaging/{study.uuid}/files", {}, headers=api_token(clinician))
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"


def test_an_api_upload_returns_the_file_metadata(client, api_token, clinician, study):
    response = client.post(
        f"/api/imaging/{study.uuid}/files", {"file": upload("IM.dcm", dicom_bytes())}, headers=api_token(clinician)
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["original_name"], body["width"], body["height"]) == ("dicom", "IM.dcm", 64, 64)


def test_api_feasibility_errors_are_clear(client, api_token, clinician, study):
    headers = api_token(clinician)
    url = f"/api/imaging/{study.uuid}/feasibility"
    short = client.post(
        url, {"version": 1, "feasibility": "feasible", "reason": "ok"}, content_type="application/json", headers=headers
    )
    assert short.status_code == 422
    assert "Say why" in short.json()["detail"]["feasibility_reason"][0]
    ok = client.post(
        url,
        {"version": 1, "feasibility": "feasible", "reason": "Enthesopathy only; no tear."},
        content_type="application/json",
        headers=headers,
    )
    assert ok.status_code == 200 and ok.json()["reviewed_by"] == "clinician"
    stale = client.post(
        url,
        {"version": 1, "feasibility": "uncertain", "reason": "Second thoughts here."},
        content_type="application/json",
        headers=headers,
    )
    assert stale.status_code == 409 and stale.json()["code"] == "stale"


def test_the_catalogue_endpoint_names_the_kl_source(client, api_token, clinician):
    response = client.get("/api/imaging/findings", headers=api_token(clinician))
    kl = next(f for f in response.json() if f["code"] == "knee.kl_4")
    assert "Kellgren & Lawrence, Ann Rheum Dis 1957" in kl["source"]
