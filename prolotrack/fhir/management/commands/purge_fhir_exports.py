"""Remove the files of Bulk Data exports past their expiry (also done at every kick-off and status poll)."""

from typing import Any

from django.core.management.base import BaseCommand

from prolotrack.fhir.bulk import EXPORT_TTL, purge_expired


class Command(BaseCommand):
    help = f"Remove FHIR Bulk export files older than {EXPORT_TTL} after they finished."

    def handle(self, *args: Any, **options: Any) -> None:
        purged = purge_expired()
        self.stdout.write(f"Removed the files of {purged} expired export(s).")
