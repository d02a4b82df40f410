"""Stored files: written once under their content hash through Django's STORAGES, never overwritten.

Every file the app keeps (imaging originals and previews, generated PDFs) is put here by its bytes: its name is its
SHA-256, `sha256/ab/cd/<64 hex>.<ext>`, in the `default` storage (a local folder, MEDIA_ROOT, unless
`PROLOTRACK_STORAGE_BACKEND=s3` points it at an S3-compatible bucket; docs/OPERATIONS.md, "Files"). So:

- a second write of the same bytes reuses the stored file (the name is the same, nothing is written);
- a write that finds different bytes under the name is refused (`OverwriteRefused`): a stored file is never replaced,
  and a name that no longer holds its hash is a file changed outside the app (the serve-time check in
  audit/integrity.py refuses to serve it too);
- a file is never deleted by the app (an orphan left by a rolled-back transaction is harmless: nothing names it).

Export files (FHIR Bulk NDJSON, research zips) are stored the same way under `exports/sha256/...`: written once under
their hash and never overwritten, but they are copies handed out for a download window, so they are the one kind the
app removes (`discard_export`, at expiry, when no unexpired export names the file). Their own folder lets a bucket
give delete permission, or a lifecycle rule, to `exports/` alone. They are written through a `Spool` (a temporary file
hashed while it is written), so memory stays flat whatever their size. On the local folder the spool is written inside
the store (`exports/.spool/`, which no stored name matches and a backup leaves out) and, once complete and fsynced,
linked under its content name: each byte is written once. On S3 it is written to DATA_DIR/tmp and uploaded in chunks.

Names written before content hashing (`imaging/<clinic uuid>/<file uuid>`) stay readable: `open_stored` reads a name
outside `sha256/` from the local folder (MEDIA_ROOT), whatever the default storage is.

The local backend (`DurableFileSystemStorage`) writes a file under a temporary name, fsyncs it, links it into place
(a link never replaces an existing file) and fsyncs the folder, so a crash leaves either no file or the whole file.
"""

import hashlib
import logging
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, Storage, storages

log = logging.getLogger(__name__)

PREFIX = "sha256/"
EXPORTS = "exports/"
_NAME = re.compile(r"^(?:exports/)?sha256/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})\.([a-z0-9]{1,8})$")
_EXTENSION = re.compile(r"^[a-z0-9]{1,8}$")
CHUNK = 1 << 20


class StoreError(Exception):
    """A stored file that cannot be written or read as asked."""


class OverwriteRefused(StoreError):
    """Different bytes are already stored under the name: nothing is replaced."""


def storage() -> Storage:
    """The storage stored files go to (STORAGES["default"])."""
    return storages["default"]


def content_name(digest: str, extension: str, *, export: bool = False) -> str:
    """The stored name of bytes whose SHA-256 is `digest`: sha256/ab/cd/<digest>.<extension> (under exports/ for an
    export file)."""
    if not _EXTENSION.match(extension):
        raise StoreError(f"'{extension}' is not a file extension the store accepts (lowercase letters and digits).")
    return f"{EXPORTS if export else ''}{PREFIX}{digest[:2]}/{digest[2:4]}/{digest}.{extension}"


def digest_of(name: str) -> str | None:
    """The SHA-256 a content-addressed name promises, None for a name from before content hashing."""
    match = _NAME.match(name)
    return match.group(3) if match else None


