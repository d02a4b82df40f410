"""Registering SMART apps and backend services, deactivating them, and EHR launches (docs/SMART.md).

Each write runs in one transaction with its audit row. An app's client secret (confidential SMART apps) is shown
once and stored hashed by django-oauth-toolkit.
"""

import hashlib
import secrets
import uuid as uuid_lib
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from jwcrypto import jwk
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import AccessToken, Application, RefreshToken

from prolotrack.audit.services import Actor, record_event
from prolotrack.clinics.models import Membership
from prolotrack.clinics.roles import Permission, require_permission
from prolotrack.domain.smart_scopes import ScopeError, parse_scopes
from prolotrack.smart.models import ExportClient, LaunchContext, SmartApp, TokenContext

LAUNCH_LIFETIME = timedelta(minutes=5)
CONFIDENTIAL = Application.CLIENT_CONFIDENTIAL
PUBLIC = Application.CLIENT_PUBLIC


@dataclass(frozen=True)
class Registration:
    app: SmartApp
    client_secret: str  # shown once; empty for public apps and backend services


def _redirect_uris(text: str) -> list[str]:
    uris = text.split()
    for uri in uris:
        parts = urlsplit(uri)
        if parts.scheme not in ("https", "http") or not parts.netloc or parts.fragment:
            raise ValidationError({"redirect_uris": f"{uri} is not an absolute http(s) address without a fragment."})
        if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValidationError({"redirect_uris": f"{uri}: use https (http only for this computer, 127.0.0.1)."})
    return uris


def _scopes(text: str, kind: str) -> str:
    try:
        parsed = parse_scopes(text)
    except ScopeError as error:
        raise ValidationError({"allowed_scopes": str(error)}) from None
    if not parsed.resources:
        raise ValidationError({"allowed_scopes": "Allow at least one resource scope, e.g. patient/*.rs."})
    contexts = parsed.contexts
    if kind == SmartApp.KIND_BACKEND and (contexts - {"system"} or parsed.others):
        raise ValidationError({"allowed_scopes": "A backend service has system/ scopes only (e.g. system/*.rs)."})
    if kind == SmartApp.KIND_APP and "system" in contexts:
        raise ValidationError({"allowed_scopes": "system/ scopes are for backend services."})
    return parsed.text()


def _jwks(value: str) -> dict[str, Any] | None:
    if not value.strip():
        return None
    try:
        keys = jwk.JWKSet.from_json(value)
    except Exception:  # jwcrypto raises several types for a malformed set
        raise ValidationError({"jwks": 'Paste a JSON Web Key Set: {"keys": [...]} with public keys.'}) from None
    for key in keys["keys"]:
        if key.has_private:
            raise ValidationError({"jwks": "The set holds a private key: paste the public keys only."})
        if key.get("kty") not in ("RSA", "EC"):
            raise ValidationError({"jwks": "Keys are RSA (RS384) or EC P-384 (ES384)."})
    exported: dict[str, Any] = orjson.loads(keys.export(private_keys=False))
    return exported


def register_app(
    actor: Actor,
    *,
    name: str,
    kind: str,
    allowed_scopes: str,
    redirect_uris: str = "",
    confidential: bool = False,
    launch_url: str = "",
    jwks_uri: str = "",
    jwks: str = "",
) -> Registration:
    """Register an app of the actor's clinic (administrators)."""
    require_permission(actor, Permission.CLINIC_MANAGE)
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Name the app."})
    scopes = _scopes(allowed_scopes, kind)
    secret = ""
    if kind == SmartApp.KIND_APP:
        uris = _redirect_uris(redirect_uris)
        if not uris:
            raise ValidationError({"redirect_uris": "Give at least one redirect URI."})
        grant = Application.GRANT_AUTHORIZATION_CODE
        client_type = CONFIDENTIAL if confidential else PUBLIC
        if confidential:
            secret = generate_client_secret()
        keys = None
        jwks_uri = ""
    elif kind == SmartApp.KIND_BACKEND:
        uris = []
        grant = Application.GRANT_CLIENT_CREDENTIALS
        client_type = CONFIDENTIAL
        keys = _jwks(jwks)
        if jwks_uri:
            parts = urlsplit(jwks_uri)
            local = parts.hostname in ("127.0.0.1", "localhost", "::1")
            if parts.scheme != "https" and not (parts.scheme == "http" and local):
                raise ValidationError({"jwks_uri": "The JWKS URL must be https."})
        if not keys and not jwks_uri:
            raise ValidationError({"jwks": "Give the service's public keys: a JWKS URL or the key set itself."})
        launch_url = ""
    else:
        raise ValidationError({"kind": "Choose a SMART app or a backend service."})
    with transaction.atomic():
        application = Application(
            name=name[:255],
            client_type=client_type,
            authorization_grant_type=grant,
            redirect_uris=" ".join(uris),
            client_secret=secret,
            hash_client_secret=True,
            algorithm=Application.RS256_ALGORITHM if kind == SmartApp.KIND_APP else Application.NO_ALGORITHM,
            skip_authorization=False,
        )
        application.full_clean(exclude=["client_secret", "user"])
        application.save()
        runs_as = None
        if kind == SmartApp.KIND_BACKEND:
            runs_as = Membership.objects.get(user=actor.user, clinic=actor.clinic)
        app = SmartApp.objects.create(
            clinic=actor.clinic,
            application=application,
            kind=kind,
            allowed_scopes=scopes,
            launch_url=launch_url,
            jwks_uri=jwks_uri,
            jwks=keys,
            runs_as=runs_as,
            created_by=actor.user,
        )
        record_event(
            actor,
            "smart.app.registered",
            detail={"app": str(app.uuid), "client_id": application.client_id, "name": name, "kind": kind,
                    "scopes": scopes, "client_type": client_type},
        )  # fmt: skip
    return Registration(app, secret)


