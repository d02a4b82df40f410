"""The fee schedule: every item with its versions; administrators add items and new prices."""

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from prolotrack.billing import queries, services
from prolotrack.billing.forms import FeeItemForm, FeeVersionForm, PackageOfferForm, PackageVersionForm
from prolotrack.billing.views.common import REFUSALS
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import require
from prolotrack.core.forms import apply_errors


def new_offer_form(request: ClinicRequest, data: Any = None, *, code: bool = True) -> PackageVersionForm:
    """The package offer form (code=False: a new version of an offer), with the clinic's protocols and items."""
    day = services.clinic_today(request.clinic)
    protocols, items = queries.offer_choices(request.clinic, day)
    form_class = PackageOfferForm if code else PackageVersionForm
    return form_class(data, protocols=protocols, items=items, initial={"effective_from": day})


def fees_page(
    request: ClinicRequest, form: FeeItemForm | None = None, status: int = 200, offer_form: Any = None
) -> HttpResponse:
    context = {
        "items": queries.fee_items(request.clinic, packages=False),
        "form": form or FeeItemForm(initial={"active_from": services.clinic_today(request.clinic)}),
        "version_form": FeeVersionForm(),
        "offers": queries.package_offers(request.clinic),
        "offer_form": offer_form or new_offer_form(request),
        "offer_version_form": new_offer_form(request, code=False),
        "currency": request.clinic.config.currency,
    }
    return render(request, "billing/fees.html", context, status=status)


@require(Permission.BILLING_VIEW)
def fee_schedule(request: ClinicRequest) -> HttpResponse:
    return fees_page(request)


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
    return fees_page(request, form, status=400)


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
