"""The clinic dashboard page, each chart as SVG or PNG, and each chart's data as CSV.

Aggregates only (no names, no identifiers); small cells hidden. Permission dashboard.view. A bad filter is shown on
the page with what to fix, and the figures are not computed.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode

from prolotrack.analytics import queries, research
from prolotrack.audit.services import record_read
from prolotrack.clinical.queries import clinic_today
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import can, require


def _board(request: ClinicRequest, filters: queries.Filters, action: str = "") -> queries.Dashboard:
    """The figures; audited as `action` (the page, each download), not for the page's own chart images."""
    clinic: Any = request.clinic
    if action:
        record_read(actor_for(request), action, record=None, detail=filters.as_query())
    return queries.cached_dashboard(clinic, filters, clinic_today(clinic))


def _researcher(request: HttpRequest) -> bool:
    """A dashboard reader without the day-level figures (researchers): whole ended quarters only."""
    return not can(request, Permission.DASHBOARD_DETAIL)


def _no_researchers(request: HttpRequest) -> None:
    """Charts and CSV files carry exact, day-filtered figures: not for researchers (they have the quarterly view)."""
    if _researcher(request):
        raise PermissionDenied("Researchers see the quarterly research figures on the dashboard page.")


def research_dashboard(request: ClinicRequest) -> HttpResponse:
    clinic: Any = request.clinic
    today = clinic_today(clinic)
    choices = research.periods(clinic, today)
    context: dict[str, Any] = {"periods": choices, "privacy": research.PRIVACY}
    wanted = request.GET.get("period") or (choices[0] if choices else "")
    if request.GET.get("start") or request.GET.get("end") or request.GET.get("indication"):
        context["error"] = "Researchers see whole quarters only: choose a quarter (no dates, no indication text)."
        return render(request, "analytics/research.html", context, status=400)
    if wanted:
        try:
            context["release"] = research.as_json(research.release(actor_for(request), wanted, today))
        except research.PeriodError as error:
            context["error"] = str(error)
            return render(request, "analytics/research.html", context, status=400)
    return render(request, "analytics/research.html", context)


@require(Permission.DASHBOARD_VIEW)
def dashboard(request: ClinicRequest) -> HttpResponse:
    if _researcher(request):
        return research_dashboard(request)
    clinic: Any = request.clinic
    context: dict[str, Any] = {"indications": queries.indications(clinic), "params": request.GET}
    try:
        filters = queries.parse_filters(request.GET)
    except queries.FilterError as error:
        context["error"] = str(error)
        return render(request, "analytics/dashboard.html", context, status=400)
    from prolotrack.analytics import charts  # matplotlib loads on the first chart, not with the URL map

    board = _board(request, filters, "analytics.dashboard.viewed")
    query = urlencode(filters.as_query())
    context.update(
        {
            "board": board,
            "filters": filters,
            "query": f"?{query}" if query else "",
            "charts": [charts.table(board, name) for name in charts.CHARTS],
            "responders": _shown(board.overall),
            "completed": _shown(board.completion["all"]),
        }
    )
    return render(request, "analytics/dashboard.html", context)


def _shown(p: Any) -> dict[str, str] | None:
    """A proportion as the summary shows it (None when suppressed)."""
    if p.suppressed:
        return None
    return {"rate": f"{p.value * 100:.0f}%", "ci": f"{p.low * 100:.0f}%–{p.high * 100:.0f}%"}


def _download(request: ClinicRequest, name: str, action: str) -> tuple[queries.Dashboard, str]:
    from prolotrack.analytics import charts

    _no_researchers(request)
    if name not in charts.CHARTS:
        raise Http404("No such chart.")
    try:
        filters = queries.parse_filters(request.GET)
    except queries.FilterError as error:
        raise Http404(str(error)) from None
    return _board(request, filters, action), name


def _attachment(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require(Permission.DASHBOARD_VIEW)
def chart(request: ClinicRequest, name: str, fmt: str) -> HttpResponse:
    """One chart as SVG (shown inline on the page) or PNG; ?download=1 saves it as a file."""
    from prolotrack.analytics import charts

    downloaded = bool(request.GET.get("download"))
    board, name = _download(request, name, "analytics.dashboard.downloaded" if downloaded else "")
    if fmt == "png":
        response = HttpResponse(charts.chart_png(board, name), content_type="image/png")
    else:
        response = HttpResponse(charts.chart_svg(board, name), content_type="image/svg+xml")
    if downloaded:
        return _attachment(response, f"{name}.{fmt}")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require(Permission.DASHBOARD_VIEW)
def chart_csv(request: ClinicRequest, name: str) -> HttpResponse:
    from prolotrack.analytics import charts

    board, name = _download(request, name, "analytics.dashboard.downloaded")
    body = charts.table_csv(charts.table(board, name))
    return _attachment(HttpResponse(body, content_type="text/csv; charset=utf-8"), f"{name}.csv")
