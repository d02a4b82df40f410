"""The public booking pages in the reader's language (issue 16; docs/LANGUAGES.md): no patient is known yet, so the
switch decides, else the browser's Accept-Language, else English."""

from typing import Any

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_clinic(clinic: Any, types: Any) -> Any:
    cache.clear()
    clinic.settings = {**clinic.settings, "online_booking": True}
    clinic.save()
    return clinic


def test_the_booking_page_follows_the_browser_and_the_switch(client: Any, open_clinic: Any) -> None:
    url = f"/book/{open_clinic.slug}/"
    english = client.get(url)
    assert english.status_code == 200 and '<html lang="en">' in english.content.decode()
    spanish = client.get(url, HTTP_ACCEPT_LANGUAGE="es-US,es;q=0.9")
    body = spanish.content.decode()
    assert '<html lang="es">' in body and "Pedir una cita" in body and "Book an appointment" not in body
    assert 'aria-label="Idioma"' in body and f'href="{url}?lang=en"' in body
    chosen = client.get(f"{url}?lang=en", HTTP_ACCEPT_LANGUAGE="es")
    assert '<html lang="en">' in chosen.content.decode() and chosen.cookies["django_language"]["path"] == url
    assert '<html lang="en">' in client.get(url, HTTP_ACCEPT_LANGUAGE="es").content.decode()  # the cookie's choice


def test_the_closed_page_is_in_spanish_too(client: Any, clinic: Any) -> None:
    body = client.get("/book/no-such-clinic/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<html lang="es">' in body and "No encontramos una página de citas" in body
