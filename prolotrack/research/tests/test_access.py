"""Every research export page and endpoint, for every persona: administrators and researchers only; another clinic's
export is a 404 even for a researcher there."""

import json

import pytest

from prolotrack.research.models import ExportJob, ExportStatus

ALL = ("clinician", "colleague", "frontdesk", "admin", "researcher", "outsider", "beta_researcher")


def table(clinician, colleague, frontdesk, admin, researcher, outsider, beta_researcher):
    return dict(zip(ALL, (clinician, colleague, frontdesk, admin, researcher, outsider, beta_researcher), strict=True))


# The outsider is a clinician at Beta (no export.research: 403); beta_researcher may export Beta's data but gets 404
# for Alpha's export.
LIST = table(403, 403, 403, 200, 200, 403, 200)
ONE = table(403, 403, 403, 200, 200, 403, 404)
# An empty POST: permission first, then the form refuses (the date mode is required), nothing is queued.
START_FORM = table(403, 403, 403, 400, 400, 403, 400)

PAGES = [
    ("/research/exports/", "get", LIST),
    ("/research/exports/", "post", START_FORM),
    ("/research/exports/{j}/", "get", ONE),
    ("/research/exports/{j}/status/", "get", ONE),
    ("/research/exports/{j}/download/", "get", ONE),
]
API = [
    ("/api/research/exports", "post", table(403, 403, 403, 202, 202, 403, 202)),
    ("/api/research/exports", "get", LIST),
    ("/api/research/exports/{j}", "get", ONE),
    ("/api/research/exports/{j}/download", "get", ONE),
]


@pytest.fixture
def people(personas, make_member, other_clinic):
    return {**personas, "beta_researcher": make_member("beta_researcher", "researcher", other_clinic)}


@pytest.fixture
def job(researcher, treated, run_export):
    treated(mrn="ACC1")
    finished = run_export(researcher)
    assert finished.status == ExportStatus.READY
    return finished


@pytest.mark.parametrize(("path", "method", "expected"), PAGES, ids=[f"{m} {p}" for p, m, _ in PAGES])
@pytest.mark.parametrize("persona", ALL)
def test_every_page_by_role_and_clinic(login, people, job, path, method, expected, persona):
    client = login(people[persona])
    before = ExportJob.objects.count()
    url = path.format(j=job.uuid)
    response = client.get(url) if method == "get" else client.post(url, {})
    assert response.status_code == expected[persona], response.content[:1000]
    assert ExportJob.objects.count() == before
    if "download" in url and response.status_code == 200:
        assert response["Content-Type"] == "application/zip"
        assert b"".join(response.streaming_content)[:2] == b"PK"
    assert b"Lovelace" not in (b"" if "download" in url else response.content)


@pytest.mark.parametrize(("path", "method", "expected"), API, ids=[f"{m} {p}" for p, m, _ in API])
@pytest.mark.parametrize("persona", ALL)
def test_every_endpoint_by_role_and_clinic(client, api_token, people, job, path, method, expected, persona):
    headers = {"HTTP_" + k.upper(): v for k, v in api_token(people[persona]).items()}
    url = path.format(j=job.uuid)
    if method == "get":
        response = client.get(url, **headers)
    else:
        response = client.post(url, data=json.dumps({}), content_type="application/json", **headers)
    assert response.status_code == expected[persona]
    if response.status_code == 200 and "download" in url:
        assert b"".join(response.streaming_content)[:2] == b"PK"
    elif response.status_code in (403, 404):
        assert response.json()["code"] in ("forbidden", "not_found")


def test_the_api_starts_follows_and_downloads_an_export(client, api_token, researcher, admin_user, treated):
    from datetime import date, timedelta

    from django.utils import timezone

    from prolotrack.clinics.testing import actor_of
    from prolotrack.research import services

    for i in range(5):
        treated(mrn=f"API{i}", given_name=f"Api{i}")
    agreement = services.record_agreement(
        actor_of(admin_user),
        services.AgreementRequest(
            "Knee study", "Dr Chen, State U", "Knee outcomes", date(2026, 1, 1), timezone.localdate() + timedelta(30)
        ),
    )
    headers = {"HTTP_AUTHORIZATION": api_token(researcher)["Authorization"]}
    started = client.post(
        "/api/research/exports",
        data=json.dumps(
            {
                "date_mode": "shift",
                "agreement": str(agreement.uuid),
                "indication": "knee_osteoarthritis",
                "year_from": 2024,
            }
        ),
        content_type="application/json",
        **headers,
    )
    assert started.status_code == 202
    body = started.json()
    # Tests run tasks inline, so the export is finished when the answer comes.
    status = client.get(body["status_url"], **headers).json()
    assert status["status"] == "ready" and status["patient_count"] == 5 and status["percent"] == 100
    assert status["row_counts"]["courses"] == 5 and status["date_mode"] == "shift"
    assert status["kind"] == "limited_data_set" and status["privacy"]["k"] == 5
    assert status["agreement"] == str(agreement.uuid)
    download = client.get(status["download_url"], **headers)
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="prolotrack-research-')


