"""Every stored document is checked against its recorded SHA-256 when served (issue 19: a consent PDF overwritten in
the database was served with the original hash in its header). A mismatch answers 409, is audited and emails the
clinic's administrators."""

from pathlib import Path

import pytest
from django.core import mail
from django.core.files.storage import storages
from django.db import connection, transaction

from prolotrack.audit.models import AuditEvent
from prolotrack.clinics.testing import actor_of
from prolotrack.consent.models import Consent
from prolotrack.documents import services
from prolotrack.documents.models import Document, DocumentKind, DocumentPdf

FORGED = b"%PDF-1.7\n% a different document\n"


def _overwrite(model, pk: int, column: str) -> None:
    """Change the bytes behind the app's back: the stored file as a disk edit would (the file store itself never
    overwrites), or, for a row from before the file store, the bytes in the row as a direct database edit would."""
    name = model.objects.filter(pk=pk).values_list("pdf_name", flat=True).get()
    if name:
        path = Path(storages["default"].path(name))
        path.chmod(0o600)
        path.write_bytes(FORGED)
        return
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {model._meta.db_table} SET {column} = %s WHERE id = %s", [FORGED, pk])  # noqa: S608


def _as_before_the_file_store(model, pk: int) -> bytes:
    """Put a record back as rows were before the file store: the bytes in the row, no stored name."""
    record = model.objects.get(pk=pk)
    data = record.pdf_content
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {model._meta.db_table} SET pdf = %s, pdf_name = '' WHERE id = %s",  # noqa: S608
            [data, pk],
        )
    return data


@pytest.fixture
def alerted_admin(admin_user):
    admin_user.email = "admin@alpha.example"
    admin_user.save()
    return admin_user


def _assert_refused(response, record_uuid):
    assert response.status_code == 409
    assert FORGED not in response.content
    event = AuditEvent.objects.get(action="document.integrity_failed", record_uuid=record_uuid)
    assert event.detail["found_sha256"] != event.detail["expected_sha256"]
    assert [m.to for m in mail.outbox] == [["admin@alpha.example"]]
    assert "failed its integrity check" in mail.outbox[0].subject


def test_an_overwritten_consent_pdf_is_refused_on_the_consent_page(login, clinician, signed_consent, alerted_admin):
    assert login(clinician).get(f"/consents/{signed_consent.uuid}/pdf/").status_code == 200
    _overwrite(Consent, signed_consent.pk, "pdf")
    response = login(clinician).get(f"/consents/{signed_consent.uuid}/pdf/")
    _assert_refused(response, signed_consent.uuid)
    assert "not shown" in response.content.decode()


def test_an_overwritten_consent_pdf_is_refused_by_the_api(client, clinician, api_token, signed_consent, alerted_admin):
    _overwrite(Consent, signed_consent.pk, "pdf")
    response = client.get(f"/api/consents/{signed_consent.uuid}/pdf", headers=api_token(clinician))
    _assert_refused(response, signed_consent.uuid)
    assert response.json()["code"] == "integrity_mismatch"


def test_an_overwritten_consent_pdf_is_refused_from_the_documents_card(login, clinician, signed_consent, alerted_admin):
    _overwrite(Consent, signed_consent.pk, "pdf")
    _assert_refused(login(clinician).get(f"/documents/{signed_consent.uuid}/download/"), signed_consent.uuid)


@pytest.fixture
def summary(clinician, signed_session, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.queue_visit_summary(actor_of(clinician), signed_session.pk)
    return Document.objects.get(session=signed_session, kind=DocumentKind.VISIT_SUMMARY)


def test_an_overwritten_visit_summary_is_refused_audited_and_alerted(login, clinician, summary, alerted_admin):
    client = login(clinician)
    assert client.get(f"/documents/{summary.uuid}/download/").status_code == 200
    stored = DocumentPdf.objects.get(document=summary)
    _overwrite(DocumentPdf, stored.pk, "pdf")
    _assert_refused(client.get(f"/documents/{summary.uuid}/download/"), summary.uuid)


def test_an_overwritten_visit_summary_is_refused_by_the_api(client, clinician, api_token, summary, alerted_admin):
    _overwrite(DocumentPdf, DocumentPdf.objects.get(document=summary).pk, "pdf")
    response = client.get(f"/api/documents/{summary.uuid}/pdf", headers=api_token(clinician))
    _assert_refused(response, summary.uuid)


def test_intact_documents_raise_no_alert(login, clinician, signed_consent, alerted_admin):
    with transaction.atomic():
        response = login(clinician).get(f"/consents/{signed_consent.uuid}/pdf/")
    assert response.status_code == 200 and mail.outbox == []
    assert not AuditEvent.objects.filter(action="document.integrity_failed").exists()


def test_a_consent_pdf_from_before_the_file_store_is_served_and_checked(
    login, clinician, signed_consent, alerted_admin
):
    assert signed_consent.pdf_name.startswith("sha256/")
    data = _as_before_the_file_store(Consent, signed_consent.pk)
    response = login(clinician).get(f"/consents/{signed_consent.uuid}/pdf/")
    assert response.status_code == 200 and response.content == data
    _overwrite(Consent, signed_consent.pk, "pdf")
    _assert_refused(login(clinician).get(f"/consents/{signed_consent.uuid}/pdf/"), signed_consent.uuid)


def test_a_visit_summary_from_before_the_file_store_is_served_and_checked(login, clinician, summary, alerted_admin):
    stored = DocumentPdf.objects.get(document=summary)
    data = _as_before_the_file_store(DocumentPdf, stored.pk)
    client = login(clinician)
    response = client.get(f"/documents/{summary.uuid}/download/")
    assert response.status_code == 200 and response.content == data
    _overwrite(DocumentPdf, stored.pk, "pdf")
    _assert_refused(client.get(f"/documents/{summary.uuid}/download/"), summary.uuid)