def _hash(handle: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := handle.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _holds(store: Storage, name: str, digest: str) -> bool:
    with store.open(name, "rb") as handle:
        return _hash(handle) == digest


def put(data: bytes, extension: str) -> str:
    """Store `data` once under its SHA-256 and return the name; the same bytes again return the same name."""
    digest = hashlib.sha256(data).hexdigest()
    return _save_once(content_name(digest, extension), digest, ContentFile(data))


def put_path(
    path: Path, extension: str, *, export: bool = False, digest: str | None = None, store: Storage | None = None
) -> str:
    """Store the file at `path` once under its SHA-256 (read and sent in chunks, never whole in memory), in `store`
    (the default storage unless given: a restore writes into its target's)."""
    if digest is None:
        with path.open("rb") as handle:
            digest = _hash(handle)
    name = content_name(digest, extension, export=export)
    with path.open("rb") as handle:
        return _save_once(name, digest, File(handle, name=path.name), store)


def _already_stored(store: Storage, name: str, digest: str) -> bool:
    """True when `name` is stored with the bytes its hash names; refused when it is stored with other bytes."""
    if not store.exists(name):
        return False
    if not _holds(store, name, digest):
        raise OverwriteRefused(
            f"{name} is stored with bytes that do not match its name; it was changed outside ProloTrack and is "
            "not replaced. Restore it from a backup."
        )
    return True


def _save_once(name: str, digest: str, content: File, store: Storage | None = None) -> str:
    store = store or storage()
    if _already_stored(store, name, digest):
        return name
    try:
        saved: str | None = store.save(name, content)
    except FileExistsError:  # another process stored it between the check and the write
        saved = None
    if saved == name:
        return name
    if saved is not None:
        store.delete(saved)  # the storage kept the existing file and chose another name: keep the existing one
    if not _holds(store, name, digest):
        raise OverwriteRefused(f"{name} is stored with other bytes than its name promises; nothing was replaced.")
    return name


def _link_once(store: "DurableFileSystemStorage", path: Path, name: str, digest: str) -> str:
    """`_save_once` for a complete, fsynced file already in the local store's folder: linked under `name` instead of
    copied. A name already there is kept when it holds the same bytes (refused otherwise); a link the file system
    refuses (another device, no hard links) falls back to the copy."""
    if _already_stored(store, name, digest):
        return name
    try:
        store.link(path, name)
    except FileExistsError:  # another process stored it between the check and the link
        if not _holds(store, name, digest):
            raise OverwriteRefused(
                f"{name} is stored with other bytes than its name promises; nothing was replaced."
            ) from None
        return name
    except OSError:
        return put_path(path, name.rsplit(".", 1)[1], export=True, digest=digest, store=store)
    return name


def _legacy_storage() -> FileSystemStorage:
    return FileSystemStorage(location=settings.MEDIA_ROOT)


def _legacy_path_ok(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return bool(name) and not name.startswith("/") and ".." not in parts and "" not in parts


def open_stored(name: str) -> IO[bytes]:
    """An open binary handle on a stored file (content-addressed, or a name from before, read from MEDIA_ROOT)."""
    if name.startswith((PREFIX, EXPORTS)):
        if not _NAME.match(name):
            raise StoreError("Not a stored file name.")
        handle: Any = storage().open(name, "rb")
        return handle
    if not _legacy_path_ok(name):
        raise StoreError("Stored file path is outside the file store.")
    return _legacy_storage().open(name, "rb")


def read(name: str) -> bytes:
    """The bytes of a stored file (FileNotFoundError/OSError when it is missing)."""
    with open_stored(name) as handle:
        return handle.read()


SPOOL = f"{EXPORTS}.spool"


class Spool:
    """An export file being written: a private temporary file, hashed as it is written, then stored once under its hash
    by `store()`. On the local folder (DurableFileSystemStorage) the temporary file is made in the store's own
    `exports/.spool/` and `store()` links it under its name (no second write); elsewhere it is made under DATA_DIR/tmp
    and `store()` sends it in chunks from disk. Used as a context manager, the temporary name is always removed (a
    stored link stays); nothing is stored unless `store()` was called.
    """

    def __init__(self, extension: str) -> None:
        content_name("0" * 64, extension)  # refuse a bad extension before writing anything
        self.extension = extension
        self._store = storage()
        self._local = isinstance(self._store, DurableFileSystemStorage)
        folder = Path(self._store.path(SPOOL)) if self._local else Path(settings.DATA_DIR) / "tmp"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._file = tempfile.NamedTemporaryFile(dir=folder, prefix="spool-", delete=False)  # noqa: SIM115
        self.path = Path(self._file.name)
        self._digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self._digest.update(data)
        self.size += len(data)

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def store(self) -> str:
        """Store the bytes written (once, under exports/sha256/...) and return the stored name."""
        if isinstance(self._store, DurableFileSystemStorage):
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            return _link_once(
                self._store, self.path, content_name(self.sha256, self.extension, export=True), self.sha256
            )
        self._file.close()
        return put_path(self.path, self.extension, export=True, digest=self.sha256)

    def discard(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> "Spool":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.discard()


def discard_export(name: str) -> bool:
    """Remove an expired export file (only names under exports/; every other stored file is kept for good). The caller
    checks that no unexpired export names it. A storage that refuses (a bucket key without delete permission, object
    lock) is logged and left to the bucket's lifecycle rule; returns whether the file is gone."""
    if not (name.startswith(EXPORTS) and _NAME.match(name)):
        raise StoreError("Only export files are ever removed from the file store.")
    try:
        storage().delete(name)
    except Exception:  # the storage's own error type (botocore ClientError, OSError)
        log.warning("Could not remove the expired export file %s; remove it on the storage side.", name)
        return False
    return True


def stored_names(store: Storage | None = None) -> Iterator[str]:
    """Every content-addressed name in the storage (sha256/... and exports/sha256/...), each once. On S3 one paginated
    listing per prefix; on a local folder a walk of it."""
    store = store or storage()
    bucket = getattr(store, "bucket", None)
    if bucket is not None:  # django-storages' S3Storage
        location = getattr(store, "location", "")
        base = f"{location}/" if location else ""
        for top in (EXPORTS, PREFIX):
            for item in bucket.objects.filter(Prefix=base + top):
                name = item.key[len(base) :]
                if _NAME.match(name):
                    yield name
        return
    root = Path(store.path(""))
    for top in (EXPORTS, PREFIX):
        for folder, dirs, files in os.walk(root / top):
            dirs.sort()
            for file in sorted(files):
                name = (Path(folder) / file).relative_to(root).as_posix()
                if _NAME.match(name):
                    yield name


class DurableFileSystemStorage(FileSystemStorage):
    """A local folder where a new file is complete and on disk before it has its name, and never replaces one."""

    def _save(self, name: str, content: Any) -> str:
        full_path = self.path(name)
        folder = os.path.dirname(full_path)
        os.makedirs(folder, mode=self.directory_permissions_mode or 0o700, exist_ok=True)
        partial = f"{full_path}.part-{secrets.token_hex(8)}"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                if hasattr(content, "seek"):
                    content.seek(0)
                for chunk in content.chunks():
                    out.write(chunk if isinstance(chunk, bytes) else chunk.encode())
                out.flush()
                os.fsync(out.fileno())
            os.link(partial, full_path)  # FileExistsError if the name exists: never replaced
        finally:
            os.unlink(partial)
        if self.file_permissions_mode is not None:
            os.chmod(full_path, self.file_permissions_mode)
        directory = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        return str(name).replace("\\", "/")

    def link(self, source: Path, name: str) -> None:
        """Give a complete file already on this folder's disk (written and fsynced by the caller) the stored name
        without copying it: a hard link (never replacing an existing file: FileExistsError), then the folder fsynced.
        OSError when the file system cannot link it (another device)."""
        full_path = self.path(name)
        folder = os.path.dirname(full_path)
        os.makedirs(folder, mode=self.directory_permissions_mode or 0o700, exist_ok=True)
        os.link(source, full_path)
        if self.file_permissions_mode is not None:
            os.chmod(full_path, self.file_permissions_mode)
        directory = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def stored_or_inline(name: str, inline: bytes | memoryview | None) -> bytes | None:
    """A record's file: from the store when it names one, else the bytes its row held before the file store (None
    when it has neither). Used by the PDFs that rows kept as BinaryField before content hashing."""
    if name:
        return read(name)
    return bytes(inline) if inline is not None and len(inline) else None