def deactivate_app(actor: Actor, app: SmartApp, reason: str) -> SmartApp:
    """Stop an app: its tokens are revoked at once and it can get no new ones. It stays listed, with its audit."""
    require_permission(actor, Permission.CLINIC_MANAGE)
    if app.clinic_id != actor.clinic.pk:
        raise ValidationError("This app belongs to another clinic.")
    reason = reason.strip()
    if len(reason) < 5:
        raise ValidationError({"reason": "Say why (at least 5 characters)."})
    with transaction.atomic():
        app = SmartApp.objects.select_for_update().get(pk=app.pk)
        app.is_active = False
        app.deactivated_at = timezone.now()
        app.save(update_fields=["is_active", "deactivated_at"])
        revoked = AccessToken.objects.filter(application=app.application).count()
        RefreshToken.objects.filter(application=app.application, revoked__isnull=True).update(revoked=timezone.now())
        AccessToken.objects.filter(application=app.application).delete()
        record_event(
            actor,
            "smart.app.deactivated",
            detail={"app": str(app.uuid), "client_id": app.client_id, "reason": reason, "tokens_revoked": revoked},
        )
    return app


def hash_launch(launch: str) -> str:
    return hashlib.sha256(launch.encode()).hexdigest()


def start_launch(actor: Actor, membership: Membership, app: SmartApp, patient: Any, fhir_base: str) -> str:
    """An EHR launch from a patient's chart: the address of the app's launch URL with `iss` and a new `launch` id."""
    require_permission(actor, Permission.PATIENT_VIEW_DEMOGRAPHICS)
    if app.clinic_id != actor.clinic.pk or patient.clinic_id != actor.clinic.pk:
        raise ValidationError("The app or the patient belongs to another clinic.")
    if not app.is_active or app.kind != SmartApp.KIND_APP or not app.launch_url:
        raise ValidationError("This app cannot be launched from the chart.")
    launch = secrets.token_urlsafe(24)
    with transaction.atomic():
        LaunchContext.objects.create(
            app=app,
            membership=membership,
            patient_uuid=patient.uuid,
            launch_hash=hash_launch(launch),
            expires_at=timezone.now() + LAUNCH_LIFETIME,
        )
        record_event(
            replace(actor, client_id=app.client_id),
            "smart.launched",
            patient_uuid=patient.uuid,
            detail={"app": str(app.uuid)},
        )
    separator = "&" if "?" in app.launch_url else "?"
    return f"{app.launch_url}{separator}{urlencode({'iss': fhir_base, 'launch': launch})}"


def find_launch(launch: str, app: SmartApp, membership: Membership) -> LaunchContext | None:
    """The unexpired, unused launch of this app made by this membership, or None."""
    return LaunchContext.objects.filter(
        launch_hash=hash_launch(launch),
        app=app,
        membership=membership,
        used_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).first()


def record_authorization(
    actor: Actor, app: SmartApp, scopes: str, patient_uuid: uuid_lib.UUID | None, allowed: bool, launch: Any = None
) -> None:
    """Audit a person's answer on the consent page (and use up the launch it came with)."""
    with transaction.atomic():
        if launch is not None:
            LaunchContext.objects.filter(pk=launch.pk, used_at__isnull=True).update(used_at=timezone.now())
        record_event(
            replace(actor, client_id=app.client_id),
            "smart.authorized" if allowed else "smart.denied",
            patient_uuid=patient_uuid,
            detail={"app": str(app.uuid), "scope": scopes},
        )


def token_context(access: AccessToken) -> TokenContext | None:
    return (
        TokenContext.objects.select_related("membership__user", "membership__clinic", "app")
        .filter(access_token=access)
        .first()
    )


def link_export(job: Any, client_id: str) -> None:
    """Record which app started a Bulk export: only that app may poll it and download its files."""
    ExportClient.objects.create(job=job, client_id=client_id)
