"""Documents the clinic hands to patients and referrers: visit summaries, progress reports, and the clinic's handout texts.

A generated document is immutable: a `Document` row records what was asked for and how generation went
(queued -> generating -> ready or failed); its PDF bytes live in `DocumentPdf`, written once when the document is ready
and never changed. A re-generation (after an amendment, say) is a new `Document`; the old one stays downloadable.
Handout texts are versioned by appending: every edit is a new `HandoutVersion` row; the product's text is version 0.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from prolotrack.core import filestore
from prolotrack.core.records import ClinicalRecord, HistoryBypassError, queryset_only


class DocumentKind(models.TextChoices):
    VISIT_SUMMARY = "visit_summary", "Visit summary"
    PROGRESS_PATIENT = "progress_patient", "Progress report (for the patient)"
    PROGRESS_REFERRER = "progress_referrer", "Progress report (for the referring doctor)"


# A document claimed this long ago and still generating was left by a worker that stopped (a render takes about a
# second, docs/DOCUMENTS.md): anyone may claim it again.
STALE_CLAIM = timedelta(minutes=3)


class DocumentStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    GENERATING = "generating", "Generating"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class Document(ClinicalRecord):
    """One generated PDF for a patient: what it is, what it was made from, and whether it is ready."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="documents")
    course = models.ForeignKey(
        "treatment.Course", null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    session = models.ForeignKey(
        "treatment.TreatmentSession", null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    status = models.CharField(max_length=12, choices=DocumentStatus.choices, default=DocumentStatus.QUEUED)
    # What the document was made from: for a visit summary, the session's stamp (queries.session_stamps: the sum of
    # the versions of the note and its parts), so a later amendment makes it out of date; else the patient's version.
    source_version = models.PositiveIntegerField(default=0)
    template_version = models.PositiveIntegerField(default=1)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    pdf_size = models.PositiveIntegerField(null=True, blank=True)
    pages = models.PositiveSmallIntegerField(null=True, blank=True)
    generated_at = models.DateTimeField(null=True, blank=True)
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    render_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "-created_at"]),
            models.Index(fields=["clinic", "status"]),
            models.Index(fields=["session", "kind"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display().lower()})"

    def lock_reason(self) -> str | None:
        if self.status == DocumentStatus.READY:
            return "A generated document cannot change: generate a new one."
        return None

    @property
    def is_stalled(self) -> bool:
        """Claimed by a worker that stopped before finishing (it will not come back to it)."""
        return self.status == DocumentStatus.GENERATING and self.updated_at < timezone.now() - STALE_CLAIM

    @property
    def is_pending(self) -> bool:
        return self.status == DocumentStatus.QUEUED or (
            self.status == DocumentStatus.GENERATING and not self.is_stalled
        )


class WriteOnceQuerySet(models.QuerySet):
    @queryset_only
    def update(self, **kwargs: Any) -> int:
        raise HistoryBypassError("Stored PDFs are written once and never changed.")

    @queryset_only
    def delete(self) -> tuple[int, dict[str, int]]:
        raise HistoryBypassError("Stored PDFs are never deleted.")


class DocumentPdf(models.Model):
    """The PDF of a ready document, named in the transaction that marks it ready.

    Kept apart from `Document` so version rows and audit diffs never carry the bytes (only the hash). The bytes are in
    the file store under their SHA-256 (`pdf_name`, core/filestore.py), stored before this row; rows written before
    the file store hold them in `pdf`, still read (`pdf_content`).
    """

    document = models.OneToOneField(Document, on_delete=models.PROTECT, related_name="content")
    pdf = models.BinaryField(blank=True, default=b"")
    pdf_name = models.CharField(max_length=100, blank=True)
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = WriteOnceQuerySet.as_manager()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise HistoryBypassError("A stored PDF cannot be changed: generate a new document.")
        super().save(*args, **kwargs)

    @property
    def pdf_content(self) -> bytes:
        """The PDF's bytes as stored (unchecked: documents.services.pdf_bytes checks them)."""
        return filestore.stored_or_inline(self.pdf_name, self.pdf) or b""

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise HistoryBypassError("Stored PDFs are never deleted.")


class HandoutVersion(ClinicalRecord):
    """One version of one section of the clinic's patient handouts (version 0, the product's text, is not stored).

    Rows are only ever added: an edit or a revert appends the next number, so the history is the table itself. Each
    language has its own versions (numbered from 1 per clinic, section and language; docs/LANGUAGES.md, "Documents").
    """

    section = models.CharField(max_length=40)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    number = models.PositiveIntegerField()
    body = models.TextField()
    reason = models.CharField(max_length=300, blank=True)
    reverted_from = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["section", "language", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "section", "language", "number"], name="handout_version_unique_per_language"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.section} ({self.language}) v{self.number}"

    def lock_reason(self) -> str | None:
        if self.pk is None:
            return None
        return "A handout version is kept as written: save a new version instead."
