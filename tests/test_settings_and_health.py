"""Settings: SQLite durability pragmas, production checks, health endpoint."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.utils import ConnectionHandler

ROOT = Path(__file__).resolve().parent.parent
sqlite_only = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3", reason="SQLite settings"
)


@sqlite_only
def test_sqlite_runs_with_wal_full_sync_immediate_transactions_and_a_busy_timeout(tmp_path, django_db_blocker):
    config = {**settings.DATABASES["default"], "NAME": str(tmp_path / "check.sqlite3"), "TEST": {}}
    handler = ConnectionHandler({"default": config})
    conn = handler["default"]
    with django_db_blocker.unblock():
        _check_pragmas(conn)


def _check_pragmas(conn) -> None:
    try:
        with conn.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
            cursor.execute("PRAGMA synchronous")
            assert cursor.fetchone()[0] == 2  # FULL
            cursor.execute("PRAGMA busy_timeout")
            assert cursor.fetchone()[0] == 20000
            cursor.execute("PRAGMA foreign_keys")
            assert cursor.fetchone()[0] == 1
        assert conn.transaction_mode == "IMMEDIATE"
    finally:
        conn.close()


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PROLOTRACK_") and k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        PROLOTRACK_DEBUG="0",
        PROLOTRACK_SECRET_KEY="x" * 20 + "-a-long-random-production-key-for-the-check-" + "y" * 20,
        PROLOTRACK_ALLOWED_HOSTS="prolotrack.example.org",
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", PROLOTRACK_DEBUG="0")
    assert result.returncode != 0
    assert "PROLOTRACK_SECRET_KEY must be set" in result.stderr


def test_a_malformed_boolean_setting_is_explained():
    result = _manage("check", PROLOTRACK_DEBUG="maybe")
    assert result.returncode != 0
    assert "PROLOTRACK_DEBUG must be 1/0" in result.stderr


def test_database_url_switches_to_postgresql():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django.conf as c; from prolotrack import settings as s; print(s.DATABASES['default']['ENGINE'])",
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": "postgresql://u@db.example:5432/prolo"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "django.db.backends.postgresql"


def test_healthz_answers_200_when_the_database_does(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_the_database_does_not(client, db, monkeypatch):
    class Down:
        def cursor(self):
            raise connection.Database.OperationalError("gone")

    monkeypatch.setattr("prolotrack.clinics.views.connection", Down())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"
