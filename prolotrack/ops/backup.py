"""Consistent backups while the app takes writes, and verified restores (docs/OPERATIONS.md, "Backup and restore").

One archive (tar, gzip when the name ends in .gz) holds:

- `database/prolotrack.sqlite3`, a snapshot made with SQLite's online backup API (never a file copy: a copy taken
  during writes can be torn and fail `PRAGMA integrity_check` and the audit chain), or `database/prolotrack.pgdump`,
  `pg_dump --format=custom` run on a snapshot exported from a REPEATABLE READ transaction;
- `files/store/<name>`, every file of the file store (core/filestore.py: `sha256/...` and `exports/sha256/...`), read
  through the configured storage, the local folder or an S3 bucket alike;
- `files/<root>/...`, the files of the local folders (images from before the file store under MEDIA_ROOT, FHIR and
  research exports from before the file store, the file outbox);
- `manifest.json`: the row count of every table and every audit chain's head, read from the same snapshot as the
  dump, and the SHA-256 of the database file and of every stored file.

Left out on purpose: the audit chain and checkpoint keys and the OIDC signing key (secrets kept apart from the data,
docs/OPERATIONS.md "The audit trail"), the audit checkpoints (shipped elsewhere as they are written).

A restore goes into an empty target only (no table in the database, no file under the file roots), then checks the
database (`PRAGMA integrity_check` on SQLite), the row counts and chain heads against the manifest, every file's hash
and the audit chains themselves (every keyed hash recomputed).
"""

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage
from django.db import connections

from prolotrack.core import filestore

FORMAT = "prolotrack-backup/1"
MANIFEST = "manifest.json"
STORE_MEMBER = "files/store/"
SQLITE_MEMBER = "database/prolotrack.sqlite3"
PG_MEMBER = "database/prolotrack.pgdump"
CHUNK = 1 << 20


class BackupError(RuntimeError):
    """A backup or restore that cannot go on; the message says why and what to do."""


def file_roots() -> dict[str, Path]:
    """Every folder where the app stores files, by the name it has inside the archive."""
    data = Path(settings.DATA_DIR)
    return {
        "media": Path(settings.MEDIA_ROOT),
        "fhir-exports": data / "fhir-exports",
        "research-exports": data / "research-exports",
        "outbox": data / "outbox",
    }


def _store_folder(store: Storage) -> Path | None:
    """The local folder of a file store on disk (None on S3): its `sha256/` and `exports/` are archived as the store's
    files, so the walk of that folder as a root leaves them out."""
    return Path(store.path("")).resolve() if isinstance(store, FileSystemStorage) else None


def _skipped(root: Path, path: Path, store_folder: Path | None) -> bool:
    if store_folder is None or root.resolve() != store_folder:
        return False
    return path.relative_to(root).parts[0] in {filestore.PREFIX.rstrip("/"), filestore.EXPORTS.rstrip("/")}


def _sha256_file(handle: Any) -> str:
    digest = hashlib.sha256()
    handle.seek(0)
    while chunk := handle.read(CHUNK):
        digest.update(chunk)
    handle.seek(0)
    return digest.hexdigest()


def _walk(root: Path) -> Iterator[Path]:
    if not root.is_dir():
        return
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            yield Path(folder) / name


# --- database snapshots ----------------------------------------------------------------------------------------------


def _audit_tables() -> tuple[str, str]:
    from prolotrack.audit.models import AuditChain, AuditEvent

    return AuditChain._meta.db_table, AuditEvent._meta.db_table


