import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_dashboard_cache():
    """The page caches its figures for a minute; a test's rolled-back data must not be served to the next test."""
    cache.clear()
    yield
    cache.clear()
