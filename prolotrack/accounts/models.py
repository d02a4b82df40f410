"""A staff member's second factors beyond TOTP (django-otp's TOTPDevice), and their signed-in sessions.

Recovery codes are a django-otp device of their own rather than django-otp's static plugin: the static plugin keeps
its codes in plain text, and these are stored as SHA-256 only (docs/SECURITY.md, "Second factor and sessions").
"""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_otp.models import Device, ThrottlingMixin, TimestampMixin

# Lower-case letters and digits without the look-alikes (0/o, 1/l/i): read off paper without mistakes.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_GROUPS = 3
RECOVERY_GROUP_LENGTH = 4  # 12 characters of a 31-letter alphabet: about 59 bits each
RECOVERY_CODE_COUNT = 10


def normalise_recovery_code(raw: str) -> str:
    """The code as stored: lower case, without the dashes and spaces people type or leave out."""
    return "".join(ch for ch in raw.lower() if ch.isalnum())


def hash_recovery_code(raw: str) -> str:
    return hashlib.sha256(normalise_recovery_code(raw).encode()).hexdigest()


def new_recovery_code() -> str:
    groups = (
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUP_LENGTH)) for _ in range(RECOVERY_GROUPS)
    )
    return "-".join(groups)


class RecoveryCodeDevice(TimestampMixin, ThrottlingMixin, Device):
    """A set of single-use recovery codes; only their SHA-256 is stored."""

    class Meta(Device.Meta):
        verbose_name = "recovery code set"

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_RECOVERY_THROTTLE_FACTOR", 1)

    def unused(self) -> models.QuerySet["RecoveryCode"]:
        return self.codes.filter(used_at__isnull=True)

    def verify_token(self, token: str) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        code = self.unused().filter(code_hash=hash_recovery_code(str(token))).first()
        if code is None:
            self.throttle_increment(commit=True)
            return False
        code.used_at = timezone.now()
        code.save(update_fields=["used_at"])
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["device", "code_hash"])]

    def __str__(self) -> str:
        return f"recovery code {'used' if self.used_at else 'unused'} ({self.device_id})"


class StaffSession(models.Model):
    """One signed-in browser session of a user, so its owner can see it and end it.

    The session itself lives in Django's session store; this row names it (by key), says where it came from and when
    it was last seen, and keeps when and why it ended. Not a clinical record: rows of ended sessions may be pruned."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_sessions")
    session_key = models.CharField(max_length=64, unique=True)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=40, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "ended_at"])]

    def __str__(self) -> str:
        return f"{self.user} from {self.client_address or 'unknown'} ({'ended' if self.ended_at else 'active'})"


class PasskeyDevice(TimestampMixin, ThrottlingMixin, Device):
    """A passkey (WebAuthn public-key credential) registered by its owner as a second factor.

    Only public material is stored: the credential id and fido2's attested credential data (the authenticator's AAGUID,
    the credential id and its COSE public key), the last signature counter and the transports the browser reported.
    Verified by `accounts.passkeys` (python-fido2), never by `verify_token`. Removing one deactivates it (`confirmed`
    off, `deactivated_at`): django-otp then ignores it, and a session verified by it falls back to unverified."""

    credential_id = models.CharField(max_length=1400, unique=True)  # base64url, as the browser sends it
    credential_data = models.BinaryField()  # fido2 AttestedCredentialData: AAGUID, credential id, COSE public key
    sign_count = models.PositiveBigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    deactivated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    deactivation_reason = models.CharField(max_length=300, blank=True)

    class Meta(Device.Meta):
        verbose_name = "passkey"

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_PASSKEY_THROTTLE_FACTOR", 1)

    def verify_token(self, token: str) -> bool:
        """A passkey answers a challenge, not a typed code: a code offered to it is always wrong."""
        return False
