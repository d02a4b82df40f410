"""Clinics, staff users, their memberships and roles, and API tokens."""

import hashlib
import secrets
import uuid
import zoneinfo
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone as dj_timezone
from django.utils.text import slugify

from prolotrack.clinics.config import ClinicConfig
from prolotrack.clinics.roles import Permission, Role, role_has


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a time zone name; use one like Europe/London or America/Chicago.")


def unique_clinic_slug(name: str, taken: set[str] | None = None) -> str:
    """A slug from the clinic's name that no clinic has yet ("clinic" for a name with no letters or digits)."""
    base = slugify(name)[:50].strip("-") or "clinic"
    used = (
        taken if taken is not None else set(Clinic.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    )
    slug, number = base, 1
    while slug in used:
        number += 1
        slug = f"{base}-{number}"
    return slug


class Clinic(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    settings = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=dj_timezone.now, editable=False)
    # The clinic's part of its public addresses (/book/<slug>/, docs/BOOKING.md). Made from the name when the clinic
    # is created and never changed by a rename, so links already sent keep working.
    slug = models.SlugField(max_length=60, unique=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.slug:
            self.slug = unique_clinic_slug(self.name)
        super().save(*args, **kwargs)

    @property
    def config(self) -> ClinicConfig:
        return ClinicConfig.from_json(self.settings)

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


# django-otp ships no type information, so the Django plugin cannot see the user's managers of its device models
# (accounts.RecoveryCodeDevice); nothing reads them through the user.
class User(AbstractUser):  # type: ignore[django-manager-missing]
    """A staff user. Patients have no accounts: they answer questionnaires by signed link."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Membership(models.Model):
    """A user's role in one clinic; every access check starts here."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="memberships")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=dj_timezone.now, editable=False)
    # The member's own NPI as a rendering provider (10 digits, CMS check digit: domain/provider_ids.py), printed on
    # superbills beside their name; set by the clinic's administrators (clinics.services.set_member_npi).
    npi = models.CharField(max_length=10, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "clinic"], name="membership_user_clinic_unique")]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.clinic}"

    def can(self, permission: Permission) -> bool:
        return self.is_active and self.user.is_active and role_has(self.role, permission)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


# What a token may do (docs/SECURITY.md, "API tokens"): read (GET and searches), write (every other change), export
# (Bulk FHIR $export and research exports). A token holds any set of them; the role still limits each call.
SCOPE_READ, SCOPE_WRITE, SCOPE_EXPORT = "read", "write", "export"
TOKEN_SCOPES = [
    (SCOPE_READ, "Read: look up patients and records"),
    (SCOPE_WRITE, "Write: create and change records"),
    (SCOPE_EXPORT, "Export: bulk FHIR and research exports"),
]
TOKEN_LIFETIMES_DAYS = (7, 30, 90, 180, 365)


class ApiToken(models.Model):
    """A bearer token acting as one membership, within its scopes, until it expires or is revoked. Only its SHA-256
    is stored; a revoked token keeps its row (revoked_at, by whom)."""

    PREFIX = "pt_"

    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12, help_text="First characters of the token, to tell tokens apart.")
    created_at = models.DateTimeField(default=dj_timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # Space-separated scopes, as OAuth writes them.
    scopes = models.CharField(max_length=40, default=SCOPE_READ)
    # Tokens made before scopes and expiry existed got every scope and 90 days from the upgrade (migration 0003).
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.hint}… ({self.membership})"

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())

    def is_expired(self, now: Any = None) -> bool:
        return self.expires_at <= (now or dj_timezone.now())

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.is_expired() else "active"

    @classmethod
    def generate(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)


class IdempotencyKey(models.Model):
    """The first answer to an API write sent with an `Idempotency-Key` header, kept 24 hours so a client's retry
    after a lost response gets that answer again instead of a second patient (clinics/idempotency.py).

    Not a clinical record: it holds a copy of a response, and expired rows are deleted."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method, path, query and body.")
    created_at = models.DateTimeField(default=dj_timezone.now)
    # Empty while the first request runs; a second request with the key meanwhile answers 409.
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(blank=True, default=b"")

    class Meta:
        constraints = [
            # The constraint, not a SELECT first, decides which of two concurrent requests runs.
            models.UniqueConstraint(fields=["clinic", "key"], name="idempotency_key_unique_per_clinic"),
        ]
        indexes = [models.Index(fields=["clinic", "created_at"])]

    def __str__(self) -> str:
        return f"{self.key} ({self.clinic_id})"
