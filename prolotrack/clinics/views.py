"""Sign-in, clinic switching and clinic settings."""

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from prolotrack.clinics.config import ClinicConfigError
from prolotrack.clinics.middleware import SESSION_CLINIC_KEY
from prolotrack.clinics.models import Membership
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for, update_clinic_settings
from prolotrack.core.access import require


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the database answers, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return JsonResponse({"status": "error", "database": str(error.__class__.__name__)}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@login_required
@require_POST
def switch_clinic(request: HttpRequest) -> HttpResponse:
    membership = Membership.objects.filter(
        user=request.user, is_active=True, clinic__uuid=request.POST.get("clinic", "")
    ).first()
    if membership is None:
        raise Http404("You are not a member of that clinic.")
    request.session[SESSION_CLINIC_KEY] = str(membership.clinic.uuid)
    messages.info(request, f"You are now working in {membership.clinic.name}.")
    target = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return redirect(target)


class ClinicSettingsForm(forms.Form):
    idle_timeout_minutes = forms.IntegerField(
        min_value=1, max_value=240, help_text="Staff are logged off after this many idle minutes (default 15)."
    )
    nsaid_stop_days = forms.IntegerField(
        min_value=0,
        max_value=28,
        label="NSAID stop window (days before a session)",
        help_text="Clinics use 2-3 days to 2 weeks; default 3 (docs/SETTINGS.md).",
    )
    anaesthetic_warn_percent = forms.IntegerField(
        min_value=50,
        max_value=100,
        label="Anaesthetic dose warning (% of the maximum)",
        help_text="Warn when a session's local anaesthetic reaches this share of the weight-based maximum. "
        "80% is a product default, not a published number (docs/SETTINGS.md).",
    )
    min_injections_per_session = forms.IntegerField(
        min_value=1,
        max_value=100,
        label="Usual injections per session: at least",
        help_text="Fewer injections warn (never block). Default 4 (DOMAIN.md §4).",
    )
    non_responder_after_sessions = forms.IntegerField(
        min_value=1,
        max_value=20,
        label="Non-responder alert after this many sessions",
        help_text="Flag a patient who has not reached the minimal important change by then. Default 3, a product "
        "default (trials give 3-6 sessions; docs/SETTINGS.md).",
    )
    max_injections_per_session = forms.IntegerField(
        min_value=1,
        max_value=100,
        label="Usual injections per session: at most",
        help_text="More injections warn (never block). Default 15; spinal sessions can exceed it.",
    )

    @classmethod
    def initial_from(cls, config: Any) -> dict[str, Any]:
        """Form values for the stored settings (the warning threshold is shown as a percentage)."""
        values = config.to_json()
        fraction = Decimal(values.pop("anaesthetic_warn_fraction"))
        values["anaesthetic_warn_percent"] = int(fraction * 100)
        return values

    def config_values(self) -> dict[str, Any]:
        """Settings to save, with the percentage turned back into a fraction (80 -> 0.8)."""
        values = dict(self.cleaned_data)
        values["anaesthetic_warn_fraction"] = Decimal(values.pop("anaesthetic_warn_percent")) / 100
        return values


@require(Permission.CLINIC_MANAGE)
def clinic_settings(request: HttpRequest) -> HttpResponse:
    clinic = request.clinic  # type: ignore[attr-defined]
    form = ClinicSettingsForm(request.POST or None, initial=ClinicSettingsForm.initial_from(clinic.config))
    if request.method == "POST" and form.is_valid():
        try:
            update_clinic_settings(actor_for(request), clinic, form.config_values())
        except ClinicConfigError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Clinic settings saved.")
            return redirect("clinic-settings")
    return render(request, "clinics/settings.html", {"form": form}, status=400 if form.errors else 200)


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    return redirect("patients:list")
