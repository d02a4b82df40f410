"""django-oauth-toolkit wired for SMART on FHIR (docs/SMART.md): scopes, launch context, private_key_jwt.

The OAuth protocol itself (codes, PKCE S256, tokens, refresh rotation, OpenID Connect id_tokens, introspection,
revocation) is django-oauth-toolkit's and oauthlib's; client assertions are verified by jwcrypto. This module only
decides what those libraries ask the project: which scopes an app may have, which clinic membership and patient a
code or token carries, and which keys verify a backend service.
"""

import hashlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import requests
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from jwcrypto import jwk, jwt
from jwcrypto.common import JWException, base64url_decode
from oauth2_provider.models import AccessToken
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import BaseScopes

from prolotrack.audit.services import Actor, record_event
from prolotrack.clinics.models import Membership
from prolotrack.clinics.services import actor_for_membership
from prolotrack.domain.smart_scopes import ScopeError, describe, grantable, parse_scopes
from prolotrack.smart.models import GrantContext, SmartApp, TokenContext, UsedAssertion

log = logging.getLogger(__name__)

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_ALGS = ["RS384", "ES384"]  # SMART Backend Services: the server supports both
MAX_ASSERTION_LIFETIME = timedelta(minutes=5)  # "exp ... no more than five minutes in the future"
JWKS_MAX_BYTES = 64 * 1024
JWKS_TIMEOUT_SECONDS = 5
JWKS_CACHE_SECONDS = 5 * 60  # a JWKS fetched by URL is reused this long (docs/SMART.md, "Backend services")
JWKS_REFETCH_SECONDS = 30  # an unknown kid fetches the set again at most this often per app


class _Descriptions(dict[str, str]):
    """Every SMART scope describes itself (django-oauth-toolkit shows `all_scopes[scope]` on the consent page)."""

    def __missing__(self, key: str) -> str:
        return describe(key)


class SmartScopes(BaseScopes):
    """Scopes are checked by `SmartValidator.validate_scopes` against each app's registration, not listed here."""

    def get_all_scopes(self) -> dict[str, str]:
        return _Descriptions()

    def get_available_scopes(self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any) -> list:
        return parse_scopes(application.smart.allowed_scopes).text().split() if application is not None else []

    def get_default_scopes(self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any) -> list:
        return []  # an app says what it wants


def smart_app(application: Any) -> SmartApp | None:
    try:
        return application.smart
    except SmartApp.DoesNotExist:
        return None


def fetch_jwks(url: str) -> bytes:
    """The body of a backend service's JWKS URL: 5 seconds at most, no redirects, 64 KB at most (larger: refused)."""
    with requests.get(url, timeout=JWKS_TIMEOUT_SECONDS, stream=True, allow_redirects=False) as response:
        if response.status_code != 200:  # a redirect too: it is not followed
            raise ScopeError(f"The JWKS URL answered {response.status_code}.")
        body: bytes = response.raw.read(JWKS_MAX_BYTES + 1, decode_content=True)
    if len(body) > JWKS_MAX_BYTES:
        raise ScopeError("The JWKS document is too large.")
    return body


def _jwks_cache_key(app: SmartApp) -> str:
    return f"smart:jwks:{app.pk}:{hashlib.sha256(app.jwks_uri.encode()).hexdigest()[:32]}"


def app_keys(app: SmartApp, *, refresh: bool = False) -> jwk.JWKSet:
    """The backend service's public keys: registered by value, or from its JWKS URL.

    A JWKS fetched by URL is kept in Django's cache for JWKS_CACHE_SECONDS (a key set that does not parse is not
    kept); `refresh` fetches it again (an assertion naming a `kid` the cached set lacks: the service rotated its keys),
    at most once per JWKS_REFETCH_SECONDS per app, so assertions with made-up `kid`s cannot make the server hammer
    the service's site."""
    if app.jwks:
        return jwk.JWKSet.from_json(orjson.dumps(app.jwks).decode())
    if not app.jwks_uri:
        raise ScopeError("This app has no keys registered.")
    key = _jwks_cache_key(app)
    cached = cache.get(key)
    if cached is not None and not (refresh and cache.add(f"{key}:refetched", 1, timeout=JWKS_REFETCH_SECONDS)):
        return jwk.JWKSet.from_json(cached)
    body = fetch_jwks(app.jwks_uri).decode()
    keys = jwk.JWKSet.from_json(body)
    cache.set(key, body, timeout=JWKS_CACHE_SECONDS)
    return keys


