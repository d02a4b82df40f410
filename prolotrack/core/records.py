"""The base every clinical record stands on: public UUIDs, versions, no hard delete.

Writes to clinical records go through `prolotrack.audit.services` (create, update,
mark entered in error), which keeps a version row and an audit row in the same
transaction. The guards here make the other paths fail loudly instead of silently
bypassing history.
"""

import contextvars
import uuid as uuid_lib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.db import models
from django.utils import timezone

_service_write = contextvars.ContextVar("prolotrack_service_write", default=False)


class HistoryBypassError(RuntimeError):
    """A write tried to skip the versioned, audited service path."""


@contextmanager
def service_write() -> Iterator[None]:
    """Allow `save()` on clinical records inside this block (used only by audit.services)."""
    token = _service_write.set(True)
    try:
        yield
    finally:
        _service_write.reset(token)


_Method = TypeVar("_Method", bound=Callable[..., Any])


def queryset_only(method: _Method) -> _Method:
    """Keep a QuerySet method off the model's manager (Django's `queryset_only` mark), so `Model.objects.update()`
    does not exist at all."""
    vars(method)["queryset_only"] = True
    return method


class ClinicalQuerySet(models.QuerySet):
    """Refuse queryset-wide update and delete: each change must leave a version."""

    @queryset_only
    def update(self, **kwargs: Any) -> int:
        raise HistoryBypassError(
            f"Bulk update of {self.model._meta.label} is refused: change records one at a time "
            "through their service so each change is versioned and audited."
        )

    @queryset_only
    def delete(self) -> tuple[int, dict[str, int]]:
        raise HistoryBypassError(
            f"Deleting {self.model._meta.label} is refused: clinical records are never deleted; "
            "mark them entered in error with a reason."
        )

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        raise HistoryBypassError(f"bulk_update of {self.model._meta.label} is refused: use the service functions.")

    def active(self) -> "ClinicalQuerySet":
        """Records not marked entered in error."""
        return self.filter(entered_in_error_at__isnull=True)


class ClinicalRecord(models.Model):
    """Abstract base: a clinical record owned by one clinic, versioned and never deleted."""

    uuid = models.UUIDField(default=uuid_lib.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    entered_in_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    entered_in_error_reason = models.TextField(blank=True, editable=False)

    objects = ClinicalQuerySet.as_manager()

    # Fields left out of version snapshots (bookkeeping that the version row already carries).
    SNAPSHOT_EXCLUDE = frozenset({"id", "version", "created_at", "created_by", "updated_at", "updated_by"})

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not _service_write.get():
            raise HistoryBypassError(
                f"{self._meta.label} was saved outside the service layer: use prolotrack.audit.services."
            )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise HistoryBypassError(
            f"Deleting {self._meta.label} is refused: mark it entered in error with a reason instead."
        )

    @property
    def is_entered_in_error(self) -> bool:
        return self.entered_in_error_at is not None

    def lock_reason(self) -> str | None:
        """Why this record may no longer change (e.g. a signed note), or None. Amendments may still change it."""
        return None

    def patient_uuid(self) -> "uuid_lib.UUID | None":
        """The patient this record belongs to, for audit filtering."""
        patient = getattr(self, "patient", None)
        if patient is not None:
            return patient.uuid
        return None

    def snapshot(self) -> dict[str, Any]:
        """JSON-safe values of this record's own fields, for its version row."""
        data: dict[str, Any] = {}
        for field in self._meta.concrete_fields:
            if field.name in self.SNAPSHOT_EXCLUDE:
                continue
            data[field.name] = json_value(field.value_from_object(self))
        return data


def json_value(value: Any) -> Any:
    """Turn a model field value into something JSON can hold without losing meaning."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, uuid_lib.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value
