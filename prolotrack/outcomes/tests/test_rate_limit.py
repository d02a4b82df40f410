"""The limit on guessed questionnaire links (issue 19): 429 with Retry-After, a count that survives a restart and is
shared by processes (Django's database cache), and a valid link that still opens from a limited address."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.db import DatabaseCache
from django.db import connection
from django.test import override_settings

from prolotrack.clinics.testing import actor_of
from prolotrack.outcomes import services
from prolotrack.outcomes.views.answer import FAILED_LOOKUP_WINDOW_SECONDS, FAILED_LOOKUPS, FAILED_LOOKUPS_ALLOWED


@pytest.fixture(autouse=True)
def _database_cache(db):
    """The production cache (the database table created by createcachetable), not the tests' in-memory one."""
    from prolotrack import settings as production

    with override_settings(CACHES=production.CACHES):
        cache.clear()
        yield


@pytest.fixture
def link_path(clinician, patient, follow_up):
    _link, path = services.create_link(actor_of(clinician), patient, timepoint=follow_up)
    return path


def _exhaust(client):
    for n in range(FAILED_LOOKUPS_ALLOWED):
        assert client.get(f"/q/guess-{n}/").status_code == 404


def test_a_limited_address_gets_429_with_retry_after(client):
    _exhaust(client)
    response = client.get("/q/guess-more/")
    assert response.status_code == 429
    wait = int(response["Retry-After"])
    assert 0 < wait <= FAILED_LOOKUP_WINDOW_SECONDS + 1
    assert "Try again in" in response.content.decode()


def test_a_valid_link_still_opens_and_is_answered_from_a_limited_address(client, link_path):
    _exhaust(client)
    assert client.get("/q/guess-more/").status_code == 429
    page = client.get(link_path)
    assert page.status_code == 200 and "Retry-After" not in page
    answered = client.post(f"{link_path}1/", {"nrs_pain": "4"})
    assert answered.status_code != 429 and "Retry-After" not in answered


def test_the_count_is_in_the_database_cache_seen_by_another_process(client):
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    _exhaust(client)
    # A fresh cache object on the same table, as a restarted or second web process would have, sees the count.
    table = settings.CACHES["default"]["LOCATION"]
    other = DatabaseCache(table, {})
    assert other.get(FAILED_LOOKUPS.cache_key("127.0.0.1")) == FAILED_LOOKUPS_ALLOWED
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        assert cursor.fetchone()[0] >= 1
