"""Reads for the health and metrics endpoints."""

from django.core.cache import cache
from django.db import connection
from django.db.models import Count


def database_answers() -> str | None:
    """None when the database answers a query, else the error's class name."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return error.__class__.__name__
    return None


def cache_answers() -> str | None:
    """None when the shared cache stores and reads a value, else the error's class name."""
    try:
        cache.set("ops:ready", "1", 30)
        if cache.get("ops:ready") != "1":
            return "CacheMiss"
    except Exception as error:
        return error.__class__.__name__
    return None


def task_counts() -> dict[str, int]:
    from django_tasks_db.models import DBTaskResult

    rows = DBTaskResult.objects.values("status").annotate(n=Count("id")).order_by()
    counts = dict.fromkeys(("READY", "RUNNING"), 0)
    counts.update({row["status"]: row["n"] for row in rows if row["status"] in counts})
    return counts


def reminder_counts() -> dict[tuple[str, str], int]:
    from prolotrack.messaging.models import OutboxMessage

    rows = OutboxMessage.objects.values("channel", "status").annotate(n=Count("id")).order_by()
    return {(row["channel"], row["status"]): row["n"] for row in rows}
