"""Passkeys (WebAuthn Level 2) through python-fido2's `Fido2Server`: the relying party, the options a browser is given,
the single-use challenges kept in the session, and the checks of what the browser sends back. Nothing cryptographic is
written here: fido2 checks the client data (type, challenge, origin), the RP ID hash, the user-present flag and the
signature; this module adds the challenge's lifetime and single use, and the signature-counter check.

The relying party is the site address: the host of PROLOTRACK_SITE_URL is the RP ID and its origin the one origin
accepted, when the request comes to that host. A request reaching the app under another host name that ALLOWED_HOSTS
lets through uses its own host and origin instead (a browser refuses an RP ID that is not its page's host). A passkey
works only under the RP ID it was registered with; an IP address cannot be an RP ID (docs/SECURITY.md, "Passkeys").
"""

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest
from fido2.server import Fido2Server
from fido2.utils import websafe_encode
from fido2.webauthn import (
    AttestationConveyancePreference,
    AttestedCredentialData,
    AuthenticationResponse,
    AuthenticatorData,
    PublicKeyCredentialDescriptor,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialType,
    PublicKeyCredentialUserEntity,
    RegistrationResponse,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

RP_NAME = "ProloTrack"
# How long a challenge is good for: the WebAuthn timeout given to the browser, and the server-side expiry. WebAuthn
# recommends 5 to 10 minutes for a ceremony that asks for user verification.
CHALLENGE_SECONDS = 300
SESSION_KEY = "prolotrack_passkey_challenge"
REGISTER = "register"
SIGN_IN = "sign_in"
# A second factor after the password: presence is enough (AAL2), verification (PIN, fingerprint) is asked for when the
# authenticator can do it.
USER_VERIFICATION = UserVerificationRequirement.PREFERRED


class PasskeyRefused(Exception):
    """What the browser sent is not a valid answer to this site's challenge: nothing is stored or accepted."""


@dataclass(frozen=True)
class RelyingParty:
    rp_id: str
    origin: str


def relying_party(request: HttpRequest) -> RelyingParty:
    """The RP ID and the one accepted origin for this request (see the module's docstring)."""
    site = urlsplit(settings.PROLOTRACK_SITE_URL)
    host = request.get_host()  # checked against ALLOWED_HOSTS
    if site.netloc == host and site.hostname:
        return RelyingParty(rp_id=site.hostname, origin=f"{site.scheme}://{site.netloc}")
    hostname = urlsplit(f"//{host}").hostname or host
    return RelyingParty(rp_id=hostname, origin=f"{request.scheme}://{host}")


def _server(rp: RelyingParty) -> Fido2Server:
    return Fido2Server(
        PublicKeyCredentialRpEntity(name=RP_NAME, id=rp.rp_id),
        attestation=AttestationConveyancePreference.NONE,
        verify_origin=lambda origin: origin == rp.origin,
    )


def _as_json(options: Any) -> dict[str, Any]:
    """The options as JSON (fido2 writes binary fields base64url), with the browser's timeout set to the challenge's
    lifetime."""
    out = dict(options)
    out["publicKey"]["timeout"] = CHALLENGE_SECONDS * 1000
    return out


def _descriptors(credentials: list[bytes]) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(
            type=PublicKeyCredentialType.PUBLIC_KEY, id=AttestedCredentialData(c).credential_id
        )
        for c in credentials
    ]


# --- challenges: one at a time per session, single use, expiring -----------------------------------------------------


def _keep(session: Any, purpose: str, rp: RelyingParty, state: dict[str, Any]) -> None:
    session[SESSION_KEY] = {
        "purpose": purpose,
        "state": dict(state),
        "rp_id": rp.rp_id,
        "origin": rp.origin,
        "expires": time.time() + CHALLENGE_SECONDS,
    }


def take_challenge(session: Any, purpose: str, rp: RelyingParty) -> dict[str, Any] | None:
    """The challenge this session was given for `purpose`, removed as it is read (a second answer to it finds none);
    None when there is none, it expired, it was for the other purpose or for another relying party."""
    kept = session.pop(SESSION_KEY, None)
    if not isinstance(kept, dict) or kept.get("purpose") != purpose:
        return None
    if kept.get("rp_id") != rp.rp_id or kept.get("origin") != rp.origin or float(kept.get("expires", 0)) < time.time():
        return None
    state = kept.get("state")
    return state if isinstance(state, dict) else None


