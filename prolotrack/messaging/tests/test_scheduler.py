"""The scheduled job: `send_reminders` (one idempotent pass) and `run_scheduler` (a loop that stops cleanly)."""

import os
import signal
import threading
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from prolotrack.messaging.models import MessageStatus, OutboxMessage


def test_send_reminders_is_one_idempotent_pass(booked):
    out = StringIO()
    call_command("send_reminders", "--now=2026-11-17T08:00:00-06:00", stdout=out)
    assert "planned 5, sent 3" in out.getvalue()
    again = StringIO()
    call_command("send_reminders", "--now=2026-11-17T09:00:00-06:00", stdout=again)
    assert "planned 0, sent 0" in again.getvalue()
    assert OutboxMessage.objects.filter(status=MessageStatus.SENT).count() == 3 and len(mail.outbox) == 2


def test_send_reminders_refuses_a_bad_time():
    with pytest.raises(CommandError, match="ISO date-time"):
        call_command("send_reminders", "--now=tomorrow")
    with pytest.raises(CommandError, match="time zone offset"):
        call_command("send_reminders", "--now=2026-11-17T08:00:00")


def test_run_scheduler_runs_passes_and_stops(booked, monkeypatch):
    passes = []
    monkeypatch.setattr(
        "prolotrack.messaging.management.commands.run_scheduler.run_pass", lambda: passes.append(1) or _Report()
    )
    out = StringIO()
    call_command("run_scheduler", "--interval=1", "--passes=2", stdout=out)
    assert len(passes) == 2 and "Scheduler: stopped." in out.getvalue()


def test_run_scheduler_stops_cleanly_on_sigterm(db, monkeypatch):
    monkeypatch.setattr("prolotrack.messaging.management.commands.run_scheduler.run_pass", lambda: _Report())
    previous = signal.getsignal(signal.SIGTERM)
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGTERM))
    out = StringIO()
    try:
        timer.start()
        call_command("run_scheduler", "--interval=30", stdout=out)
    finally:
        timer.cancel()
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    assert "SIGTERM received" in out.getvalue() and "Scheduler: stopped." in out.getvalue()


class _Report:
    errors: list[str] = []
    planned = sent = failed = skipped = cancelled = 0

    def __str__(self) -> str:
        return "planned 0, sent 0"


def test_a_pass_without_now_uses_the_real_clock(booked, monkeypatch):
    seen = []
    monkeypatch.setattr(
        "prolotrack.messaging.management.commands.send_reminders.run_pass", lambda now: seen.append(now) or _Report()
    )
    call_command("send_reminders", stdout=StringIO())
    assert seen[0].tzinfo is not None and abs((seen[0] - timezone.now()).total_seconds()) < 60
