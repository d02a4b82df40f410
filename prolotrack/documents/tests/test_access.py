"""Every documents page and endpoint, for every persona: who may use it; another clinic's record is a 404; downloads
are audited and named sensibly."""

import pytest

from prolotrack.audit.models import AuditEvent
from prolotrack.clinics.testing import actor_of
from prolotrack.consent.models import Consent
from prolotrack.documents import queries, services
from prolotrack.documents.models import Document, DocumentKind, HandoutVersion
from prolotrack.documents.tests.conftest import pdf_text

ALL = ("clinician", "colleague", "frontdesk", "admin", "researcher", "outsider")


def table(clinician, colleague, frontdesk, admin, researcher, outsider=404):
    return dict(zip(ALL, (clinician, colleague, frontdesk, admin, researcher, outsider), strict=True))


VIEW = table(200, 200, 403, 403, 403)
# An empty POST: the permission is checked first, then the request is refused with a message (nothing written).
VIEW_POST = table(302, 302, 403, 403, 403)
# Handout texts belong to the outsider's own clinic too: a clinician there edits Beta's texts (200, not 404).
HANDOUTS = table(200, 403, 403, 200, 403, 200)

PAGES = [
    ("/patients/{p}/documents/", "get", VIEW),
    ("/patients/{p}/documents/progress/", "post", VIEW_POST),
    ("/patients/{p}/handouts/before/", "get", VIEW),
    ("/patients/{p}/handouts/after/?format=pdf", "get", VIEW),
    ("/patients/{p}/handouts/evidence/?session={s}", "get", VIEW),
    ("/patients/{p}/handouts/nonsense/", "get", table(404, 404, 403, 403, 403)),
    ("/documents/{d}/download/", "get", VIEW),
    ("/documents/{k}/download/", "get", VIEW),
    ("/documents/{d}/regenerate/", "post", table(302, 302, 403, 403, 403)),
    ("/handouts/", "get", HANDOUTS),
    ("/handouts/before.general/", "get", HANDOUTS),
    ("/handouts/before.general/", "post", table(422, 403, 403, 422, 403, 422)),
    ("/handouts/before.general/revert/", "post", table(302, 403, 403, 302, 403, 302)),
    ("/handouts/no.such/", "get", table(404, 403, 403, 404, 403, 404)),
]

API = [
    ("/api/patients/{p}/documents", "get", table(200, 200, 403, 403, 403)),
    ("/api/patients/{p}/documents", "post", table(202, 202, 403, 403, 403)),
    ("/api/documents/{d}", "get", table(200, 200, 403, 403, 403)),
    ("/api/documents/{d}/pdf", "get", table(200, 200, 403, 403, 403)),
    ("/api/documents/{k}/pdf", "get", table(200, 200, 403, 403, 403)),
]


FAKE_PDF = b"%PDF-1.4 stand-in bytes for the access table"


@pytest.fixture
def records(clinician, signed_session, request):
    """A ready visit summary (real PDF where a test reads it; stand-in bytes for the access table, for speed)."""
    doc = services.request_document(
        actor_of(clinician), signed_session.patient, DocumentKind.VISIT_SUMMARY, session=signed_session
    )
    fake = request.node.originalname.startswith("test_every_")
    stamp = queries.session_stamps([signed_session.pk])[signed_session.pk]
    services.generate(doc, builder=(lambda d: (FAKE_PDF, stamp)) if fake else None)
    consent = Consent.objects.filter(patient=signed_session.patient).first()
    assert consent is not None, "the treatment fixtures sign the course's consent"
    return {"p": signed_session.patient.uuid, "s": signed_session.uuid, "d": doc.uuid, "k": consent.uuid}


@pytest.mark.parametrize(("path", "method", "expected"), PAGES, ids=[f"{m} {p}" for p, m, _ in PAGES])
@pytest.mark.parametrize("persona", ALL)
def test_every_page_by_role_and_clinic(login, personas, records, path, method, expected, persona):
    client = login(personas[persona])
    documents, versions = Document.objects.count(), HandoutVersion.objects.count()
    url = path.format(**records)
    response = client.get(url) if method == "get" else client.post(url, {})
    assert response.status_code == expected[persona], response.content[:1000]
    assert (Document.objects.count(), HandoutVersion.objects.count()) == (documents, versions)
    if response.status_code in (403, 404):
        assert b"Lovelace" not in response.content


@pytest.mark.parametrize(("path", "method", "expected"), API, ids=[f"{m} {p}" for p, m, _ in API])
@pytest.mark.parametrize("persona", ALL)
def test_every_endpoint_by_role_and_clinic(client, api_token, personas, records, path, method, expected, persona):
    headers = api_token(personas[persona])
    url = path.format(**records)
    if method == "get":
        response = client.get(url, headers=headers)
    else:
        response = client.post(url, {"kind": "progress_patient"}, content_type="application/json", headers=headers)
    assert response.status_code == expected[persona], response.content[:1000]
    if response.status_code in (403, 404):
        assert b"Lovelace" not in response.content
        assert response.json()["code"] in ("forbidden", "not_found")


