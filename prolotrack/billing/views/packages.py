"""Course packages (docs/BILLING.md, "Course packages"): offers on the fee schedule (administrators), selling one from
the patient's account (front desk), a package's page with its uses, linking it to a course, settling it when its
course stopped early (administrators), and the course page's card."""

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from prolotrack.audit.services import record_read
from prolotrack.billing import present, queries, services
from prolotrack.billing.forms import IssueForm, LinkCourseForm, SellPackageForm
from prolotrack.billing.views.common import REFUSALS, posted
from prolotrack.billing.views.fees import fees_page
from prolotrack.billing.views.fees import new_offer_form as offer_form
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import require
from prolotrack.core.forms import apply_errors
from prolotrack.patients.queries import patient_or_404
from prolotrack.treatment.queries import course_or_404


@require(Permission.BILLING_FEES)
@require_POST
def offer_add(request: ClinicRequest) -> HttpResponse:
    form = offer_form(request, request.POST)
    if form.is_valid():
        data = dict(form.cleaned_data)
        data["active_from"] = data.pop("effective_from")
        try:
            item = services.create_package_offer(actor_for(request), **data)
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Package offer {item.code} added to the fee schedule.")
            return redirect("billing:fees")
    return fees_page(request, offer_form=form, status=400)


@require(Permission.BILLING_FEES)
@require_POST
def offer_version(request: ClinicRequest, fee_uuid: Any) -> HttpResponse:
    item = queries.fee_or_404(request, fee_uuid)
    form = offer_form(request, request.POST, code=False)
    if form.is_valid():
        try:
            services.add_package_version(actor_for(request), item, **form.cleaned_data)
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"New terms of {item.code} from {form.cleaned_data['effective_from']:%Y-%m-%d}.")
            return redirect("billing:fees")
    messages.error(request, f"{item.code}: " + " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("billing:fees")


@require(Permission.BILLING_INVOICE)
@require_http_methods(["GET", "POST"])
def sell(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    """Sell a package: a new draft invoice with its line, then the invoice page to issue it and take the payment."""
    patient = patient_or_404(request, patient_uuid)
    offers = queries.sellable_offers(request.clinic, services.clinic_today(request.clinic))
    form = SellPackageForm(posted(request), offers=offers, courses=queries.open_courses(patient))
    if form.is_valid():
        offer, course = form.chosen()
        try:
            sold = services.sell_package_on_new_draft(actor_for(request), patient, offer, course=course)
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{sold.name} added to a draft invoice: issue it, then take the payment.")
            return redirect("billing:invoice", invoice_uuid=sold.invoice.uuid)
    context = {"patient": patient, "form": form, "offers": offers}
    return render(request, "billing/package_sell.html", context, status=400 if form.errors else 200)


def _package_page(request: ClinicRequest, package_uuid: Any, link_form: LinkCourseForm | None = None) -> HttpResponse:
    sold = queries.package_or_404(request, package_uuid)
    record_read(actor_for(request), "billing.package.viewed", record=sold, patient_uuid=sold.patient.uuid)
    context = present.package_page(sold)
    context["link_form"] = link_form or LinkCourseForm(courses=context["courses"], initial={"version": sold.version})
    return render(request, "billing/package.html", context, status=400 if link_form else 200)


@require(Permission.BILLING_VIEW)
@require_GET
def package(request: ClinicRequest, package_uuid: Any) -> HttpResponse:
    return _package_page(request, package_uuid)


@require(Permission.BILLING_INVOICE)
@require_POST
def package_link(request: ClinicRequest, package_uuid: Any) -> HttpResponse:
    sold = queries.package_or_404(request, package_uuid)
    form = LinkCourseForm(request.POST, courses=queries.open_courses(sold.patient))
    if form.is_valid():
        try:
            services.link_package(
                actor_for(request), sold, form.chosen(), expected_version=form.cleaned_data["version"]
            )
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{sold.name} linked to the course.")
            return redirect("billing:package", package_uuid=sold.uuid)
    return _package_page(request, package_uuid, link_form=form)


@require(Permission.BILLING_CREDIT)
@require_http_methods(["GET", "POST"])
def package_settle(request: ClinicRequest, package_uuid: Any) -> HttpResponse:
    """The confirmation step of settling a package whose course stopped early (a credit note by the clinic's rule)."""
    sold = queries.package_or_404(request, package_uuid)
    form = IssueForm(posted(request), initial={"version": sold.version})
    if request.method == "POST" and form.is_valid():
        try:
            done = services.settle_stopped_package(
                actor_for(request), sold, expected_version=form.cleaned_data["version"]
            )
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, present.settled_message(done))
            return redirect("billing:package", package_uuid=sold.uuid)
    context = {**present.settle_step(sold), "form": form}
    return render(request, "core/confirm.html", context, status=400 if form.errors else 200)


@require(Permission.BILLING_VIEW)
@require_GET
def course_card(request: ClinicRequest, course_uuid: Any) -> HttpResponse:
    """The course page's Packages card (loaded by HTMX): each package's uses left and the sessions that drew them."""
    course = course_or_404(request, course_uuid)
    return render(request, "billing/_course_packages.html", queries.course_packages(course))
