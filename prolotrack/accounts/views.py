"""Second-factor log-in and set-up, one's own security page (password, sessions, recovery codes, API tokens), and the
administrator's staff page (reset a colleague's second factor, every token of the clinic)."""

from base64 import b32encode
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect
from django_otp import login as otp_login

from prolotrack.accounts import queries, services
from prolotrack.accounts.forms import CodeForm, EnrolForm, ResetForm, TokenForm
from prolotrack.accounts.models import StaffSession
from prolotrack.audit.services import AccessDenied, ServiceError
from prolotrack.clinics import queries as clinic_queries
from prolotrack.clinics import services as clinic_services
from prolotrack.clinics.forms import MemberNpiForm
from prolotrack.clinics.http import ClinicRequest, MiddlewareRequest
from prolotrack.clinics.models import ApiToken, Membership
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import require
from prolotrack.core.forms import apply_errors


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return "/"
    return target


def _verified(request: HttpRequest, device: Any) -> None:
    """Mark the session as having passed the second factor, under a new session key (no fixation across the step)."""
    old_key = request.session.session_key
    request.session.cycle_key()
    StaffSession.objects.filter(session_key=old_key).update(session_key=request.session.session_key)
    otp_login(request, device)


def _locked(request: HttpRequest, error: services.SecondFactorLocked) -> HttpResponse:
    logout(request)
    return render(request, "accounts/locked.html", {"until": error.until}, status=429)


def verify_context(request: HttpRequest, form: CodeForm, **extra: Any) -> dict[str, Any]:
    """What the second-step page shows: the code form, and the passkey way when the user has a passkey."""
    return {"form": form, "next": _next_url(request), "has_passkeys": services.has_passkeys(request.user), **extra}


@login_required
def verify(request: ClinicRequest) -> HttpResponse:
    """The second step of logging in: a code from the authenticator app or a recovery code."""
    user = request.user
    if services.is_verified(user):
        return redirect(_next_url(request))
    if not services.has_second_factor(user):
        return redirect("accounts:enrol")
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            result = services.verify_second_factor(actor_for(request), user, form.cleaned_data["code"])
        except services.SecondFactorLocked as error:
            return _locked(request, error)
        if result.device is not None:
            _verified(request, result.device)
            if result.method == services.RECOVERY_METHOD:
                left = services.factor_status(user).recovery_left
                messages.warning(
                    request,
                    f"You logged in with a recovery code; it cannot be used again ({left} left). "
                    "If you lost your phone, ask a clinic administrator to reset your second factor, or make new "
                    "recovery codes on My security.",
                )
            return redirect(_next_url(request))
        status = 400
        if result.wait_seconds:
            form.add_error(
                "code", f"Too many wrong codes in a row: wait {result.wait_seconds} seconds, then type a new code."
            )
        else:
            form.add_error(
                "code",
                "That code is not right. Type the 6 digits your authenticator app shows now (they change every 30 "
                "seconds), or one of your recovery codes.",
            )
    elif request.method == "POST":
        status = 400
    return render(request, "accounts/verify.html", verify_context(request, form), status=status)


def _qr_svg(url: str) -> str:
    return segno.make(url, error="m").svg_inline(scale=5, border=2, title="QR code for your authenticator app")


def _manual_key(device: Any) -> str:
    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def _confirm(request: ClinicRequest, form: EnrolForm, device: Any) -> Any:
    """Confirm the new authenticator with its first code: its recovery codes, or None with why on the form."""
    allowed, info = device.verify_is_allowed()
    if not allowed:
        wait = (info or {}).get("locked_until")
        seconds = max(1, int((wait - timezone.now()).total_seconds()) + 1) if wait else 1
        form.add_error("code", f"Too many wrong codes in a row: wait {seconds} seconds, then try again.")
        return None
    try:
        codes = services.confirm_totp(actor_for(request), request.user, device, form.cleaned_data["code"])
    except ServiceError as error:
        form.add_error("code", str(error))
        return None
    if codes is None:
        form.add_error(
            "code",
            "That code does not match. Check that you scanned this page's QR code (or typed its key), "
            "that your phone sets its clock automatically, and type the 6 digits the app shows now.",
        )
    return codes


