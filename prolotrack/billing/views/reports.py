"""The financial reports page (/billing/reports/), its two charts (SVG or PNG) and the accountant's CSV files.

Front desk (billing.takings) sees the takings by day and method; administrators (billing.reports) everything. A bad
date range is shown on the page with what to fix, nothing is computed and nothing is audited. Showing the page and
each CSV file is an audited read: one event per patient named (the project's rule for a read that lists patients),
one without a patient when the report names none (takings).
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from prolotrack.billing import queries, report_queries
from prolotrack.billing import report_present as present
from prolotrack.billing.services import clinic_today
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import can, require
from prolotrack.domain import ledger
from prolotrack.domain.errors import InputError

CHARTS = ("takings", "ageing")


def question(request: ClinicRequest) -> present.Question:
    return present.ask(request.clinic, request.GET)


def _full(request: ClinicRequest) -> bool:
    return can(request, Permission.BILLING_REPORTS)


def _audit(request: ClinicRequest, action: str, detail: dict[str, Any], patient_uuids: set[Any]) -> None:
    present.audit_read(actor_for(request), action, detail, patient_uuids)


@require(Permission.BILLING_TAKINGS)
@require_GET
def reports(request: ClinicRequest) -> HttpResponse:
    clinic: Any = request.clinic
    full = _full(request)
    today = clinic_today(clinic)
    context: dict[str, Any] = {"params": request.GET, "full": full, "today": today}
    try:
        asked = question(request)
    except InputError as error:
        context["error"] = str(error)
        return render(request, "billing/reports/reports.html", context, status=400)
    takings = report_queries.takings(clinic, asked.first, asked.last)
    issued = report_queries.issued(clinic, asked.first, asked.last) if full else None
    ageing = report_queries.ageing(clinic, asked.as_of) if full else None
    liability = queries.package_liability(clinic, asked.as_of) if full else None
    _audit(request, "billing.reports.viewed", asked.as_query(), present.named(issued, ageing, liability))
    table = takings.table
    # The columns of the day table: the methods that moved money in these days (as on the chart), else all.
    used = [m for m in table.methods if any(key[1] == m for key in table.moved)] or table.methods
    context.update(
        {
            "asked": asked,
            "query": urlencode(asked.as_query()),
            "currency": takings.currency,
            "takings": takings,
            "used_methods": [(m, present.method_label(m)) for m in used],
            "day_rows": [(day, [table.cells[(day, m)] for m in used], table.day_total(day)) for day in table.days],
            "method_totals": [table.method_total(m) for m in used],
            "issued": issued,
            "ageing": ageing,
            "liability": liability,
            "buckets": ledger.BUCKET_LABELS,
            "bucket_pairs": [(b, ageing.ageing.totals[b]) for b in ledger.BUCKET_LABELS] if ageing else [],
            "ageing_rows": (
                [(row, [(b, row.buckets[b]) for b in ledger.BUCKET_LABELS]) for row in ageing.ageing.rows]
                if ageing
                else []
            ),
        }
    )
    return render(request, "billing/reports/reports.html", context)


def _asked_or_404(request: ClinicRequest) -> present.Question:
    try:
        return question(request)
    except InputError as error:
        raise Http404(str(error)) from None


@require(Permission.BILLING_TAKINGS)
@require_GET
def chart(request: ClinicRequest, name: str, fmt: str) -> HttpResponse:
    """A chart of the page (its table is on the page beside it). Not audited: the page that shows it is."""
    from prolotrack.core import charts

    if name not in CHARTS or fmt not in ("svg", "png"):
        raise Http404("No such chart.")
    if name != "takings" and not _full(request):
        raise PermissionDenied("The ageing of balances is for clinic administrators.")
    clinic: Any = request.clinic
    asked = _asked_or_404(request)
    if name == "takings":
        report = report_queries.takings(clinic, asked.first, asked.last)
        days, series = present.takings_chart_series(report)
        figure = charts.stacked_bars(
            "Net takings per day, by payment method",
            days,
            [charts.Series(label, values) for label, values in series],
            unit=report.currency,
            empty="No payments or refunds in these days",
        )
    else:
        ageing = report_queries.ageing(clinic, asked.as_of)
        totals = [ageing.ageing.totals[b] for b in ledger.BUCKET_LABELS]
        figure = charts.bars(
            f"Owed on {asked.as_of:%d %b %Y}, by days since the invoice was issued",
            [f"{b} days" for b in ledger.BUCKET_LABELS],
            totals,
            unit=ageing.currency,
            labels=[present.amount(t, ageing.currency) for t in totals],
        )
    if fmt == "png":
        response = HttpResponse(charts.png(figure), content_type="image/png")
    else:
        response = HttpResponse(charts.svg(figure), content_type="image/svg+xml")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="{name}-{asked.first}-{asked.last}.{fmt}"'
    return response


@require(Permission.BILLING_TAKINGS)
@require_GET
def report_csv(request: ClinicRequest, name: str) -> HttpResponse:
    """One of the accountant's CSV files, audited as a read of every patient it names."""
    if name not in present.CSV_NAMES:
        raise Http404("No such report.")
    if name not in present.TAKINGS_CSV and not _full(request):
        raise PermissionDenied("This report is for clinic administrators.")
    clinic: Any = request.clinic
    try:
        asked = question(request)
    except InputError as error:
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    named: set[Any] = set()
    if name in ("takings", "takings-by-clinician"):
        takings = report_queries.takings(clinic, asked.first, asked.last)
        body = present.takings_csv(takings) if name == "takings" else present.clinician_csv(takings)
        filename = f"{name}-{asked.first}-{asked.last}.csv"
    elif name == "package-liability":
        liability = queries.package_liability(clinic, asked.as_of)
        body, named = present.liability_csv(liability), present.named(None, None, liability)
        filename = f"package-liability-{asked.as_of}.csv"
    elif name == "ageing":
        ageing = report_queries.ageing(clinic, asked.as_of)
        body, named = present.ageing_csv(ageing), present.named(None, ageing)
        filename = f"ageing-{asked.as_of}.csv"
    else:
        issued = report_queries.issued(clinic, asked.first, asked.last)
        body = present.invoices_csv(issued) if name == "invoices" else present.credit_notes_csv(issued)
        rows = issued.invoices if name == "invoices" else issued.credit_notes
        named = {r["patient__uuid"] for r in rows}
        filename = f"{name}-{asked.first}-{asked.last}.csv"
    _audit(request, "billing.reports.downloaded", {"report": name, **asked.as_query()}, named)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
