"""The reminder scheduler also deletes expired export files, so they go even when nobody visits the export pages."""

from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from prolotrack.research import services
from prolotrack.research.models import ExportStatus


class _NoReminders:
    planned = sent = failed = skipped = cancelled = 0
    errors: tuple = ()


def test_a_scheduler_pass_deletes_an_expired_research_export(researcher, treated, run_export, monkeypatch):
    treated(mrn="S1")
    job = run_export(researcher)
    assert services.file_exists(job)
    later = timezone.now() + timedelta(hours=services.KEEP_HOURS, minutes=1)
    monkeypatch.setattr(services.timezone, "now", lambda: later)
    command = "prolotrack.messaging.management.commands.run_scheduler"
    # Inside a test's transaction the command must keep the connection, and only the purge is under test here.
    monkeypatch.setattr(f"{command}.close_old_connections", lambda: None)
    monkeypatch.setattr(f"{command}.run_pass", _NoReminders)
    out = StringIO()
    call_command("run_scheduler", "--interval=1", "--passes=1", stdout=out)
    job.refresh_from_db()
    assert job.status == ExportStatus.EXPIRED
    assert not services.file_exists(job)
    assert "expired export file" in out.getvalue()