def test_the_api_refuses_bad_filters_with_what_to_fix(client, api_token, researcher):
    headers = {"HTTP_AUTHORIZATION": api_token(researcher)["Authorization"]}
    response = client.post(
        "/api/research/exports",
        data=json.dumps({"year_from": 2025, "year_to": 2020}),
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 422
    assert "before the first" in json.dumps(response.json()["detail"])
    bad_mode = client.post(
        "/api/research/exports", data=json.dumps({"date_mode": "month"}), content_type="application/json", **headers
    )
    assert bad_mode.status_code == 422
    # Free text in the indication filter is refused: it could probe withheld text (the "thompson" probe).
    probe = client.post(
        "/api/research/exports", data=json.dumps({"indication": "thompson"}), content_type="application/json", **headers
    )
    assert probe.status_code == 422 and "indication code" in json.dumps(probe.json())
    assert not ExportJob.objects.exists()


def test_a_download_after_expiry_answers_410(client, api_token, researcher, job):
    from datetime import timedelta

    from django.utils import timezone

    from prolotrack.research import services

    services.purge_expired(now=timezone.now() + timedelta(hours=services.KEEP_HOURS + 1))
    headers = {"HTTP_AUTHORIZATION": api_token(researcher)["Authorization"]}
    response = client.get(f"/api/research/exports/{job.uuid}/download", **headers)
    assert response.status_code == 410
    assert "Start a new export" in response.json()["detail"]


def test_signed_out_visitors_are_sent_to_sign_in_and_tokenless_calls_get_401(client, job):
    assert client.get("/research/exports/").status_code == 302
    assert client.get(f"/api/research/exports/{job.uuid}").status_code == 401


def test_the_page_starts_an_export_and_shows_its_result(login, researcher, treated):
    for i in range(5):
        treated(mrn=f"PG{i}", given_name=f"Page{i}")
    client = login(researcher)
    page = client.get("/research/exports/")
    assert b'value="knee_osteoarthritis"' in page.content  # the coded indication list
    response = client.post("/research/exports/", {"date_mode": "year", "indication": "", "year_from": "2024"})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/research/exports/{job.uuid}/"
    detail = client.get(response["Location"])
    assert b"Ready to download" in detail.content and b"5 patients with a current research consent" in detail.content
    assert b"k-anonymity k = 5" in detail.content and b"De-identified (Safe Harbor)" in detail.content
    assert b"hx-trigger" not in detail.content  # finished: no more polling
    refused = client.post("/research/exports/", {"date_mode": "year", "year_from": "2025", "year_to": "2020"})
    assert refused.status_code == 400 and b"before the first" in refused.content
    assert ExportJob.objects.count() == 1


def test_a_queued_export_polls_for_progress(login, researcher, treated, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    client = login(researcher)
    client.post("/research/exports/", {"date_mode": "year"})
    job = ExportJob.objects.get()
    assert job.status == ExportStatus.QUEUED
    status = client.get(f"/research/exports/{job.uuid}/status/")
    assert b'hx-trigger="every 1s"' in status.content and b"Waiting for the background worker" in status.content


def test_only_administrators_open_the_data_use_agreements_page(login, people):
    expected = table(403, 403, 403, 200, 403, 403, 403)
    for persona, status in expected.items():
        assert login(people[persona]).get("/research/agreements/").status_code == status, persona


def test_an_administrator_records_and_ends_an_agreement_on_the_page(login, admin_user, researcher):
    from prolotrack.research.models import DataUseAgreement

    client = login(admin_user)
    bad = client.post("/research/agreements/", {"study": "S"})
    assert bad.status_code == 400 and not DataUseAgreement.objects.exists()
    made = client.post(
        "/research/agreements/",
        {
            "study": "Knee OA",
            "recipient": "Dr Chen, State U",
            "purpose": "Knee outcomes",
            "signed_on": "2026-01-05",
            "expires_on": "2099-01-01",
            "longitudinal": "on",
        },
    )
    assert made.status_code == 302
    agreement = DataUseAgreement.objects.get()
    assert agreement.longitudinal and agreement.recorded_by == admin_user
    page = login(researcher).get("/research/exports/")
    assert str(agreement.uuid).encode() in page.content  # offered to researchers
    login(admin_user).post("/research/agreements/", {"end": str(agreement.uuid)})  # one test client: sign in again
    agreement.refresh_from_db()
    assert agreement.ended_at is not None
    assert str(agreement.uuid).encode() not in login(researcher).get("/research/exports/").content
