"""The file store (core/filestore.py): every file written once under its SHA-256 through STORAGES, never overwritten,
on the local folder and on S3 (moto's in-process server, reached over HTTP by boto3 and django-storages)."""

import hashlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from prolotrack.core import filestore

DATA = b"%PDF-1.7\n% a stored document\n"
DIGEST = hashlib.sha256(DATA).hexdigest()


@pytest.fixture(params=["local", "s3"])
def store(request):
    """Each test once on the local folder and once on an S3 bucket (a prefix of its own)."""
    yield None if request.param == "local" else request.getfixturevalue("on_s3")


def _tamper(name: str, data: bytes, store) -> None:
    """Change a stored file behind the store's back (a disk edit, or a PUT straight to the bucket)."""
    if store is None:
        path = Path(storages["default"].path(name))
        path.chmod(0o600)
        path.write_bytes(data)
    else:
        prefix = settings.STORAGES["default"]["OPTIONS"]["location"]
        store.client().put_object(Bucket=store.name, Key=f"{prefix}/{name}", Body=data)


def test_a_file_is_stored_under_its_sha256_and_read_back(store):
    name = filestore.put(DATA, "pdf")
    assert name == f"sha256/{DIGEST[:2]}/{DIGEST[2:4]}/{DIGEST}.pdf"
    assert filestore.digest_of(name) == DIGEST
    assert filestore.read(name) == DATA
    if store is not None:
        assert [key.split("/", 1)[1] for key in store.object_keys() if name in key] == [name]


def test_the_same_bytes_again_reuse_the_stored_file(store):
    first = filestore.put(DATA, "pdf")
    assert filestore.put(DATA, "pdf") == first
    listing = storages["default"].listdir(f"sha256/{DIGEST[:2]}/{DIGEST[2:4]}")
    assert listing == ([], [f"{DIGEST}.pdf"])


def test_a_write_over_different_bytes_is_refused_and_changes_nothing(store):
    name = filestore.put(DATA, "pdf")
    _tamper(name, b"something else", store)
    with pytest.raises(filestore.OverwriteRefused, match="changed outside ProloTrack"):
        filestore.put(DATA, "pdf")
    assert filestore.read(name) == b"something else"  # left as found, for whoever investigates


def test_the_storage_itself_never_replaces_a_name(store):
    name = filestore.put(DATA, "pdf")
    saved = storages["default"].save(name, ContentFile(b"other bytes"))
    assert saved != name and filestore.read(name) == DATA


def test_bad_extensions_and_names_are_refused(store):
    with pytest.raises(filestore.StoreError):
        filestore.put(DATA, "../pdf")
    for name in ("sha256/../../etc/passwd", "../outside", "/etc/passwd", "imaging/../../x"):
        with pytest.raises(filestore.StoreError):
            filestore.read(name)


def test_names_from_before_the_file_store_are_read_from_the_local_folder(store):
    old = Path(settings.MEDIA_ROOT, "imaging", "clinic-uuid", "file-uuid")
    old.parent.mkdir(parents=True)
    old.write_bytes(DATA)
    assert filestore.read("imaging/clinic-uuid/file-uuid") == DATA


def test_a_local_file_is_private_and_leaves_no_partial_file():
    name = filestore.put(DATA, "pdf")
    path = Path(settings.MEDIA_ROOT, name)
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_settings_build_the_s3_storage_from_the_environment(monkeypatch):
    from prolotrack import settings as project_settings

    assert project_settings._file_storage()["BACKEND"] == "prolotrack.core.filestore.DurableFileSystemStorage"
    monkeypatch.setenv("PROLOTRACK_S3_BUCKET", "clinic-files")
    monkeypatch.setenv("PROLOTRACK_S3_ENDPOINT_URL", "https://minio.internal:9000")
    monkeypatch.setenv("PROLOTRACK_S3_SSE", "AES256")
    built = project_settings._file_storage()
    assert built["BACKEND"] == "storages.backends.s3.S3Storage"
    options = built["OPTIONS"]
    assert (options["bucket_name"], options["endpoint_url"], options["file_overwrite"]) == (
        "clinic-files",
        "https://minio.internal:9000",
        False,
    )
    assert options["object_parameters"] == {"ServerSideEncryption": "AES256"}


def test_an_export_file_is_spooled_to_disk_stored_once_and_is_the_only_kind_ever_removed(store):
    with filestore.Spool("ndjson") as spool:
        for _ in range(3):
            spool.write(b'{"resourceType": "Patient"}\n')
        name = spool.store()
    body = b'{"resourceType": "Patient"}\n' * 3
    assert name == filestore.content_name(hashlib.sha256(body).hexdigest(), "ndjson", export=True)
    assert name.startswith("exports/sha256/") and filestore.read(name) == body
    assert not spool.path.exists()  # the temporary file is gone once the block ends
    pdf = filestore.put(DATA, "pdf")
    assert sorted(filestore.stored_names()) == sorted([name, pdf])
    with pytest.raises(filestore.StoreError, match="Only export files"):
        filestore.discard_export(pdf)
    assert filestore.discard_export(name) is True
    assert list(filestore.stored_names()) == [pdf]


def test_a_spool_left_without_storing_stores_nothing(store):
    with filestore.Spool("ndjson") as spool:
        spool.write(b"half a file")
    assert not spool.path.exists() and list(filestore.stored_names()) == []


def test_on_the_local_folder_a_spool_is_written_once_and_linked_under_its_name(monkeypatch):
    """No second write of an export: the spool is made in the store's exports/.spool/ and, fsynced, linked under its
    content name (the copy, put_path, is not called); the same bytes again keep the stored file; a file system that
    cannot link falls back to the copy."""
    copy = filestore.put_path
    monkeypatch.setattr(filestore, "put_path", lambda *a, **k: pytest.fail("the spool was copied"))
    with filestore.Spool("ndjson") as spool:
        spool.write(b'{"resourceType": "Patient"}\n')
        assert spool.path.parent == Path(storages["default"].path(filestore.SPOOL))
        inode = spool.path.stat().st_ino
        name = spool.store()
    stored = Path(storages["default"].path(name))
    assert (stored.stat().st_ino, stored.stat().st_nlink, stored.stat().st_mode & 0o777) == (inode, 1, 0o600)
    for body in (b'{"resourceType": "Patient"}\n', b"other bytes\n"):
        if body == b"other bytes\n":
            monkeypatch.setattr(filestore, "put_path", copy)
            monkeypatch.setattr(filestore.DurableFileSystemStorage, "link", lambda *a: (_ for _ in ()).throw(OSError))
        with filestore.Spool("ndjson") as again:
            again.write(body)
            assert filestore.read(again.store()) == body
    assert len(list(filestore.stored_names())) == 2 and filestore.read(name) == b'{"resourceType": "Patient"}\n'
    assert list(Path(storages["default"].path(filestore.SPOOL)).iterdir()) == []
