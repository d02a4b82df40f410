"""Lot recall: everyone who received a product's lot (or a lot expiring in a window), as a page and as CSV."""

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render

from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import require
from prolotrack.core.forms import apply_errors
from prolotrack.treatment import present, services
from prolotrack.treatment.forms import RecallForm
from prolotrack.treatment.views.common import today


@require(Permission.LOT_RECALL)
def lot_recall(request: ClinicRequest) -> HttpResponse:
    """The recall form; once asked, the rows (audited as a disclosure of each patient named), or their CSV."""
    form = RecallForm(request.GET if "product" in request.GET else None)
    rows: Any = None
    output = "csv" if request.GET.get("format") == "csv" else "page"
    if form.is_valid():
        try:
            rows = services.recall_lot(actor_for(request), form.question(), output=output)
        except ValidationError as error:
            apply_errors(form, error)
    if rows is not None and output == "csv":
        response = HttpResponse(present.recall_csv(rows), content_type="text/csv; charset=utf-8")
        lot = re.sub(r"[^A-Za-z0-9_-]", "_", form.cleaned_data["lot"] or "expiry")
        name = f"recall-{re.sub(r'[^A-Za-z0-9_-]', '_', form.cleaned_data['product'])}-{lot}-{today(request)}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    context = {
        "form": form,
        "rows": rows,
        "lines": [(row, present.recall_cells(row)) for row in rows or []],
        "summary": present.recall_summary(rows) if rows is not None else "",
        "csv_query": request.GET.urlencode() + "&format=csv" if rows is not None else "",
    }
    return render(request, "treatment/recall.html", context, status=400 if form.errors else 200)
