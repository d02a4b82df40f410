"""The machinery every patient link shares: signed-by-randomness tokens stored only as a hash, expiry, single purpose,
and rate limits kept in the shared cache.

A patient link (a questionnaire, a booking's manage link, an intake form, a waitlist offer) is a row of its own
model built on `PatientLinkBase`: one purpose per model, so a manage link can never open an intake form. The token is
`secrets.token_urlsafe(TOKEN_BYTES)` (256 bits), shown once (in the URL sent) and stored as its SHA-256; a lookup is
one indexed query on the hash, so its time does not depend on how much of a guessed token is right.

`RateLimit` counts events per key (a client address, an email address, a phone number) in Django's cache, which is
the database cache or Redis (docs/OPERATIONS.md, "Many app servers"), so every web process and app server sees the
same counts.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Self

from django.core.cache import cache
from django.db import models
from django.utils import timezone

# 32 random bytes: 43 URL-safe characters (the questionnaire links' size, docs/SECURITY.md).
TOKEN_BYTES = 32
# The audit channel of a patient acting through their own link (no user, no role), the one name of it for every app
# (questionnaire, intake, manage, follow-up, waitlist and course links): the services that let it through check the
# link first (outcomes and intake services, booking/patient_links.py, booking/course_links.py, booking/waitlist.py).
CHANNEL_PATIENT_LINK = "patient_link"
# Longest token looked up: anything longer is refused before touching the database.
TOKEN_MAX_LENGTH = 200


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """The stored form of a token (SHA-256 hex): the token itself is never stored."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class LinkState:
    OPEN = "open"
    EXPIRED = "expired"
    USED = "used"
    REVOKED = "revoked"


class PatientLinkBase(models.Model):
    """Fields and rules of a single-purpose, expiring patient link. Subclasses add what the link is for."""

    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)

    # A link used once is closed (a waitlist offer) unless the subclass says it may be opened again until it
    # expires (a manage link: move, then cancel).
    single_use: ClassVar[bool] = True

    class Meta:
        abstract = True

    def state(self, now: datetime | None = None) -> str:
        now = now or timezone.now()
        if self.revoked_at is not None:
            return LinkState.REVOKED
        if self.single_use and self.used_at is not None:
            return LinkState.USED
        if now >= self.expires_at:
            return LinkState.EXPIRED
        return LinkState.OPEN

    @classmethod
    def by_token(cls, token: str, queryset: "models.QuerySet[Any] | None" = None) -> Self | None:
        """The link a token opens (in any state), or None; one indexed lookup on the hash."""
        if not token or len(token) > TOKEN_MAX_LENGTH:
            return None
        rows = queryset if queryset is not None else cls._default_manager.all()
        found: Self | None = rows.filter(token_hash=token_hash(token)).first()
        return found


@dataclass(frozen=True)
class RateLimit:
    """At most `allowed` events per key in a window of `window_seconds` (a fixed window from the first event).

    `hit(key)` counts one event and says whether it is still allowed; `retry_after(key)` tells, without counting,
    how many seconds are left when the key is over its limit (None when it is not)."""

    name: str
    allowed: int
    window_seconds: int

    def cache_key(self, key: str) -> str:
        # Keys may hold an email address or a phone number: hashed, so the cache never holds contact details.
        return f"rl:{self.name}:{hashlib.sha256(key.strip().lower().encode()).hexdigest()[:32]}"

    def retry_after(self, key: str) -> int | None:
        cache_key = self.cache_key(key)
        if (cache.get(cache_key) or 0) < self.allowed:
            return None
        until = cache.get(f"{cache_key}:until") or 0
        return max(int(until - timezone.now().timestamp()) + 1, 1)

    def count(self, key: str) -> None:
        cache_key = self.cache_key(key)
        if cache.add(cache_key, 1, self.window_seconds):
            cache.set(f"{cache_key}:until", timezone.now().timestamp() + self.window_seconds, self.window_seconds)
            return
        try:
            cache.incr(cache_key)
        except ValueError:  # expired between add and incr
            cache.set(cache_key, 1, self.window_seconds)

    def hit(self, key: str) -> bool:
        """Count one event for the key; False when it is over the limit (the event must then be refused)."""
        if self.retry_after(key) is not None:
            return False
        self.count(key)
        return True
