"""Generated PDFs on S3-compatible storage (moto's server over HTTP, boto3 and django-storages as in production):
a signed consent and a visit summary are stored once under their SHA-256 and served byte for byte."""

import hashlib

from django.conf import settings

from prolotrack.clinics.testing import actor_of
from prolotrack.documents import services
from prolotrack.documents.models import Document, DocumentKind, DocumentPdf


def _key(name: str) -> str:
    return f"{settings.STORAGES['default']['OPTIONS']['location']}/{name}"


def test_a_signed_consent_pdf_is_stored_in_the_bucket_and_served(on_s3, signed_consent, clinician, login):
    # on_s3 comes first, so the consent is signed (and its PDF stored) with the bucket as the file store.
    assert signed_consent.pdf_name.endswith(f"{signed_consent.pdf_sha256}.pdf") and not signed_consent.pdf
    assert _key(signed_consent.pdf_name) in on_s3.object_keys()
    response = login(clinician).get(f"/consents/{signed_consent.uuid}/pdf/")
    assert response.status_code == 200 and response["X-Content-SHA256"] == signed_consent.pdf_sha256
    assert hashlib.sha256(response.content).hexdigest() == signed_consent.pdf_sha256


def test_a_visit_summary_is_stored_in_the_bucket_and_served(
    on_s3, login, clinician, signed_session, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.queue_visit_summary(actor_of(clinician), signed_session.pk)
    document = Document.objects.get(session=signed_session, kind=DocumentKind.VISIT_SUMMARY)
    stored = DocumentPdf.objects.get(document=document)
    assert stored.pdf_name.endswith(f"{document.pdf_sha256}.pdf") and not stored.pdf
    assert _key(stored.pdf_name) in on_s3.object_keys()
    response = login(clinician).get(f"/documents/{document.uuid}/download/")
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == document.pdf_sha256
