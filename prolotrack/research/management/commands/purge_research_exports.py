"""Delete research export files whose time is up (pages do it too; run this from cron for idle clinics)."""

from typing import Any

from django.core.management.base import BaseCommand

from prolotrack.research.services import purge_expired


class Command(BaseCommand):
    help = "Delete research export files older than their expiry time."

    def handle(self, *args: Any, **options: Any) -> None:
        count = purge_expired()
        self.stdout.write(f"Deleted {count} expired research export file(s).")
