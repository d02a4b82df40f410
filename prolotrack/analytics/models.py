"""Models of the analytics app: the quarterly figures released to researchers, frozen once released."""

from django.conf import settings
from django.db import models


class ResearchRelease(models.Model):
    """The researcher-facing figures of one calendar quarter of one clinic, computed once and then served unchanged.

    Frozen on purpose: recomputing a quarter later (after a follow-up answer, a course entered in error) would let the
    difference of two releases point at one course (docs/DASHBOARD.md, "Researchers").
    """

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    period = models.CharField(max_length=7)  # "2025-Q1"
    figures = models.JSONField()
    released_at = models.DateTimeField()
    released_to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clinic", "period"], name="research_release_clinic_period")]

    def __str__(self) -> str:
        return f"Research figures {self.period} of clinic {self.clinic_id}"
