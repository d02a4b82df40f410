"""Messaging pages: the outbox, a patient's messages and choices, the staff calendar feed and the appointment .ics.

Thin: parse, check the role's permission, look records up inside request.clinic (another clinic's record is a 404),
call the service or query, render. Reading messages is reading patient data, so it is audited.
"""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from prolotrack.audit.services import ServiceError, record_disclosure, record_read
from prolotrack.billing import printing
from prolotrack.billing import queries as billing_queries
from prolotrack.billing.forms import SuperbillForm
from prolotrack.clinical.queries import clinic_today
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import require
from prolotrack.core.forms import apply_errors
from prolotrack.core.site import site_url
from prolotrack.messaging import ics, queries, services
from prolotrack.messaging.forms import OptOutForm, OutboxFilterForm
from prolotrack.messaging.models import OPEN_STATUSES, OutboxMessage
from prolotrack.patients.queries import patient_or_404
from prolotrack.treatment import queries as treatment_queries
from prolotrack.treatment.models import TreatmentSession


def _page_number(request: HttpRequest) -> int:
    try:
        return max(int(request.GET.get("page", "1")), 1)
    except ValueError:
        return 1


@require(Permission.OUTBOX_VIEW)
def outbox(request: ClinicRequest) -> HttpResponse:
    clinic = request.clinic
    form = OutboxFilterForm(request.GET or None)
    filters = queries.OutboxFilter()
    status = 200
    if form.is_bound:
        if form.is_valid():
            data = form.cleaned_data
            filters = queries.OutboxFilter(
                status=data["status"],
                kind=data["kind"],
                channel=data["channel"],
                date_from=data["date_from"],
                date_to=data["date_to"],
            )
        else:
            status = 400
    number = _page_number(request)
    rows, has_next = queries.page(queries.outbox(clinic, filters), number) if status == 200 else ([], False)
    # The trail names every patient whose messages the page shows (one event each, one insert), as the API's outbox.
    detail = {"rows": len(rows), "page": number}
    record_disclosure(actor_for(request), "messaging.outbox.viewed", [m.patient for m in rows], detail=detail)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "rows": rows,
        "page_number": number,
        "has_next": has_next,
        "query": query.urlencode(),
        "today": clinic_today(clinic),
    }
    return render(request, "messaging/outbox.html", context, status=status)


@require(Permission.OUTBOX_VIEW)
def outbox_message(request: ClinicRequest, message_uuid: Any) -> HttpResponse:
    try:
        message = queries.get_message(request.clinic, message_uuid)
    except OutboxMessage.DoesNotExist:
        raise Http404("No such message in this clinic.") from None
    record_read(actor_for(request), "messaging.message.viewed", record=message)
    preview = None
    if not message.sent_at and message.status in OPEN_STATUSES:
        # A planned message holds no words yet: show what it would say now, from the current facts.
        preview = services.render(message, timezone.localtime(timezone.now(), message.clinic.tz).date())
    return render(request, "messaging/message.html", {"message": message, "preview": preview})


