"""Test helpers that any app's tests may use (nothing here runs in production)."""

import threading
from collections.abc import Callable

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
