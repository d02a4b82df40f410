"""Resolve the user's clinic and role on every request, and log off idle sessions."""

import time
from collections.abc import Callable
from typing import cast

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from prolotrack.clinics.http import MiddlewareRequest
from prolotrack.clinics.queries import SESSION_ACTIVITY_KEY, active_membership, user_memberships


class ClinicMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        typed = cast(MiddlewareRequest, request)
        user = request.user
        typed.memberships = user_memberships(user) if user.is_authenticated else []
        typed.membership = active_membership(user, request.session, typed.memberships)
        typed.clinic = typed.membership.clinic if typed.membership else None
        # Dates and times on pages, and "not in the future" checks, use the clinic's local time.
        if typed.clinic is not None:
            timezone.activate(typed.clinic.tz)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


# The last-activity stamp is written when it has moved by this much, not on every request: writing it saved the
# session (one more write transaction with its fsync) on every page view (docs/PERFORMANCE.md, "Load"). An idle
# session is logged off once it has been idle for the clinic's timeout plus this, so never before the timeout and
# at most 30 s after it (docs/SETTINGS.md, idle_timeout_minutes).
ACTIVITY_RESOLUTION_SECONDS = 30


class IdleLogoutMiddleware:
    """End a staff session after the clinic's idle timeout (default 15 minutes; at most 30 s later)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        membership = getattr(request, "membership", None)
        if request.user.is_authenticated and membership is not None:
            limit = membership.clinic.config.idle_timeout_minutes * 60
            now = time.time()
            last = request.session.get(SESSION_ACTIVITY_KEY)
            if last is not None and now - float(last) > limit + ACTIVITY_RESOLUTION_SECONDS:
                from prolotrack.clinics.services import record_idle_logout

                record_idle_logout(request)
                logout(request)
                messages.info(request, "You were logged off after a period of inactivity. Log in again to continue.")
                return redirect(f"/accounts/login/?next={request.path}")
            if last is None or now - float(last) >= ACTIVITY_RESOLUTION_SECONDS:
                request.session[SESSION_ACTIVITY_KEY] = now
        return self.get_response(request)
