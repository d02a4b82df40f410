"""The research export: a per-clinic pseudonymisation key and the export jobs (who exported what, when, how many).

Neither is a clinical record: the key is a secret, the job is an operational record whose every step is also written
to the audit trail (research.export.*).
"""

import uuid as uuid_lib
from typing import Any

from django.conf import settings
from django.db import models

from prolotrack.domain.deidentify import DateMode


class ResearchKey(models.Model):
    """The clinic's secret for pseudonyms and date shifts: 32 random bytes, never shown, never exported.

    The same key gives the same pseudonyms in every export, so researchers can link exports over time. Replacing it
    breaks that linkage on purpose (docs/RESEARCH.md, "Keys").
    """

    clinic = models.OneToOneField("clinics.Clinic", on_delete=models.PROTECT, related_name="research_key")
    secret = models.BinaryField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:  # never the secret
        return f"Research key of clinic {self.clinic_id}"


class DataUseAgreement(models.Model):
    """A data use agreement for a limited data set (45 CFR 164.514(e)(4)), recorded by a clinic administrator.

    Only under one may an export carry shifted dates (a limited data set); a longitudinal study's agreement also keeps
    pseudonyms and date shifts stable across that study's exports (and only that study's). An agreement is never
    deleted; it ends at its expiry or when an administrator ends it (both audited).
    """

    uuid = models.UUIDField(default=uuid_lib.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    recipient = models.CharField(max_length=200, help_text="Who receives the data (person and institution).")
    purpose = models.CharField(max_length=500, help_text="The research purpose the agreement permits.")
    study = models.CharField(max_length=120, help_text="Short study name, shown when choosing the agreement.")
    longitudinal = models.BooleanField(
        default=False, help_text="Pseudonyms and date shifts stay the same across this study's exports."
    )
    signed_on = models.DateField()
    expires_on = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"Data use agreement “{self.study}” with {self.recipient} (until {self.expires_on:%Y-%m-%d})"

    def is_active(self, today: Any) -> bool:
        return self.ended_at is None and self.signed_on <= today <= self.expires_on


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Building"
    READY = "ready", "Ready to download"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired (file deleted)"


class ExportJob(models.Model):
    uuid = models.UUIDField(default=uuid_lib.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    channel = models.CharField(max_length=10, default="web")
    # What was asked for.
    date_mode = models.CharField(
        max_length=5, choices=[(m.value, m.label) for m in DateMode], default=DateMode.YEAR.value
    )
    indication = models.CharField(max_length=200, blank=True)  # a code of research.vocabulary.INDICATIONS
    year_from = models.PositiveSmallIntegerField(null=True, blank=True)
    year_to = models.PositiveSmallIntegerField(null=True, blank=True)
    # A limited data set (shifted dates) is made only under a data use agreement; none means Safe Harbor.
    agreement = models.ForeignKey(
        DataUseAgreement, null=True, blank=True, on_delete=models.PROTECT, related_name="exports"
    )
    # What the release check measured: k, l, the generalisations, what was suppressed (also in the zip's manifest).
    privacy = models.JSONField(default=dict, blank=True)
    # Progress and result.
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    stage = models.CharField(max_length=100, blank=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    patient_count = models.PositiveIntegerField(null=True, blank=True)
    row_counts = models.JSONField(default=dict, blank=True)
    # Internal: which patients went out, so a later withdrawal of consent retires the file (never exported).
    patient_uuids = models.JSONField(default=list, blank=True, editable=False)
    file_name = models.CharField(max_length=200, blank=True)
    file_size = models.PositiveBigIntegerField(null=True, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    # The zip's name in the file store (core/filestore.py, exports/sha256/...); empty for exports made before the file
    # store, whose zip is DATA_DIR/research-exports/<uuid>.zip (research.services.file_path).
    file_stored = models.CharField(max_length=120, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    downloads = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["clinic", "-requested_at"]), models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"Research export {self.uuid} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (ExportStatus.READY, ExportStatus.FAILED, ExportStatus.EXPIRED)

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.READY:
            return 100
        return int(100 * self.done / self.total) if self.total else 0

    @property
    def kind(self) -> str:
        return "Limited data set" if self.agreement_id else "De-identified (Safe Harbor)"

    def row_summary(self) -> list[tuple[str, int]]:
        return [(name.replace("_", " "), count) for name, count in (self.row_counts or {}).items()]

    def filters_text(self) -> str:
        parts = []
        if self.indication:
            from prolotrack.research.vocabulary import INDICATIONS

            parts.append(f"indication “{INDICATIONS.get(self.indication, self.indication)}”")
        if self.year_from and self.year_to:
            parts.append(f"courses started {self.year_from}–{self.year_to}")
        elif self.year_from:
            parts.append(f"courses started in {self.year_from} or later")
        elif self.year_to:
            parts.append(f"courses started in {self.year_to} or earlier")
        return ", ".join(parts) or "all consenting patients"
