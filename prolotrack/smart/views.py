"""SMART on FHIR pages and endpoints (docs/SMART.md): discovery, the authorize (consent) page, introspection, the
chart's Launch button, and the administrator's app registry under clinic settings.

The token, revocation, JWKS and OpenID endpoints are django-oauth-toolkit's own views (prolotrack/smart/urls.py).
"""

import calendar
import hashlib
import uuid as uuid_lib
from typing import Any, cast
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.forms import AllowForm
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import AuthorizationView
from oauthlib.common import Request as OauthlibRequest
from oauthlib.oauth2.rfc6749 import errors as oauth_errors

from prolotrack.audit.services import record_disclosure
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import require
from prolotrack.domain.smart_scopes import ScopeError, describe, parse_scopes
from prolotrack.patients.models import Patient
from prolotrack.smart import queries, services
from prolotrack.smart.models import SmartApp
from prolotrack.smart.oauth import ASSERTION_ALGS, smart_app

CAPABILITIES = [
    "launch-ehr",
    "launch-standalone",
    "client-public",
    "client-confidential-symmetric",
    "client-confidential-asymmetric",
    "context-ehr-patient",
    "context-standalone-patient",
    "sso-openid-connect",
    "permission-offline",
    "permission-online",
    "permission-patient",
    "permission-user",
    "permission-v1",
    "permission-v2",
]
SCOPES_SUPPORTED = [
    "openid", "fhirUser", "profile", "launch", "launch/patient", "offline_access", "online_access",
    "patient/*.cruds", "user/*.cruds", "system/*.cruds", "patient/*.rs", "user/*.rs", "system/*.rs",
]  # fmt: skip


def oauth_urls(request: HttpRequest) -> dict[str, str]:
    def url(name: str) -> str:
        return request.build_absolute_uri(reverse(name))

    return {
        "authorization_endpoint": url("oauth2_provider:authorize"),
        "token_endpoint": url("oauth2_provider:token"),
        "introspection_endpoint": url("oauth2_provider:introspect"),
        "revocation_endpoint": url("oauth2_provider:revoke-token"),
        "jwks_uri": url("oauth2_provider:jwks-info"),
        "issuer": oauth2_settings.oidc_issuer(request),
        "userinfo_endpoint": url("oauth2_provider:user-info"),
        "management_endpoint": url("smart:apps"),
    }


