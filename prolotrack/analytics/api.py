"""JSON API of the analytics app: `GET /api/dashboard`, the clinic dashboard's figures (aggregates only)."""

from datetime import date
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import HttpError

from prolotrack.analytics import queries
from prolotrack.audit.services import record_event
from prolotrack.clinical.queries import clinic_today
from prolotrack.clinics.api_auth import api_actor
from prolotrack.clinics.roles import Permission
from prolotrack.patients.schemas import ErrorOut

router = Router(tags=["analytics"])


class DashboardParams(Schema):
    start: date | None = None
    end: date | None = None
    indication: str = ""


@router.get(
    "/dashboard",
    response={200: dict[str, Any], 403: ErrorOut, 422: ErrorOut},
    summary="The clinic dashboard's figures",
)
def dashboard(request: HttpRequest, params: Query[DashboardParams]) -> Any:
    """Responder rates with 95% Wilson intervals by indication, protocol, solution, clinician and sessions done; median
    sessions to the MCID; questionnaire completion; adverse events per session by type; the course funnel. Courses
    started between `start` and `end` (inclusive) of one `indication`. Cells under `min_cell` carry no numbers.
    Definitions: docs/DASHBOARD.md."""
    actor = api_actor(request, Permission.DASHBOARD_VIEW)
    try:
        filters = queries.parse_filters(
            {
                "start": params.start.isoformat() if params.start else "",
                "end": params.end.isoformat() if params.end else "",
                "indication": params.indication,
            }
        )
    except queries.FilterError as error:
        raise HttpError(422, str(error)) from None
    with transaction.atomic():
        record_event(actor, "analytics.dashboard.viewed", detail=filters.as_query())
    clinic: Any = request.clinic  # type: ignore[attr-defined]
    return queries.as_json(queries.dashboard(clinic, filters, clinic_today(clinic)))
