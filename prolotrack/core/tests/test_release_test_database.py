"""The test run drops its PostgreSQL database even when a session still holds it (root conftest.py's django_db_setup,
core/testing.release_test_database): `test_test_gw0` was left behind when a connection outlived its test."""

from typing import Any

import psycopg
import pytest
from django.db import connection

from prolotrack.core.testing import release_test_database


@pytest.mark.django_db(transaction=True)
def test_a_session_left_on_the_test_database_is_named_and_ended() -> None:
    if connection.vendor != "postgresql":
        assert release_test_database() == []  # nothing to end on SQLite
        return
    settings: dict[str, Any] = connection.get_connection_params()
    left = psycopg.connect(**{**settings, "application_name": "left-behind-by-a-test"}, autocommit=True)
    try:
        held = release_test_database()
        assert any("left-behind-by-a-test" in line for line in held), held
        with pytest.raises(psycopg.OperationalError):
            left.execute("SELECT 1")
    finally:
        left.close()
    assert release_test_database() == []
