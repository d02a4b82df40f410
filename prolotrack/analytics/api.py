"""JSON API of the analytics app: `GET /api/dashboard`, the clinic dashboard's figures (aggregates only)."""

from typing import Any

from ninja import Query, Router
from ninja.errors import HttpError

from prolotrack.analytics import queries, research
from prolotrack.analytics.schemas import DashboardParams
from prolotrack.audit.services import record_read
from prolotrack.clinical.queries import clinic_today
from prolotrack.clinics.api_auth import api_require
from prolotrack.clinics.http import ApiRequest
from prolotrack.clinics.roles import Permission, role_has

router = Router(tags=["analytics"])


@router.get(
    "/dashboard",
    response={200: dict[str, Any]},
    summary="The clinic dashboard's figures",
)
@api_require(Permission.DASHBOARD_VIEW)
def dashboard(request: ApiRequest, params: Query[DashboardParams]) -> Any:
    """Clinicians and administrators: responder rates with 95% Wilson intervals by indication, protocol, solution, clinician and sessions done; median
    sessions to the MCID; questionnaire completion; adverse events per session by type; the course funnel. Courses
    started between `start` and `end` (inclusive) of one `indication`. Cells under `min_cell` carry no numbers.
    Researchers: only `period=YYYY-Qn` (an ended quarter): responder rates by indication code, suppressed and frozen.
    Definitions: docs/DASHBOARD.md."""
    actor = request.actor
    clinic: Any = request.clinic
    if not role_has(actor.role, Permission.DASHBOARD_DETAIL):
        # Researchers: whole quarters, frozen, suppressed (docs/DASHBOARD.md, "Researchers"). No dates, no free text.
        if params.start or params.end or params.indication:
            raise HttpError(
                422, "Researchers see whole quarters only: ask for period=YYYY-Qn (no start, end or indication)."
            )
        try:
            made = research.release(actor, params.period, clinic_today(clinic))
        except research.PeriodError as error:
            raise HttpError(422, str(error)) from None
        return research.as_json(made)
    if params.period:
        raise HttpError(422, "period is the researchers' quarterly view; use start and end.")
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
    record_read(actor, "analytics.dashboard.viewed", record=None, detail=filters.as_query())
    return queries.as_json(queries.dashboard(clinic, filters, clinic_today(clinic)))
