"""SMART on FHIR apps of a clinic and the launch context their tokens carry (docs/SMART.md).

django-oauth-toolkit keeps the OAuth side (Application, Grant, AccessToken, RefreshToken, IDToken); these rows add
what SMART needs on top: which clinic an app belongs to, the scopes it may ask for, its keys (backend services), and
the context (membership, patient) each authorization code and access token carries.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, Grant


class SmartApp(models.Model):
    """An app registered by a clinic administrator: a user-facing SMART app or a backend service."""

    KIND_APP = "app"
    KIND_BACKEND = "backend"
    KINDS = ((KIND_APP, "SMART app (a person signs in)"), (KIND_BACKEND, "Backend service (no person)"))

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="smart_apps")
    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="smart")
    kind = models.CharField(max_length=10, choices=KINDS)
    allowed_scopes = models.TextField(help_text="Space-separated SMART scopes the app may ask for.")
    launch_url = models.URLField(blank=True, help_text="Where the chart's Launch button sends the app (EHR launch).")
    jwks_uri = models.URLField(blank=True, help_text="Backend services: where the app publishes its public keys.")
    jwks = models.JSONField(null=True, blank=True, help_text="Backend services: the app's public keys (JWKS).")
    runs_as = models.ForeignKey(
        "clinics.Membership",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Backend services: the membership whose role bounds what the service may do.",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    is_active = models.BooleanField(default=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["application__name"]

    def __str__(self) -> str:
        return f"{self.application.name} ({self.clinic})"

    @property
    def client_id(self) -> str:
        return self.application.client_id


class LaunchContext(models.Model):
    """An EHR launch: the chart's Launch button makes one; the app passes its id (`launch`) to the authorize page."""

    app = models.ForeignKey(SmartApp, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey("clinics.Membership", on_delete=models.CASCADE, related_name="+")
    patient_uuid = models.UUIDField()
    launch_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the launch id.")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)


class GrantContext(models.Model):
    """What an authorization code was granted for: the membership that approved it, and the patient, if any."""

    grant = models.OneToOneField(Grant, on_delete=models.CASCADE, related_name="smart")
    membership = models.ForeignKey("clinics.Membership", on_delete=models.CASCADE, related_name="+")
    patient_uuid = models.UUIDField(null=True, blank=True)


class TokenContext(models.Model):
    """What an access token acts as: one membership of the app's clinic, limited to one patient or not."""

    access_token = models.OneToOneField(AccessToken, on_delete=models.CASCADE, related_name="smart")
    app = models.ForeignKey(SmartApp, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey("clinics.Membership", on_delete=models.CASCADE, related_name="+")
    patient_uuid = models.UUIDField(null=True, blank=True)


class UsedAssertion(models.Model):
    """The `jti` of each client assertion (private_key_jwt) seen, until it expires: a replay is refused."""

    app = models.ForeignKey(SmartApp, on_delete=models.CASCADE, related_name="+")
    jti = models.CharField(max_length=255)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["app", "jti"], name="smart_assertion_jti_unique")]


class ExportClient(models.Model):
    """The app that started a Bulk export: only the same app (with a token of the same membership) may poll it and
    download its files; an export started with a clinic API token has no row here."""

    job = models.OneToOneField("fhir.ExportJob", on_delete=models.CASCADE, related_name="+")
    client_id = models.CharField(max_length=100)
