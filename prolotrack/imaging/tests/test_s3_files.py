"""Imaging files on S3-compatible storage (moto's server over HTTP, boto3 and django-storages as in production):
stored once under their SHA-256, served, and refused when the stored object was changed."""

from prolotrack.audit.models import AuditEvent
from prolotrack.imaging.tests.factories import dicom_bytes, png_bytes


def test_an_image_goes_to_the_bucket_once_and_is_served_from_it(on_s3, attach, study, login, clinician, settings):
    file = attach(study, png_bytes(), "knee.png")
    prefix = settings.STORAGES["default"]["OPTIONS"]["location"]
    assert on_s3.object_keys() == [f"{prefix}/{file.stored_path}"]
    assert file.stored_path == f"sha256/{file.sha256[:2]}/{file.sha256[2:4]}/{file.sha256}.png"
    response = login(clinician).get(f"/imaging/files/{file.uuid}/original/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == png_bytes()


def test_a_dicom_and_its_preview_are_stored_and_a_changed_object_is_refused(
    on_s3, attach, study, login, clinician, settings
):
    file = attach(study, dicom_bytes(), "IM1.dcm")
    prefix = f"{settings.STORAGES['default']['OPTIONS']['location']}/"
    assert sorted(on_s3.object_keys()) == sorted(prefix + name for name in (file.stored_path, file.preview_path))
    client = login(clinician)
    assert client.get(f"/imaging/files/{file.uuid}/").status_code == 200  # the preview
    on_s3.client().put_object(Bucket=on_s3.name, Key=prefix + file.stored_path, Body=b"changed in the bucket")
    assert client.get(f"/imaging/files/{file.uuid}/original/").status_code == 409
    assert AuditEvent.objects.filter(action="document.integrity_failed", record_uuid=file.uuid).exists()
