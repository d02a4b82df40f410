"""An uploaded image changed on disk is refused when served (issue 19: every stored file is checked on serve)."""

from django.core import mail

from prolotrack.audit.models import AuditEvent
from prolotrack.imaging.services import media_path


def _tamper(file) -> None:
    """Change the stored bytes behind the app's back (the file store never overwrites; a disk edit can)."""
    path = media_path(file.stored_path)
    path.chmod(0o600)
    path.write_bytes(path.read_bytes() + b"tampered")


def test_a_changed_original_is_refused_audited_and_alerted(login, clinician, admin_user, dicom_file):
    admin_user.email = "admin@alpha.example"
    admin_user.save()
    client = login(clinician)
    assert client.get(f"/imaging/files/{dicom_file.uuid}/original/").status_code == 200
    _tamper(dicom_file)
    response = client.get(f"/imaging/files/{dicom_file.uuid}/original/")
    assert response.status_code == 409 and b"tampered" not in response.content
    assert AuditEvent.objects.filter(action="document.integrity_failed", record_uuid=dicom_file.uuid).exists()
    assert mail.outbox and mail.outbox[0].to == ["admin@alpha.example"]


def test_a_changed_png_is_refused_when_viewed_and_by_the_api(login, client, clinician, api_token, png_file):
    _tamper(png_file)
    assert login(clinician).get(f"/imaging/files/{png_file.uuid}/").status_code == 409
    api = client.get(f"/api/imaging/files/{png_file.uuid}/content", headers=api_token(clinician))
    assert api.status_code == 409
