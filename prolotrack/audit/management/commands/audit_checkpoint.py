from typing import Any

from django.core.management.base import BaseCommand

from prolotrack.audit.checkpoints import write_checkpoint, write_if_due


class Command(BaseCommand):
    help = (
        "Write a signed checkpoint of every audit chain's head to AUDIT_CHECKPOINT_DIR (docs/OPERATIONS.md); with "
        "--if-due only when the latest is older than AUDIT_CHECKPOINT_MINUTES."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--if-due", action="store_true", help="Only when the latest checkpoint is old enough.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = write_if_due() if options["if_due"] else write_checkpoint()
        self.stdout.write(f"Checkpoint written: {path}" if path else "Checkpoint not due yet.")
