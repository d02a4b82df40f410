"""The first middleware: a request id (X-Request-ID, taken from the proxy when it looks like one), the request in
context for log lines (ops/logs.py), one access log line and the latency histogram (ops/metrics.py)."""

import logging
import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from prolotrack.ops.context import REQUEST_ID_HEADER, current_request, request_id_for, route_of
from prolotrack.ops.metrics import REQUEST_LATENCY

access = logging.getLogger("prolotrack.access")


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = request_id_for(request.headers.get(REQUEST_ID_HEADER))
        setattr(request, "request_id", request_id)  # noqa: B010 - HttpRequest declares no such attribute
        token = current_request.set(request)
        try:
            response = self.get_response(request)
            elapsed = time.perf_counter() - started
            route = route_of(request)
            status = f"{response.status_code // 100}xx"
            REQUEST_LATENCY.labels(route=route, method=request.method or "", status=status).observe(elapsed)
            response[REQUEST_ID_HEADER] = request_id
            extra: dict[str, Any] = {"method": request.method, "route": route, "status": response.status_code}
            extra["duration_ms"] = round(elapsed * 1000, 1)
            access.info("%s %s %s", request.method, route, response.status_code, extra=extra)
            return response
        finally:
            current_request.reset(token)
