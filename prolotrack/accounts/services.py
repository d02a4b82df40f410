"""Second factor (TOTP, recovery codes, passkeys), lockout, administrator reset, password change and sessions: each
write in one transaction with its audit row.

TOTP is django-otp's TOTPDevice (RFC 6238, SHA-1, 6 digits, 30 s, one step of drift either way, a code used once);
recovery codes are `RecoveryCodeDevice` (SHA-256 only). A failed code counts on the device (django-otp's exponential
throttle: 1, 2, 4, 8 s ...) and, at AXES_FAILURE_LIMIT consecutive failures on the account, locks the second factor
for AXES_COOLOFF_TIME as the password lockout does (docs/SECURITY.md, "Second factor and sessions"). Passkeys are
`PasskeyDevice`, checked by `accounts.passkeys` (python-fido2); their failures count the same way ("Passkeys").
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

from prolotrack.accounts import passkeys
from prolotrack.accounts.models import (
    RECOVERY_CODE_COUNT,
    PasskeyDevice,
    RecoveryCode,
    RecoveryCodeDevice,
    StaffSession,
    hash_recovery_code,
    new_recovery_code,
)
from prolotrack.audit.services import AccessDenied, Actor, ServiceError, record_event
from prolotrack.clinics.models import Membership, User
from prolotrack.clinics.roles import Permission, require_permission, role_has

TOTP_METHOD = "totp"
RECOVERY_METHOD = "recovery_code"
PASSKEY_METHOD = "passkey"
PASSKEY_NAME_MAX = 64  # django-otp's Device.name


class SecondFactorLocked(ServiceError):
    """Too many wrong codes: the second factor is locked for a while."""

    code = "locked"

    def __init__(self, until: datetime) -> None:
        self.until = until
        super().__init__(
            "Too many wrong codes. The account is locked for a while; wait and log in again later, or ask a clinic "
            "administrator to reset your second factor."
        )


# --- who needs a second factor -------------------------------------------------------------------------------------


def second_factor_required(user: Any) -> bool:
    """Whether this user must log in with a second factor: clinic administrators always; every staff role when one
    of the user's clinics requires it (`second_factor_all_staff`, on by default)."""
    if not getattr(user, "is_authenticated", False):
        return False
    for membership in Membership.objects.filter(user=user, is_active=True).select_related("clinic"):
        if (
            role_has(membership.role, Permission.SECOND_FACTOR_ALWAYS)
            or membership.clinic.config.second_factor_all_staff
        ):
            return True
    return False


def totp_device(user: Any, *, confirmed: bool | None = True) -> TOTPDevice | None:
    devices = TOTPDevice.objects.filter(user=user)
    if confirmed is not None:
        devices = devices.filter(confirmed=confirmed)
    return devices.order_by("-id").first()


def recovery_device(user: Any) -> RecoveryCodeDevice | None:
    return cast(
        "RecoveryCodeDevice | None",
        RecoveryCodeDevice.objects.filter(user=user, confirmed=True).order_by("-id").first(),
    )


def is_verified(user: Any) -> bool:
    """Whether this request's user passed the second factor in this session (django-otp's OTPMiddleware says)."""
    check = getattr(user, "is_verified", None)
    return bool(check()) if callable(check) else False


def has_second_factor(user: Any) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))


@dataclass(frozen=True)
class FactorStatus:
    """What a page may show about someone's second factor: never a secret."""

    totp_since: datetime | None
    totp_last_used: datetime | None
    recovery_left: int
    required: bool
    passkeys: int = 0

    @property
    def enrolled(self) -> bool:
        return self.totp_since is not None


def factor_status(user: Any) -> FactorStatus:
    device = totp_device(user)
    recovery = recovery_device(user)
    return FactorStatus(
        totp_since=device.created_at if device else None,
        totp_last_used=device.last_used_at if device else None,
        recovery_left=recovery.unused().count() if recovery else 0,
        required=second_factor_required(user),
        passkeys=PasskeyDevice.objects.filter(user=user, confirmed=True).count(),
    )


def has_passkeys(user: Any) -> bool:
    return bool(PasskeyDevice.objects.filter(user=user, confirmed=True).exists())


def active_passkeys(user: Any) -> list[PasskeyDevice]:
    return list(PasskeyDevice.objects.filter(user=user, confirmed=True).order_by("created_at", "id"))