# --- registration --------------------------------------------------------------------------------------------------


def registration_options(
    session: Any, rp: RelyingParty, *, user_handle: bytes, name: str, display_name: str, existing: list[bytes]
) -> dict[str, Any]:
    """The `publicKey` options for navigator.credentials.create (binary fields base64url), remembering the challenge.
    `existing` (the user's active passkeys) is excluded, so one authenticator is not registered twice."""
    options, state = _server(rp).register_begin(
        PublicKeyCredentialUserEntity(name=name, id=user_handle, display_name=display_name),
        _descriptors(existing),
        resident_key_requirement=ResidentKeyRequirement.PREFERRED,
        user_verification=USER_VERIFICATION,
    )
    _keep(session, REGISTER, rp, state)
    return _as_json(options)


@dataclass(frozen=True)
class NewPasskey:
    credential_id: str  # base64url
    credential_data: bytes  # AttestedCredentialData
    sign_count: int
    aaguid: str
    user_verified: bool
    transports: list[str]


def verify_registration(state: dict[str, Any] | None, rp: RelyingParty, response: Any) -> NewPasskey:
    """Check the browser's answer to navigator.credentials.create; raises PasskeyRefused."""
    if state is None:
        raise PasskeyRefused("no challenge")
    try:
        parsed = RegistrationResponse.from_dict(response)
        auth_data = _server(rp).register_complete(state, parsed)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise PasskeyRefused(str(error) or type(error).__name__) from error
    data = auth_data.credential_data
    if data is None:
        raise PasskeyRefused("no credential data")
    return NewPasskey(
        credential_id=websafe_encode(data.credential_id),
        credential_data=bytes(data),
        sign_count=auth_data.counter,
        aaguid=str(data.aaguid),
        user_verified=auth_data.is_user_verified(),
        transports=_transports(response),
    )


def _transports(response: Any) -> list[str]:
    """The transports the browser reported (getTransports()): a hint kept with the passkey, never trusted."""
    found = (response.get("response") or {}).get("transports") if isinstance(response, dict) else None
    if not isinstance(found, list):
        return []
    return [t for t in found if isinstance(t, str) and t.isascii() and len(t) <= 20][:10]


# --- sign-in ---------------------------------------------------------------------------------------------------------


def sign_in_options(session: Any, rp: RelyingParty, credentials: list[bytes]) -> dict[str, Any]:
    """The `publicKey` options for navigator.credentials.get, limited to the user's own active passkeys."""
    options, state = _server(rp).authenticate_begin(_descriptors(credentials), user_verification=USER_VERIFICATION)
    _keep(session, SIGN_IN, rp, state)
    return _as_json(options)


def credential_id_of(response: Any) -> str:
    """The credential id an assertion names (base64url), before it is checked; "" when it names none."""
    try:
        return websafe_encode(AuthenticationResponse.from_dict(response).raw_id)
    except (ValueError, TypeError, KeyError, AttributeError):
        return ""


@dataclass(frozen=True)
class Assertion:
    credential_id: str
    sign_count: int
    user_verified: bool


def verify_assertion(
    state: dict[str, Any] | None, rp: RelyingParty, credentials: list[bytes], response: Any
) -> Assertion:
    """Check the browser's answer to navigator.credentials.get against the user's passkeys; raises PasskeyRefused."""
    if state is None:
        raise PasskeyRefused("no challenge")
    try:
        parsed = AuthenticationResponse.from_dict(response)
        found = _server(rp).authenticate_complete(state, [AttestedCredentialData(c) for c in credentials], parsed)
        auth_data: AuthenticatorData = parsed.response.authenticator_data
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise PasskeyRefused(str(error) or type(error).__name__) from error
    return Assertion(
        credential_id=websafe_encode(found.credential_id),
        sign_count=auth_data.counter,
        user_verified=auth_data.is_user_verified(),
    )


def counter_went_back(stored: int, received: int) -> bool:
    """WebAuthn L2 section 7.2 step 21: when either counter is non-zero, a new one not above the stored one is a sign
    that the authenticator was cloned. Authenticators that keep no counter (synced passkeys) send 0 every time."""
    return (stored != 0 or received != 0) and received <= stored