@login_required
def enrol(request: ClinicRequest) -> HttpResponse:
    """Set up an authenticator app: scan the QR code (or type the key), confirm with its first code."""
    user = request.user
    if services.has_second_factor(user) and not services.is_verified(user):
        return redirect("accounts:verify")
    if services.totp_device(user) is not None:
        messages.info(request, "Your authenticator app is already set up.")
        return redirect("accounts:security")
    device = services.pending_totp_device(user)
    form = EnrolForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        codes = _confirm(request, form, device) if form.is_valid() else None
        if codes is not None:
            _verified(request, device)
            context = {"codes": codes, "next": _next_url(request), "first_time": True}
            return render(request, "accounts/recovery_codes.html", context)
    required = services.second_factor_required(user)
    return render(
        request,
        "accounts/enrol.html",
        {
            "form": form,
            "qr_svg": _qr_svg(device.config_url),
            "manual_key": _manual_key(device),
            "required": required,
            "next": _next_url(request),
        },
        status=status,
    )


@login_required
def security(request: ClinicRequest) -> HttpResponse:
    """One's own account: second factor, recovery codes, password, sessions, API tokens."""
    return render(
        request,
        "accounts/security.html",
        {
            "status": services.factor_status(request.user),
            "sessions": _session_rows(request),
            "tokens": _tokens_of(request),
        },
    )


@login_required
@require_POST
def recovery_codes(request: ClinicRequest) -> HttpResponse:
    if not services.is_verified(request.user):
        return redirect("accounts:verify")
    codes = services.regenerate_recovery_codes(actor_for(request), request.user)
    return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": "/accounts/security/"})


@login_required
def password(request: ClinicRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST or None)
    for name in ("old_password", "new_password1", "new_password2"):
        form.fields[name].widget.attrs.pop("autofocus", None)
    form.fields["old_password"].widget.attrs["autofocus"] = True
    if request.method == "POST" and form.is_valid():
        form.save()
        old_key = request.session.session_key
        update_session_auth_hash(request, form.user)  # a new session key for this browser
        StaffSession.objects.filter(session_key=old_key).update(session_key=request.session.session_key)
        ended = services.record_password_change(actor_for(request), request.session.session_key)
        others = f" {ended} other session{'s' if ended != 1 else ''} ended." if ended else ""
        messages.success(request, f"Your password was changed.{others}")
        return redirect("accounts:security")
    return render(request, "accounts/password.html", {"form": form}, status=400 if form.errors else 200)


def _session_rows(request: ClinicRequest) -> list[dict[str, Any]]:
    current = request.session.session_key
    return [
        {
            "row": row,
            "device": services.describe_user_agent(row.user_agent),
            "current": row.session_key == current,
        }
        for row in services.active_sessions(request.user)
    ]


@login_required
def sessions(request: ClinicRequest) -> HttpResponse:
    if request.method == "POST":
        actor = actor_for(request)
        current = request.session.session_key
        try:
            if request.POST.get("end") == "others":
                ended = services.end_other_sessions(actor, current)
                messages.success(request, f"Ended {ended} other session{'s' if ended != 1 else ''}.")
            else:
                session_id = int(request.POST.get("session", "0") or 0)
                services.end_session(actor, session_id, current)
                messages.success(request, "Session ended: that browser has to log in again.")
        except (ServiceError, ValueError) as error:
            messages.error(request, str(error) if isinstance(error, ServiceError) else "Choose a session to end.")
        return redirect("accounts:sessions")
    return render(request, "accounts/sessions.html", {"sessions": _session_rows(request)})


# --- API tokens ----------------------------------------------------------------------------------------------------------


def _tokens_of(request: ClinicRequest) -> list[ApiToken]:
    return queries.tokens_of(request.user)