# --- enrolment -----------------------------------------------------------------------------------------------------


def pending_totp_device(user: Any) -> TOTPDevice:
    """The unconfirmed authenticator being set up, made on first need (its key is shown to its owner only)."""
    device = totp_device(user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def confirm_totp(actor: Actor, user: Any, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm a new authenticator with its first code; returns fresh recovery codes (shown once), or None when the
    code is wrong. A user with a confirmed authenticator keeps it: a second one is refused."""
    if device.user_id != user.pk or device.confirmed:
        raise AccessDenied("This authenticator is not yours to set up.")
    with transaction.atomic():
        if totp_device(user) is not None:
            raise ServiceError("You already have an authenticator app set up.")
        locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        if not locked.verify_token(_digits(code)):
            return None
        locked.confirmed = True
        locked.save(update_fields=["confirmed"])
        device.confirmed = True
        codes = _replace_recovery_codes(user)
        record_event(actor, "auth.second_factor.enrolled", detail={"method": TOTP_METHOD})
    return codes


def regenerate_recovery_codes(actor: Actor, user: Any) -> list[str]:
    """New recovery codes replace every earlier one (used or not); returned once, stored hashed."""
    with transaction.atomic():
        codes = _replace_recovery_codes(user)
        record_event(actor, "auth.second_factor.recovery_codes_replaced", detail={"count": len(codes)})
    return codes


def _replace_recovery_codes(user: Any) -> list[str]:
    device = recovery_device(user)
    if device is None:
        device = RecoveryCodeDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    device.codes.all().delete()
    codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create(RecoveryCode(device=device, code_hash=hash_recovery_code(c)) for c in codes)
    return codes


def _digits(code: str) -> str:
    return "".join(ch for ch in str(code) if not ch.isspace() and ch != "-")


# --- verification and lockout ----------------------------------------------------------------------------------------


def _failure_limit() -> int:
    return int(settings.AXES_FAILURE_LIMIT)


def _cooloff() -> timedelta:
    cooloff = settings.AXES_COOLOFF_TIME
    return cooloff if isinstance(cooloff, timedelta) else timedelta(hours=float(cooloff))


def locked_until(user: Any) -> datetime | None:
    """When the account's second factor unlocks, if it is locked now: AXES_FAILURE_LIMIT consecutive wrong codes
    (over all its factors) lock it for AXES_COOLOFF_TIME from the last one, as wrong passwords do."""
    failures = 0
    last: datetime | None = None
    for device in devices_for_user(user, confirmed=None):
        count = getattr(device, "throttling_failure_count", 0)
        stamp = getattr(device, "throttling_failure_timestamp", None)
        failures += count
        if stamp is not None and (last is None or stamp > last):
            last = stamp
    if failures < _failure_limit() or last is None:
        return None
    until = last + _cooloff()
    return until if until > timezone.now() else None


@dataclass(frozen=True)
class Verification:
    device: Any | None  # the device that accepted the code
    wait_seconds: int = 0  # django-otp's throttle: try again after this many seconds
    method: str = ""


def verify_second_factor(actor: Actor, user: Any, code: str) -> Verification:
    """Check a code: six digits go to the authenticator, anything else to the recovery codes. Every attempt is
    audited; a lockout raises SecondFactorLocked (audited once, when it starts)."""
    until = locked_until(user)
    if until is not None:
        raise SecondFactorLocked(until)
    digits = _digits(code)
    method = TOTP_METHOD if digits.isdigit() and len(digits) == 6 else RECOVERY_METHOD
    with transaction.atomic():
        if method == TOTP_METHOD:
            device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("-id").first()
            attempt = digits
        else:
            device = (
                RecoveryCodeDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("-id").first()
            )
            attempt = code
        if device is None:
            # A recovery code typed by someone who has none, or six digits without an authenticator: a failure all
            # the same, counted on whichever factor exists so guessing stays bounded.
            device = next(iter(devices_for_user(user, confirmed=True, for_verify=True)), None)
            if device is None:
                return Verification(None, method=method)
            attempt = "-"  # no factor of that kind: counted as a failure on the one there is
        allowed, info = device.verify_is_allowed()
        if not allowed:
            wait = (info or {}).get("locked_until")
            seconds = max(1, int((wait - timezone.now()).total_seconds()) + 1) if wait else 1
            return Verification(None, wait_seconds=seconds, method=method)
        accepted = device.verify_token(attempt)
        if accepted:
            record_event(actor, "auth.second_factor.verified", detail={"method": method})
            if method == RECOVERY_METHOD:
                left = device.unused().count()
                record_event(actor, "auth.second_factor.recovery_code_used", detail={"left": left})
            return Verification(device, method=method)
        record_event(actor, "auth.second_factor.failed", detail={"method": method})
    until = locked_until(user)
    if until is not None:
        with transaction.atomic():
            record_event(actor, "auth.second_factor.locked_out", detail={"until": until.isoformat()})
        raise SecondFactorLocked(until)
    return Verification(None, method=method)


# --- administrator reset ---------------------------------------------------------------------------------------------


def colleague_membership(actor: Actor, user_uuid: Any) -> Membership:
    """A member of the actor's clinic, found by the user's public id; another clinic's staff are not found."""
    require_permission(actor, Permission.CLINIC_MANAGE)
    found = Membership.objects.select_related("user").filter(clinic=actor.clinic, user__uuid=user_uuid).first()
    if found is None:
        raise Membership.DoesNotExist
    return found


def reset_second_factor(actor: Actor, target: User, reason: str) -> int:
    """Remove a colleague's authenticator and recovery codes: at their next request they set up a new one. Returns the
    number of factors removed. Audited with the reason; one's own factors are not reset this way."""
    require_permission(actor, Permission.CLINIC_MANAGE)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("Say why the second factor is reset (for example: lost phone).")
    if actor.user is not None and actor.user.pk == target.pk:
        raise AccessDenied("You cannot reset your own second factor here: ask another clinic administrator.")
    if not Membership.objects.filter(user=target, clinic=actor.clinic).exists():
        raise AccessDenied("This person is not on this clinic's staff.")
    with transaction.atomic():
        removed = 0
        for model in (TOTPDevice, RecoveryCodeDevice):
            count, _ = model.objects.filter(user=target).delete()
            removed += 1 if count else 0
        # Passkeys are deactivated, not deleted: the row says which authenticator it was and who ended it.
        removed += _deactivate_passkeys(PasskeyDevice.objects.filter(user=target, confirmed=True), actor, reason)
        record_event(
            actor,
            "auth.second_factor.reset",
            detail={"user": str(target.uuid), "username": target.username, "reason": reason, "removed": removed},
        )
    return removed


# --- passkeys -----------------------------------------------------------------------------------------------------------


def _deactivate_passkeys(rows: Any, actor: Actor, reason: str) -> int:
    return int(
        rows.update(
            confirmed=False,
            deactivated_at=timezone.now(),
            deactivated_by=actor.user,
            deactivation_reason=reason[:300],
            throttling_failure_count=0,
            throttling_failure_timestamp=None,
        )
    )


def register_passkey(
    actor: Actor, user: Any, name: str, state: dict[str, Any] | None, rp: passkeys.RelyingParty, response: Any
) -> PasskeyDevice:
    """Add a passkey from the browser's answer to this session's registration challenge. Refused (nothing written)
    when the answer does not verify, the name is missing or taken, or the passkey is already registered."""
    name = " ".join((name or "").split())
    if not name or len(name) > PASSKEY_NAME_MAX:
        raise ServiceError(f"Give the passkey a name of 1 to {PASSKEY_NAME_MAX} characters (for example: work laptop).")
    try:
        new = passkeys.verify_registration(state, rp, response)
    except passkeys.PasskeyRefused as error:
        raise ServiceError(
            "The passkey could not be added: the browser's answer did not match this page's request "
            "(it may have expired). Try again."
        ) from error
    with transaction.atomic():
        mine = PasskeyDevice.objects.select_for_update().filter(user=user, confirmed=True)
        if any(p.name.casefold() == name.casefold() for p in mine):
            raise ServiceError(f"You already have a passkey named {name!r}: choose another name.")
        if PasskeyDevice.objects.filter(credential_id=new.credential_id).exists():
            raise ServiceError("This passkey is already registered.")
        device = PasskeyDevice.objects.create(
            user=user,
            name=name,
            confirmed=True,
            credential_id=new.credential_id,
            credential_data=new.credential_data,
            sign_count=new.sign_count,
            transports=new.transports,
        )
        record_event(
            actor,
            "auth.second_factor.passkey_added",
            detail={"passkey": device.pk, "name": name, "aaguid": new.aaguid, "user_verified": new.user_verified},
        )
    return cast(PasskeyDevice, device)


def remove_passkey(actor: Actor, user: Any, passkey_id: int) -> PasskeyDevice:
    """Deactivate one of the user's own passkeys (the row stays, marked); it no longer signs in."""
    with transaction.atomic():
        device = PasskeyDevice.objects.select_for_update().filter(pk=passkey_id, user=user, confirmed=True).first()
        if device is None:
            raise ServiceError("That passkey is not one of yours, or it was already removed.")
        _deactivate_passkeys(PasskeyDevice.objects.filter(pk=device.pk), actor, "removed by its owner")
        record_event(actor, "auth.second_factor.passkey_removed", detail={"passkey": device.pk, "name": device.name})
    device.refresh_from_db()
    return cast(PasskeyDevice, device)


def verify_passkey(
    actor: Actor, user: Any, state: dict[str, Any] | None, rp: passkeys.RelyingParty, response: Any
) -> Verification:
    """Check a passkey assertion at log-in, as `verify_second_factor` checks a code: the same lockout, a failure counted
    on the passkey it names (or the user's first), every attempt audited. A signature counter that goes back is
    refused and audited as a possible clone."""
    until = locked_until(user)
    if until is not None:
        raise SecondFactorLocked(until)
    with transaction.atomic():
        mine = list(PasskeyDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("id"))
        named = passkeys.credential_id_of(response)
        device = next((p for p in mine if p.credential_id == named), mine[0] if mine else None)
        if device is None:
            return Verification(None, method=PASSKEY_METHOD)
        allowed, info = device.verify_is_allowed()
        if not allowed:
            wait = (info or {}).get("locked_until")
            seconds = max(1, int((wait - timezone.now()).total_seconds()) + 1) if wait else 1
            return Verification(None, wait_seconds=seconds, method=PASSKEY_METHOD)
        problem = ""
        try:
            found = passkeys.verify_assertion(state, rp, [bytes(p.credential_data) for p in mine], response)
        except passkeys.PasskeyRefused as error:
            problem = str(error)[:200]
        else:
            if passkeys.counter_went_back(device.sign_count, found.sign_count):
                problem = "signature counter went back"
                record_event(
                    actor,
                    "auth.second_factor.passkey_clone_warning",
                    detail={"passkey": device.pk, "stored": device.sign_count, "received": found.sign_count},
                )
        if not problem:
            device.sign_count = found.sign_count
            device.throttle_reset(commit=False)
            device.set_last_used_timestamp(commit=False)
            device.save()
            detail = {"method": PASSKEY_METHOD, "passkey": device.pk, "user_verified": found.user_verified}
            record_event(actor, "auth.second_factor.verified", detail=detail)
            return Verification(device, method=PASSKEY_METHOD)
        device.throttle_increment(commit=True)
        record_event(actor, "auth.second_factor.failed", detail={"method": PASSKEY_METHOD, "reason": problem})
    until = locked_until(user)
    if until is not None:
        with transaction.atomic():
            record_event(actor, "auth.second_factor.locked_out", detail={"until": until.isoformat()})
        raise SecondFactorLocked(until)
    return Verification(None, method=PASSKEY_METHOD)


# --- password --------------------------------------------------------------------------------------------------------


def record_password_change(actor: Actor, keep_session_key: str | None) -> int:
    """Audit a changed password and end the user's other sessions (their session hash no longer matches)."""
    with transaction.atomic():
        ended = _end_sessions(actor.user, exclude=keep_session_key, reason="password_changed")
        record_event(actor, "auth.password.changed", detail={"other_sessions_ended": ended})
    return ended


# --- sessions ----------------------------------------------------------------------------------------------------------

# Writing on every request would make each page view a write; a minute's precision is enough to recognise a session.
LAST_SEEN_PRECISION = timedelta(minutes=1)
SESSION_SEEN_KEY = "prolotrack_session_seen"


def _session_store() -> type[SessionBase]:
    return cast("type[SessionBase]", import_string(settings.SESSION_ENGINE + ".SessionStore"))


def start_session(user: Any, session_key: str, client_address: str | None, user_agent: str) -> None:
    StaffSession.objects.update_or_create(
        session_key=session_key,
        defaults={
            "user": user,
            "client_address": client_address,
            "user_agent": user_agent[:300],
            "started_at": timezone.now(),
            "last_seen_at": timezone.now(),
            "ended_at": None,
            "end_reason": "",
        },
    )


def touch_session(user: Any, session: Any) -> None:
    """Record that a session was seen now, at most once a minute (the time is kept in the session itself, so the
    table is written only when a minute has passed)."""
    key = session.session_key
    seen = session.get(SESSION_SEEN_KEY)
    now = timezone.now()
    if not key or (seen is not None and now.timestamp() - float(seen) < LAST_SEEN_PRECISION.total_seconds()):
        return
    session[SESSION_SEEN_KEY] = now.timestamp()
    StaffSession.objects.filter(user=user, session_key=key, ended_at__isnull=True).update(last_seen_at=now)


def mark_session_ended(session_key: str | None, reason: str) -> None:
    if session_key:
        StaffSession.objects.filter(session_key=session_key, ended_at__isnull=True).update(
            ended_at=timezone.now(), end_reason=reason
        )


def active_sessions(user: Any) -> list[StaffSession]:
    """The user's sessions that still exist in the session store, most recently seen first."""
    rows = list(StaffSession.objects.filter(user=user, ended_at__isnull=True).order_by("-last_seen_at"))
    store = _session_store()
    alive = []
    for row in rows:
        if store().exists(row.session_key):
            alive.append(row)
        else:
            mark_session_ended(row.session_key, "expired")
    return alive


def end_session(actor: Actor, session_id: int, current_key: str | None) -> StaffSession:
    """End one of the actor's own sessions (not the current one: that is Log out)."""
    with transaction.atomic():
        row = StaffSession.objects.select_for_update().filter(pk=session_id, user=actor.user).first()
        if row is None or row.ended_at is not None:
            raise ServiceError("That session has already ended.")
        if row.session_key == current_key:
            raise ServiceError("This is the session you are using: use Log out to end it.")
        _session_store()(session_key=row.session_key).delete()
        row.ended_at = timezone.now()
        row.end_reason = "ended_by_user"
        row.save(update_fields=["ended_at", "end_reason"])
        record_event(actor, "auth.session.ended", detail={"session": row.pk, "address": row.client_address or ""})
    return row


def end_other_sessions(actor: Actor, current_key: str | None) -> int:
    with transaction.atomic():
        ended = _end_sessions(actor.user, exclude=current_key, reason="ended_by_user")
        record_event(actor, "auth.session.ended_others", detail={"count": ended})
    return ended


def _end_sessions(user: Any, *, exclude: str | None, reason: str) -> int:
    store = _session_store()
    rows = StaffSession.objects.select_for_update().filter(user=user, ended_at__isnull=True)
    if exclude:
        rows = rows.exclude(session_key=exclude)
    ended = 0
    for row in rows:
        store(session_key=row.session_key).delete()
        row.ended_at = timezone.now()
        row.end_reason = reason
        row.save(update_fields=["ended_at", "end_reason"])
        ended += 1
    return ended


def describe_user_agent(agent: str) -> str:
    """A browser and system a person recognises ("Firefox on Windows"), from the User-Agent header."""
    agent = agent or ""
    browser = next(
        (
            name
            for marker, name in (
                ("Edg/", "Edge"),
                ("OPR/", "Opera"),
                ("Firefox/", "Firefox"),
                ("Chrome/", "Chrome"),
                ("Safari/", "Safari"),
                ("curl/", "curl"),
            )
            if marker in agent
        ),
        "Unknown browser",
    )
    system = next(
        (
            name
            for marker, name in (
                ("iPhone", "iPhone"),
                ("iPad", "iPad"),
                ("Android", "Android"),
                ("Windows", "Windows"),
                ("Mac OS X", "macOS"),
                ("CrOS", "ChromeOS"),
                ("Linux", "Linux"),
            )
            if marker in agent
        ),
        "",
    )
    return f"{browser} on {system}" if system else browser
