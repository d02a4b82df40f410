from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from prolotrack.ops.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = (
        "Restore a backup archive into an empty data folder (SQLite) or an empty database (DATABASE_URL), then "
        "verify it: integrity check, row counts and audit chain heads against the manifest, file SHA-256s and the "
        "audit chains themselves (docs/OPERATIONS.md, 'Backup and restore')."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("archive", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        archive: Path = options["archive"]
        if not archive.is_file():
            raise CommandError(f"No archive at {archive}.")
        try:
            result = restore_backup(archive)
        except BackupError as error:
            raise CommandError(str(error)) from error
        if result.problems:
            for problem in result.problems:
                self.stderr.write(problem)
            raise CommandError(f"Restored, but verification found {len(result.problems)} problem(s): do not use it.")
        manifest = result.manifest
        self.stdout.write(
            f"Restored {archive} (made {manifest.created_at}): {sum(manifest.tables.values())} rows in "
            f"{len(manifest.tables)} tables and {len(manifest.files)} files match the manifest; "
            f"{result.checked_events} audit events verified."
        )