@require(Permission.API_TOKEN_USE)
def tokens(request: ClinicRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        raw = clinic_services.create_api_token(
            request.membership,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            days=form.cleaned_data["days"],
            actor=actor_for(request),
        )
        return render(request, "accounts/token_created.html", {"raw": raw, "name": form.cleaned_data["name"]})
    return render(
        request,
        "accounts/tokens.html",
        {"form": form, "tokens": _tokens_of(request)},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def revoke_token(request: MiddlewareRequest, token_id: int) -> HttpResponse:
    """Revoke a token: its owner, or an administrator of the token's clinic."""
    token = queries.token(token_id)
    membership = request.membership
    own = token is not None and token.membership.user_id == request.user.pk
    admin = (
        token is not None
        and membership is not None
        and membership.can(Permission.CLINIC_MANAGE)
        and token.membership.clinic_id == membership.clinic_id
    )
    if token is None or not (own or admin):
        raise Http404("No such token.")
    if token.revoked_at is None:
        clinic_services.revoke_api_token(token, actor=actor_for(request))
        messages.success(request, f"Token {token.hint}… revoked: it no longer works.")
    target = "accounts:clinic-tokens" if request.POST.get("from") == "clinic" and admin else "accounts:tokens"
    return redirect(target)


# --- the administrator's pages -------------------------------------------------------------------------------------------


def _staff_page(request: ClinicRequest, failed: tuple[int, MemberNpiForm] | None = None) -> HttpResponse:
    rows = [
        {
            "membership": m,
            "status": services.factor_status(m.user),
            "npi_form": failed[1] if failed and failed[0] == m.pk else MemberNpiForm(initial={"npi": m.npi}),
        }
        for m in queries.clinic_staff(request.clinic)
    ]
    return render(request, "accounts/staff.html", {"rows": rows}, status=400 if failed else 200)


@require(Permission.CLINIC_MANAGE)
@require_GET
def staff(request: ClinicRequest) -> HttpResponse:
    """The clinic's staff: roles, second-factor status (never a secret) with a reset link for each colleague, and each
    one's own NPI (printed on superbills as the rendering provider)."""
    return _staff_page(request)


@require(Permission.CLINIC_MANAGE)
@require_POST
def staff_npi(request: ClinicRequest, membership_id: int) -> HttpResponse:
    member = clinic_queries.member_or_404(request.clinic, membership_id)
    form = MemberNpiForm(request.POST)
    if form.is_valid():
        try:
            saved = clinic_services.set_member_npi(actor_for(request), member, form.cleaned_data["npi"])
        except ValidationError as error:
            apply_errors(form, error)
        else:
            name = saved.user.get_full_name() or saved.user.username
            messages.success(request, f"NPI of {name}: {saved.npi or 'not recorded'}.")
            return redirect("accounts:staff")
    return _staff_page(request, failed=(member.pk, form))


@require(Permission.CLINIC_MANAGE)
def reset(request: ClinicRequest, user_uuid: Any) -> HttpResponse:
    actor = actor_for(request)
    try:
        membership = services.colleague_membership(actor, user_uuid)
    except Membership.DoesNotExist:
        raise Http404("No such member of this clinic.") from None
    target = membership.user
    form = ResetForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.reset_second_factor(actor, target, form.cleaned_data["reason"])
            except (ServiceError, AccessDenied) as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    f"{target}'s second factor was reset. At their next log-in they set up a new authenticator app.",
                )
                if request.htmx:
                    return HttpResponseClientRedirect("/clinic/staff/")
                return redirect("accounts:staff")
    return render(
        request,
        "accounts/reset.html",
        {"target": target, "membership": membership, "status": services.factor_status(target), "form": form},
        status=status,
    )


@require(Permission.CLINIC_MANAGE)
def clinic_tokens(request: ClinicRequest) -> HttpResponse:
    found = queries.clinic_tokens(request.clinic)
    return render(request, "accounts/clinic_tokens.html", {"tokens": found})
