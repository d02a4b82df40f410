"""Structured logs: one JSON object per line with the request's id, user id and clinic id (ops/context.py).

`JsonFormatter` writes only named fields: time, level, logger, message, request_id, user_id, clinic_id and the access
line's method, route, status and duration. The access line names the URL pattern, not the path, and never the query
string (a patient search is `?q=<name>`). Chosen with PROLOTRACK_LOG_FORMAT=json (the default) or text.

A patient link carries its secret in its path; Django's own warnings about a request ("Gone: /my-appointment/<token>/"
for a revoked link) would write it, so every line's text has the token of a link path replaced by "[token]"."""

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from prolotrack.ops.context import clinic_id, current_request, user_id

ACCESS_FIELDS = ("method", "route", "status", "duration_ms")
# The paths of links opened without a login, whose next segment is a secret token (booking, intake, outcomes,
# messaging URL maps).
LINK_PATH = re.compile(r"/(my-appointment|follow-up|waitlist/offer|waitlist|intake|q|calendar/feed)/[^/\s'\"]+")


def redact_links(text: str) -> str:
    """The text with each link path's token replaced: '/my-appointment/[token]/'."""
    return LINK_PATH.sub(lambda found: f"/{found.group(1)}/[token]", text)


class RequestContextFilter(logging.Filter):
    """Adds request_id, user_id and clinic_id of the request being served (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django's own request warnings ("Not Found: ...") are written after the middleware returned, with the request
        # attached to the record.
        request = getattr(record, "request", None) or current_request.get()
        record.request_id = getattr(request, "request_id", None)
        record.user_id = user_id(request) if request is not None else None
        record.clinic_id = clinic_id(request) if request is not None else None
        if isinstance(record.msg, str):
            record.msg = redact_links(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_links(a) if isinstance(a, str) else a for a in record.args)
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
