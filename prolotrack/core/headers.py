"""Browser hardening headers on every answer the application makes (docs/SECURITY.md, "Browser hardening").

Static files never reach this middleware (WhiteNoise answers them earlier, with long cache lifetimes for their hashed
names); every other answer may carry patient data (pages, JSON API, FHIR, PDFs, calendar feeds, exports), so none may
be stored by the browser or a shared cache. The Content-Security-Policy itself comes from django-csp
(settings.CONTENT_SECURITY_POLICY); Referrer-Policy from Django's SecurityMiddleware (SECURE_REFERRER_POLICY).
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# Browser features the product never uses: denied to every page and to anything a page might embed. Passkeys
# (WebAuthn create and get) are allowed to the site's own pages only, never to an embedded frame.
PERMISSIONS_POLICY = ", ".join(
    [
        f"{feature}=()"
        for feature in (
            "accelerometer", "autoplay", "camera", "display-capture", "encrypted-media", "geolocation", "gyroscope",
            "magnetometer", "microphone", "midi", "payment", "picture-in-picture",
            "screen-wake-lock", "usb", "xr-spatial-tracking",
        )
    ]
    + [f"{feature}=(self)" for feature in ("publickey-credentials-create", "publickey-credentials-get")]
)  # fmt: skip
NO_STORE = "no-store"


def no_store(existing: str) -> str:
    """The Cache-Control of an answer: no-store, keeping "private" if the view said so; any max-age is dropped."""
    parts = [p.strip() for p in existing.split(",") if p.strip()]
    if NO_STORE in parts:
        return existing
    return "private, no-store" if "private" in parts else NO_STORE


class BrowserHardeningMiddleware:
    """Add Cache-Control: no-store and Permissions-Policy to every answer that is not a static file."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response["Cache-Control"] = no_store(response.get("Cache-Control", ""))
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
