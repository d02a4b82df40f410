"""Passkey pages: one's own passkeys (add, remove), and the passkey way through the second step of logging in.

The browser side is static/prolotrack/passkeys.js: it asks the `*_options` endpoints for a challenge (JSON), calls
navigator.credentials.create or .get, and posts the answer (JSON, binary fields base64url) in an ordinary form."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from prolotrack.accounts import passkeys, services
from prolotrack.accounts.forms import CodeForm, PasskeyAssertionForm, PasskeyForm
from prolotrack.accounts.views import _locked, _next_url, _verified, verify_context
from prolotrack.audit.services import ServiceError
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.services import actor_for


def _credentials(user: object) -> list[bytes]:
    return [bytes(p.credential_data) for p in services.active_passkeys(user)]


@login_required
@require_POST
def sign_in_options(request: ClinicRequest) -> HttpResponse:
    """A challenge for the passkey way through the second step (before the session is verified)."""
    found = _credentials(request.user)
    if not found:
        return JsonResponse({"error": "You have no passkey: type a code instead."}, status=404)
    rp = passkeys.relying_party(request)
    return JsonResponse(passkeys.sign_in_options(request.session, rp, found))


@login_required
@require_POST
def sign_in(request: ClinicRequest) -> HttpResponse:
    """Check the passkey's answer; on success the session is verified as with a code."""
    form = PasskeyAssertionForm(request.POST)
    rp = passkeys.relying_party(request)
    state = passkeys.take_challenge(request.session, passkeys.SIGN_IN, rp)
    error = "The passkey was not accepted. Try again, or type a code from your authenticator app."
    if form.is_valid():
        try:
            result = services.verify_passkey(
                actor_for(request), request.user, state, rp, form.cleaned_data["credential"]
            )
        except services.SecondFactorLocked as locked:
            return _locked(request, locked)
        if result.device is not None:
            _verified(request, result.device)
            return redirect(_next_url(request))
        if result.wait_seconds:
            error = f"Too many failed tries in a row: wait {result.wait_seconds} seconds, then try again."
    return render(request, "accounts/verify.html", verify_context(request, CodeForm(), passkey_error=error), status=400)


@login_required
def manage(request: ClinicRequest) -> HttpResponse:
    """One's own passkeys, and the form that adds one (after the browser made it)."""
    if not services.is_verified(request.user):
        messages.info(
            request,
            "Set up your authenticator app first: a passkey is added beside it, once you have logged in with it.",
        )
        return redirect("accounts:security")
    form = PasskeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        rp = passkeys.relying_party(request)
        state = passkeys.take_challenge(request.session, passkeys.REGISTER, rp)
        try:
            name, credential = form.cleaned_data["name"], form.cleaned_data["credential"]
            added = services.register_passkey(actor_for(request), request.user, name, state, rp, credential)
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Passkey {added.name!r} added: you can use it at your next log-in.")
            return redirect("accounts:passkeys")
    context = {"form": form, "passkeys": services.active_passkeys(request.user)}
    return render(request, "accounts/passkeys.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def register_options(request: ClinicRequest) -> HttpResponse:
    """A challenge for adding a passkey (a verified session only)."""
    user = request.user
    if not services.is_verified(user):
        return JsonResponse({"error": "Log in with your second factor first."}, status=403)
    options = passkeys.registration_options(
        request.session,
        passkeys.relying_party(request),
        user_handle=user.uuid.bytes,
        name=user.username,
        display_name=user.get_full_name() or user.username,
        existing=_credentials(user),
    )
    return JsonResponse(options)


@login_required
def remove(request: ClinicRequest, passkey_id: int) -> HttpResponse:
    """Confirm, then deactivate one of one's own passkeys."""
    if not services.is_verified(request.user):
        return redirect("accounts:security")
    found = next((p for p in services.active_passkeys(request.user) if p.pk == passkey_id), None)
    if found is None:
        messages.error(request, "That passkey is not one of yours, or it was already removed.")
        return redirect("accounts:passkeys")
    if request.method == "POST":
        services.remove_passkey(actor_for(request), request.user, found.pk)
        messages.success(request, f"Passkey {found.name!r} removed: it no longer logs you in.")
        return redirect("accounts:passkeys")
    return render(request, "accounts/passkey_remove.html", {"passkey": found})
