"""Test helpers: give a user an authenticator and compute its codes, as a phone app would (pyotp, RFC 6238)."""

import time
from base64 import b32encode
from typing import Any

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice


def enrolled_totp(user: Any) -> TOTPDevice:
    """The user's confirmed authenticator, made if missing (a random key, as enrolment makes)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Test authenticator", confirmed=True)
    return device


def base32_key(device: TOTPDevice) -> str:
    return b32encode(device.bin_key).decode()


def totp_code(device: TOTPDevice) -> str:
    """A code the device accepts now: the current step's, or the next one's when the current was used already
    (django-otp refuses a step used before and accepts one step of drift). Waits only if both were used."""
    import pyotp

    device.refresh_from_db()
    totp = pyotp.TOTP(base32_key(device), digits=device.digits, interval=device.step)
    now_t = int(time.time() - device.t0) // device.step
    step = max(now_t, device.last_t + 1)
    if step > now_t + device.tolerance:
        time.sleep((step - device.tolerance) * device.step + device.t0 - time.time() + 0.05)
    return totp.at(device.t0 + step * device.step)


def mark_verified(client: Any, user: Any) -> None:
    """Mark a test client's logged-in session as past the second factor, as the log-in page does after a good code."""
    device = enrolled_totp(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