def assertion_kid(assertion: str) -> str | None:
    """The `kid` in a client assertion's (unverified) header, if any."""
    try:
        header = orjson.loads(base64url_decode(assertion.split(".", 1)[0]))
    except (ValueError, TypeError):
        return None
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) else None


def keys_for_assertion(app: SmartApp, assertion: str) -> jwk.JWKSet:
    """The keys to verify this assertion with: the (cached) set, fetched again once if it lacks the assertion's kid."""
    keys = app_keys(app)
    kid = assertion_kid(assertion)
    if kid is not None and app.jwks_uri and not app.jwks and keys.get_key(kid) is None:
        keys = app_keys(app, refresh=True)
    return keys


def token_endpoint_urls(request: Any) -> set[str]:
    """The addresses a client assertion's `aud` may name: the token endpoint as requested and at the public site."""
    from django.urls import reverse

    path = reverse("oauth2_provider:token")
    seen = {f"{settings.PROLOTRACK_SITE_URL}{path}"}
    headers = getattr(request, "headers", None) or {}
    host = headers.get("HTTP_HOST")  # Django has checked it against ALLOWED_HOSTS
    if host:
        scheme = "https" if headers.get("X_DJANGO_OAUTH_TOOLKIT_SECURE") == "1" else "http"
        seen.add(f"{scheme}://{host}{path}")
    return seen