@require_GET
def smart_configuration(request: HttpRequest) -> JsonResponse:
    """[fhir base]/.well-known/smart-configuration (SMART App Launch 2.x, "Conformance")."""
    urls = oauth_urls(request)
    body = {
        **urls,
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
        "response_types_supported": ["code"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": SCOPES_SUPPORTED,
        "capabilities": CAPABILITIES,
    }
    response = JsonResponse(body)
    response["Access-Control-Allow-Origin"] = "*"
    return response


# -- the authorize (consent) page -----------------------------------------------------------------------------------


class SmartAllowForm(AllowForm):
    launch = forms.CharField(required=False, widget=forms.HiddenInput())
    patient_search = forms.CharField(
        required=False,
        max_length=100,
        label="Find the patient",
        help_text="Name (part of it is enough), date of birth (YYYY-MM-DD) or record number. The app will see this "
        "patient only.",
    )
    patient = forms.UUIDField(required=False)


PICKER_ROWS = 20  # the consent page lists this many matches at most; more: type more of the name


class SmartAuthorizationView(AuthorizationView):
    """django-oauth-toolkit's authorize view, behind the staff sign-in, with SMART's launch context and checks."""

    template_name = "smart/authorize.html"
    form_class = SmartAllowForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        self.smart: dict[str, Any] = {}
        return super().dispatch(request, *args, **kwargs)

    def _membership(self) -> Any:
        membership = getattr(self.request, "membership", None)
        if membership is None or not membership.can(Permission.API_TOKEN_USE):
            return None
        return membership

    def _refuse(self, message: str, status: int = 403) -> HttpResponse:
        return render(self.request, "smart/authorize.html", {"refusal": message}, status=status)

    def _fail(self, credentials: dict[str, Any], app: SmartApp, error: type, description: str) -> HttpResponse:
        oauthlib_error = error(description=description, state=credentials.get("state"))
        oauthlib_error.redirect_uri = credentials.get("redirect_uri")  # checked against the app's registration
        return self.error_response(
            OAuthToolkitError(error=oauthlib_error, redirect_uri=credentials.get("redirect_uri")), app.application
        )

    def _check(self, scopes: list[str], credentials: dict[str, Any], launch: str) -> tuple[SmartApp, Any, str]:
        """(app, launch context or None, problem): the checks SMART adds to the OAuth request's own."""
        app = smart_app(queries.application(credentials["client_id"]))
        if app is None:
            raise Http404
        if credentials.get("code_challenge_method") != "S256":
            return app, None, "PKCE with code_challenge_method=S256 is required (plain is refused)."
        context = None
        if launch:
            context = services.find_launch(launch, app, self._membership())
            if context is None:
                return app, None, "The launch is unknown, used or expired: launch the app again from the chart."
            if "launch" not in scopes:
                return app, None, "An EHR launch asks for the 'launch' scope."
        elif "launch" in scopes:
            return app, None, "The 'launch' scope needs the launch parameter the chart's Launch button gives."
        return app, context, ""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        membership = self._membership()
        if membership is None:
            return self._refuse("Your account may not authorize apps in this clinic.")
        try:
            scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        app, context, problem = self._check(scopes, credentials, request.GET.get("launch", ""))
        if app.clinic_id != cast(ClinicRequest, request).clinic.pk:  # a member: the middleware set the clinic
            return self._refuse(f"{app.application.name} is registered with another clinic: switch to it first.")
        if problem:
            return self._fail(credentials, app, oauth_errors.InvalidRequestError, problem)
        if _needs_patient(scopes) and context is None and "launch/patient" not in scopes:
            return self._fail(
                credentials, app, oauth_errors.InvalidScopeError,
                "patient/ scopes need a patient: ask for launch/patient (standalone) or launch (from the chart).",
            )  # fmt: skip
        self.smart = {"app": app, "launch_context": context, "patient": _patient(cast(ClinicRequest, request), context)}
        return super().get(request, *args, **kwargs)

    def get_initial(self) -> dict[str, Any]:
        initial = super().get_initial()
        initial["launch"] = self.request.GET.get("launch", "")
        return initial

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        scopes = context.get("scopes") or []
        context.update(self.smart)
        context["descriptions"] = [describe(s) for s in scopes]
        context["pick_patient"] = self.smart.get("launch_context") is None and "launch/patient" in scopes
        matches = self.smart.get("matches") or []
        context["matches"], context["more_matches"] = matches[:PICKER_ROWS], len(matches) > PICKER_ROWS
        form = context.get("form")
        redirect_uri = (form["redirect_uri"].value() if form is not None else None) or ""
        context["return_to"] = urlsplit(redirect_uri).netloc
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        membership = self._membership()
        if membership is None:
            return self._refuse("Your account may not authorize apps in this clinic.")
        data = form.cleaned_data
        scopes = data["scope"].split()
        credentials = {k: data.get(k) for k in ("client_id", "redirect_uri", "state", "code_challenge_method")}
        application = queries.application(data["client_id"])
        if application is None:
            raise Http404
        app, context, problem = self._check(scopes, credentials, data.get("launch") or "")
        if app.clinic_id != membership.clinic_id:
            return self._refuse(f"{application.name} is registered with another clinic.")
        if problem:
            return self._fail(credentials, app, oauth_errors.InvalidRequestError, problem)
        patient_uuid = context.patient_uuid if context is not None else None
        allow = bool(data.get("allow"))
        picking = patient_uuid is None and "launch/patient" in scopes
        if picking and (allow or "find" in self.request.POST):
            found, matches, problem = _choose_patient(
                actor_for(self.request), membership, data, find="find" in self.request.POST
            )
            if found is None:
                if problem:
                    form.add_error("patient_search", problem)
                self.smart = {"app": app, "launch_context": None, "patient": None, "matches": matches}
                self.oauth2_data = {"scopes": scopes, "application": application}
                return self.form_invalid(form, status=400 if problem else 200)
            patient_uuid = found.uuid
        services.record_authorization(
            actor_for(self.request), app, data["scope"], patient_uuid if allow else None, allow, launch=context
        )
        self.smart = {"smart_membership_id": membership.pk, "smart_patient": patient_uuid}
        return super().form_valid(form)

    def form_invalid(self, form: Any, status: int = 400) -> HttpResponse:
        context = self.get_context_data(form=form, **self.oauth2_data)
        return self.render_to_response(context, status=status)

    def create_authorization_response(self, request: Any, scopes: Any, credentials: Any, allow: Any) -> Any:
        credentials = {**credentials, **{k: v for k, v in self.smart.items() if k.startswith("smart_")}}
        return super().create_authorization_response(request, scopes, credentials, allow)


def _needs_patient(scopes: list[str]) -> bool:
    try:
        return "patient" in parse_scopes(" ".join(scopes)).contexts
    except ScopeError:
        return False


def _patient(request: ClinicRequest, context: Any) -> Patient | None:
    if context is None:
        return None
    return queries.clinic_patient(request.clinic, context.patient_uuid)


def _choose_patient(
    actor: Any, membership: Any, data: dict[str, Any], *, find: bool
) -> tuple[Patient | None, list[Patient], str]:
    """The consent page's patient picker: (the patient chosen, the matches to list, a problem to show).

    A patient ticked in the list is taken; otherwise the search (name, date of birth or record number, the clinic's
    live patients only) must find exactly one, or the matches are listed to choose from. Nothing is listed to a person
    who may not see patients' demographics. A search is audited as the patient list's is (`patient.searched`)."""
    if not membership.can(Permission.PATIENT_VIEW_DEMOGRAPHICS):
        return None, [], "Your role cannot choose a patient: ask a clinician to authorize the app."
    chosen = data.get("patient")
    if chosen is not None and not find:
        found = queries.clinic_patient(membership.clinic, chosen, live=True)
        return found, [], "" if found is not None else "Choose a patient of this clinic."
    text = (data.get("patient_search") or "").strip()
    if not text:
        return None, [], "Type a name, date of birth or record number to find the patient."
    matches = queries.find_patients(membership.clinic, text, PICKER_ROWS + 1)
    # The trail names every patient the picker shows (at most PICKER_ROWS; one event each, one insert), or nobody.
    detail = {"search": text[:100], "on": "smart.consent"}
    record_disclosure(actor, "patient.searched", matches[:PICKER_ROWS], detail=detail)
    if not matches:
        return None, [], "No patient of this clinic matches."
    if len(matches) == 1 and not find:
        return matches[0], [], ""
    return None, matches, "" if find else "Several patients match: choose one."


# -- introspection (RFC 7662) -----------------------------------------------------------------------------------


@csrf_exempt
@require_POST
def introspect(request: HttpRequest) -> JsonResponse:
    """Token introspection for the app the token was issued to (it authenticates as at the token endpoint).

    Adds SMART's `patient` and `fhirUser`; a token of another app, or of another clinic, is `active: false`."""
    core = get_oauthlib_core()
    uri, method, body, headers = core._extract_params(request)
    oauth_request = OauthlibRequest(uri, method, body, headers)
    if not core.server.request_validator.authenticate_client(oauth_request) or oauth_request.client is None:
        return JsonResponse({"error": "invalid_client"}, status=401)
    value = request.POST.get("token")
    if not value:
        return JsonResponse({"error": "invalid_request", "error_description": "Send token."}, status=400)
    checksum = hashlib.sha256(value.encode()).hexdigest()
    token, context = queries.token_with_context(checksum)
    if token is None or not token.is_valid() or token.application_id != oauth_request.client.pk:
        return JsonResponse({"active": False})
    if context is None:
        return JsonResponse({"active": False})
    data: dict[str, Any] = {
        "active": True,
        "scope": token.scope,
        "client_id": token.application.client_id,
        "exp": int(calendar.timegm(token.expires.utctimetuple())),
        "token_type": "Bearer",
    }
    if token.user is not None:
        data["sub"] = str(token.user.uuid)
        data["username"] = token.user.get_username()
        data["fhirUser"] = request.build_absolute_uri(f"/fhir/Practitioner/{token.user.uuid}")
    if context.patient_uuid:
        data["patient"] = str(context.patient_uuid)
    return JsonResponse(data)


# -- the chart's Launch button --------------------------------------------------------------------------------------


@require(Permission.PATIENT_VIEW_DEMOGRAPHICS)
@require_POST
def launch(request: ClinicRequest, patient_id: uuid_lib.UUID, app_id: uuid_lib.UUID) -> HttpResponse:
    clinic = request.clinic
    patient = queries.clinic_patient(clinic, patient_id)
    if patient is None:
        raise Http404("No such patient in this clinic.")
    app = queries.clinic_app(clinic, app_id, launchable=True)
    fhir_base = request.build_absolute_uri(reverse("fhir:base")).rstrip("/")
    try:
        target = services.start_launch(actor_for(request), request.membership, app, patient, fhir_base)
    except ValidationError as error:
        raise Http404(" ".join(error.messages)) from None
    return redirect(target)


# -- the administrator's registry of apps ------------------------------------------------------------------------------


class AppForm(forms.Form):
    name = forms.CharField(max_length=255)
    kind = forms.ChoiceField(choices=SmartApp.KINDS, widget=forms.RadioSelect, initial=SmartApp.KIND_APP)
    allowed_scopes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Space-separated, e.g. 'launch launch/patient openid fhirUser offline_access patient/*.rs' for an "
        "app, 'system/*.rs' for a backend service.",
    )
    redirect_uris = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="SMART apps: one or more, space-separated."
    )
    confidential = forms.BooleanField(
        required=False, help_text="SMART apps: a server-side app that can keep a secret (a client secret is issued)."
    )
    launch_url = forms.URLField(
        required=False, assume_scheme="https", help_text="SMART apps: where the chart's Launch button opens the app."
    )
    jwks_uri = forms.URLField(
        required=False, assume_scheme="https", label="JWKS URL", help_text="Backend services: the public key set URL."
    )
    jwks = forms.CharField(
        required=False,
        label="JWKS",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Backend services: or paste the public key set (RS384 or ES384 keys).",
    )


