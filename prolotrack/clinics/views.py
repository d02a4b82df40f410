"""Sign-in, clinic switching, and the clinic administrator's pages: settings, staff and the audit trail."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from prolotrack.audit.queries import events_page
from prolotrack.clinics import queries
from prolotrack.clinics.config import ClinicConfigError
from prolotrack.clinics.forms import AuditFilterForm, ClinicSettingsForm
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.queries import SESSION_CLINIC_KEY
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
def switch_clinic(request: ClinicRequest) -> HttpResponse:
    membership = queries.membership_in(request.user, request.POST.get("clinic", ""))
    if membership is None:
        raise Http404("You are not a member of that clinic.")
    request.session[SESSION_CLINIC_KEY] = str(membership.clinic.uuid)
    messages.info(request, f"You are now working in {membership.clinic.name}.")
    target = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return redirect(target)


@require(Permission.CLINIC_MANAGE)
def clinic_settings(request: ClinicRequest) -> HttpResponse:
    clinic = request.clinic
    form = ClinicSettingsForm(request.POST or None, clinic=clinic)
    if request.method == "POST" and form.is_valid():
        try:
            update_clinic_settings(actor_for(request), clinic, form.config_values())
        except ClinicConfigError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Clinic settings saved.")
            return redirect("clinic-settings")
    return render(request, "clinics/settings.html", {"form": form}, status=400 if form.errors else 200)


def home(request: ClinicRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    return redirect("patients:list")


@require(Permission.AUDIT_VIEW)
def audit_list(request: ClinicRequest) -> HttpResponse:
    """The clinic's audit trail, filtered by user, patient, action and date, 50 events a page."""
    clinic = request.clinic
    form = AuditFilterForm(request.GET or None, clinic=clinic)
    filters: dict = {}
    if form.is_valid():
        data = form.cleaned_data
        filters = {k: data.get(k) for k in ("user", "patient_uuid", "date_from", "date_to")}
        filters["action"] = data.get("action") or ""
    page_number = max(1, int(request.GET.get("page", "1")) if request.GET.get("page", "1").isdigit() else 1)
    events, has_next = events_page(clinic, page=page_number, nothing=form.is_bound and not form.is_valid(), **filters)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "events": events, "page_number": page_number, "has_next": has_next}
    return render(request, "audit/list.html", {**context, "query": query.urlencode()})
