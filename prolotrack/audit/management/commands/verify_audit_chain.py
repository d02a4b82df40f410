from typing import Any

from django.core.management.base import BaseCommand, CommandError

from prolotrack.audit.queries import verify_chains


class Command(BaseCommand):
    help = "Recompute every audit chain's hashes; exit non-zero if any row was altered or removed."

    def handle(self, *args: Any, **options: Any) -> None:
        problems, checked = verify_chains()
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"Audit trail damaged: {len(problems)} problem(s) in {checked} events.")
        self.stdout.write(f"Audit trail intact: {checked} events checked.")
