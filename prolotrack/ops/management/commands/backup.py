from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from prolotrack.ops.backup import BackupError, create_backup, default_archive_path


class Command(BaseCommand):
    help = (
        "Write a consistent backup while the app runs: the database (SQLite online backup API, or pg_dump on a "
        "snapshot), every stored file and a manifest (row counts, audit chain heads, SHA-256s) in one tar archive "
        "(docs/OPERATIONS.md, 'Backup and restore')."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            help="Archive path (.tar, or .tar.gz to compress); default DATA_DIR/backups/prolotrack-<UTC time>.tar.gz",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        output = options["output"] or default_archive_path()
        try:
            manifest = create_backup(output)
        except BackupError as error:
            raise CommandError(str(error)) from error
        events = sum(int(head["seq"]) for head in manifest.audit_chains.values())
        self.stdout.write(
            f"Backup written to {output}: {manifest.engine} database, {len(manifest.tables)} tables, "
            f"{sum(manifest.tables.values())} rows, {events} audit events in {len(manifest.audit_chains)} chains, "
            f"{len(manifest.files)} files."
        )
