"""Keys of the audit trail, held outside the database (docs/SECURITY.md, "Audit trail"; docs/OPERATIONS.md).

- **Chain keys** (HMAC-SHA256): a JSON file `{"current": "<id>", "keys": {"<id>": "<64 hex digits>", ...}}` named by
  `AUDIT_KEY_FILE` (env `PROLOTRACK_AUDIT_KEY_FILE`). Each new event is keyed with the current key and stores its id;
  older ids stay in the file so the events they keyed keep verifying (rotation: `manage.py audit_keys rotate`).
- **Checkpoint signing key** (Ed25519, the `cryptography` library): a PEM private key named by
  `AUDIT_SIGNING_KEY_FILE` (env `PROLOTRACK_AUDIT_SIGNING_KEY_FILE`); the public key verifies checkpoints anywhere
  (`AUDIT_VERIFY_KEY_FILE`, or derived from the private key).

When a file does not exist yet it is created once with a fresh random key (mode 0600, never overwritten), so every
installation is keyed from its first event; docs/OPERATIONS.md says where to move the files.
"""

import base64
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings


class AuditKeyError(RuntimeError):
    """A key file cannot be read or is malformed: the message says which and how to fix it."""


@dataclass(frozen=True)
class ChainKeys:
    current: str
    keys: dict[str, bytes]

    def key(self, key_id: str) -> bytes | None:
        return self.keys.get(key_id)


def _create_exclusive(path: Path, data: bytes) -> None:
    """Write a new key file once: written whole under a private name, then linked into place only if nothing is
    there (a concurrent creator's file wins and is read instead; nobody ever reads a half-written file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()


def _chain_key_path() -> Path:
    return Path(settings.AUDIT_KEY_FILE)


def new_key_id(existing: set[str]) -> str:
    n = len(existing) + 1
    while f"k{n}" in existing:
        n += 1
    return f"k{n}"


def _parse_chain_keys(path: Path, raw: bytes) -> ChainKeys:
    try:
        data = json.loads(raw)
        keys = {str(k): bytes.fromhex(v) for k, v in data["keys"].items()}
        current = str(data["current"])
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise AuditKeyError(
            f"The audit key file {path} is not valid JSON of the form "
            '{"current": "k1", "keys": {"k1": "<64 hex digits>"}}: ' + str(error)
        ) from None
    if current not in keys:
        raise AuditKeyError(f"The audit key file {path} names current key {current!r}, which it does not hold.")
    if any(len(k) < 32 for k in keys.values()):
        raise AuditKeyError(f"Every key in {path} must be at least 32 bytes (64 hex digits).")
    return ChainKeys(current, keys)


@lru_cache(maxsize=8)
def _load_chain_keys(path: str, mtime: float) -> ChainKeys:
    return _parse_chain_keys(Path(path), Path(path).read_bytes())


def chain_keys() -> ChainKeys:
    """The chain keys (created on first use when the file is missing). Re-read when the file changes."""
    path = _chain_key_path()
    if not path.exists():
        _create_exclusive(path, json.dumps({"current": "k1", "keys": {"k1": secrets.token_hex(32)}}).encode())
    return _load_chain_keys(str(path), path.stat().st_mtime_ns)


def rotate_chain_key() -> str:
    """Add a new random key, make it current, keep the old ones for verification; returns the new key id."""
    path = _chain_key_path()
    keys = chain_keys()
    key_id = new_key_id(set(keys.keys))
    data = {"current": key_id, "keys": {**{k: v.hex() for k, v in keys.keys.items()}, key_id: secrets.token_hex(32)}}
    temporary = path.with_name(f".{path.name}.rotate.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(json.dumps(data, indent=2).encode())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return key_id


def _signing_key_path() -> Path:
    return Path(settings.AUDIT_SIGNING_KEY_FILE)


def signing_key() -> Ed25519PrivateKey:
    path = _signing_key_path()
    if not path.exists():
        fresh = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        _create_exclusive(path, fresh)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError as error:
        raise AuditKeyError(f"The audit signing key {path} is not a PEM private key: {error}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditKeyError(f"The audit signing key {path} must be an Ed25519 key.")
    return key


def verify_key() -> Ed25519PublicKey:
    """The public key that checks checkpoints: AUDIT_VERIFY_KEY_FILE if set, else the signing key's own."""
    name = getattr(settings, "AUDIT_VERIFY_KEY_FILE", "")
    if name:
        key = serialization.load_pem_public_key(Path(name).read_bytes())
        if not isinstance(key, Ed25519PublicKey):
            raise AuditKeyError(f"The audit verify key {name} must be an Ed25519 public key.")
        return key
    return signing_key().public_key()


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b32encode(hashlib.sha256(raw).digest()[:10]).decode().lower()
