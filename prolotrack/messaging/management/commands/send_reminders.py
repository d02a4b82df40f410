"""One scheduler pass: plan the reminders each clinic owes today and send those due (idempotent)."""

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from prolotrack.messaging.services import run_pass


class Command(BaseCommand):
    help = "Plan today's reminders and send those due, once each (safe to run repeatedly)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--now", help="Act as of this ISO date-time with an offset (drills and tests).")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        if options.get("now"):
            try:
                now = datetime.fromisoformat(options["now"])
            except ValueError:
                raise CommandError("--now must be an ISO date-time such as 2026-11-20T08:00:00+00:00.") from None
            if timezone.is_naive(now):
                raise CommandError("--now needs a time zone offset, such as +00:00.")
        report = run_pass(now=now)
        self.stdout.write(f"Reminders: {report}.")
        for error in report.errors:
            self.stderr.write(f"Error: {error}")