def _quote(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise BackupError(f"Unexpected table name {name!r}.")
    return f'"{name}"'


def _read_facts(cursor: Any, tables: list[str]) -> tuple[dict[str, int], dict[str, dict[str, Any]]]:
    """Row counts and audit chain heads, read through one cursor inside one snapshot."""
    counts = {}
    for table in sorted(name for name in tables if not name.startswith("sqlite_")):
        cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")  # noqa: S608 - names from the catalogue, checked
        counts[table] = int(cursor.fetchone()[0])
    chain_table, _events = _audit_tables()
    heads: dict[str, dict[str, Any]] = {}
    if chain_table in counts:
        cursor.execute(f"SELECT key, seq, last_hash FROM {_quote(chain_table)} ORDER BY key")  # noqa: S608
        heads = {key: {"seq": int(seq), "hash": last_hash} for key, seq, last_hash in cursor.fetchall()}
    return counts, heads


def _sqlite_tables(db: sqlite3.Connection) -> list[str]:
    rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").fetchall()
    return [name for (name,) in rows]


def _sqlite_snapshot(source: str, target: Path) -> tuple[dict[str, int], dict[str, dict[str, Any]]]:
    """Copy the live database with the online backup API in one step (one read transaction: a consistent snapshot;
    WAL lets writers go on meanwhile), then read the counts and chain heads from the copy itself."""
    src = sqlite3.connect(source, timeout=20)
    dst = sqlite3.connect(target)
    try:
        src.execute("PRAGMA busy_timeout = 20000")
        src.backup(dst)
    finally:
        src.close()
    try:
        (check,) = dst.execute("PRAGMA integrity_check").fetchone()
        if check != "ok":
            raise BackupError(f"The snapshot fails PRAGMA integrity_check: {check}")
        return _read_facts(dst.cursor(), _sqlite_tables(dst))
    finally:
        dst.close()


def _pg_params(alias: str = "default") -> dict[str, str]:
    conf = connections[alias].settings_dict
    params = {"dbname": conf["NAME"], "user": conf.get("USER") or "", "host": conf.get("HOST") or ""}
    params["port"] = str(conf.get("PORT") or "")
    params["password"] = conf.get("PASSWORD") or ""
    return {key: value for key, value in params.items() if value}


def _pg_connect(params: dict[str, str], autocommit: bool = False) -> Any:
    import psycopg
    from psycopg.conninfo import make_conninfo

    return psycopg.connect(make_conninfo(**params), autocommit=autocommit)


def _pg_env(params: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    names = {"dbname": "PGDATABASE", "user": "PGUSER", "host": "PGHOST", "port": "PGPORT", "password": "PGPASSWORD"}
    env.update({names[key]: value for key, value in params.items()})
    return env


def _major(text: str) -> int:
    """The major version in `pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)`."""
    found = re.search(r"\)\s*(\d+)", text) or re.search(r"(\d+)", text)
    if not found:
        raise BackupError(f"Cannot read a version from {text!r}.")
    return int(found.group(1))


def pg_tool(name: str, server_version_num: int) -> str:
    """The path of pg_dump or pg_restore on PATH, refused with the reason when missing or older than the server."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not on PATH. Install the PostgreSQL client tools of the server's version "
            f"(Debian: apt-get install postgresql-client-{server_version_num // 10000})."
        )
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=True).stdout  # noqa: S603
    tool, server = _major(out), server_version_num // 10000
    if tool < server:
        raise BackupError(
            f"{name} is version {tool} but the server is {server}: {name} refuses a newer server. Install "
            f"postgresql-client-{server} and put it first on PATH."
        )
    return path


def _pg_snapshot(target: Path) -> tuple[dict[str, int], dict[str, dict[str, Any]]]:
    """pg_dump on a snapshot exported from a REPEATABLE READ transaction that also reads the counts and chain heads,
    so the manifest describes exactly the rows the dump holds."""
    params = _pg_params()
    with _pg_connect(params) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        tool = pg_tool("pg_dump", conn.info.server_version)
        (snapshot,) = conn.execute("SELECT pg_export_snapshot()").fetchone()
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
            ).fetchall()
        ]
        facts = _read_facts(conn.cursor(), tables)
        done = subprocess.run(  # noqa: S603 - fixed arguments, the tool found on PATH
            [tool, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}", f"--file={target}"],
            env=_pg_env(params),
            capture_output=True,
            text=True,
        )
        conn.rollback()
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    return facts


# --- backup ----------------------------------------------------------------------------------------------------------


@dataclass
class Manifest:
    engine: str
    created_at: str
    database: dict[str, str]
    tables: dict[str, int]
    audit_chains: dict[str, dict[str, Any]]
    files: dict[str, str] = field(default_factory=dict)
    format: str = FORMAT

    def to_json(self) -> bytes:
        return json.dumps(self.__dict__, indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> "Manifest":
        data = json.loads(raw)
        if data.get("format") != FORMAT:
            raise BackupError(f"Not a ProloTrack backup of format {FORMAT} (found {data.get('format')!r}).")
        return cls(**data)


def engine(alias: str = "default") -> str:
    vendor = connections[alias].vendor
    if vendor not in {"sqlite", "postgresql"}:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {vendor}.")
    return vendor


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    info.mtime = int(datetime.now(UTC).timestamp())
    tar.addfile(info, io.BytesIO(data))


def _add_stored(tar: tarfile.TarFile, store: Storage, name: str) -> str | None:
    """Add one file of the file store, hashed from the same handle (an export file removed meanwhile is skipped)."""
    try:
        handle = store.open(name, "rb")
        digest = _sha256_file(handle)
    except (FileNotFoundError, OSError):
        return None
    except Exception as error:  # botocore's ClientError (NoSuchKey) for an object removed between listing and reading
        if name.startswith(filestore.EXPORTS):
            return None
        raise BackupError(f"Cannot read {name} from the file store: {error}") from error
    with handle:
        handle.seek(0, io.SEEK_END)
        info = tarfile.TarInfo(STORE_MEMBER + name)
        info.size = handle.tell()
        handle.seek(0)
        info.mode, info.mtime = 0o600, int(datetime.now(UTC).timestamp())
        tar.addfile(info, handle)
    return digest


def _add_file(tar: tarfile.TarFile, name: str, path: Path) -> str | None:
    """Add one file, hashed from the same open handle (a file removed meanwhile, such as an expired export, is
    skipped: the database snapshot may still name it, as it would have a moment later)."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return None
    with handle:
        digest = _sha256_file(handle)
        info = tar.gettarinfo(arcname=name, fileobj=handle)
        info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
        tar.addfile(info, handle)
    return digest


def default_archive_path(now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return Path(settings.DATA_DIR) / "backups" / f"prolotrack-{stamp}.tar.gz"


def create_backup(output: Path) -> Manifest:
    """Write the archive to `output` (through a temporary name, renamed when complete and synced)."""
    kind = engine()
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.exists():
        raise BackupError(f"{output} exists already; backups are never overwritten.")
    created = datetime.now(UTC).isoformat(timespec="seconds")
    with tempfile.TemporaryDirectory(prefix="prolotrack-backup-", dir=output.parent) as work:
        member = SQLITE_MEMBER if kind == "sqlite" else PG_MEMBER
        snapshot = Path(work) / Path(member).name
        if kind == "sqlite":
            counts, heads = _sqlite_snapshot(str(connections["default"].settings_dict["NAME"]), snapshot)
        else:
            counts, heads = _pg_snapshot(snapshot)
        partial = Path(work) / "archive.partial"
        manifest = Manifest(kind, created, {}, counts, heads)
        with tarfile.open(partial, "w:gz") if output.name.endswith(".gz") else tarfile.open(partial, "w") as tar:
            manifest.database = {"member": member, "sha256": _add_file(tar, member, snapshot) or ""}
            # Listed after the snapshot, and a file is stored before the row naming it commits: every file the
            # snapshot names is here (plus, at most, files of writes that committed after it).
            store = filestore.storage()
            for stored in filestore.stored_names(store):
                digest = _add_stored(tar, store, stored)
                if digest:
                    manifest.files[STORE_MEMBER + stored] = digest
            store_folder = _store_folder(store)
            for name, root in file_roots().items():
                for path in _walk(root):
                    if _skipped(root, path, store_folder):
                        continue
                    arcname = f"files/{name}/{path.relative_to(root).as_posix()}"
                    digest = _add_file(tar, arcname, path)
                    if digest:
                        manifest.files[arcname] = digest
            _add_bytes(tar, MANIFEST, manifest.to_json())
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        os.chmod(partial, 0o600)
        os.replace(partial, output)
    return manifest


# --- restore ---------------------------------------------------------------------------------------------------------


@dataclass
class Restored:
    manifest: Manifest
    checked_events: int
    problems: list[str]


def _safe_member(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise BackupError(f"The archive holds an unsafe path {name!r}; refusing it.")
    return path


def read_manifest(tar: tarfile.TarFile) -> Manifest:
    try:
        member = tar.getmember(MANIFEST)
    except KeyError:
        raise BackupError("The archive has no manifest.json: not a ProloTrack backup, or cut short.") from None
    handle = tar.extractfile(member)
    if handle is None:
        raise BackupError("manifest.json is not a file.")
    return Manifest.from_json(handle.read())


def _sqlite_has_tables(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    db = sqlite3.connect(path)
    try:
        return bool(_sqlite_tables(db))
    finally:
        db.close()


def _pg_has_tables(params: dict[str, str]) -> bool:
    with _pg_connect(params) as conn:
        row = conn.execute("SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()").fetchone()
        return bool(row and row[0])


def check_target_empty(kind: str, alias: str, roots: dict[str, Path], store: Storage | None = None) -> None:
    conf = connections[alias].settings_dict
    if kind == "sqlite" and _sqlite_has_tables(Path(conf["NAME"])):
        raise BackupError(f"The target database {conf['NAME']} is not empty; restore only into an empty data folder.")
    if kind == "postgresql" and _pg_has_tables(_pg_params(alias)):
        raise BackupError(
            f"The target database {conf['NAME']!r} already has tables; restore only into an empty database "
            "(createdb a new one)."
        )
    for name, root in roots.items():
        if next(_walk(root), None) is not None:
            raise BackupError(f"The target file folder {root} ({name}) is not empty; restore only into an empty one.")
    if store is not None and next(filestore.stored_names(store), None) is not None:
        raise BackupError(
            "The target file store already holds files (sha256/ or exports/); restore only into an empty one "
            "(a new bucket or prefix, or an empty folder)."
        )


def _copy_out(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> str:
    handle = tar.extractfile(member)
    if handle is None:
        raise BackupError(f"{member.name} is not a file.")
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def _restore_sqlite(snapshot: Path, target: Path) -> None:
    src = sqlite3.connect(snapshot)
    target.parent.mkdir(parents=True, exist_ok=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = WAL")
        (check,) = dst.execute("PRAGMA integrity_check").fetchone()
        if check != "ok":
            raise BackupError(f"The restored database fails PRAGMA integrity_check: {check}")
    finally:
        src.close()
        dst.close()


def _restore_pg(dump: Path, params: dict[str, str]) -> None:
    with _pg_connect(params) as conn:
        tool = pg_tool("pg_restore", conn.info.server_version)
    options = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    done = subprocess.run(  # noqa: S603 - fixed arguments, the tool found on PATH
        [tool, *options, f"--dbname={params['dbname']}", str(dump)],
        env=_pg_env(params),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()}")


def _facts_of(kind: str, alias: str) -> tuple[dict[str, int], dict[str, dict[str, Any]]]:
    conn = connections[alias]
    with conn.cursor() as cursor:
        return _read_facts(cursor, conn.introspection.table_names(cursor))


def verify_restored(manifest: Manifest, kind: str, alias: str) -> tuple[list[str], int]:
    """Counts and chain heads against the manifest, then every audit chain recomputed."""
    from prolotrack.audit.queries import verify_chains

    problems = []
    counts, heads = _facts_of(kind, alias)
    for table in sorted(set(counts) | set(manifest.tables)):
        if counts.get(table) != manifest.tables.get(table):
            problems.append(
                f"{table}: {counts.get(table)} rows restored, the manifest says {manifest.tables.get(table)}."
            )
    if heads != manifest.audit_chains:
        problems.append("The audit chain heads differ from the manifest's.")
    chain_problems, checked = verify_chains(using=alias)
    return problems + chain_problems, checked


def _restore_stored(tar: tarfile.TarFile, info: tarfile.TarInfo, name: str, store: Storage, work: Path) -> str:
    """Put one file of the file store back under its name in the target store; returns the problem, or ""."""
    digest = filestore.digest_of(name)
    if digest is None:
        return f"{info.name}: not a file store name; left out."
    spooled = work / "stored"
    try:
        if _copy_out(tar, info, spooled) != digest:
            return f"{info.name}: its SHA-256 does not match the manifest."
        extension = name.rsplit(".", 1)[1]
        export = name.startswith(filestore.EXPORTS)
        if filestore.put_path(spooled, extension, export=export, digest=digest, store=store) != name:
            return f"{info.name}: stored under another name; check the store."
    finally:
        spooled.unlink(missing_ok=True)
    return ""


def restore_backup(
    archive: Path, alias: str = "default", roots: dict[str, Path] | None = None, store: Storage | None = None
) -> Restored:
    """Restore into the (empty) database of `alias`, the (empty) file roots and the (empty) file store (the configured
    one unless `store` is given: the local folder or an S3 bucket), then verify everything."""
    kind = engine(alias)
    roots = roots or file_roots()
    store = store or filestore.storage()
    with tarfile.open(archive, "r:*") as tar:
        manifest = read_manifest(tar)
        if manifest.engine != kind:
            raise BackupError(f"This archive holds a {manifest.engine} database; the target is {kind}.")
        check_target_empty(kind, alias, roots, store)
        problems: list[str] = []
        with tempfile.TemporaryDirectory(prefix="prolotrack-restore-") as work:
            member = tar.getmember(manifest.database["member"])
            snapshot = Path(work) / Path(member.name).name
            if _copy_out(tar, member, snapshot) != manifest.database["sha256"]:
                raise BackupError("The database in the archive does not match its SHA-256 in the manifest.")
            if kind == "sqlite":
                connections[alias].close()
                _restore_sqlite(snapshot, Path(connections[alias].settings_dict["NAME"]))
            else:
                _restore_pg(snapshot, _pg_params(alias))
        seen = set()
        for info in tar.getmembers():
            path = _safe_member(info.name)
            if path.parts[0] != "files" or not info.isfile():
                continue
            if info.name.startswith(STORE_MEMBER):
                seen.add(info.name)
                expected = manifest.files.get(info.name)
                if expected != filestore.digest_of(info.name.removeprefix(STORE_MEMBER)):
                    problems.append(f"{info.name}: its SHA-256 in the manifest does not match its name.")
                    continue
                with tempfile.TemporaryDirectory(prefix="prolotrack-restore-") as work:
                    problem = _restore_stored(tar, info, info.name.removeprefix(STORE_MEMBER), store, Path(work))
                if problem:
                    problems.append(problem)
                continue
            root = roots.get(path.parts[1]) if len(path.parts) > 2 else None
            if root is None:
                problems.append(f"{info.name}: no file folder of that name here; left out.")
                continue
            seen.add(info.name)
            if _copy_out(tar, info, root.joinpath(*path.parts[2:])) != manifest.files.get(info.name):
                problems.append(f"{info.name}: its SHA-256 does not match the manifest.")
        problems += [f"{name}: in the manifest, missing from the archive." for name in set(manifest.files) - seen]
    verified, checked = verify_restored(manifest, kind, alias)
    return Restored(manifest, checked, problems + verified)
