"""Structured logs: one JSON object per line with the request's id, user id and clinic id (ops/context.py).

`JsonFormatter` writes only named fields: time, level, logger, message, request_id, user_id, clinic_id and the access
line's method, route, status and duration. The access line names the URL pattern, not the path, and never the query
string (a patient search is `?q=<name>`). Chosen with PROLOTRACK_LOG_FORMAT=json (the default) or text."""

import json
import logging
from datetime import UTC, datetime
from typing import Any

from prolotrack.ops.context import clinic_id, current_request, user_id

ACCESS_FIELDS = ("method", "route", "status", "duration_ms")


class RequestContextFilter(logging.Filter):
    """Adds request_id, user_id and clinic_id of the request being served (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django's own request warnings ("Not Found: ...") are written after the middleware returned, with the request
        # attached to the record.
        request = getattr(record, "request", None) or current_request.get()
        record.request_id = getattr(request, "request_id", None)
        record.user_id = user_id(request) if request is not None else None
        record.clinic_id = clinic_id(request) if request is not None else None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "user_id": getattr(record, "user_id", None),
            "clinic_id": getattr(record, "clinic_id", None),
        }
        for name in ACCESS_FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)