@require(Permission.OUTBOX_VIEW)
def patient_messages(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    """The chart's "Reminders" card (HTMX), or the same list as a page."""
    patient = patient_or_404(request, patient_uuid)
    record_read(actor_for(request), "messaging.patient_messages.viewed", record=patient, patient_uuid=patient.uuid)
    rows = queries.patient_messages(patient)
    opted = queries.opt_out_pairs(patient)
    labels = {k: label for k, label, _ in queries.choice_grid()}
    context = {
        "patient": patient,
        "rows": rows,
        "opt_outs": sorted(f"{labels.get(kind, kind)} by {'SMS' if ch == 'sms' else 'email'}" for ch, kind in opted),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "messaging/_chart_card_body.html", context)
    return render(request, "messaging/patient_messages.html", context)


@require(Permission.PATIENT_EDIT_DEMOGRAPHICS)
@require_http_methods(["GET", "POST"])
def patient_preferences(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    grid = queries.choice_grid()
    current = queries.opt_out_pairs(patient)
    initial = {f"{channel}__{kind}": True for channel, kind in current}
    if request.method == "POST":
        form = OptOutForm(request.POST, grid=grid)
        if form.is_valid():
            try:
                changed = services.set_opt_outs(actor_for(request), patient, form.opted_out())
            except ServiceError as error:
                apply_errors(form, error)
            else:
                messages.success(
                    request,
                    f"Message choices for {patient.full_name} saved ({changed} change{'s' if changed != 1 else ''}).",
                )
                return redirect(reverse("patients:chart", args=[patient.uuid]) + "#reminders")
        return render(request, "messaging/preferences.html", {"patient": patient, "form": form}, status=400)
    form = OptOutForm(initial=initial, grid=grid)
    return render(request, "messaging/preferences.html", {"patient": patient, "form": form})


# --- Calendars ------------------------------------------------------------------------------------------------


def _feed_url(request: HttpRequest, token: str) -> str:
    return site_url(reverse("messaging:calendar-feed", args=[token]))


@require(Permission.CALENDAR_FEED)
@require_http_methods(["GET", "POST"])
def calendar_feed_settings(request: ClinicRequest) -> HttpResponse:
    """Create, regenerate or revoke one's own feed URL; a new URL is shown on this response only."""
    actor = actor_for(request)
    new_url = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "create":
            _feed, token = services.create_feed_token(actor)
            new_url = _feed_url(request, token)
        elif action == "revoke":
            if services.revoke_feed_token(actor):
                messages.success(
                    request, "Your calendar feed URL is revoked: calendars subscribed to it stop updating."
                )
            else:
                messages.info(request, "You had no calendar feed to revoke.")
            return redirect("messaging:calendar-feed-settings")
        else:
            return render(
                request,
                "messaging/calendar_feed.html",
                {"feed": queries.live_feed(request.user, actor.clinic), "error": "Choose create or revoke."},
                status=400,
            )
    context = {"feed": queries.live_feed(request.user, actor.clinic), "new_url": new_url}
    response = render(request, "messaging/calendar_feed.html", context)
    response["Cache-Control"] = "no-store"
    return response


def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The feed itself, for calendar clients: the secret token is the only credential; anything wrong is a 404."""
    found = queries.feed_by_token(token)
    if found is None:
        raise Http404("No such calendar feed.")
    feed, membership = found
    sessions = queries.feed_sessions(membership, clinic_today(feed.clinic))
    body = ics.staff_feed(feed.user, feed.clinic, sessions, site_url=site_url())
    services.touch_feed(feed, len(sessions))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="prolotrack.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


@require(Permission.SCHEDULE_VIEW)
def session_ics(request: ClinicRequest, session_uuid: Any) -> HttpResponse:
    """The patient's appointment as an .ics file, to hand over or send."""
    try:
        session = treatment_queries.get_session(request.clinic, session_uuid)
    except TreatmentSession.DoesNotExist:
        raise Http404("No such session in this clinic.") from None
    if session.starts_at is None:
        raise Http404("This session is not booked yet: book a time first.")
    record_read(actor_for(request), "messaging.appointment_ics.downloaded", record=session)
    response = HttpResponse(ics.patient_appointment(session), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{ics.ics_filename(session)}"'
    response["Last-Modified"] = timezone.now().strftime("%a, %d %b %Y %H:%M:%S GMT")
    return response


# --- Billing documents by email (docs/BILLING.md, "Emailing") --------------------------------------------------------


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = fallback
    return redirect(target)


def _queue(request: ClinicRequest, patient: Any, fallback: str, **document: Any) -> HttpResponse:
    try:
        message = services.queue_billing_document(actor_for(request), patient, **document)
    except (ServiceError, ValidationError) as error:
        messages.error(request, error.messages[0] if isinstance(error, ValidationError) else str(error))
    else:
        messages.success(
            request,
            f"{document['title']} queued to {message.to_address}: it goes out with the next send, within the clinic's "
            "sending hours (see the patient's messages).",
        )
    return _back(request, fallback)


@require(Permission.BILLING_VIEW)
@require_POST
def email_invoice(request: ClinicRequest, invoice_uuid: Any) -> HttpResponse:
    row = billing_queries.invoice_or_404(request, invoice_uuid)
    fallback = reverse("billing:invoice", args=[row.uuid])
    if row.status == "draft":
        messages.error(request, "A draft invoice is not sent: issue it first.")
        return _back(request, fallback)
    return _queue(
        request, row.patient, fallback, document="invoice", record=row, title=f"Invoice {row.number}",
        filename=printing.invoice_filename(row), pdf=printing.invoice_pdf(row),
    )  # fmt: skip


@require(Permission.BILLING_VIEW)
@require_POST
def email_receipt(request: ClinicRequest, payment_uuid: Any) -> HttpResponse:
    payment = billing_queries.payment_or_404(request, payment_uuid)
    fallback = reverse("billing:account", args=[payment.patient.uuid])
    return _queue(
        request, payment.patient, fallback, document="receipt", record=payment,
        title=f"Receipt of {payment.received_on:%Y-%m-%d}", filename=printing.receipt_filename(payment),
        pdf=printing.receipt_pdf(payment),
    )  # fmt: skip


@require(Permission.BILLING_VIEW)
@require_POST
def email_superbill(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    fallback = reverse("billing:superbill", args=[patient.uuid])
    form = SuperbillForm(request.POST, prefix="email")
    if not form.is_valid():
        messages.error(
            request, " ".join(str(e) for e in form.non_field_errors()) or "Choose the first and last day of service."
        )
        return _back(request, fallback)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    return _queue(
        request, patient, fallback, document="superbill", record=patient,
        title=f"Superbill {start:%Y-%m-%d} to {end:%Y-%m-%d}", filename=printing.superbill_filename(patient, start, end),
        pdf=printing.superbill_pdf(patient, start, end),
    )  # fmt: skip
