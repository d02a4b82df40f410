"""What the JSON API checks before an endpoint runs: body size (413), content type (415) and `Idempotency-Key`.

These apply to every request under /api/ whatever the endpoint, so they live in one middleware rather than in each
router. Each refusal is JSON like every other API error: `{"detail": …, "code": …}`.
"""

import hashlib
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from prolotrack.clinics.api_auth import BearerToken
from prolotrack.clinics.models import IdempotencyKey, Membership

API_PREFIX = "/api/"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})
# JSON, and multipart for the one file upload (imaging). An empty body needs no type.
ACCEPTED_TYPES = ("application/json", "multipart/form-data")
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255


def error(status: int, detail: str, code: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


def _media_type(request: HttpRequest) -> str:
    return (request.content_type or "").split(";")[0].strip().lower()


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


def _content_length(request: HttpRequest) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def check_body(request: HttpRequest) -> JsonResponse | None:
    """413 for a JSON body over DATA_UPLOAD_MAX_MEMORY_SIZE, 415 for a body that is neither JSON nor multipart."""
    length = _content_length(request)
    if length == 0:
        return None
    media_type = _media_type(request)
    if not (_is_json(media_type) or media_type == "multipart/form-data"):
        return error(
            415,
            f"Send the body as application/json (got {media_type or 'no Content-Type'}).",
            "unsupported_media_type",
        )
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if _is_json(media_type) and limit is not None and length > limit:
        return error(413, f"The body is {length} bytes; the API accepts at most {limit} bytes.", "too_large")
    return None


def _membership(request: HttpRequest) -> Membership | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return BearerToken().authenticate(request, token.strip())


def fingerprint(request: HttpRequest) -> str:
    """SHA-256 of the method, path, query and JSON body. A file upload (multipart) is not read into memory here:
    its length stands for its body (its boundary changes on every retry)."""
    digest = hashlib.sha256()
    for part in (request.method or "", request.path, request.META.get("QUERY_STRING", "")):
        digest.update(part.encode() + b"\0")
    if _media_type(request) == "multipart/form-data":
        digest.update(str(_content_length(request)).encode())
    else:
        digest.update(request.body)
    return digest.hexdigest()


def begin(membership: Membership, key: str, print_: str) -> IdempotencyKey | JsonResponse | HttpResponse:
    """Claim `key` for this request (a new row), or answer for the request that claimed it first."""
    clinic = membership.clinic
    now = timezone.now()
    # Expired keys go on the next write of the clinic: one DELETE over an indexed range.
    IdempotencyKey.objects.filter(clinic=clinic, created_at__lt=now - IDEMPOTENCY_TTL).delete()
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(
                clinic=clinic, membership=membership, key=key, fingerprint=print_, created_at=now
            )
    except IntegrityError:
        pass
    first = IdempotencyKey.objects.filter(clinic=clinic, key=key).first()
    if first is None:  # Claimed and released (a failed first request) between the insert and this read.
        return error(409, "A request with this Idempotency-Key is in progress: retry in a moment.", "idempotency_busy")
    if first.membership_id != membership.pk or first.fingerprint != print_:
        return error(
            409,
            "This Idempotency-Key was already used for a different request in the last 24 hours: "
            "use a new key for a new request.",
            "idempotency_mismatch",
        )
    if first.status_code is None:
        return error(409, "A request with this Idempotency-Key is in progress: retry in a moment.", "idempotency_busy")
    replay = HttpResponse(bytes(first.body), status=first.status_code, content_type=first.content_type)
    replay["Idempotent-Replayed"] = "true"
    return replay


def finish(claim: IdempotencyKey, response: HttpResponse) -> None:
    """Keep the answer for retries; a server error releases the key so a retry runs the request again."""
    if response.status_code >= 500 or getattr(response, "streaming", False):
        IdempotencyKey.objects.filter(pk=claim.pk).delete()
        return
    claim.status_code = response.status_code
    claim.content_type = response.get("Content-Type", "")
    claim.body = response.content
    claim.save(update_fields=["status_code", "content_type", "body"])


class ApiEdgeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX) or request.method not in WRITE_METHODS:
            return self.get_response(request)
        refused = check_body(request)
        if refused is not None:
            return refused
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            return self.get_response(request)
        if not (0 < len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable()):
            return error(400, f"An Idempotency-Key is 1 to {MAX_KEY_LENGTH} printable ASCII characters.", "bad_request")
        membership = _membership(request)
        if membership is None:
            return self.get_response(request)  # The endpoint answers 401.
        claim = begin(membership, key, fingerprint(request))
        if not isinstance(claim, IdempotencyKey):
            return claim
        try:
            response = self.get_response(request)
        except BaseException:
            IdempotencyKey.objects.filter(pk=claim.pk).delete()
            raise
        finish(claim, response)
        return response
