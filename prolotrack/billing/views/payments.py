"""A refund from a payment, through the confirmation page."""

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from prolotrack.billing import present, queries, services
from prolotrack.billing.forms import AmountReasonForm
from prolotrack.billing.views.common import REFUSALS, posted
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import require
from prolotrack.core.forms import apply_errors
from prolotrack.domain.money import REFUND_REASONS


@require(Permission.BILLING_CREDIT)
@require_http_methods(["GET", "POST"])
def payment_refund(request: ClinicRequest, payment_uuid: Any) -> HttpResponse:
    payment = queries.payment_or_404(request, payment_uuid)
    limit = queries.refund_limit_of(payment)
    initial = {"version": payment.version, "amount": f"{limit}"}
    form = AmountReasonForm(posted(request), reasons=REFUND_REASONS, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            refund = services.refund_payment(
                actor_for(request), payment, amount=form.cleaned_data["amount"], reason=form.text
            )
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Refund of {present.money(refund.amount, payment.currency)} recorded.")
            return redirect("billing:account", patient_uuid=payment.patient.uuid)
    context = {**present.refund_step(payment, limit), "form": form}
    return render(request, "core/confirm.html", context, status=400 if form.errors else 200)
