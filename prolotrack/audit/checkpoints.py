"""Signed checkpoints of the audit chains' heads, written outside the database (docs/SECURITY.md, "Audit trail").

A checkpoint is one JSON file in `AUDIT_CHECKPOINT_DIR`, never overwritten (created with O_EXCL), holding for every
chain its event count (`seq`), the hash of that event and the last event written before keyed chains
(`legacy_until`), with the time, signed with Ed25519 (the `cryptography` library) by the key in
`AUDIT_SIGNING_KEY_FILE`. Whoever can rewrite the database but cannot write those files (or their copies shipped
elsewhere) cannot make a truncated or rewritten chain match the latest checkpoint. The scheduler writes one every
`AUDIT_CHECKPOINT_MINUTES` (`manage.py run_scheduler`); `manage.py audit_checkpoint` writes one on demand.
"""

import base64
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from prolotrack.audit.keys import fingerprint, signing_key, verify_key
from prolotrack.audit.models import AuditChain, AuditEvent

FORMAT = "prolotrack-audit-checkpoint/1"


def _canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def directory() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_DIR)


def heads() -> dict[str, dict[str, Any]]:
    """Every chain's head as stored now, with its last unkeyed event (0 when none), read in one transaction."""
    with transaction.atomic():
        legacy = dict(
            AuditEvent.objects.filter(key_id="")
            .values("chain_key")
            .annotate(last=Max("seq"))
            .values_list("chain_key", "last")
            .order_by()
        )
        return {
            chain.key: {"seq": chain.seq, "hash": chain.last_hash, "legacy_until": int(legacy.get(chain.key) or 0)}
            for chain in AuditChain.objects.order_by("key")
        }


def write_checkpoint(now: datetime | None = None, folder: Path | None = None) -> Path:
    """Write a signed checkpoint of every chain's head; returns its path."""
    now = now or timezone.now()
    folder = folder or directory()
    folder.mkdir(parents=True, exist_ok=True)
    key = signing_key()
    payload = {
        "format": FORMAT,
        "at": now.astimezone(UTC).isoformat(),
        "chains": heads(),
        "key": fingerprint(key.public_key()),
    }
    signature = base64.b64encode(key.sign(_canonical(payload))).decode()
    document = json.dumps({"payload": payload, "signature": signature}, indent=1, sort_keys=True).encode()
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    for attempt in range(100):
        path = folder / f"checkpoint-{stamp}{'' if attempt == 0 else f'-{attempt}'}.json"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as handle:
            handle.write(document)
            handle.flush()
            os.fsync(handle.fileno())
        return path
    raise RuntimeError(f"Could not create a new checkpoint file in {folder}.")


@dataclass(frozen=True)
class Checkpoint:
    path: Path
    at: datetime
    chains: dict[str, dict[str, Any]]


class CheckpointError(ValueError):
    """A checkpoint file is unreadable or its signature does not verify."""


def read_checkpoint(path: Path, key: Ed25519PublicKey | None = None) -> Checkpoint:
    """Parse a checkpoint and check its signature (raises CheckpointError)."""
    key = key or verify_key()
    try:
        document = json.loads(path.read_bytes())
        payload, signature = document["payload"], base64.b64decode(document["signature"])
        key.verify(signature, _canonical(payload))
        if payload.get("format") != FORMAT:
            raise CheckpointError(f"{path.name}: unknown format {payload.get('format')!r}.")
        return Checkpoint(path, datetime.fromisoformat(payload["at"]), payload["chains"])
    except InvalidSignature:
        raise CheckpointError(
            f"{path.name}: the signature does not verify (edited, or signed by another key)."
        ) from None
    except (ValueError, KeyError, TypeError) as error:
        raise CheckpointError(f"{path.name}: not a readable checkpoint ({error}).") from None


def checkpoint_files(folder: Path | None = None) -> list[Path]:
    """Checkpoint files, oldest first (their names sort by time)."""
    folder = folder or directory()
    return sorted(folder.glob("checkpoint-*.json")) if folder.exists() else []


def write_if_due(now: datetime | None = None) -> Path | None:
    """The scheduler's step: a checkpoint when the latest is older than AUDIT_CHECKPOINT_MINUTES (or none exists)."""
    now = now or timezone.now()
    files = checkpoint_files()
    if files:
        try:
            latest = read_checkpoint(files[-1])
        except CheckpointError:
            latest = None
        if latest is not None and now - latest.at < timedelta(minutes=settings.AUDIT_CHECKPOINT_MINUTES):
            return None
    return write_checkpoint(now)


def check_against(checkpoint: Checkpoint) -> list[str]:
    """What the database contradicts in a checkpoint: each chain must still hold the checkpointed event with the
    checkpointed hash (so nothing up to it was rewritten or cut), its head must not be behind it, and no event after
    its last unkeyed one may be unkeyed."""
    problems: list[str] = []
    name = checkpoint.path.name
    stored = {c.key: c for c in AuditChain.objects.all()}
    for key, head in sorted(checkpoint.chains.items()):
        seq, expected = int(head["seq"]), head["hash"]
        chain = stored.get(key)
        if chain is None:
            problems.append(f"{key}: checkpoint {name} records {seq} events; the database has no such chain.")
            continue
        if chain.seq < seq:
            problems.append(
                f"{key}: checkpoint {name} records {seq} events; the chain head now says {chain.seq} "
                "(events were removed and the head reset)."
            )
        if seq == 0:
            continue
        event = AuditEvent.objects.filter(chain_key=key, seq=seq).values_list("hash", flat=True).first()
        if event is None:
            problems.append(f"{key}: event {seq}, recorded in checkpoint {name}, is missing from the database.")
        elif event != expected:
            problems.append(
                f"{key}: event {seq} does not have the hash recorded in checkpoint {name} (the chain up to it was "
                "rewritten)."
            )
        unkeyed = AuditEvent.objects.filter(chain_key=key, key_id="", seq__gt=int(head.get("legacy_until", 0)))
        if unkeyed.filter(seq__lte=seq).exists():
            problems.append(f"{key}: events up to {seq} lost their key after checkpoint {name} (rewritten unkeyed).")
    return problems
