"""The language of the pages and messages a patient reads (issue 16; docs/LANGUAGES.md).

Staff pages stay in English: there is no `LocaleMiddleware` (it would switch every page, Django's own form errors
and dates included, by the browser's Accept-Language). A patient page is wrapped in `@patient_page`, which picks its
language in this order and activates it only for that request:

1. an explicit choice: `?lang=es` from the page's switch, else the language cookie it set (scoped to the link's
   pages, `cookie_path`, so a shared tablet does not carry one patient's choice to the next patient's link);
2. the patient's preferred language, when the page belongs to a known patient (the view calls
   `use_patient_language(request, patient)` once it has found them);
3. the browser's Accept-Language;
4. English (`settings.LANGUAGE_CODE`).

Messages are written at send time in the patient's preferred language: `with translation.override(
patient_language(patient)):` around the words (messaging/services.py).
"""

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation.trans_real import parse_accept_lang_header

# The query parameter the switch sets.
LANG_PARAM = "lang"
# The cookie lasts a year, for the pages of the link it was chosen on (cookie_path).
COOKIE_MAX_AGE = 365 * 24 * 60 * 60


# Whether this request's language was chosen with the switch (a plain dict entry of the request, typed as such).
CHOSEN_KEY = "prolotrack.patient_language_chosen"


def supported(code: str | None) -> str | None:
    """The supported language code for `code` ("es-MX" -> "es"), or None."""
    if not code:
        return None
    codes = {c for c, _ in settings.LANGUAGES}
    code = str(code).strip().lower().replace("_", "-")
    if code in codes:
        return code
    base = code.split("-")[0]
    return base if base in codes else None


def patient_language(patient: Any) -> str:
    """The language to write to this patient in: their preferred language when supported, else English."""
    return supported(getattr(patient, "preferred_language", None)) or settings.LANGUAGE_CODE


def cookie_path(path: str) -> str:
    """Where a choice on the switch is remembered: the pages of the same link ("/q/<token>/", "/book/<slug>/")."""
    parts = [p for p in path.split("/") if p][:2]
    return "/" + "".join(f"{p}/" for p in parts)


def _explicit(request: HttpRequest) -> tuple[str | None, bool]:
    """(the explicitly chosen language, whether it came from the switch now rather than the cookie)."""
    chosen = supported(request.GET.get(LANG_PARAM))
    if chosen:
        return chosen, True
    return supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)), False


def _from_browser(request: HttpRequest) -> str | None:
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    for code, _quality in parse_accept_lang_header(header):
        if code == "*":
            break
        found = supported(code)
        if found:
            return found
    return None


def _activate(request: HttpRequest, code: str) -> None:
    translation.activate(code)  # inside patient_page's override, which restores the previous language afterwards
    request.LANGUAGE_CODE = code  # Django's own name for it (the i18n context processor reads it)


def use_patient_language(request: HttpRequest, patient: Any) -> None:
    """The page belongs to this patient: use their preferred language unless the reader chose one on the switch."""
    if request.META.get(CHOSEN_KEY, False):
        return
    preferred = supported(getattr(patient, "preferred_language", None))
    if preferred:
        _activate(request, preferred)


def patient_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Render a patient page in the patient's language (the order in this module's docstring); staff pages never
    use this. The answer says which language it is in (Content-Language) and varies by the cookie and header."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        chosen, from_switch = _explicit(request)
        request.META[CHOSEN_KEY] = chosen is not None
        with translation.override(settings.LANGUAGE_CODE):
            _activate(request, chosen or _from_browser(request) or settings.LANGUAGE_CODE)
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()  # a TemplateResponse: render it while the language is active
            response.headers.setdefault("Content-Language", translation.get_language())
        if from_switch and chosen:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                chosen,
                max_age=COOKIE_MAX_AGE,
                path=cookie_path(request.path),
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
            )
        patch_vary_headers(response, ("Cookie", "Accept-Language"))
        return response

    return wrapped


def switch_links(request: HttpRequest) -> list[dict[str, Any]]:
    """The language switch of a patient page: one link per language to this page with `?lang=` (other query
    parameters kept), each named in its own language, the current one marked."""
    current = translation.get_language()
    params = {k: v for k, v in request.GET.items() if k != LANG_PARAM}
    out = []
    for code, name in settings.LANGUAGES:
        query = urlencode({**params, LANG_PARAM: code})
        out.append({"code": code, "name": name, "url": f"{request.path}?{query}", "current": code == current})
    return out
