"""Backup while the app takes writes, restore into a fresh target, and check that the restore is the snapshot: row
counts and audit chain heads as in the manifest, every chain verified, rows and events identical to the source's,
stored files byte for byte (docs/OPERATIONS.md, "Backup and restore").

These tests need transactional_db: the writer thread commits through its own connection while the backup reads, which
the single rolled-back transaction of an ordinary test cannot show."""

import copy
import shutil
import tarfile
import threading
import time
import types
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.storage import storages
from django.db import connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from prolotrack.audit.models import AuditEvent
from prolotrack.clinics.testing import actor_of
from prolotrack.core import filestore
from prolotrack.ops import backup
from prolotrack.patients import services as patient_services
from prolotrack.patients.models import Patient

ALIAS = "restore_target"
PG = connection.vendor == "postgresql"


def _connect(self: BaseDatabaseWrapper) -> None:
    """What Django's ensure_connection does. Django's test case (and pytest-django's blocker) refuse connections to an
    alias they were not told of when the test was set up; the restore target is made per test, so its connection
    object gets this method instead of the patched one."""
    if self.connection is None:
        with self.wrap_database_errors:
            self.connect()


def _pg_admin() -> Any:
    return backup._pg_connect({**backup._pg_params(), "dbname": "postgres"}, autocommit=True)


@pytest.fixture
def target(tmp_path: Path) -> Iterator[str]:
    """A second, empty database beside the test database, reachable as ALIAS."""
    conf = copy.deepcopy(connections["default"].settings_dict)
    if PG:
        if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
            pytest.skip("pg_dump / pg_restore are not on PATH on this machine")
        conf["NAME"] = f"{conf['NAME']}_restore"
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{conf["NAME"]}"')
            admin.execute(f'CREATE DATABASE "{conf["NAME"]}"')
    else:
        conf["NAME"] = str(tmp_path / "restored" / "prolotrack.sqlite3")
    connections.settings[ALIAS] = conf
    restored = connections[ALIAS]
    setattr(restored, "ensure_connection", types.MethodType(_connect, restored))  # noqa: B010 - an instance method
    yield ALIAS
    connections[ALIAS].close()
    del connections[ALIAS]
    del connections.settings[ALIAS]
    if PG:
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{conf["NAME"]}" WITH (FORCE)')


class Writer(threading.Thread):
    """Registers patients through the service, one transaction each, until told to stop; remembers what committed."""

    def __init__(self, clinician: Any) -> None:
        super().__init__(daemon=True)
        self.actor = actor_of(clinician)
        self.acknowledged: list[str] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        n = 0
        try:
            while not self.stop.is_set():
                n += 1
                values = {"given_name": f"Writer{n}", "family_name": "Stream", "date_of_birth": date(1970, 1, 1)}
                with transaction.atomic():
                    made = patient_services.create_patient(self.actor, {**values, "sex": "female"})
                self.acknowledged.append(str(made.uuid))
        except BaseException as error:  # reported by the test
            self.error = error
        finally:
            connections.close_all()

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + 30
        while len(self.acknowledged) < count and self.error is None and time.monotonic() < deadline:
            time.sleep(0.01)


