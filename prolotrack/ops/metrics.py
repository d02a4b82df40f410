"""Prometheus metrics (prometheus_client): request latency per route, task queue depth, reminder sends.

The latency histogram is kept by each web process; with several processes set PROMETHEUS_MULTIPROC_DIR (an empty
folder shared by the processes of one server) and the scrape adds them up (prometheus_client's multiprocess mode).
Queue depth and reminder sends are read from the database at scrape time, so every process answers the same."""

import os
from collections.abc import Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

REQUEST_LATENCY = Histogram(
    "prolotrack_http_request_duration_seconds",
    "Time to answer a request, by URL pattern, method and status class.",
    ["route", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


class DatabaseCollector:
    """Figures every process agrees on, read when Prometheus scrapes (ops/queries.py)."""

    def collect(self) -> Iterator[Any]:
        from prolotrack.ops import queries

        depth = GaugeMetricFamily(
            "prolotrack_task_queue_depth", "Background tasks waiting to run, by status.", labels=["status"]
        )
        for status, count in queries.task_counts().items():
            depth.add_metric([status], count)
        yield depth
        messages = GaugeMetricFamily(
            "prolotrack_reminder_messages", "Reminder messages by channel and status (queued, sent, failed, ...).",
            labels=["channel", "status"],
        )  # fmt: skip
        sent = CounterMetricFamily("prolotrack_reminders_sent", "Reminders sent, by channel.", labels=["channel"])
        totals: dict[str, int] = {}
        for (channel, status), count in queries.reminder_counts().items():
            messages.add_metric([channel, status], count)
            if status == "sent":
                totals[channel] = totals.get(channel, 0) + count
        for channel, count in sorted(totals.items()):
            sent.add_metric([channel], count)
        yield messages
        yield sent


def exposition() -> tuple[bytes, str]:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(REQUEST_LATENCY)
    registry.register(DatabaseCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST
