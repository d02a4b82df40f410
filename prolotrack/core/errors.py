"""The refusals a service may raise, in the bottom layer so that every app (and core's own page decorator) can name
them. Each carries the HTTP status the API answers it with (prolotrack/api.py, `ERRORS`, the one error table) and the
`code` of the JSON body."""


class ServiceError(Exception):
    """A write refused for a reason the user can act on."""

    code = "invalid"
    status = 409


class StaleEditError(ServiceError):
    code = "stale"


class RecordClosedError(ServiceError):
    code = "closed"


class AccessDenied(ServiceError):
    code = "forbidden"
    status = 403
