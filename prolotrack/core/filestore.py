"""Stored files: written once under their content hash through Django's STORAGES, never overwritten.

Every file the app keeps (imaging originals and previews, generated PDFs) is put here by its bytes: its name is its
SHA-256, `sha256/ab/cd/<64 hex>.<ext>`, in the `default` storage (a local folder, MEDIA_ROOT, unless
`PROLOTRACK_STORAGE_BACKEND=s3` points it at an S3-compatible bucket; docs/OPERATIONS.md, "Files"). So:

- a second write of the same bytes reuses the stored file (the name is the same, nothing is written);
- a write that finds different bytes under the name is refused (`OverwriteRefused`): a stored file is never replaced,
  and a name that no longer holds its hash is a file changed outside the app (the serve-time check in
  audit/integrity.py refuses to serve it too);
- a file is never deleted by the app (an orphan left by a rolled-back transaction is harmless: nothing names it).

Names written before content hashing (`imaging/<clinic uuid>/<file uuid>`) stay readable: `open_stored` reads a name
outside `sha256/` from the local folder (MEDIA_ROOT), whatever the default storage is.

The local backend (`DurableFileSystemStorage`) writes a file under a temporary name, fsyncs it, links it into place
(a link never replaces an existing file) and fsyncs the folder, so a crash leaves either no file or the whole file.
"""

import hashlib
import os
import re
import secrets
from typing import IO, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, storages

PREFIX = "sha256/"
_NAME = re.compile(r"^sha256/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})\.([a-z0-9]{1,8})$")
_EXTENSION = re.compile(r"^[a-z0-9]{1,8}$")
CHUNK = 1 << 20


class StoreError(Exception):
    """A stored file that cannot be written or read as asked."""


class OverwriteRefused(StoreError):
    """Different bytes are already stored under the name: nothing is replaced."""


def storage() -> Storage:
    """The storage stored files go to (STORAGES["default"])."""
    return storages["default"]


def content_name(digest: str, extension: str) -> str:
    """The stored name of bytes whose SHA-256 is `digest`: sha256/ab/cd/<digest>.<extension>."""
    if not _EXTENSION.match(extension):
        raise StoreError(f"'{extension}' is not a file extension the store accepts (lowercase letters and digits).")
    return f"{PREFIX}{digest[:2]}/{digest[2:4]}/{digest}.{extension}"


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
    name = content_name(digest, extension)
    store = storage()
    if store.exists(name):
        if not _holds(store, name, digest):
            raise OverwriteRefused(
                f"{name} is stored with bytes that do not match its name; it was changed outside ProloTrack and is "
                "not replaced. Restore it from a backup."
            )
        return name
    try:
        saved: str | None = store.save(name, ContentFile(data))
    except FileExistsError:  # another process stored it between the check and the write
        saved = None
    if saved == name:
        return name
    if saved is not None:
        store.delete(saved)  # the storage kept the existing file and chose another name: keep the existing one
    if not _holds(store, name, digest):
        raise OverwriteRefused(f"{name} is stored with other bytes than its name promises; nothing was replaced.")
    return name


def _legacy_storage() -> FileSystemStorage:
    return FileSystemStorage(location=settings.MEDIA_ROOT)


def _legacy_path_ok(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return bool(name) and not name.startswith("/") and ".." not in parts and "" not in parts


def open_stored(name: str) -> IO[bytes]:
    """An open binary handle on a stored file (content-addressed, or a name from before, read from MEDIA_ROOT)."""
    if name.startswith(PREFIX):
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


def stored_or_inline(name: str, inline: bytes | memoryview | None) -> bytes | None:
    """A record's file: from the store when it names one, else the bytes its row held before the file store (None
    when it has neither). Used by the PDFs that rows kept as BinaryField before content hashing."""
    if name:
        return read(name)
    return bytes(inline) if inline is not None and len(inline) else None