class SmartValidator(OAuth2Validator):
    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "fhirUser": "fhirUser"}

    # -- apps ---------------------------------------------------------------------------------------------------
    def _load_application(self, client_id: str, request: Any) -> Any:
        application = super()._load_application(client_id, request)
        if application is None:
            return None
        app = smart_app(application)
        if app is None or not app.is_active:
            request.client = None
            return None
        return application

    # -- scopes -------------------------------------------------------------------------------------------------
    def validate_scopes(self, client_id: str, scopes: list[str], client: Any, request: Any, *a: Any, **k: Any) -> bool:
        app = smart_app(client)
        if app is None:
            return False
        grant = "client_credentials" if request.grant_type == "client_credentials" else "authorization_code"
        try:
            grantable(" ".join(scopes), app.allowed_scopes, grant=grant)
        except ScopeError as error:
            request.smart_scope_error = str(error)
            return False
        return True

    # -- private_key_jwt (SMART Backend Services; RFC 7523) -------------------------------------------------------
    def client_authentication_required(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        if getattr(request, "client_assertion_type", None) == JWT_BEARER:
            return True
        return bool(super().client_authentication_required(request, *args, **kwargs))

    def authenticate_client(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        if getattr(request, "client_assertion_type", None) == JWT_BEARER:
            return self._authenticate_assertion(request)
        if getattr(request, "client_assertion", None):
            return False  # an assertion of a type not supported
        app = smart_app(request.client) if request.client is not None else None
        if app is not None and app.kind == SmartApp.KIND_BACKEND:
            return False  # backend services authenticate with their key only
        return bool(super().authenticate_client(request, *args, **kwargs))

    def _authenticate_assertion(self, request: Any) -> bool:
        assertion = getattr(request, "client_assertion", None) or ""
        try:
            unverified = orjson.loads(jwt.JWT(jwt=assertion).token.objects["payload"])
        except (JWException, ValueError, KeyError, TypeError):
            log.info("Client assertion is not a JWT.")
            return False
        client_id = unverified.get("iss") if isinstance(unverified, dict) else None
        if not isinstance(client_id, str) or (request.client_id and request.client_id != client_id):
            return False
        application = self._load_application(client_id, request)
        app = smart_app(application) if application is not None else None
        if app is None or not (app.jwks or app.jwks_uri):
            return False
        try:
            keys = keys_for_assertion(app, assertion)
            verified = jwt.JWT(
                jwt=assertion,
                key=keys,
                algs=ASSERTION_ALGS,
                check_claims={"iss": client_id, "sub": client_id, "exp": None, "jti": None},
            )
            claims = orjson.loads(verified.claims)
        except (JWException, ValueError, requests.RequestException, ScopeError) as error:
            log.info("Client assertion of %s refused: %s", client_id, error)
            return False
        audience = claims.get("aud")
        audiences = set(audience) if isinstance(audience, list) else {audience}
        if not audiences & token_endpoint_urls(request):
            log.info("Client assertion of %s names another audience: %s", client_id, audience)
            return False
        expires = datetime.fromtimestamp(int(claims["exp"]), tz=UTC)
        now = timezone.now()
        if expires > now + MAX_ASSERTION_LIFETIME + timedelta(seconds=60):
            return False
        UsedAssertion.objects.filter(app=app, expires_at__lt=now).delete()
        try:
            with transaction.atomic():
                UsedAssertion.objects.create(app=app, jti=str(claims["jti"])[:255], expires_at=expires)
        except IntegrityError:
            log.info("Client assertion of %s replayed (jti %s).", client_id, claims["jti"])
            return False
        request.client_id = client_id
        return True

    # -- the context a code and a token carry ----------------------------------------------------------------------
    def save_authorization_code(self, client_id: str, code: dict[str, Any], request: Any, *a: Any, **k: Any) -> None:
        grant = self._create_authorization_code(request, code)
        GrantContext.objects.create(
            grant=grant,
            membership_id=request.smart_membership_id,
            patient_uuid=getattr(request, "smart_patient", None),
        )

    def validate_code(self, client_id: str, code: str, client: Any, request: Any, *a: Any, **k: Any) -> bool:
        if not super().validate_code(client_id, code, client, request, *a, **k):
            return False
        context = GrantContext.objects.filter(grant__code=code, grant__application=client).first()
        if context is None:
            return False
        request.smart_membership_id = context.membership_id
        request.smart_patient = context.patient_uuid
        return True

    def validate_refresh_token(self, refresh_token: str, client: Any, request: Any, *a: Any, **k: Any) -> bool:
        if not super().validate_refresh_token(refresh_token, client, request, *a, **k):
            return False
        instance = request.refresh_token_instance
        context = TokenContext.objects.filter(access_token=instance.access_token).first() if instance else None
        if context is None:
            return False
        request.smart_membership_id = context.membership_id
        request.smart_patient = context.patient_uuid
        return True

    def _save_bearer_token(self, token: dict[str, Any], request: Any, *args: Any, **kwargs: Any) -> None:
        application = request.client
        app = smart_app(application)
        if app is None:
            raise ScopeError("Not a registered SMART app.")
        if request.grant_type == "client_credentials":
            membership = app.runs_as
            patient = None
        else:
            membership = Membership.objects.select_related("user", "clinic").get(pk=request.smart_membership_id)
            patient = getattr(request, "smart_patient", None)
            granted = set(token.get("scope", "").split())
            if not granted & {"offline_access", "online_access"}:
                token.pop("refresh_token", None)  # SMART: a refresh token only with offline_access or online_access
        if membership is None or membership.clinic_id != app.clinic_id or not membership.is_active:
            raise ScopeError("The app's membership is not active in its clinic.")
        super()._save_bearer_token(token, request, *args, **kwargs)
        checksum = hashlib.sha256(token["access_token"].encode()).hexdigest()
        access = AccessToken.objects.get(token_checksum=checksum)
        TokenContext.objects.update_or_create(
            access_token=access, defaults={"app": app, "membership": membership, "patient_uuid": patient}
        )
        if patient is not None:
            token["patient"] = str(patient)
        actor = actor_for_membership(membership, None, channel="fhir")
        record_event(
            Actor(actor.user, actor.clinic, actor.role, None, "fhir", client_id=application.client_id),
            "smart.token.issued",
            patient_uuid=patient,
            detail={"grant_type": request.grant_type, "scope": token.get("scope", "")},
        )

    # -- OpenID Connect ------------------------------------------------------------------------------------------
    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        from prolotrack.core.site import site_url

        user = request.user
        return {
            "sub": str(user.uuid),
            "fhirUser": site_url(f"/fhir/Practitioner/{user.uuid}"),
            "name": user.get_full_name() or user.get_username(),
        }