class DeactivateForm(forms.Form):
    reason = forms.CharField(max_length=500, min_length=5)


ACCESS_ROWS = 100


@require(Permission.CLINIC_MANAGE)
def apps(request: ClinicRequest) -> HttpResponse:
    """The clinic's apps, and the form to register one."""
    clinic = request.clinic
    form = AppForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            registration = services.register_app(actor_for(request), **form.cleaned_data)
        except ValidationError as error:
            for field, messages in (
                error.message_dict.items() if hasattr(error, "error_dict") else [(None, error.messages)]
            ):
                form.add_error(field if field in form.fields else None, messages)
        else:
            return render(
                request, "smart/app_detail.html", _detail_context(request, registration.app, registration.client_secret)
            )
    rows = queries.clinic_apps(clinic)
    return render(request, "smart/apps.html", {"apps": rows, "form": form}, status=400 if form.errors else 200)


def _detail_context(request: HttpRequest, app: SmartApp, secret: str = "") -> dict[str, Any]:
    events = queries.app_accesses(app, ACCESS_ROWS)
    return {
        "app": app,
        "client_secret": secret,
        "scopes": [(s, describe(s)) for s in app.allowed_scopes.split()],
        "events": events[:ACCESS_ROWS],
        "more": len(events) > ACCESS_ROWS,
        "live_tokens": queries.live_tokens(app),
        "deactivate_form": DeactivateForm(),
        "smart_configuration": request.build_absolute_uri("/fhir/.well-known/smart-configuration"),
    }


@require(Permission.CLINIC_MANAGE)
def app_detail(request: ClinicRequest, app_id: uuid_lib.UUID) -> HttpResponse:
    """One app: its registration, what it accessed (the audit rows with its client id), and deactivation."""
    app = queries.clinic_app(request.clinic, app_id)
    if request.method == "POST":
        form = DeactivateForm(request.POST)
        if form.is_valid():
            try:
                services.deactivate_app(actor_for(request), app, form.cleaned_data["reason"])
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return redirect("smart:app", app_id=app.uuid)
        context = _detail_context(request, app)
        context["deactivate_form"] = form
        return render(request, "smart/app_detail.html", context, status=400)
    return render(request, "smart/app_detail.html", _detail_context(request, app))
