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


class SoftAuthenticator:
    """A software passkey for tests: an ES256 key made with `cryptography`, its answers built with python-fido2's own
    data classes (authenticator data, attestation object "none", client data), signed as an authenticator signs. Each
    assertion counts up its signature counter, as Chromium's virtual authenticator does."""

    def __init__(self, aaguid: bytes = bytes(16)) -> None:
        import os

        from cryptography.hazmat.primitives.asymmetric import ec

        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.aaguid = aaguid
        self.counter = 0

    def _auth_data(self, rp_id: str, credential_data: bytes = b"") -> Any:
        import hashlib

        from fido2.webauthn import AuthenticatorData

        flags = AuthenticatorData.FLAG.UP | AuthenticatorData.FLAG.UV
        if credential_data:
            flags |= AuthenticatorData.FLAG.AT
        return AuthenticatorData.create(hashlib.sha256(rp_id.encode()).digest(), flags, self.counter, credential_data)

    def register(self, options: dict[str, Any], origin: str) -> dict[str, Any]:
        """The JSON passkeys.js would post after navigator.credentials.create(options)."""
        from fido2.cose import ES256
        from fido2.utils import websafe_encode
        from fido2.webauthn import AttestationObject, AttestedCredentialData, CollectedClientData

        public_key = options["publicKey"]
        data = AttestedCredentialData.create(
            self.aaguid, self.credential_id, ES256.from_cryptography_key(self.key.public_key())
        )
        auth_data = self._auth_data(public_key["rp"]["id"], data)
        client_data = CollectedClientData.create("webauthn.create", public_key["challenge"], origin)
        attestation = AttestationObject.create("none", auth_data, {})
        return {
            "id": websafe_encode(self.credential_id),
            "rawId": websafe_encode(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": websafe_encode(client_data),
                "attestationObject": websafe_encode(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
        }

    def assert_(self, options: dict[str, Any], origin: str, *, counter: int | None = None) -> dict[str, Any]:
        """The JSON passkeys.js would post after navigator.credentials.get(options)."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from fido2.utils import websafe_encode
        from fido2.webauthn import CollectedClientData

        self.counter = self.counter + 1 if counter is None else counter
        public_key = options["publicKey"]
        auth_data = self._auth_data(public_key["rpId"])
        client_data = CollectedClientData.create("webauthn.get", public_key["challenge"], origin)
        signature = self.key.sign(bytes(auth_data) + client_data.hash, ec.ECDSA(hashes.SHA256()))
        return {
            "id": websafe_encode(self.credential_id),
            "rawId": websafe_encode(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": websafe_encode(client_data),
                "authenticatorData": websafe_encode(auth_data),
                "signature": websafe_encode(signature),
                "userHandle": None,
            },
            "clientExtensionResults": {},
        }
