"""Track signed-in sessions, so their owner can list and end them (accounts/services.py, "sessions")."""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from prolotrack.accounts import services
from prolotrack.clinics.services import client_address


@receiver(user_logged_in)
def _session_started(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    if session is None:
        return
    if session.session_key is None:
        session.save()
    services.start_session(user, session.session_key, client_address(request), request.headers.get("User-Agent", ""))
    session[services.SESSION_SEEN_KEY] = timezone.now().timestamp()


@receiver(user_logged_out)
def _session_ended(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    if session is not None:
        services.mark_session_ended(session.session_key, "logged_out")
