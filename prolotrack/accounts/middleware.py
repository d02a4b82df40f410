"""The second-factor gate: a signed-in user who must use a second factor reaches nothing but the second-factor pages
(and Log out) until the session is verified; one without a factor yet is sent to set one up.

Runs after django-otp's OTPMiddleware (which sets `request.user.is_verified()`) and the clinic middleware. The JSON
API and FHIR authenticate by bearer token only and never read the session, so the gate leaves them alone.
"""

from collections.abc import Callable
from typing import cast
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from prolotrack.accounts import services
from prolotrack.clinics.http import MiddlewareRequest

# Pages reachable before the second factor: the factor pages themselves and logging out.
OPEN_NAMES = (
    "accounts:verify",
    "accounts:passkey-sign-in",
    "accounts:passkey-sign-in-options",
    "accounts:enrol",
    "logout",
    "login",
)
TOKEN_ONLY_PREFIXES = ("/api/", "/fhir")


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not user.is_authenticated or services.is_verified(user):
            if user.is_authenticated:
                services.touch_session(user, request.session)
            return self.get_response(request)
        path = request.path_info
        pending = services.has_second_factor(user) or services.second_factor_required(user)
        # The page header hides the clinic's menus while the log-in is half done.
        cast(MiddlewareRequest, request).second_factor_pending = pending
        if path.startswith(("/" + settings.STATIC_URL.lstrip("/"), *TOKEN_ONLY_PREFIXES)) or path in {
            reverse(n) for n in OPEN_NAMES
        }:
            return self.get_response(request)
        if not pending:
            services.touch_session(user, request.session)
            return self.get_response(request)
        target = "accounts:verify" if services.has_second_factor(user) else "accounts:enrol"
        if getattr(request, "htmx", False):
            # A fragment request would swap the log-in step into part of a page: send the whole page there.
            return HttpResponseClientRedirect(reverse(target))
        query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
        return redirect(reverse(target) + (f"?{query}" if query else ""))
