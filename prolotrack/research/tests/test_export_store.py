"""Research export zips go through the file store (core/filestore.py, exports/sha256/...): on the local folder and on
S3 (moto's in-process server); exports made before the file store are still served from DATA_DIR/research-exports."""

import hashlib
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import storages
from django.utils import timezone

from prolotrack.core import filestore
from prolotrack.research import services
from prolotrack.research.models import ExportJob, ExportStatus


@pytest.fixture(params=["local", "s3"])
def store(request):
    yield None if request.param == "local" else request.getfixturevalue("on_s3")


def test_the_zip_is_stored_once_under_its_hash_served_and_removed_at_expiry(
    researcher, treated, run_export, login, store
):
    treated(mrn="S1")
    job = run_export(researcher)
    assert job.status == ExportStatus.READY
    assert job.file_stored == filestore.content_name(job.file_sha256, "zip", export=True)
    if store is not None:
        assert [key.split("/", 1)[1] for key in store.object_keys()] == [job.file_stored]
    assert not services.export_dir().exists()  # nothing written to the old folder
    assert list((Path(settings.DATA_DIR) / "tmp").iterdir()) == []  # no build folder left behind
    response = login(researcher).get(f"/research/exports/{job.uuid}/download/")
    body = b"".join(response.streaming_content)
    assert response.status_code == 200 and hashlib.sha256(body).hexdigest() == job.file_sha256
    assert len(body) == job.file_size
    assert services.purge_expired(now=timezone.now() + timedelta(hours=services.KEEP_HOURS, seconds=1)) == 1
    assert not storages["default"].exists(job.file_stored)
    job.refresh_from_db()
    assert job.status == ExportStatus.EXPIRED and not services.file_exists(job)


def test_an_export_from_before_the_file_store_is_still_served_then_deleted(researcher, treated, run_export, login):
    treated(mrn="S1")
    job = run_export(researcher)
    old = services.file_path(job)
    old.parent.mkdir(parents=True)
    with filestore.open_stored(job.file_stored) as handle, old.open("wb") as out:
        shutil.copyfileobj(handle, out)
    ExportJob.objects.filter(pk=job.pk).update(file_stored="")  # the row as it was before the file store
    job.refresh_from_db()
    response = login(researcher).get(f"/research/exports/{job.uuid}/download/")
    assert response.status_code == 200
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == job.file_sha256
    assert services.purge_expired(now=timezone.now() + timedelta(hours=services.KEEP_HOURS, seconds=1)) == 1
    assert not old.exists()