def test_the_api_lists_summaries_and_consents_with_hashes_and_download_links(client, api_token, clinician, records):
    response = client.get(f"/api/patients/{records['p']}/documents", headers=api_token(clinician))
    rows = {row["id"]: row for row in response.json()}
    summary = rows[str(records["d"])]
    assert summary["kind"] == "visit_summary" and summary["status"] == "ready" and len(summary["sha256"]) == 64
    assert summary["title"] == "Visit summary, session 1 (2026-11-02)"
    assert summary["session_id"] == str(records["s"])
    assert summary["download_url"] == f"/api/documents/{records['d']}/pdf"
    consent = rows[str(records["k"])]
    assert consent["kind"] == "consent" and consent["status"] == "signed"


def test_a_download_is_audited_and_named_without_the_patients_name(login, clinician, records):
    response = login(clinician).get(f"/documents/{records['d']}/download/")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="visit-summary-session-1-2026-11-02-PT-000001.pdf"'
    )
    assert response["Cache-Control"] == "private, no-store"
    assert "Visit summary" in pdf_text(response.content)
    event = AuditEvent.objects.filter(action="document.downloaded").get()
    assert (event.user, str(event.record_uuid), str(event.patient_uuid)) == (
        clinician,
        str(records["d"]),
        str(records["p"]),
    )


def test_a_consent_download_serves_the_signed_pdf_inline_on_request(login, clinician, records):
    consent = Consent.objects.get(uuid=records["k"])
    response = login(clinician).get(f"/documents/{records['k']}/download/?inline=1")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('inline; filename="consent-treatment-')
    assert consent.pdf_content == response.content


def test_a_consent_stored_without_a_pdf_is_not_listed_and_its_download_says_why(login, clinician, patient):
    from prolotrack.consent.testing import sign_research

    consent = sign_research(actor_of(clinician), patient, render=False)
    client = login(clinician)
    card = client.get(f"/patients/{patient.uuid}/documents/", headers={"HX-Request": "true"}).content.decode()
    assert str(consent.uuid) not in card
    response = client.get(f"/documents/{consent.uuid}/download/")
    assert response.status_code == 409
    assert "This consent has no stored PDF." in response.content.decode()
    assert not AuditEvent.objects.filter(action="document.downloaded").exists()


def test_a_progress_report_is_queued_from_the_chart_card_and_the_card_polls_until_ready(
    login, colleague, records, django_capture_on_commit_callbacks
):
    client = login(colleague)
    response = client.post(
        f"/patients/{records['p']}/documents/progress/", {"kind": "progress_referrer"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    doc = Document.objects.get(kind=DocumentKind.PROGRESS_REFERRER)
    assert doc.status == "queued" and doc.generated_by == colleague
    card = response.content.decode()
    assert 'hx-trigger="every 2s"' in card and "Generating 1 document" in card and "1 of 2 ready" in card
    services.generate(doc)
    card = client.get(f"/patients/{records['p']}/documents/", headers={"HX-Request": "true"}).content.decode()
    assert "every 2s" not in card and "Progress report (for the referring doctor)" in card


def test_a_bad_report_request_says_what_to_choose_and_writes_nothing(login, clinician, records):
    response = login(clinician).post(
        f"/patients/{records['p']}/documents/progress/", {"kind": "visit_summary"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    assert "Choose a progress report for the patient or for the referring doctor." in response.content.decode()
    assert Document.objects.count() == 1


def test_the_api_refuses_an_unknown_report_kind(client, api_token, clinician, records):
    response = client.post(
        f"/api/patients/{records['p']}/documents", {"kind": "anything"}, content_type="application/json",
        headers=api_token(clinician),
    )  # fmt: skip
    assert response.status_code == 422
    assert Document.objects.count() == 1


def test_a_handout_edit_through_the_page_saves_a_version_and_bad_text_is_shown_next_to_the_field(login, admin_user):
    client = login(admin_user)
    bad = client.post("/handouts/after.general/", {"body": "Results are permanent.", "expected_number": "0"})
    assert bad.status_code == 422 and "must not claim" in bad.content.decode()
    assert not HandoutVersion.objects.exists()
    good = client.post(
        "/handouts/after.general/", {"body": "- Rest today.", "reason": "Simpler", "expected_number": "0"}
    )
    assert good.status_code == 302
    page = client.get("/handouts/after.general/").content.decode()
    assert "Rest today." in page and "Restore the product" in page and "Simpler" in page


def test_the_card_loads_in_the_same_number_of_queries_whatever_the_number_of_documents(login, clinician, records):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(clinician)
    url = f"/patients/{records['p']}/documents/"

    def queries_for_card() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, headers={"HX-Request": "true"}).status_code == 200
        return len(captured)

    before = queries_for_card()
    patient = Document.objects.get(uuid=records["d"]).patient
    for kind in (DocumentKind.PROGRESS_PATIENT, DocumentKind.PROGRESS_REFERRER, DocumentKind.PROGRESS_PATIENT):
        services.request_document(actor_of(clinician), patient, kind)
    assert queries_for_card() == before
