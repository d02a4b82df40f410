"""The request being served, for log lines written anywhere while it runs (ops/logs.py): its id, user and clinic.

Only identifiers: never a name, a date of birth, a query string or a body (docs/OPERATIONS.md, "Observability")."""

import re
import uuid
from contextvars import ContextVar
from typing import Any

current_request: ContextVar[Any] = ContextVar("prolotrack_request", default=None)

REQUEST_ID_HEADER = "X-Request-ID"
# A request id taken from the proxy only when it looks like one (no spaces, no personal data in free text).
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def request_id_for(incoming: str | None) -> str:
    if incoming and _SAFE_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


def user_id(request: Any) -> int | None:
    """The signed-in user's id, without loading the user just for a log line (Django's lazy user, not yet read)."""
    user = request.__dict__.get("user")
    if user is None:
        return None
    wrapped = getattr(user, "_wrapped", user)
    if wrapped is None or type(wrapped).__name__ == "object":  # django.utils.functional.empty: never read
        return None
    return getattr(wrapped, "pk", None)


def clinic_id(request: Any) -> int | None:
    clinic = request.__dict__.get("clinic")
    return getattr(clinic, "pk", None)


def route_of(request: Any) -> str:
    """The URL pattern that answered (`patients/<uuid:patient_uuid>/`), never the path with its ids or query."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return str(match.route or match.view_name or "unmatched")
