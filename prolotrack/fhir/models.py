"""Saved cohorts (FHIR Group) and Bulk Data export jobs."""

import uuid as uuid_lib

from django.conf import settings
from django.db import models
from django.utils import timezone

from prolotrack.core.records import ClinicalRecord


class Cohort(ClinicalRecord):
    """A saved list of patients, served as a FHIR Group and exportable with Group/[id]/$export."""

    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    patient_uuids = models.JSONField(default=list, help_text="Public ids of the member patients, in this clinic.")

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired (files removed)"


class ExportLevel(models.TextChoices):
    SYSTEM = "system", "System"
    PATIENT = "patient", "All patients"
    GROUP = "group", "Group"


class ExportJob(models.Model):
    """One Bulk Data export: what was asked, by which membership (the client), its progress and its files.

    Not a clinical record: it holds no patient data itself (the files do, in the file store under exports/, named by
    `output`; removed when the job expires or is cancelled).
    """

    uuid = models.UUIDField(default=uuid_lib.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    membership = models.ForeignKey("clinics.Membership", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(max_length=10, choices=ExportLevel.choices)
    cohort = models.ForeignKey(Cohort, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    types = models.JSONField(default=list)
    since = models.DateTimeField(null=True, blank=True)
    request_url = models.TextField()
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    progress = models.CharField(max_length=100, blank=True)
    transaction_time = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # [{"type": "Patient", "file": "Patient.ndjson", "count": 123}]
    output = models.JSONField(default=list)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["membership", "status"]), models.Index(fields=["status", "expires_at"])]
