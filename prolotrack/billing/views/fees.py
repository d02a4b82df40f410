"""The fee schedule: every item with its versions; administrators add items and new prices."""

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from prolotrack.billing import queries, services
from prolotrack.billing.forms import FeeItemForm, FeeVersionForm
from prolotrack.billing.views.common import REFUSALS
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import require
from prolotrack.core.forms import apply_errors


def _page(request: ClinicRequest, form: FeeItemForm | None = None, status: int = 200) -> HttpResponse:
    context = {
        "items": queries.fee_items(request.clinic),
        "form": form or FeeItemForm(initial={"active_from": services.clinic_today(request.clinic)}),
        "version_form": FeeVersionForm(),
        "currency": request.clinic.config.currency,
    }
    return render(request, "billing/fees.html", context, status=status)


@require(Permission.BILLING_VIEW)
def fee_schedule(request: ClinicRequest) -> HttpResponse:
    return _page(request)


@require(Permission.BILLING_FEES)
@require_POST
def fee_add(request: ClinicRequest) -> HttpResponse:
    form = FeeItemForm(request.POST)
    if form.is_valid():
        try:
            item = services.create_fee_item(actor_for(request), **form.cleaned_data)
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{item.code} added to the fee schedule.")
            return redirect("billing:fees")
    return _page(request, form, status=400)


@require(Permission.BILLING_FEES)
@require_POST
def fee_version(request: ClinicRequest, fee_uuid: Any) -> HttpResponse:
    item = queries.fee_or_404(request, fee_uuid)
    form = FeeVersionForm(request.POST)
    if form.is_valid():
        try:
            services.add_fee_version(actor_for(request), item, **form.cleaned_data)
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"New price of {item.code} from {form.cleaned_data['effective_from']:%Y-%m-%d}.")
            return redirect("billing:fees")
    messages.error(request, f"{item.code}: " + " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("billing:fees")
