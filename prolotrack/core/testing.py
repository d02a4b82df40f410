"""Test helpers that any app's tests may use (nothing here runs in production)."""

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connection, connections, transaction


def write_while_locked(lock: Callable[[], None], write: Callable[[], None]) -> None:
    """Hold a row lock in another thread and do a write in this one with a 3 s lock timeout (PostgreSQL only).

    For the mutex locks (docs/ARCHITECTURE.md, "Row locks"): an insert naming the locked row by foreign key takes
    FOR KEY SHARE on it, which a FOR UPDATE lock blocks (the write then fails on the timeout) and FOR NO KEY UPDATE
    does not. Fails with what the holding thread raised, if anything."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL row locks; SQLite serialises every writer with BEGIN IMMEDIATE")
    holding, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold() -> None:
        try:
            with transaction.atomic():
                lock()
                holding.set()
                release.wait(20)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(20)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '3s'")
            write()
    finally:
        release.set()
        thread.join(30)
    assert errors == []


@dataclass
class Race:
    """What the threads of `race` did: each one's return value, and the refusals it was told to expect."""

    results: list[Any] = field(default_factory=list)
    refused: list[BaseException] = field(default_factory=list)


def race(
    threads: int, work: Callable[[int, Callable[[], None]], Any], *, refusals: tuple[type[BaseException], ...] = ()
) -> Race:
    """Run `work(n, go)` in `threads` threads, each with its own database connection, released together.

    Each thread does its own set-up, then calls `go()`, which waits until every thread is there: the writes after it
    start at the same moment, as concurrent requests do (tests with `django_db(transaction=True)`). A return value
    goes to `results`, an exception of `refusals` to `refused`; anything else fails the test with every thread's
    outcome. Skipped on an in-memory SQLite database (threads need a file: PROLOTRACK_TEST_SQLITE)."""
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(("file:memorydb", ":memory:")):
        pytest.skip("threads need a file database: set PROLOTRACK_TEST_SQLITE")
    start = threading.Barrier(threads)
    outcome, errors = Race(), []

    def go() -> None:
        start.wait(20)

    def run(n: int) -> None:
        try:
            outcome.results.append(work(n, go))
        except refusals as error:
            outcome.refused.append(error)
        except BaseException as error:  # reported below, with every thread's outcome
            errors.append(error)
        finally:
            connections.close_all()

    running = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in running), "a thread did not finish in 60 s"
    assert errors == [], errors
    return outcome


class S3Bucket:
    """An S3 bucket served by moto's in-process server (a real HTTP endpoint), for the file store's tests.

    The code under test goes through boto3 and django-storages exactly as against a real S3-compatible service.
    """

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self.name = "prolotrack-files"
        self.client().create_bucket(Bucket=self.name)

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - moto accepts any key
        )

    def storages_setting(self, prefix: str = "") -> dict[str, Any]:
        """STORAGES with the default storage on this bucket, built by settings.py from the PROLOTRACK_S3_* variables."""
        import os
        from unittest import mock

        from django.conf import settings

        from prolotrack import settings as project_settings

        variables = {
            "PROLOTRACK_S3_BUCKET": self.name,
            "PROLOTRACK_S3_PREFIX": prefix,
            "PROLOTRACK_S3_ENDPOINT_URL": self.endpoint,
            "PROLOTRACK_S3_REGION": "us-east-1",
            "PROLOTRACK_S3_ACCESS_KEY_ID": "testing",
            "PROLOTRACK_S3_SECRET_ACCESS_KEY": "testing",
        }
        with mock.patch.dict(os.environ, variables):
            default = project_settings._file_storage()
        return {**settings.STORAGES, "default": default}

    def object_keys(self) -> list[str]:
        """The keys under the prefix of the storage in use (each test has its own)."""
        from django.conf import settings

        prefix = settings.STORAGES["default"]["OPTIONS"]["location"]
        listing = self.client().list_objects_v2(Bucket=self.name, Prefix=f"{prefix}/")
        return sorted(item["Key"] for item in listing.get("Contents", []))

    def stop(self) -> None:
        self.server.stop()


def release_test_database(alias: str = "default") -> list[str]:
    """End every other session on this test run's own PostgreSQL database, so pytest-django can drop it at the end of
    the run; what each session was (application, backend, state, last query) is returned for a warning. A session
    still connected at teardown (a child process, a thread's connection) made the drop fail ("being accessed by other
    users") and left `test_<name>_gw0` behind. Only `current_database()`, the test database itself; nothing on SQLite."""
    wrapper = connections[alias]
    if wrapper.vendor != "postgresql":
        return []
    others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    with wrapper.cursor() as cursor:
        cursor.execute(f"SELECT pid, application_name, backend_type, state, left(query, 120) {others}")
        held = [" | ".join(str(value) for value in row) for row in cursor.fetchall()]
        if held:
            cursor.execute(f"SELECT pg_terminate_backend(pid) {others}")
    return held
