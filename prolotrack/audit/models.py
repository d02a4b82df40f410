"""The audit trail and record versions.

AuditEvent rows form one chain per clinic: each row's hash covers its own content and the previous row's hash, so an
edited or removed row breaks the chain (`manage.py verify_audit_chain`). The product has no page or endpoint that
edits them. Since issue 13 the hash is an HMAC-SHA256 under a key held outside the database (audit/keys.py), named by
the row's `key_id`, so whoever can write the database cannot recompute it; rows written before (empty `key_id`) keep
their plain SHA-256 and keep verifying. Signed checkpoints of each chain's head, written outside the database
(audit/checkpoints.py), catch a truncated tail. docs/SECURITY.md, "Audit trail".
"""

import hashlib
import hmac
import json
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditChain(models.Model):
    """Head of one hash chain; locked while appending so the chain never forks."""

    key = models.CharField(max_length=64, unique=True)
    seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise RuntimeError("Audit events are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise RuntimeError("Audit events are append-only.")


class AuditEvent(models.Model):
    chain_key = models.CharField(max_length=64)
    seq = models.PositiveBigIntegerField()
    at = models.DateTimeField(default=timezone.now, db_index=True)
    clinic = models.ForeignKey("clinics.Clinic", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=80, db_index=True)
    record_type = models.CharField(max_length=80, blank=True)
    record_uuid = models.UUIDField(null=True, blank=True)
    patient_uuid = models.UUIDField(null=True, blank=True)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    channel = models.CharField(
        max_length=20, blank=True, help_text="web, api, fhir, patient_link, calendar, email or system"
    )
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    # Which chain key keyed the hash (HMAC-SHA256); empty for rows written before keyed chains (plain SHA-256).
    key_id = models.CharField(max_length=32, blank=True, default="")

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain_key", "seq"], name="audit_chain_seq_unique")]
        indexes = [
            models.Index(fields=["clinic", "-at"]),
            models.Index(fields=["clinic", "patient_uuid", "-at"]),
            models.Index(fields=["clinic", "user", "-at"]),
        ]
        ordering = ["-at", "-seq"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("Audit events are append-only.")

    def canonical(self) -> bytes:
        """The bytes the hash covers: every field but the hash itself."""
        content = {
            "chain_key": self.chain_key,
            "seq": self.seq,
            "at": self.at.isoformat(),
            "clinic": self.clinic_id,
            "user": self.user_id,
            "username": self.username,
            "role": self.role,
            "action": self.action,
            "record_type": self.record_type,
            "record_uuid": str(self.record_uuid) if self.record_uuid else None,
            "patient_uuid": str(self.patient_uuid) if self.patient_uuid else None,
            "client_address": self.client_address,
            "channel": self.channel,
            "detail": self.detail,
            "prev_hash": self.prev_hash,
        }
        if self.key_id:  # a keyed row covers its key id too; an unkeyed row's bytes are as they always were
            content["key_id"] = self.key_id
        return json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode()

    def compute_hash(self, key: bytes | None = None) -> str:
        """HMAC-SHA256 under `key` for a keyed row (`key_id` set); plain SHA-256 for a row written before keys."""
        if self.key_id:
            if key is None:
                raise ValueError(f"Audit event {self.chain_key}#{self.seq} is keyed ({self.key_id}): give its key.")
            return hmac.new(key, self.canonical(), hashlib.sha256).hexdigest()
        return hashlib.sha256(self.canonical()).hexdigest()


class RecordVersion(models.Model):
    """One version of a clinical record: its full content, what changed, who, when and why."""

    record_type = models.CharField(max_length=80)
    record_uuid = models.UUIDField()
    version = models.PositiveIntegerField()
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    patient_uuid = models.UUIDField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=80)
    reason = models.TextField(blank=True)
    data = models.JSONField()
    changes = models.JSONField(default=dict, blank=True, help_text="field: [before, after]")

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record_type", "record_uuid", "version"], name="record_version_unique")
        ]
        ordering = ["record_type", "record_uuid", "-version"]