def _stored_file(relative: str, content: bytes) -> Path:
    path = Path(settings.MEDIA_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def _local_store(folder: Path) -> Any:
    return filestore.DurableFileSystemStorage(location=folder)


def _roots(base: Path) -> dict[str, Path]:
    return {name: base / name for name in backup.file_roots()}


@pytest.mark.django_db(transaction=True)
def test_a_backup_taken_during_writes_restores_to_the_same_snapshot(clinician, tmp_path: Path, target: str) -> None:
    image = _stored_file("imaging/alpha/scan-1", b"\x89PNG fake image bytes")  # a name from before the file store
    pdf = b"%PDF-1.7 a signed consent"
    stored = filestore.put(pdf, "pdf")  # sha256/ab/cd/<hash>.pdf, as PDFs and images are stored now
    writer = Writer(clinician)
    writer.start()
    try:
        writer.wait_for(5)
        before = list(writer.acknowledged)
        archive = tmp_path / "backups" / "test.tar.gz"
        manifest = backup.create_backup(archive)
        writer.wait_for(len(writer.acknowledged) + 3)  # the stream goes on after the snapshot
    finally:
        writer.stop.set()
        writer.join(30)
    assert writer.error is None, writer.error

    # The manifest describes the snapshot: every write acknowledged before the backup began is in it, later ones not all.
    patients = manifest.tables[Patient._meta.db_table]
    assert len(before) <= patients <= len(writer.acknowledged)
    assert patients < Patient.objects.count()
    assert manifest.files == {
        "files/media/imaging/alpha/scan-1": backup.hashlib.sha256(image.read_bytes()).hexdigest(),
        f"files/store/{stored}": filestore.digest_of(stored),
    }
    with tarfile.open(archive) as tar:
        assert {"manifest.json", manifest.database["member"], "files/media/imaging/alpha/scan-1"} <= set(tar.getnames())

    restored_roots = _roots(tmp_path / "restored-files")
    restored_store = _local_store(tmp_path / "restored-store")
    result = backup.restore_backup(archive, alias=target, roots=restored_roots, store=restored_store)
    assert result.problems == []
    assert result.checked_events == sum(head["seq"] for head in manifest.audit_chains.values()) > 0

    # Identical to the source as of the snapshot: the same patients, and the same audit events up to each chain's head.
    restored = set(Patient.objects.using(target).values_list("uuid", flat=True))
    assert {str(u) for u in restored} >= set(before)
    assert {str(u) for u in restored} <= set(writer.acknowledged)
    assert list(Patient.objects.using(target).order_by("pk").values()) == list(
        Patient.objects.filter(uuid__in=restored).order_by("pk").values()
    )
    for key, head in manifest.audit_chains.items():
        source = AuditEvent.objects.filter(chain_key=key, seq__lte=head["seq"]).order_by("seq")
        copied = AuditEvent.objects.using(target).filter(chain_key=key).order_by("seq")
        assert list(copied.values_list("seq", "hash")) == list(source.values_list("seq", "hash"))
    assert (restored_roots["media"] / "imaging/alpha/scan-1").read_bytes() == image.read_bytes()
    assert restored_store.open(stored).read() == pdf

    # A second restore into the now full target is refused, and writes nothing.
    with pytest.raises(backup.BackupError, match=r"not empty|already has tables"):
        backup.restore_backup(
            archive, alias=target, roots=_roots(tmp_path / "elsewhere"), store=_local_store(tmp_path / "elsewhere2")
        )
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.django_db
def test_a_restore_reports_a_file_that_does_not_match_its_hash(tmp_path: Path, target: str) -> None:
    _stored_file("imaging/alpha/scan-2", b"original")
    archive = tmp_path / "a.tar"
    manifest = backup.create_backup(archive)
    # Rewrite the archive with the file's bytes changed but the manifest kept.
    tampered = tmp_path / "tampered.tar"
    with tarfile.open(archive) as src, tarfile.open(tampered, "w") as out:
        for info in src.getmembers():
            member = src.extractfile(info)
            assert member is not None
            data = member.read()
            if info.name.endswith("scan-2"):
                data = b"changed!"
            info.size = len(data)
            out.addfile(info, backup.io.BytesIO(data))
    result = backup.restore_backup(
        tampered, alias=target, roots=_roots(tmp_path / "restored-files"), store=_local_store(tmp_path / "store")
    )
    assert result.problems == ["files/media/imaging/alpha/scan-2: its SHA-256 does not match the manifest."]
    assert manifest.files


def test_pg_tool_refuses_a_missing_or_older_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    with pytest.raises(backup.BackupError, match=r"pg_dump is not on PATH.*postgresql-client-17"):
        backup.pg_tool("pg_dump", 170002)
    monkeypatch.setattr(backup.shutil, "which", lambda name: "/usr/bin/pg_dump")

    class Done:
        stdout = "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)\n"

    monkeypatch.setattr(backup.subprocess, "run", lambda *a, **k: Done())
    with pytest.raises(backup.BackupError, match="version 15 but the server is 17"):
        backup.pg_tool("pg_dump", 170002)
    assert backup.pg_tool("pg_dump", 150020) == "/usr/bin/pg_dump"
    assert backup.pg_tool("pg_dump", 140011) == "/usr/bin/pg_dump"


@pytest.mark.django_db
def test_the_objects_of_an_s3_file_store_are_in_the_archive_and_restored(
    tmp_path: Path, target: str, on_s3: Any, s3_bucket: Any
) -> None:
    """With the file store on S3 (moto's in-process server) every object is archived with its SHA-256 in the manifest
    and restored into the target's store (another prefix of the bucket here); a changed object is reported."""
    pdf = filestore.put(b"%PDF-1.7 a signed consent on S3", "pdf")
    with filestore.Spool("ndjson") as spool:
        spool.write(b'{"resourceType": "Patient"}\n')
        export = spool.store()
    assert export.startswith("exports/sha256/")
    archive = tmp_path / "s3.tar"
    manifest = backup.create_backup(archive)
    assert {name: digest for name, digest in manifest.files.items() if name.startswith("files/store/")} == {
        f"files/store/{pdf}": filestore.digest_of(pdf),
        f"files/store/{export}": filestore.digest_of(export),
    }
    # Into a store that already holds a file: refused before anything is written (the target database stays empty).
    occupied = storages.create_storage(s3_bucket.storages_setting(prefix=f"{on_s3_prefix()}-occupied")["default"])
    occupied.save("sha256/00/00/" + "0" * 64 + ".pdf", backup.io.BytesIO(b"x"))
    with pytest.raises(backup.BackupError, match="file store already holds files"):
        backup.restore_backup(archive, alias=target, roots=_roots(tmp_path / "refused"), store=occupied)
    assert not (tmp_path / "refused").exists()
    restored_store = storages.create_storage(s3_bucket.storages_setting(prefix=f"{on_s3_prefix()}-restored")["default"])
    result = backup.restore_backup(
        archive, alias=target, roots=_roots(tmp_path / "restored-files"), store=restored_store
    )
    assert result.problems == []
    assert sorted(filestore.stored_names(restored_store)) == sorted([pdf, export])
    assert restored_store.open(pdf).read() == b"%PDF-1.7 a signed consent on S3"


def on_s3_prefix() -> str:
    from django.conf import settings as current

    return str(current.STORAGES["default"]["OPTIONS"]["location"])


@pytest.mark.django_db
def test_a_changed_object_of_the_file_store_is_reported_on_restore(tmp_path: Path, target: str) -> None:
    stored = filestore.put(b"%PDF-1.7 original", "pdf")
    archive = tmp_path / "a.tar"
    backup.create_backup(archive)
    tampered = tmp_path / "tampered.tar"
    with tarfile.open(archive) as src, tarfile.open(tampered, "w") as out:
        for info in src.getmembers():
            member = src.extractfile(info)
            assert member is not None
            data = member.read()
            if info.name == f"files/store/{stored}":
                data = b"%PDF-1.7 changed!"
            info.size = len(data)
            out.addfile(info, backup.io.BytesIO(data))
    restored_store = _local_store(tmp_path / "store")
    result = backup.restore_backup(
        tampered, alias=target, roots=_roots(tmp_path / "restored-files"), store=restored_store
    )
    assert result.problems == [f"files/store/{stored}: its SHA-256 does not match the manifest."]
    assert list(filestore.stored_names(restored_store)) == []  # the changed file was not put into the store
