"""Health and metrics endpoints for load balancers, orchestrators and Prometheus (docs/OPERATIONS.md)."""

import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from prolotrack.ops import queries
from prolotrack.ops.metrics import exposition


@never_cache
def livez(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. No database, no cache: a restart would not fix those."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    """Readiness: the database and the shared cache answer, so this process can serve; 503 otherwise."""
    checks = {"database": queries.database_answers(), "cache": queries.cache_answers()}
    failed = {name: error for name, error in checks.items() if error}
    body = {"status": "error" if failed else "ok", **{name: error or "ok" for name, error in checks.items()}}
    return JsonResponse(body, status=503 if failed else 200)


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format, for `Authorization: Bearer <PROLOTRACK_METRICS_TOKEN>`; 404 while no token is set."""
    expected = settings.PROLOTRACK_METRICS_TOKEN
    if not expected:
        raise Http404("Metrics are off: set PROLOTRACK_METRICS_TOKEN.")
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return HttpResponse("A valid metrics token is required.\n", status=401, headers={"WWW-Authenticate": "Bearer"})
    body, content_type = exposition()
    return HttpResponse(body, content_type=content_type)
