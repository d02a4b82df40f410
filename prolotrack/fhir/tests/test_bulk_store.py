"""Bulk export files go through the file store (core/filestore.py): written once under their SHA-256 in exports/, on
the local folder and on S3 (moto's in-process server), served from there, removed at expiry unless another live export
names the same bytes; jobs from before the file store still read their folder under DATA_DIR/fhir-exports."""

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
from django.conf import settings
from django.core.files.storage import storages
from django.utils import timezone

from prolotrack.core import filestore
from prolotrack.fhir import bulk
from prolotrack.fhir.models import ExportJob, ExportStatus

pytestmark = pytest.mark.django_db

ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture(params=["local", "s3"])
def store(request: Any) -> Any:
    yield None if request.param == "local" else request.getfixturevalue("on_s3")


@pytest.fixture
def headers(admin_user: Any, api_token: Any) -> dict[str, str]:
    return api_token(admin_user)


def spooled() -> list[Path]:
    """Spool files left: in the local store's exports/.spool/, or DATA_DIR/tmp (on S3)."""
    folders = [Path(filestore.storage().path(filestore.SPOOL))] if store_is_local() else []
    return [f for folder in [*folders, Path(settings.DATA_DIR) / "tmp"] if folder.is_dir() for f in folder.iterdir()]


def store_is_local() -> bool:
    return isinstance(filestore.storage(), filestore.DurableFileSystemStorage)


def export(client: Any, headers: dict[str, str], types: str = "Patient,Condition") -> tuple[ExportJob, dict[str, Any]]:
    response = client.get(f"/fhir/$export?_type={types}", headers={**ASYNC, **headers})
    assert response.status_code == 202, response.content
    status = client.get(local(response["Content-Location"]), headers=headers)
    assert status.status_code == 200, status.content
    return ExportJob.objects.get(uuid=response["Content-Location"].rstrip("/").split("/")[-1]), orjson.loads(
        status.content
    )


def download(client: Any, headers: dict[str, str], url: str) -> bytes:
    response = client.get(local(url), headers=headers)
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_each_file_is_stored_once_under_its_hash_and_served_from_the_store(
    client: Any, history: Any, headers: dict[str, str], store: Any
) -> None:
    job, manifest = export(client, headers)
    assert [o["type"] for o in job.output] == ["Patient", "Condition"]
    for item, entry in zip(job.output, manifest["output"], strict=True):
        stored = item["stored"]
        assert stored.startswith("exports/sha256/") and stored.endswith(".ndjson")
        body = download(client, headers, entry["url"])
        digest = hashlib.sha256(body).hexdigest()
        assert filestore.digest_of(stored) == digest == item["sha256"] and item["size"] == len(body)
        assert filestore.read(stored) == body
        assert len(body.splitlines()) == item["count"] == entry["count"]
    if store is not None:
        assert [k.split("/", 1)[1] for k in store.object_keys()] == sorted(o["stored"] for o in job.output)
    assert not (Path(settings.DATA_DIR) / "fhir-exports").exists()  # nothing written to the old folder
    assert spooled() == []  # no spool file left behind


def test_the_same_bytes_exported_twice_are_one_file_kept_while_either_export_is_live(
    client: Any, history: Any, headers: dict[str, str], store: Any
) -> None:
    first, _ = export(client, headers, "Patient")
    ExportJob.objects.filter(pk=first.pk).update(finished_at=timezone.now() - timedelta(hours=1))
    second, _ = export(client, headers, "Patient")
    (name,) = {o["stored"] for o in first.output} | {o["stored"] for o in second.output}
    assert storages["default"].exists(name)
    ExportJob.objects.filter(pk=first.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert bulk.purge_expired() == 1
    assert storages["default"].exists(name)  # the second export still names it
    ExportJob.objects.filter(pk=second.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert bulk.purge_expired() == 1
    assert not storages["default"].exists(name)
    assert set(ExportJob.objects.values_list("status", flat=True)) == {ExportStatus.EXPIRED}


def test_a_job_from_before_the_file_store_is_still_served_and_purged(
    client: Any, history: Any, headers: dict[str, str]
) -> None:
    job, _ = export(client, headers, "Patient")
    body = filestore.read(job.output[0]["stored"])
    folder = bulk.export_dir(job)
    folder.mkdir(parents=True)
    (folder / "Patient.ndjson").write_bytes(body)
    job.output = [{"type": "Patient", "file": "Patient.ndjson", "count": job.output[0]["count"]}]  # the old shape
    job.save(update_fields=["output"])
    url = f"/fhir/$export-file/{job.uuid}/Patient.ndjson"
    assert download(client, headers, url) == body
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert bulk.purge_expired() == 1
    assert not folder.exists()


def test_a_failed_export_leaves_no_stored_file(history: Any, clinic: Any, admin_user: Any, monkeypatch: Any) -> None:
    job = ExportJob.objects.create(
        clinic=clinic,
        membership=admin_user.memberships.get(),
        user=admin_user,
        level="system",
        types=["Patient", "Condition"],
        request_url="/fhir/$export",
        status=ExportStatus.RUNNING,
    )
    real = bulk.stream

    def fails_on_conditions(rtype: Any, *args: Any, **kwargs: Any) -> Any:
        if rtype.name == "Condition":
            raise RuntimeError("disk full")
        return real(rtype, *args, **kwargs)

    monkeypatch.setattr(bulk, "stream", fails_on_conditions)
    with pytest.raises(RuntimeError):
        bulk.write_files(job)
    assert list(filestore.stored_names()) == []  # the Patient file stored first was removed again
    assert spooled() == []


def test_the_writer_streams_to_disk_and_never_holds_a_whole_file(
    history: Any, clinic: Any, admin_user: Any, monkeypatch: Any
) -> None:
    """Shape, not timing: the NDJSON reaches the store through a file on disk in the stream's chunks, never as one
    bytes object (filestore.put, which takes the whole file in memory, is not used)."""
    job = ExportJob.objects.create(
        clinic=clinic,
        membership=admin_user.memberships.get(),
        user=admin_user,
        level="system",
        types=["Observation"],
        request_url="/fhir/$export",
        status=ExportStatus.RUNNING,
    )
    writes: list[int] = []
    real_write = filestore.Spool.write

    def spy(self: Any, data: bytes) -> None:
        writes.append(len(data))
        real_write(self, data)

    def no_whole_bytes(*args: Any) -> None:
        raise AssertionError("an export file was handed over as one bytes object")

    real_stream = bulk.stream
    monkeypatch.setattr(filestore.Spool, "write", spy)
    monkeypatch.setattr(filestore, "put", no_whole_bytes)
    monkeypatch.setattr(bulk, "stream", lambda *a, **k: real_stream(*a, **{**k, "batch_bytes": 2_000}))
    monkeypatch.setattr(bulk, "FIRST_BATCH", 10)
    monkeypatch.setattr(bulk, "MIN_BATCH", 5)
    (item,) = bulk.write_files(job)
    assert len(writes) > 3 and max(writes) < item["size"] / 2
    assert sum(writes) == item["size"] == len(filestore.read(item["stored"]))
