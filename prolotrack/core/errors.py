"""The refusals a service may raise, in the bottom layer so that every app (and core's own page decorator) can name
them. Each maps to one answer at the edge (prolotrack/api.py, `ERRORS`): 422, 409, 409 and 403."""


class ServiceError(Exception):
    """A write refused for a reason the user can act on."""

    code = "invalid"


class StaleEditError(ServiceError):
    code = "stale"


class RecordClosedError(ServiceError):
    code = "closed"


class AccessDenied(ServiceError):
    code = "forbidden"
