from typing import Any

from django.core.management.base import BaseCommand, CommandError

from prolotrack.audit.queries import verify


class Command(BaseCommand):
    help = (
        "Recompute every audit chain's keyed hashes and compare each chain with the latest signed checkpoint; exit "
        "non-zero if any event was altered, removed or cut off (docs/SECURITY.md, 'Audit trail')."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--all-checkpoints", action="store_true", help="Check every checkpoint, not only the latest."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = verify(all_checkpoints=options["all_checkpoints"])
        for note in result.notes:
            self.stdout.write(f"Note: {note}")
        if result.problems:
            for problem in result.problems:
                self.stderr.write(problem)
            raise CommandError(f"Audit trail damaged: {len(result.problems)} problem(s) in {result.checked} events.")
        found = result.checkpoint
        against = f"; matches checkpoint {found.path.name} ({found.at:%Y-%m-%d %H:%M} UTC)" if found else ""
        self.stdout.write(f"Audit trail intact: {result.checked} events checked{against}.")
